// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_prog.c - both bypass programs run with BPF_PROG_TEST_RUN on crafted
 * frames: IPv4 (with options), IPv6 (hop-by-hop, AH; routing and fragment
 * headers pass), VLAN and QinQ keys, fragments, truncated headers, TCP
 * control segments; entry hit -> counted in the right direction with the
 * IP length (and dropped by XDP / hidden by the socket filter), miss ->
 * pass, block list hit -> dropped and counted. Entries are added through
 * the library (fc_bypass__add), so this also proves userspace and the
 * programs build the same key. Needs root; prints SKIP otherwise.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "flowcut/bypass.h"
#include "bypass_common.h"
#include "frames.h"
#include "../unit/t.h"

static struct fc_bypass *B;
static int xdp_mode;	/* which program the current round runs */

/* 1 = the program took the packet (drop / hide), 0 = passed, -1 = error. */
static int run(const struct frame_spec *s, int cut)
{
	uint8_t buf[1600];
	int len = frame_build(s, buf);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)(cut ? cut : len),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(fc_bypass__prog_fd(B, xdp_mode), &o))
		return -1;
	if (xdp_mode)
		return o.retval == XDP_DROP ? 1 : o.retval == XDP_PASS ? 0 : -1;
	return o.retval == 0 ? 1 : 0;
}

static struct fc_flow_rec rec_of(const struct frame_spec *s)
{
	struct fc_flow_rec r;

	memset(&r, 0, sizeof(r));
	r.family = (uint8_t)s->family;
	r.proto = s->proto ? s->proto : 6;
	inet_pton(s->family == 4 ? AF_INET : AF_INET6, s->src, r.src.b);
	inet_pton(s->family == 4 ? AF_INET : AF_INET6, s->dst, r.dst.b);
	r.sport = s->sport, r.dport = s->dport;
	if (s->ntags >= 1)
		r.has_vlan = 1, r.vlan = s->vids[0];
	if (s->ntags >= 2)
		r.has_vlan = 2, r.vlan_inner = s->vids[1];
	return r;
}

static struct fc_flowtab_kcounts counts(const struct frame_spec *s)
{
	struct fc_flow_rec r = rec_of(s);
	struct fc_flowtab_kcounts k;

	memset(&k, 0, sizeof(k));
	CHECK_EQ_U(fc_bypass__sync(B, &r, FC_FT_SYNC_PEEK, &k), 0);
	return k;
}

static uint64_t action(unsigned a)
{
	uint64_t v[FC_BYPASS_ACTIONS];

	CHECK_EQ_U(fc_bypass__actions(B, v), 0);
	return v[a];
}

static struct frame_spec v4tcp(void)
{
	struct frame_spec s = { .family = 4, .src = "10.1.0.2", .dst = "10.1.0.1", .sport = 40000,
				.dport = 443, .proto = 6, .payload = 100 };
	return s;
}

static struct frame_spec v6tcp(void)
{
	struct frame_spec s = { .family = 6, .src = "2001:db8::2", .dst = "2001:db8::1",
				.sport = 40000, .dport = 443, .proto = 6, .payload = 100 };
	return s;
}

static struct frame_spec rev(struct frame_spec s)
{
	const char *a = s.src;
	uint16_t p = s.sport;

	s.src = s.dst, s.dst = a;
	s.sport = s.dport, s.dport = p;
	return s;
}

static void add(const struct frame_spec *s)
{
	struct fc_flow_rec r = rec_of(s);

	CHECK_EQ_U(fc_bypass__add(B, &r, 1), 0);
}

static void test_ipv4_hit_both_directions(void)
{
	struct frame_spec s = v4tcp(), r = rev(v4tcp());
	struct fc_flowtab_kcounts k;

	CHECK_EQ_U(run(&s, 0), 0);	/* miss */
	add(&s);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&s, 0), 1);
	r.payload = 0;
	CHECK_EQ_U(run(&r, 0), 1);
	k = counts(&s);
	CHECK_EQ_U(k.pkts[0], 2);
	CHECK_EQ_U(k.bytes[0], 2 * 140);
	CHECK_EQ_U(k.pkts[1], 1);
	CHECK_EQ_U(k.bytes[1], 40);
	CHECK(k.last_ns > 0);
	s.tcp_flags = 0x11;		/* FIN: to userspace, not counted */
	CHECK_EQ_U(run(&s, 0), 0);
	s.tcp_flags = 0x02;
	CHECK_EQ_U(run(&s, 0), 0);
	CHECK_EQ_U(counts(&s).pkts[0], 2);
	CHECK_EQ_U(fc_bypass__del(B, (struct fc_flow_rec[]){ rec_of(&s) }, NULL), 0);
	s.tcp_flags = 0;
	CHECK_EQ_U(run(&s, 0), 0);
}

