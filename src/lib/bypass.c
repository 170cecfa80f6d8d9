// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass.c - loading, attaching and pinning the bypass programs and maps,
 * and every operation on their entries (see bypass.h, docs/bypass.md).
 *
 * The maps are pinned by name under <pin_root>/<ifname>/; libbpf reuses a
 * pin whose type and geometry match, so a restarted monitor finds the
 * entries (and their counters) its predecessor left. Per-CPU flow values
 * are summed here. Keys are built from a record's identity exactly as the
 * programs build them from a frame (bpf/parse.h), the meta map remembers
 * who initiated a flow so the kernel's side a/b counters can be turned
 * back into initiator/responder.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bypass_common.h"
#include "bypass.skel.h"
#include "flowcut/bypass.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

_Static_assert(FC_BYPASS_ACTIONS == FC_BP_ACT__COUNT, "action count");
_Static_assert(FC_BP_VLAN_MAX_DEPTH == FC_VLAN_MAX_DEPTH, "VLAN bound shared with the decoder");
_Static_assert(FC_BP_IPV6_EXT_MAX == FC_IPV6_EXT_MAX, "IPv6 bound shared with the decoder");

struct fc_bypass {
	struct bypass_bpf *skel;
	enum fc_bypass_mode mode;
	int ifindex;
	uint32_t xdp_flags;		/* as attached; 0 = not attached */
	bool vlan_key;
	int ncpu;
	int flows_fd[2], meta_fd[2], block_fd[2], stats_fd;	/* [0] IPv4, [1] IPv6 */
	char pin_dir[256];
	const char *desc;
};

/* ---- time ----------------------------------------------------------- */

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC time as epoch ns (0 stays 0). */
static uint64_t mono_to_epoch(uint64_t mono)
{
	uint64_t rt = clock_ns(CLOCK_REALTIME), mn = clock_ns(CLOCK_MONOTONIC);

	if (!mono)
		return 0;
	return mono > mn ? rt : rt - (mn - mono);
}

/* ---- keys ----------------------------------------------------------- */

union bp_key {
	struct fc_bp_key4 k4;
	struct fc_bp_key6 k6;
};

static uint16_t vlan_enc(bool present, uint16_t vid)
{
	return present ? (uint16_t)(FC_BP_VLAN_PRESENT | (vid & 0x0fff)) : 0;
}

/*
 * The map key of the flow rec names; returns the family index (0 IPv4, 1
 * IPv6) and in *init_b whether the initiator is side b, or -errno.
 */
static int rec_key(const struct fc_bypass *b, const struct fc_flow_rec *r, union bp_key *k, uint8_t *init_b)
{
	int alen = r->family == 4 ? 4 : 16, c;
	uint16_t v1 = 0, v2 = 0;
	bool swap;

	if (r->family != 4 && r->family != 6)
		return -EAFNOSUPPORT;
	if ((r->proto != 6 && r->proto != 17) || r->has_tunnel || r->tunnel_id)
		return -EPROTONOSUPPORT;
	if (b->vlan_key) {
		v1 = vlan_enc(r->has_vlan >= 1, r->vlan);
		v2 = vlan_enc(r->has_vlan >= 2, r->vlan_inner);
	}
	c = memcmp(r->src.b, r->dst.b, (size_t)alen);
	swap = c > 0 || (c == 0 && r->sport > r->dport);
	*init_b = swap;
	memset(k, 0, sizeof(*k));
	if (r->family == 4) {
		memcpy(&k->k4.addr_a, swap ? r->dst.b : r->src.b, 4);
		memcpy(&k->k4.addr_b, swap ? r->src.b : r->dst.b, 4);
		k->k4.port_a = swap ? r->dport : r->sport;
		k->k4.port_b = swap ? r->sport : r->dport;
		k->k4.vlan = v1, k->k4.vlan_inner = v2, k->k4.proto = r->proto;
		return 0;
	}
	memcpy(k->k6.addr_a, swap ? r->dst.b : r->src.b, 16);
	memcpy(k->k6.addr_b, swap ? r->src.b : r->dst.b, 16);
	k->k6.port_a = swap ? r->dport : r->sport;
	k->k6.port_b = swap ? r->sport : r->dport;
	k->k6.vlan = v1, k->k6.vlan_inner = v2, k->k6.proto = r->proto;
	return 1;
}

/* The identity of an entry as a record names it (src = initiator). */
static void key_rec(int fam, const void *key, uint8_t init_b, struct fc_flow_rec *r)
{
	const struct fc_bp_key4 *k4 = key;
	const struct fc_bp_key6 *k6 = key;
	struct fc_addr a, bb;
	uint16_t pa, pb, v1, v2;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	memset(&bb, 0, sizeof(bb));
	if (fam == 0) {
		memcpy(a.b, &k4->addr_a, 4), memcpy(bb.b, &k4->addr_b, 4);
		pa = k4->port_a, pb = k4->port_b, v1 = k4->vlan, v2 = k4->vlan_inner;
		r->proto = k4->proto, r->family = 4;
	} else {
		memcpy(a.b, k6->addr_a, 16), memcpy(bb.b, k6->addr_b, 16);
		pa = k6->port_a, pb = k6->port_b, v1 = k6->vlan, v2 = k6->vlan_inner;
		r->proto = k6->proto, r->family = 6;
	}
	r->src = init_b ? bb : a;
	r->dst = init_b ? a : bb;
	r->sport = init_b ? pb : pa;
	r->dport = init_b ? pa : pb;
	if (v1 & FC_BP_VLAN_PRESENT) {
		r->has_vlan = v2 & FC_BP_VLAN_PRESENT ? 2 : 1;
		r->vlan = v1 & 0x0fff;
		r->vlan_inner = v2 & 0x0fff;
	}
}

/* ---- per-CPU values ------------------------------------------------- */

#define MAX_CPUS 1024

static void sum_values(const struct fc_bp_counters *v, int ncpu, struct fc_bp_counters_sum *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ncpu; i++) {
		s->pkts[0] += v[i].pkts[0], s->pkts[1] += v[i].pkts[1];
		s->bytes[0] += v[i].bytes[0], s->bytes[1] += v[i].bytes[1];
		if (v[i].last_ns > s->last_ns)
			s->last_ns = v[i].last_ns;
	}
}

/* Side a/b sums -> initiator-oriented counts. */
static void orient(const struct fc_bp_counters_sum *s, uint8_t init_b, struct fc_flowtab_kcounts *k)
{
	int i = init_b ? 1 : 0;

	k->pkts[0] = s->pkts[i], k->pkts[1] = s->pkts[!i];
	k->bytes[0] = s->bytes[i], k->bytes[1] = s->bytes[!i];
	k->last_ns = mono_to_epoch(s->last_ns);
}

static void meta_rep(const struct fc_bp_meta *m, struct fc_flowtab_kcounts *rep)
{
	int i = m->init_b ? 1 : 0;

	memset(rep, 0, sizeof(*rep));
	rep->pkts[0] = m->rep_pkts[i], rep->pkts[1] = m->rep_pkts[!i];
	rep->bytes[0] = m->rep_bytes[i], rep->bytes[1] = m->rep_bytes[!i];
}

/* ---- miss prefilter (bypass_common.h) ------------------------------ */

/*
 * The programs skip the hash lookup when the key's slot in pf_v4/pf_v6 is
 * zero, so the count must cover every entry: pf_add() runs before an entry
 * is created, pf_sub() after one is removed (and only when this call removed
 * it), both atomic since workers and the control thread add and remove
 * concurrently. A count at FC_BP_PF_MAX stays there (always "maybe").
 */
static uint8_t *pf_slot(struct fc_bypass *b, int fam, const void *key)
{
	return (fam ? b->skel->bss->pf_v6 : b->skel->bss->pf_v4) + fc_bp_pf_slot(key, fam);
}