static void test_ipv4_options_udp_and_miss(void)
{
	struct frame_spec s = v4tcp(), u = v4tcp(), other = v4tcp();

	s.ip_opts_words = 3;
	add(&s);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(counts(&s).bytes[0], 12 + 140);
	u.proto = 17, u.sport = 5353;
	add(&u);
	CHECK_EQ_U(run(&u, 0), 1);
	CHECK_EQ_U(counts(&u).bytes[0], 20 + 8 + 100);
	other.dport = 444;
	CHECK_EQ_U(run(&other, 0), 0);
	(void)fc_bypass__flush(B);
}

static void test_fragments_pass(void)
{
	struct frame_spec s = v4tcp(), s6 = v6tcp();

	add(&s);
	s.frag = 0x2000;		/* MF: first fragment */
	CHECK_EQ_U(run(&s, 0), 0);
	s.frag = 0x0010;		/* offset 16: a later fragment (bytes there are no ports) */
	CHECK_EQ_U(run(&s, 0), 0);
	CHECK_EQ_U(counts(&s).pkts[0], 0);
	add(&s6);
	s6.exts[0] = 44, s6.nexts = 1;
	CHECK_EQ_U(run(&s6, 0), 0);
	CHECK(action(4 /* fragments */) >= 3);
	(void)fc_bypass__flush(B);
}

static void test_ipv6_ext_headers(void)
{
	struct frame_spec s = v6tcp();

	add(&s);
	CHECK_EQ_U(run(&s, 0), 1);
	s.exts[0] = 0, s.exts[1] = 51, s.nexts = 2;	/* hop-by-hop, then AH */
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(counts(&s).bytes[0], 160 + 160 + 8 + 12);
	s.exts[0] = 43, s.nexts = 1;			/* routing header: may rename endpoints */
	CHECK_EQ_U(run(&s, 0), 0);
	s.exts[0] = 60;					/* destination options: home address */
	CHECK_EQ_U(run(&s, 0), 0);
	CHECK_EQ_U(counts(&s).pkts[0], 2);
	(void)fc_bypass__flush(B);
}

static void test_vlan_and_qinq_keys(void)
{
	struct frame_spec s = v4tcp(), q = v4tcp(), untagged = v4tcp();

	s.ntags = 1, s.vids[0] = 100;
	add(&s);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&untagged, 0), 0);	/* another flow: no tag */
	s.vids[0] = 101;
	CHECK_EQ_U(run(&s, 0), 0);
	q.ntags = 2, q.vids[0] = 100, q.vids[1] = 7;
	add(&q);
	CHECK_EQ_U(run(&q, 0), 1);
	q.ntags = 3, q.vids[2] = 9;		/* a third tag is walked, not keyed */
	CHECK_EQ_U(run(&q, 0), 1);
	q.ntags = 9;				/* beyond FC_VLAN_MAX_DEPTH: pass */
	CHECK_EQ_U(run(&q, 0), 0);
	(void)fc_bypass__flush(B);
}

/* The test harness refuses some short frames (-1): those sizes only count when it ran them. */
static void test_truncated_pass(void)
{
	struct frame_spec s = v4tcp(), s6 = v6tcp();
	uint64_t before = action(6 /* parse_failed */);
	int cuts[4] = { 14 + 10, 14 + 20 + 6, 14 + 30, 13 }, i, r, ran = 0;

	add(&s);
	add(&s6);
	for (i = 0; i < 4; i++) {
		r = run(i == 2 ? &s6 : &s, cuts[i]);
		CHECK(r <= 0);
		ran += r == 0;
	}
	CHECK(ran >= 1);
	CHECK_EQ_U(action(6), before + (uint64_t)ran);
	CHECK_EQ_U(counts(&s).pkts[0], 0);
	(void)fc_bypass__flush(B);
}