static void pf_add(struct fc_bypass *b, int fam, const void *key)
{
	uint8_t *c = pf_slot(b, fam, key), v = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (v == FC_BP_PF_MAX)
			return;
	} while (!__atomic_compare_exchange_n(c, &v, (uint8_t)(v + 1), false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
}

static void pf_sub(struct fc_bypass *b, int fam, const void *key)
{
	uint8_t *c = pf_slot(b, fam, key), v = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (v == FC_BP_PF_MAX || v == 0)
			return;
	} while (!__atomic_compare_exchange_n(c, &v, (uint8_t)(v - 1), false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
}

/* Count every entry of the flow maps (pinned ones a predecessor left), before attaching. */
static void pf_rebuild(struct fc_bypass *b)
{
	union bp_key cur, next;
	void *prev;
	int fam;

	memset(b->skel->bss->pf_v4, 0, sizeof(b->skel->bss->pf_v4));
	memset(b->skel->bss->pf_v6, 0, sizeof(b->skel->bss->pf_v6));
	for (fam = 0; fam < 2; fam++) {
		prev = NULL;
		while (bpf_map_get_next_key(b->flows_fd[fam], prev, &next) == 0) {
			cur = next;
			prev = &cur;
			pf_add(b, fam, &cur);
		}
	}
}

int fc_bypass__prefilter(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t *slot)
{
	union bp_key k;
	uint8_t init_b;
	int fam = rec_key(b, rec, &k, &init_b);

	if (fam < 0)
		return fam;
	*slot = fc_bp_pf_slot(&k, fam);
	return __atomic_load_n(pf_slot(b, fam, &k), __ATOMIC_RELAXED);
}

/* ---- entries -------------------------------------------------------- */

int fc_bypass__add(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t owner)
{
	struct fc_bp_counters zero[MAX_CPUS];
	struct fc_bp_meta m;
	union bp_key k;
	uint8_t init_b;
	int fam = rec_key(b, rec, &k, &init_b), err;

	if (fam < 0)
		return fam;
	memset(zero, 0, sizeof(zero[0]) * (size_t)b->ncpu);
	pf_add(b, fam, &k);	/* before the entry exists: the programs never skip it */
	if (bpf_map_update_elem(b->flows_fd[fam], &k, zero, BPF_NOEXIST)) {
		err = -errno;
		pf_sub(b, fam, &k);	/* not ours (EEXIST: counted when it was made) */
		if (err != -EEXIST)
			return err;
		if (bpf_map_lookup_elem(b->meta_fd[fam], &k, &m) == 0) {
			m.owner = owner;
			(void)bpf_map_update_elem(b->meta_fd[fam], &k, &m, BPF_EXIST);
			return -EEXIST;
		}
	} else {
		err = 0;
	}
	memset(&m, 0, sizeof(m));
	m.first_ns = rec->start_ns;
	m.start_ns = clock_ns(CLOCK_REALTIME);
	m.added_mono_ns = clock_ns(CLOCK_MONOTONIC);
	m.owner = owner;
	m.init_b = init_b;
	if (bpf_map_update_elem(b->meta_fd[fam], &k, &m, BPF_ANY)) {
		int e = -errno;

		if (!err && bpf_map_delete_elem(b->flows_fd[fam], &k) == 0)
			pf_sub(b, fam, &k);
		return e;
	}
	return err;
}

static int read_entry(struct fc_bypass *b, int fam, const void *k, bool del, struct fc_bp_counters_sum *s)
{
	struct fc_bp_counters v[MAX_CPUS];

	if (del) {
		/* One call: the counts returned are the entry's last. */
		if (bpf_map_lookup_and_delete_elem(b->flows_fd[fam], k, v) == 0) {
			pf_sub(b, fam, k);
			goto out;
		}
		if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP)
			return -errno;
	}
	if (bpf_map_lookup_elem(b->flows_fd[fam], k, v))
		return -errno;
	if (del) {
		if (bpf_map_delete_elem(b->flows_fd[fam], k))
			return -errno;
		pf_sub(b, fam, k);
	}
out:
	sum_values(v, b->ncpu, s);
	return 0;
}

int fc_bypass__sync(struct fc_bypass *b, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		    struct fc_flowtab_kcounts *k)
{
	struct fc_bp_counters_sum s;
	struct fc_bp_meta m;
	union bp_key key;
	uint8_t init_b;
	int fam = rec_key(b, rec, &key, &init_b), err;

	if (fam < 0)
		return fam;
	err = read_entry(b, fam, &key, how == FC_FT_SYNC_END, &s);
	if (err)
		return err;
	orient(&s, init_b, k);
	if (how == FC_FT_SYNC_END) {
		(void)bpf_map_delete_elem(b->meta_fd[fam], &key);
	} else if (how == FC_FT_SYNC_KEEP) {
		if (bpf_map_lookup_elem(b->meta_fd[fam], &key, &m))
			memset(&m, 0, sizeof(m)), m.init_b = init_b;
		memcpy(m.rep_pkts, s.pkts, sizeof(m.rep_pkts));
		memcpy(m.rep_bytes, s.bytes, sizeof(m.rep_bytes));
		m.owner = 0;	/* until someone adopts it */
		if (bpf_map_update_elem(b->meta_fd[fam], &key, &m, BPF_ANY))
			return -errno;
	}
	return 0;
}

int fc_bypass__del(struct fc_bypass *b, const struct fc_flow_rec *rec, struct fc_bypass_entry *e)
{
	struct fc_bp_counters_sum s;
	struct fc_bp_meta m;
	union bp_key key;
	uint8_t init_b;
	int fam = rec_key(b, rec, &key, &init_b), err;

	if (fam < 0)
		return fam;
	memset(&m, 0, sizeof(m));
	m.init_b = init_b;
	(void)bpf_map_lookup_elem(b->meta_fd[fam], &key, &m);
	err = read_entry(b, fam, &key, true, &s);
	if (err)
		return err;
	(void)bpf_map_delete_elem(b->meta_fd[fam], &key);
	if (e) {
		memset(e, 0, sizeof(*e));
		key_rec(fam, &key, m.init_b, &e->id);
		orient(&s, m.init_b, &e->k);
		meta_rep(&m, &e->rep);
		e->start_ns = m.start_ns;
		e->owner = m.owner;
		e->id.start_ns = m.first_ns;
	}
	return 0;
}

static int visit_entry(struct fc_bypass *b, int fam, const void *key, const struct fc_bp_counters_sum *s,
		       fc_bypass_visit_fn fn, void *ctx)
{
	struct fc_bypass_entry e;
	struct fc_bp_meta m;
	uint64_t now = clock_ns(CLOCK_MONOTONIC), last;

	memset(&m, 0, sizeof(m));
	(void)bpf_map_lookup_elem(b->meta_fd[fam], key, &m);
	memset(&e, 0, sizeof(e));
	key_rec(fam, key, m.init_b, &e.id);
	e.id.start_ns = m.first_ns;
	orient(s, m.init_b, &e.k);
	meta_rep(&m, &e.rep);
	e.start_ns = m.start_ns;
	e.owner = m.owner;
	last = s->last_ns > m.added_mono_ns ? s->last_ns : m.added_mono_ns;
	e.idle_ns = now > last ? now - last : 0;
	e.id.end_ns = e.k.last_ns ? e.k.last_ns : m.start_ns;
	e.id.bypass.start_ns = m.start_ns;
	return fn(ctx, &e);
}

int fc_bypass__foreach(struct fc_bypass *b, fc_bypass_visit_fn fn, void *ctx)
{
	struct fc_bp_counters v[MAX_CPUS];
	struct fc_bp_counters_sum s;
	union bp_key cur, next;
	int fam, rc;
	void *prev;

	for (fam = 0; fam < 2; fam++) {
		prev = NULL;
		while (bpf_map_get_next_key(b->flows_fd[fam], prev, &next) == 0) {
			cur = next;
			prev = &cur;
			if (bpf_map_lookup_elem(b->flows_fd[fam], &cur, v))
				continue;	/* removed meanwhile */
			sum_values(v, b->ncpu, &s);
			rc = visit_entry(b, fam, &cur, &s, fn, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- GC ------------------------------------------------------------- */

#define GC_BATCH 256

static long gc_batch(int fd, int fam, int ncpu, fc_bypass_stale_fn stale, fc_bypass_gone_fn gone, void *ctx)
{
	size_t ksz = fam ? sizeof(struct fc_bp_key6) : sizeof(struct fc_bp_key4);
	size_t vsz = sizeof(struct fc_bp_counters) * (size_t)ncpu;
	uint8_t *keys = malloc(ksz * GC_BATCH), *vals = malloc(vsz * GC_BATCH);
	struct fc_bp_counters one[MAX_CPUS];
	struct fc_bp_counters_sum s;
	uint32_t in_batch = 0, out_batch = 0, n, i;
	bool first = true, done = false;
	long removed = 0;
	int err;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (!keys || !vals) {
		removed = -ENOMEM;
		goto out;
	}
	while (!done) {
		n = GC_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals, &n, &opts);
		if (err) {
			err = -errno;
			if (err != -ENOENT) {
				removed = first ? -EOPNOTSUPP : err;
				goto out;
			}
			done = true;	/* last (maybe partial) batch */
		}
		first = false;
		/*
		 * The cursor is a bucket index past every key returned, so
		 * deleting keys of this batch cannot make the walk skip or
		 * repeat one.
		 */
		for (i = 0; i < n; i++) {
			const void *k = keys + i * ksz;

			sum_values((const struct fc_bp_counters *)(vals + i * vsz), ncpu, &s);
			if (!stale(ctx, k, &s))
				continue;
			if (bpf_map_lookup_and_delete_elem(fd, k, one) == 0) {
				sum_values(one, ncpu, &s);
			} else if (bpf_map_delete_elem(fd, k)) {
				continue;
			}
			removed++;
			if (gone)
				gone(ctx, k, &s);
		}
		in_batch = out_batch;
	}
out:
	free(keys);
	free(vals);
	return removed;
}

static long gc_next_key(int fd, int ncpu, fc_bypass_stale_fn stale, fc_bypass_gone_fn gone, void *ctx)
{
	struct fc_bp_counters v[MAX_CPUS];
	struct fc_bp_counters_sum s;
	union bp_key cur, next;
	bool have_cur, more;
	long removed = 0;

	/* Ask for the key after `cur` before deleting `cur`: deleting first
	 * would restart the walk from the beginning (the kernel cannot find
	 * where a deleted key was). */
	have_cur = bpf_map_get_next_key(fd, NULL, &cur) == 0;
	while (have_cur) {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (bpf_map_lookup_elem(fd, &cur, v) == 0) {
			sum_values(v, ncpu, &s);
			if (stale(ctx, &cur, &s)) {
				if (bpf_map_lookup_and_delete_elem(fd, &cur, v) == 0)
					sum_values(v, ncpu, &s);
				else if (bpf_map_delete_elem(fd, &cur))
					goto advance;
				removed++;
				if (gone)
					gone(ctx, &cur, &s);
			}
		}
advance:
		cur = next;
		have_cur = more;
	}
	return removed;
}

long fc_bypass_map_gc(int map_fd, int family, unsigned flags, fc_bypass_stale_fn stale,
		      fc_bypass_gone_fn gone, void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), fam = family == 6;
	long r;

	if (ncpu <= 0 || ncpu > MAX_CPUS)
		return -ERANGE;
	if (!(flags & FC_BYPASS_GC_NO_BATCH)) {
		r = gc_batch(map_fd, fam, ncpu, stale, gone, ctx);
		if (r != -EOPNOTSUPP && r != -EINVAL)
			return r;
	}
	return gc_next_key(map_fd, ncpu, stale, gone, ctx);
}

/* ---- owner-aware GC (fc_bypass__gc) -------------------------------- */

struct gc_ctx {
	struct fc_bypass *b;
	const struct fc_bypass_gc_opts *o;
	int fam;
	uint64_t now;
	struct fc_bp_meta m;		/* of the key stale() just said yes to */
	fc_bypass_visit_fn gone;
	void *gone_ctx;
};

static bool gc_stale(void *ctx, const void *key, const struct fc_bp_counters_sum *s)
{
	struct gc_ctx *g = ctx;
	const struct fc_bypass_gc_opts *o = g->o;
	uint8_t proto = g->fam ? ((const struct fc_bp_key6 *)key)->proto :
				 ((const struct fc_bp_key4 *)key)->proto;
	uint64_t t = proto == 6 ? o->idle_tcp_ns : o->idle_udp_ns, last;
	bool mine;

	if (!t)
		return false;
	/* most keys are busy: decided without a syscall */
	if (s->last_ns && g->now - s->last_ns < t)
		return false;
	memset(&g->m, 0, sizeof(g->m));
	(void)bpf_map_lookup_elem(g->b->meta_fd[g->fam], key, &g->m);
	last = s->last_ns > g->m.added_mono_ns ? s->last_ns : g->m.added_mono_ns;
	if (g->now > last && g->now - last < t)
		return false;
	if (g->now <= last)
		return false;
	mine = g->m.owner == o->owner ||
	       (o->take_unowned && (g->m.owner == 0 || g->m.owner > o->nowners));
	return mine;
}

static void gc_gone(void *ctx, const void *key, const struct fc_bp_counters_sum *s)
{
	struct gc_ctx *g = ctx;
	struct fc_bypass_entry e;

	pf_sub(g->b, g->fam, key);	/* fc_bypass_map_gc removed it */
	(void)bpf_map_delete_elem(g->b->meta_fd[g->fam], key);
	memset(&e, 0, sizeof(e));
	key_rec(g->fam, key, g->m.init_b, &e.id);
	e.id.start_ns = g->m.first_ns ? g->m.first_ns : g->m.start_ns;
	orient(s, g->m.init_b, &e.k);
	meta_rep(&g->m, &e.rep);
	e.start_ns = g->m.start_ns;
	e.owner = g->m.owner;
	e.id.end_ns = e.k.last_ns ? e.k.last_ns : g->m.start_ns;
	e.id.bypass.start_ns = g->m.start_ns;
	if (g->gone)
		(void)g->gone(g->gone_ctx, &e);
}

long fc_bypass__gc(struct fc_bypass *b, const struct fc_bypass_gc_opts *o, fc_bypass_visit_fn gone,
		   void *ctx)
{
	struct gc_ctx g = { .b = b, .o = o, .gone = gone, .gone_ctx = ctx };
	long n = 0, r;

	g.now = clock_ns(CLOCK_MONOTONIC);
	for (g.fam = 0; g.fam < 2; g.fam++) {
		r = fc_bypass_map_gc(b->flows_fd[g.fam], g.fam ? 6 : 4, o->flags, gc_stale, gc_gone, &g);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Delete every key of the map pinned at dir/name; how many, or -errno. */
static long flush_pinned(const char *dir, const char *name)
{
	union bp_key cur, next;
	char path[512];
	bool have, more;
	long n = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	have = bpf_map_get_next_key(fd, NULL, &cur) == 0;
	while (have) {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (bpf_map_delete_elem(fd, &cur) == 0)
			n++;
		cur = next;
		have = more;
	}
	close(fd);
	return n;
}

long fc_bypass_flush_pins(const char *pin_dir)
{
	static const char *const flows[] = { FC_BP_MAP_FLOWS4, FC_BP_MAP_FLOWS6 };
	static const char *const meta[] = { FC_BP_MAP_META4, FC_BP_MAP_META6 };
	long n = 0, r;
	int i;

	for (i = 0; i < 2; i++) {
		r = flush_pinned(pin_dir, flows[i]);
		if (r < 0)
			return r;
		n += r;
		r = flush_pinned(pin_dir, meta[i]);
		if (r < 0)
			return r;
	}
	return n;
}

long fc_bypass__flush(struct fc_bypass *b)
{
	union bp_key cur, next;
	long n = 0;
	int fam;

	for (fam = 0; fam < 2; fam++) {
		int fds[2] = { b->flows_fd[fam], b->meta_fd[fam] }, j;

		for (j = 0; j < 2; j++) {
			bool have = bpf_map_get_next_key(fds[j], NULL, &cur) == 0, more;

			while (have) {
				more = bpf_map_get_next_key(fds[j], &cur, &next) == 0;
				if (bpf_map_delete_elem(fds[j], &cur) == 0 && j == 0) {
					pf_sub(b, fam, &cur);
					n++;
				}
				cur = next;
				have = more;
			}
		}
	}
	return n;
}

/* ---- block list ----------------------------------------------------- */

int fc_bypass_parse_cidr(const char *s, uint8_t *family, uint8_t *plen, struct fc_addr *a);
int fc_bypass_parse_cidr(const char *s, uint8_t *family, uint8_t *plen, struct fc_addr *a)
{
	char buf[64], *slash;
	unsigned long v;
	char *end;
	int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->b) == 1)
		*family = 4, max = 32;
	else if (inet_pton(AF_INET6, buf, a->b) == 1)
		*family = 6, max = 128;
	else
		return -EINVAL;
	v = (unsigned long)max;
	if (slash) {
		errno = 0;
		v = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || v > (unsigned long)max)
			return -EINVAL;
	}
	*plen = (uint8_t)v;
	/* clear host bits so that one prefix has one spelling */
	for (max = *plen; max < (*family == 4 ? 32 : 128); max++)
		a->b[max / 8] &= (uint8_t)~(0x80 >> (max % 8));
	return 0;
}

static int block_key(const char *cidr, int *fam, struct fc_bp_lpm6 *k)
{
	uint8_t family, plen;
	struct fc_addr a;
	int err = fc_bypass_parse_cidr(cidr, &family, &plen, &a);

	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	memcpy(k->addr, a.b, family == 4 ? 4 : 16);
	*fam = family == 6;
	return 0;
}

/* Tell the programs how many entries block list fam holds (0 = skip the lookup). */
static void block_recount(struct fc_bypass *b, int fam)
{
	struct fc_bp_lpm6 cur, next;
	void *prev = NULL;
	uint32_t n = 0;

	while (bpf_map_get_next_key(b->block_fd[fam], prev, &next) == 0 && n < UINT32_MAX) {
		cur = next;
		prev = &cur;
		n++;
	}
	b->skel->bss->block_n[fam] = n;
}

int fc_bypass__block_add(struct fc_bypass *b, const char *cidr)
{
	struct fc_bp_block_val v = { 0, 0 };
	struct fc_bp_lpm6 k;
	int fam, err = block_key(cidr, &fam, &k);

	if (err)
		return err;
	if (bpf_map_update_elem(b->block_fd[fam], &k, &v, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	block_recount(b, fam);
	return 0;
}

int fc_bypass__block_del(struct fc_bypass *b, const char *cidr)
{
	struct fc_bp_lpm6 k;
	int fam, err = block_key(cidr, &fam, &k);

	if (err)
		return err;
	if (bpf_map_delete_elem(b->block_fd[fam], &k))
		return -errno;
	block_recount(b, fam);
	return 0;
}

int fc_bypass__block_list(struct fc_bypass *b, char *buf, size_t cap)
{
	struct fc_bp_lpm6 cur, next;
	struct fc_bp_block_val v;
	char a[INET6_ADDRSTRLEN];
	size_t len = 0;
	int fam, n;
	void *prev;

	buf[0] = '\0';
	for (fam = 0; fam < 2; fam++) {
		prev = NULL;
		memset(&cur, 0, sizeof(cur));
		while (bpf_map_get_next_key(b->block_fd[fam], prev, &next) == 0) {
			cur = next;
			prev = &cur;
			if (bpf_map_lookup_elem(b->block_fd[fam], &cur, &v))
				continue;
			inet_ntop(fam ? AF_INET6 : AF_INET, cur.addr, a, sizeof(a));
			n = snprintf(buf + len, cap - len, "%s/%u pkts=%llu bytes=%llu\n", a,
				     cur.prefixlen, (unsigned long long)v.pkts, (unsigned long long)v.bytes);
			if (n < 0 || (size_t)n >= cap - len)
				return -ENOSPC;
			len += (size_t)n;
		}
	}
	return (int)len;
}

int fc_bypass__actions(struct fc_bypass *b, uint64_t out[FC_BYPASS_ACTIONS])
{
	uint64_t v[MAX_CPUS];
	uint32_t a;
	int i;

	for (a = 0; a < FC_BP_ACT__COUNT; a++) {
		out[a] = 0;
		if (bpf_map_lookup_elem(b->stats_fd, &a, v))
			return -errno;
		for (i = 0; i < b->ncpu; i++)
			out[a] += v[i];
	}
	return 0;
}

const char *fc_bypass_action_name(unsigned a)
{
	static const char *const names[FC_BP_ACT__COUNT] = {
		"passed", "bypassed", "blocked", "tcp_control", "fragments", "not_ip", "parse_failed",
	};

	return a < FC_BP_ACT__COUNT ? names[a] : "?";
}

/* ---- lifetime ------------------------------------------------------- */

/* bpffs at /sys/fs/bpf, mounted if missing; the pin directory made. */
static int prepare_pins(struct fc_bypass *b, const char *root, const char *ifname, char *err, size_t errlen)
{
	struct statfs sf;
	char dir[256];
	int n;

	if (!strncmp(root, "/sys/fs/bpf", 11)) {
		if (statfs("/sys/fs/bpf", &sf) == -1 || sf.f_type != BPF_FS_MAGIC) {
			(void)mkdir("/sys/fs/bpf", 0700);
			if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == -1) {
				n = -errno;
				snprintf(err, errlen, "bpffs is not mounted on /sys/fs/bpf and mounting it "
					 "failed: %s", strerror(-n));
				return n;
			}
		}
	}
	n = snprintf(dir, sizeof(dir), "%s", root);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		n = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-n));
		return n;
	}
	n = snprintf(b->pin_dir, sizeof(b->pin_dir), "%s/%s", root, ifname);
	if (n < 0 || (size_t)n >= sizeof(b->pin_dir))
		return -ENAMETOOLONG;
	if (mkdir(b->pin_dir, 0700) == -1 && errno != EEXIST) {
		n = -errno;
		snprintf(err, errlen, "cannot create %s: %s", b->pin_dir, strerror(-n));
		return n;
	}
	return 0;
}