static void test_block_list(void)
{
	struct frame_spec s = { .family = 4, .src = "10.9.1.1", .dst = "10.1.0.1", .proto = 1,
				.payload = 56 };
	struct frame_spec s6 = { .family = 6, .src = "2001:db8:9::5", .dst = "2001:db8::1",
				 .proto = 58, .payload = 56 };
	char buf[512];

	CHECK_EQ_U(run(&s, 0), 0);
	CHECK_EQ_U(fc_bypass__block_add(B, "10.9.0.0/16"), 0);
	CHECK_EQ_U(fc_bypass__block_add(B, "2001:db8:9::/48"), 0);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&s6, 0), 1);
	CHECK(fc_bypass__block_list(B, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "10.9.0.0/16 pkts=1 bytes=84\n") != NULL);
	CHECK(strstr(buf, "2001:db8:9::/48 pkts=1 bytes=104\n") != NULL);
	CHECK_EQ_U(fc_bypass__block_del(B, "10.9.0.0/16"), 0);
	CHECK_EQ_U(fc_bypass__block_del(B, "2001:db8:9::/48"), 0);
	CHECK_EQ_U(run(&s, 0), 0);
	CHECK_EQ_U(fc_bypass__block_add(B, "10.9.0.0/40") == -EINVAL, 1);
}

/*
 * Every frame length around the socket filter's one-call window (and the
 * XDP bounds): small payloads and frames cut short. A frame is counted iff
 * it holds the octets the parser reads (14 of TCP, 8 of UDP), with the
 * bytes of the IP header's length, in both programs.
 */
static void test_small_and_cut_frames(void)
{
	static const uint8_t protos[2] = { 6, 17 };
	int f, p, pay, cut, n = 0;

	for (f = 0; f < 2; f++) {
		for (p = 0; p < 2; p++) {
			struct frame_spec s = f ? v6tcp() : v4tcp();
			uint8_t buf[1600];
			int iph = f ? 40 : 20, l4h = protos[p] == 6 ? 20 : 8, need = protos[p] == 6 ? 14 : 8;
			uint64_t want = 0, wpk = 0;

			s.proto = protos[p];
			add(&s);
			for (pay = 0; pay <= 48; pay++) {
				s.payload = pay;
				CHECK_EQ_U(run(&s, 0), 1);
				want += (uint64_t)(iph + l4h + pay), wpk++;
			}
			s.payload = 16;
			for (cut = frame_build(&s, buf); cut >= 14; cut--) {
				int hit = cut >= 14 + iph + need, r = run(&s, cut);

				if (r < 0)	/* the skb test run refuses frames shorter than an IP header */
					continue;
				CHECK_EQ_U(r, (unsigned)hit);
				if (hit)
					want += (uint64_t)(iph + l4h + 16), wpk++;
				n += hit;
			}
			CHECK_EQ_U(counts(&s).pkts[0], wpk);
			CHECK_EQ_U(counts(&s).bytes[0], want);
			(void)fc_bypass__flush(B);
		}
	}
	CHECK(n > 0);
}

static void test_not_keyable(void)
{
	struct fc_flow_rec r = rec_of(&(struct frame_spec){ .family = 4, .src = "10.0.0.1",
							    .dst = "10.0.0.2", .proto = 1 });

	CHECK_EQ_U(fc_bypass__add(B, &r, 1) == -EPROTONOSUPPORT, 1);
}

/*
 * Keys whose addresses tie, so the ports pick side a (the XDP fast path
 * compares them separately), and IPv6 addresses that differ only in the low
 * 64 bits: both directions hit one entry and count on the right side.
 */
static void test_key_ties(void)
{
	static const char *const a[][2] = { { "10.7.0.1", "10.7.0.1" }, { "2001:db8::7", "2001:db8::7" },
					    { "2001:db8::1:0:0:2", "2001:db8::1:0:0:1" } };
	unsigned i;

	for (i = 0; i < 3; i++) {
		struct frame_spec s = i ? v6tcp() : v4tcp(), r;

		s.src = a[i][0], s.dst = a[i][1], s.sport = 50000, s.dport = 80;
		r = rev(s);
		r.payload = 0;
		CHECK_EQ_U(run(&s, 0), 0);
		add(&s);
		CHECK_EQ_U(run(&s, 0), 1);
		CHECK_EQ_U(run(&r, 0), 1);
		CHECK_EQ_U(run(&r, 0), 1);
		CHECK_EQ_U(counts(&s).pkts[0], 1);	/* initiator: s */
		CHECK_EQ_U(counts(&s).pkts[1], 2);
	}
	(void)fc_bypass__flush(B);
}