static int set_pin(struct fc_bypass *b, struct bpf_map *m)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/%s", b->pin_dir, bpf_map__name(m));

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return bpf_map__set_pin_path(m, path);
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static const char *load_hint(int rc)
{
	switch (-rc) {
	case EPERM:
	case EACCES:
		return "loading BPF programs needs CAP_BPF and CAP_NET_ADMIN (run as root)";
	case ENOSYS:
		return "this kernel has no BPF support (CONFIG_BPF_SYSCALL)";
	case EINVAL:
		return "pinned maps of another size or layout exist (flowcut bypass flush -i IF, or "
		       "remove the pin directory), or the kernel is too old (needs Linux 5.10+)";
	default:
		return "the kernel rejected the programs or maps (needs Linux 5.10+ with BTF)";
	}
}

int fc_bypass__open(const struct fc_bypass_opts *o, struct fc_bypass **out, char *err, size_t errlen)
{
	const char *root = o->pin_root ? o->pin_root : FC_BYPASS_PIN_ROOT;
	uint32_t entries = o->max_entries ? o->max_entries : FC_BYPASS_DEFAULT_ENTRIES;
	uint32_t blocks = o->max_block ? o->max_block : FC_BYPASS_DEFAULT_BLOCK;
	struct bpf_map *maps[7];
	struct fc_bypass *b;
	int rc, i;

	*out = NULL;
	if (!o->ifname || strlen(o->ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bypass: no usable interface name");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->mode = o->mode;
	b->vlan_key = o->vlan_key;
	b->ncpu = libbpf_num_possible_cpus();
	if (b->ncpu <= 0 || b->ncpu > MAX_CPUS) {
		snprintf(err, errlen, "bypass: cannot count the CPUs");
		rc = -ERANGE;
		goto err_free;
	}
	b->ifindex = (int)if_nametoindex(o->ifname);
	if (!b->ifindex) {
		snprintf(err, errlen, "bypass: no such interface '%s'", o->ifname);
		rc = -ENODEV;
		goto err_free;
	}
	libbpf_set_print(silent_print);
	b->skel = bypass_bpf__open();
	if (!b->skel) {
		rc = -errno;
		snprintf(err, errlen, "bypass: cannot open the BPF object: %s", strerror(-rc));
		goto err_free;
	}
	b->skel->rodata->cfg_vlan_key = o->vlan_key;
	maps[0] = b->skel->maps.flows_v4, maps[1] = b->skel->maps.flows_v6;
	maps[2] = b->skel->maps.meta_v4, maps[3] = b->skel->maps.meta_v6;
	maps[4] = b->skel->maps.block_v4, maps[5] = b->skel->maps.block_v6;
	maps[6] = b->skel->maps.bp_stats;
	for (i = 0; i < 4; i++)
		bpf_map__set_max_entries(maps[i], entries);
	bpf_map__set_max_entries(maps[4], blocks);
	bpf_map__set_max_entries(maps[5], blocks);
	if (*root) {
		rc = prepare_pins(b, root, o->ifname, err, errlen);
		if (rc)
			goto err_skel;
		for (i = 0; i < 7; i++) {
			rc = set_pin(b, maps[i]);
			if (rc) {
				snprintf(err, errlen, "bypass: pin path: %s", strerror(-rc));
				goto err_skel;
			}
		}
	}
	rc = bypass_bpf__load(b->skel);
	if (rc) {
		rc = rc < 0 ? rc : -errno;
		snprintf(err, errlen, "bypass: cannot load the BPF programs: %s: %s", strerror(-rc),
			 load_hint(rc));
		goto err_skel;
	}
	for (i = 0; i < 2; i++) {
		b->flows_fd[i] = bpf_map__fd(maps[i]);
		b->meta_fd[i] = bpf_map__fd(maps[2 + i]);
		b->block_fd[i] = bpf_map__fd(maps[4 + i]);
	}
	b->stats_fd = bpf_map__fd(maps[6]);
	block_recount(b, 0);	/* pinned lists may hold entries already */
	block_recount(b, 1);
	pf_rebuild(b);		/* and the flow maps: before any program is attached */
	b->desc = "socket filter";
	if (o->mode == FC_BYPASS_XDP) {
		int pfd = bpf_program__fd(b->skel->progs.fc_bypass_xdp);
		uint32_t fl = XDP_FLAGS_UPDATE_IF_NOEXIST;

		rc = o->xdp_generic ? -EOPNOTSUPP : bpf_xdp_attach(b->ifindex, pfd, fl | XDP_FLAGS_DRV_MODE, NULL);
		if (!rc) {
			b->xdp_flags = fl | XDP_FLAGS_DRV_MODE;
			b->desc = "xdp native";
		} else {
			rc = bpf_xdp_attach(b->ifindex, pfd, fl | XDP_FLAGS_SKB_MODE, NULL);
			if (rc) {
				snprintf(err, errlen, "bypass: cannot attach XDP to %s (native nor generic): %s%s",
					 o->ifname, strerror(-rc),
					 rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" : "");
				goto err_skel;
			}
			b->xdp_flags = fl | XDP_FLAGS_SKB_MODE;
			b->desc = "xdp generic";
		}
	}
	*out = b;
	return 0;

err_skel:
	bypass_bpf__destroy(b->skel);
err_free:
	free(b);
	return rc;
}

int fc_bypass__attach_socket(struct fc_bypass *b, int fd)
{
	int pfd = bpf_program__fd(b->skel->progs.fc_bypass_sock);

	if (pfd < 0)
		return -EINVAL;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd)) == -1)
		return -errno;
	return 0;
}

void fc_bypass__close(struct fc_bypass *b)
{
	if (!b)
		return;
	if (b->xdp_flags) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo,
			    .old_prog_fd = bpf_program__fd(b->skel->progs.fc_bypass_xdp));
		/* only our program: never detach someone else's */
		(void)bpf_xdp_detach(b->ifindex, (b->xdp_flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST) |
							XDP_FLAGS_REPLACE, &xo);
	}
	bypass_bpf__destroy(b->skel);
	free(b);
}

const char *fc_bypass__attach_desc(const struct fc_bypass *b)
{
	return b->desc;
}

int fc_bypass__prog_fd(const struct fc_bypass *b, bool xdp)
{
	return bpf_program__fd(xdp ? b->skel->progs.fc_bypass_xdp : b->skel->progs.fc_bypass_sock);
}

int fc_bypass__map_fd(const struct fc_bypass *b, int family)
{
	return b->flows_fd[family == 6];
}

const char *fc_bypass__pin_dir(const struct fc_bypass *b)
{
	return b->pin_dir;
}