static int pf_count(const struct frame_spec *s, uint32_t *slot)
{
	struct fc_flow_rec r = rec_of(s);

	return fc_bypass__prefilter(B, &r, slot);
}

static int gc_none(void *ctx, const struct fc_bypass_entry *e)
{
	(*(int *)ctx)++;
	return 0;
}

/*
 * The miss prefilter counts entries per slot: two flows in one slot, one
 * removed (delete, then GC) -> it misses, the other still hits; a second add
 * of the same flow (EEXIST) counts once; flush brings the slot back.
 */
static void test_prefilter_shared_slot(void)
{
	struct frame_spec a = v4tcp(), b = v4tcp(), ra;
	struct fc_bypass_gc_opts go = { .idle_tcp_ns = 1, .idle_udp_ns = 1, .owner = 2, .nowners = 2 };
	uint16_t *seen = calloc(FC_BP_PF_SLOTS, sizeof(*seen));
	struct fc_flow_rec r;
	uint32_t sa = 0, sb = 1;
	int port, gone = 0;

	/* two flows (client ports) whose keys share a slot: the first pair found */
	a.src = b.src = "10.9.0.2";
	for (port = 1; seen && port < 65536; port++) {
		b.sport = (uint16_t)port;
		CHECK_EQ_U(pf_count(&b, &sb), 0);
		if (seen[sb]) {
			a.sport = seen[sb];
			break;
		}
		seen[sb] = (uint16_t)port;
	}
	free(seen);
	CHECK_EQ_U(pf_count(&a, &sa), 0);
	CHECK_EQ_U(sb, sa);
	CHECK(a.sport != b.sport);
	CHECK_EQ_U(run(&a, 0), 0);
	r = rec_of(&a);
	CHECK_EQ_U(fc_bypass__add(B, &r, 2), 0);
	CHECK_EQ_U(fc_bypass__add(B, &r, 2), (uint64_t)-EEXIST);
	add(&b);
	CHECK_EQ_U(pf_count(&a, &sa), 2);
	ra = rev(a);
	CHECK_EQ_U(run(&a, 0), 1);
	CHECK_EQ_U(run(&ra, 0), 1);
	CHECK_EQ_U(run(&b, 0), 1);
	/* removed by del: a misses, b (same slot) still hits */
	CHECK_EQ_U(fc_bypass__del(B, &r, NULL), 0);
	CHECK_EQ_U(pf_count(&a, &sa), 1);
	CHECK_EQ_U(run(&a, 0), 0);
	CHECK_EQ_U(run(&b, 0), 1);
	/* removed by GC (owner 2 only): the same */
	CHECK_EQ_U(fc_bypass__add(B, &r, 2), 0);
	CHECK_EQ_U(pf_count(&a, &sa), 2);
	usleep(2000);
	CHECK_EQ_U(fc_bypass__gc(B, &go, gc_none, &gone), 1);
	CHECK_EQ_U(gone, 1);
	CHECK_EQ_U(pf_count(&a, &sa), 1);
	CHECK_EQ_U(run(&a, 0), 0);
	CHECK_EQ_U(run(&ra, 0), 0);
	CHECK_EQ_U(run(&b, 0), 1);
	CHECK(fc_bypass__flush(B) >= 1);
	CHECK_EQ_U(pf_count(&b, &sb), 0);
	CHECK_EQ_U(run(&b, 0), 0);
}

/* IPv6 keys take the other filter: an add makes the slot non-zero, a del clears it. */
static void test_prefilter_v6(void)
{
	struct frame_spec s = v6tcp();
	struct fc_flow_rec r = rec_of(&s);
	uint32_t slot;

	s.sport = 41000, r = rec_of(&s);
	CHECK_EQ_U(pf_count(&s, &slot), 0);
	add(&s);
	CHECK_EQ_U(pf_count(&s, &slot), 1);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(fc_bypass__del(B, &r, NULL), 0);
	CHECK_EQ_U(pf_count(&s, &slot), 0);
	CHECK_EQ_U(run(&s, 0), 0);
}

/*
 * Restart: a second instance on the same pinned maps adopts the entries and
 * their counters and rebuilds its prefilter from them (the filter itself is
 * not pinned): the entry the first one added counts in its slot, keeps what
 * the first one counted, and its packets hit. Pins go to a
 * private bpffs under /tmp; the programs load twice more (~10 s).
 */
static void test_prefilter_rebuilt_on_restart(void)
{
	struct fc_bypass_opts o = { .mode = FC_BYPASS_SOCKET, .ifname = "lo", .max_entries = 1024,
				    .vlan_key = true };
	struct frame_spec s = v4tcp(), s6 = v6tcp();
	struct fc_flow_rec r = rec_of(&s), r6 = rec_of(&s6);
	struct fc_bypass *b1 = NULL, *b2 = NULL, *keep = B;
	char root[] = "/tmp/fc-bpf-test-XXXXXX", pins[64], err[256];
	uint32_t slot;

	if (!mkdtemp(root) || mount("bpf", root, "bpf", 0, "mode=0700") == -1) {
		printf("  (skipped: cannot mount a private bpffs)\n");
		if (*root == '/')
			rmdir(root);
		return;
	}
	snprintf(pins, sizeof(pins), "%s/pins", root);
	o.pin_root = pins;
	CHECK_EQ_U(fc_bypass__open(&o, &b1, err, sizeof(err)), 0);
	if (!b1)
		goto out;
	CHECK_EQ_U(fc_bypass__add(b1, &r, 1), 0);
	CHECK_EQ_U(fc_bypass__add(b1, &r6, 1), 0);
	B = b1;
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&s6, 0), 1);
	B = keep;
	fc_bypass__close(b1);	/* the entries stay pinned */
	CHECK_EQ_U(fc_bypass__open(&o, &b2, err, sizeof(err)), 0);
	if (!b2)
		goto out;
	B = b2;
	CHECK_EQ_U(fc_bypass__prefilter(b2, &r, &slot), 1);
	CHECK_EQ_U(fc_bypass__prefilter(b2, &r6, &slot), 1);
	CHECK_EQ_U(counts(&s).pkts[0], 2);	/* the counters were adopted */
	CHECK_EQ_U(counts(&s6).pkts[0], 1);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(run(&s6, 0), 1);
	CHECK_EQ_U(counts(&s).pkts[0], 3);
	CHECK_EQ_U(fc_bypass__flush(b2), 2);
	CHECK_EQ_U(fc_bypass__prefilter(b2, &r, &slot), 0);
	CHECK_EQ_U(run(&s, 0), 0);
	B = keep;
	fc_bypass__close(b2);
out:
	B = keep;
	umount(root);
	rmdir(root);
}

/*
 * Delete, then read: the entry is drained before its counters are read, so
 * the counts returned are every packet the program took, and a packet after
 * the delete passes (to the monitor, which counts it). Re-adding the flow
 * starts from zero, in the same slot once a grace period has passed.
 */
static void test_delete_read_exact(void)
{
	struct frame_spec s = v4tcp(), s6 = v6tcp();
	struct fc_flow_rec r = rec_of(&s), r6 = rec_of(&s6);
	struct fc_flowtab_kcounts k;
	struct fc_bypass_entry e;
	int i;

	add(&s);
	add(&s6);
	for (i = 0; i < 5; i++) {
		CHECK_EQ_U(run(&s, 0), 1);
		CHECK_EQ_U(run(&s6, 0), 1);
	}
	CHECK_EQ_U(fc_bypass__del(B, &r, &e), 0);
	CHECK_EQ_U(e.k.pkts[0], 5);
	CHECK_EQ_U(e.k.bytes[0], 5 * 140);
	CHECK_EQ_U(run(&s, 0), 0);
	memset(&k, 0, sizeof(k));
	CHECK_EQ_U(fc_bypass__sync(B, &r6, FC_FT_SYNC_END, &k), 0);
	CHECK_EQ_U(k.pkts[0], 5);
	CHECK_EQ_U(k.bytes[0], 5 * 160);
	CHECK_EQ_U(run(&s6, 0), 0);
	CHECK_EQ_U(fc_bypass__sync(B, &r6, FC_FT_SYNC_PEEK, &k), (uint64_t)-ENOENT);
	add(&s);
	CHECK_EQ_U(counts(&s).pkts[0], 0);
	CHECK_EQ_U(run(&s, 0), 1);
	CHECK_EQ_U(counts(&s).pkts[0], 1);
	CHECK_EQ_U(fc_bypass__flush(B), 1);
}

/* The flow table key of s (side a = src: s's src must be the lower address). */
static uint32_t home_of(const struct frame_spec *s, uint32_t bits)
{
	struct fc_bp_key4 k;
	uint64_t w[3] = { 0 };

	memset(&k, 0, sizeof(k));
	inet_pton(AF_INET, s->src, &k.addr_a);
	inet_pton(AF_INET, s->dst, &k.addr_b);
	k.port_a = s->sport, k.port_b = s->dport, k.proto = 6;
	memcpy(w, &k, sizeof(k));
	return fc_bp_home(fc_bp_hash(w, 0), bits);
}

/*
 * Keys sharing a home slot: the program finds every one of them in the
 * probe window (the last FC_BP_PROBE - 1 slots past home), the next one is
 * refused with -ENOSPC (the caller's map-full path) and passes. Removing
 * one of the window keeps the others found; the refused key then fits
 * (after the grace period that frees the drained slot) and counts from 0.
 */
static void test_probe_window(void)
{
	struct frame_spec s[FC_BP_PROBE + 1], c = v4tcp();
	struct fc_flow_rec r;
	uint32_t bits = fc_bp_tab_bits(1024), home = 0, sp = 1, dp = 80;
	int n = 0, j;

	c.src = "10.1.0.1", c.dst = "10.1.0.2";
	while (n < FC_BP_PROBE + 1 && dp < 200) {
		c.sport = (uint16_t)sp, c.dport = (uint16_t)dp;
		if (n == 0)
			home = home_of(&c, bits);
		if (home_of(&c, bits) == home)
			s[n++] = c;
		if (++sp == 65536)
			sp = 1, dp++;
	}
	CHECK_EQ_U(n, FC_BP_PROBE + 1);
	if (n != FC_BP_PROBE + 1)
		return;
	for (j = 0; j < FC_BP_PROBE; j++)
		add(&s[j]);
	r = rec_of(&s[FC_BP_PROBE]);
	CHECK_EQ_U(fc_bypass__add(B, &r, 1), (uint64_t)-ENOSPC);
	for (j = 0; j < FC_BP_PROBE; j++)
		CHECK_EQ_U(run(&s[j], 0), 1);
	CHECK_EQ_U(run(&s[FC_BP_PROBE], 0), 0);
	r = rec_of(&s[1]);
	CHECK_EQ_U(fc_bypass__del(B, &r, NULL), 0);
	CHECK_EQ_U(run(&s[1], 0), 0);
	CHECK_EQ_U(run(&s[FC_BP_PROBE - 1], 0), 1);
	CHECK_EQ_U(counts(&s[FC_BP_PROBE - 1]).pkts[0], 2);
	add(&s[FC_BP_PROBE]);
	CHECK_EQ_U(counts(&s[FC_BP_PROBE]).pkts[0], 0);
	CHECK_EQ_U(run(&s[FC_BP_PROBE], 0), 1);
	CHECK_EQ_U(counts(&s[FC_BP_PROBE]).pkts[0], 1);
	CHECK_EQ_U(fc_bypass__flush(B), FC_BP_PROBE);
}

int main(void)
{
	struct fc_bypass_opts o = { .mode = FC_BYPASS_SOCKET, .ifname = "lo", .pin_root = "",
				    .max_entries = 1024, .vlan_key = true };
	char err[256];
	int rc;

	if (geteuid() != 0) {
		printf("SKIP bpf_prog: needs root\n");
		return 0;
	}
	rc = fc_bypass__open(&o, &B, err, sizeof(err));
	if (rc) {
		printf("FAIL bpf_prog_load: %s\n", err);
		return 1;
	}
	xdp_mode = 1;
	RUN(test_prefilter_rebuilt_on_restart);
	for (xdp_mode = 1; xdp_mode >= 0; xdp_mode--) {
		printf("# %s program\n", xdp_mode ? "xdp" : "socket filter");
		RUN(test_ipv4_hit_both_directions);
		RUN(test_ipv4_options_udp_and_miss);
		RUN(test_fragments_pass);
		RUN(test_ipv6_ext_headers);
		RUN(test_vlan_and_qinq_keys);
		RUN(test_truncated_pass);
		RUN(test_block_list);
		RUN(test_small_and_cut_frames);
		RUN(test_not_keyable);
		RUN(test_key_ties);
		RUN(test_prefilter_shared_slot);
		RUN(test_prefilter_v6);
		RUN(test_delete_read_exact);
		RUN(test_probe_window);
	}
	fc_bypass__close(B);
	return T_DONE();
}
