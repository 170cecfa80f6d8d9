// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_decode.c - unit tests for fc_decode_frame(): crafted frames for every
 * link type, header and tunnel the decoder knows, checking the flow key,
 * flags, ip_bytes, tunnel and fragment fields. Every frame that goes through
 * run() is also decoded cut at every length from 0 to full (from an
 * exact-size heap copy, so the ASan build catches any over-read) and each
 * cut must give a sensible answer: a truncation reason, the same reason as
 * the whole frame, or the same flow (with FC_PKTF_L4_TRUNC).
 *
 * With FC_DECODE_SEED_DIR set, every frame is also written there as a fuzz
 * seed (2-byte little-endian link type + frame); see
 * tests/fuzz/make_decode_seeds.sh.
 */
#include <stdlib.h>

#include "flowcut/pkt.h"
#include "t.h"

/* ---- frame builder ---------------------------------------------------- */

struct fb {
	uint8_t b[4096];
	size_t n;
};

static void p8(struct fb *f, unsigned int v)
{
	f->b[f->n++] = (uint8_t)v;
}

static void p16(struct fb *f, unsigned int v)
{
	p8(f, v >> 8);
	p8(f, v);
}

static void p16le(struct fb *f, unsigned int v)
{
	p8(f, v);
	p8(f, v >> 8);
}

static void p32(struct fb *f, uint32_t v)
{
	p16(f, v >> 16);
	p16(f, v & 0xffff);
}

static void p32le(struct fb *f, uint32_t v)
{
	p16le(f, v & 0xffff);
	p16le(f, v >> 16);
}

static void pfill(struct fb *f, size_t n, uint8_t v)
{
	memset(f->b + f->n, v, n);
	f->n += n;
}

static void fix16(struct fb *f, size_t at, unsigned int v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void eth(struct fb *f, unsigned int et)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	memcpy(f->b + f->n, macs, sizeof(macs));
	f->n += sizeof(macs);
	p16(f, et);
}

/* The tag after a TPID: TCI then the next type. */
static void tag(struct fb *f, unsigned int vid, unsigned int next)
{
	p16(f, 0x2000 | vid);
	p16(f, next);
}

static size_t ip4(struct fb *f, unsigned int proto, uint32_t src, uint32_t dst)
{
	size_t at = f->n;

	p8(f, 0x45);
	p8(f, 0);
	p16(f, 0);		/* total length: ip4_end() */
	p16(f, 0x1234);		/* id */
	p16(f, 0);		/* flags/offset */
	p8(f, 64);
	p8(f, proto);
	p16(f, 0);
	p32(f, src);
	p32(f, dst);
	return at;
}

static void ip4_end(struct fb *f, size_t at)
{
	fix16(f, at + 2, (unsigned int)(f->n - at));
}

static size_t ip6(struct fb *f, unsigned int nh, unsigned int s, unsigned int d)
{
	size_t at = f->n;

	p32(f, 0x60000000);
	p16(f, 0);		/* payload length: ip6_end() */
	p8(f, nh);
	p8(f, 64);
	p32(f, 0x20010db8);
	pfill(f, 11, 0);
	p8(f, s);
	p32(f, 0x20010db8);
	pfill(f, 11, 0);
	p8(f, d);
	return at;
}

static void ip6_end(struct fb *f, size_t at)
{
	fix16(f, at + 4, (unsigned int)(f->n - at - 40));
}

/* Hop-by-hop / routing / destination options header of (len + 1) * 8 bytes, PadN-filled. */
static void ext6(struct fb *f, unsigned int nh, unsigned int len)
{
	size_t total = (len + 1) * 8;

	p8(f, nh);
	p8(f, len);
	p8(f, 1);		/* PadN */
	p8(f, (unsigned int)(total - 4));
	pfill(f, total - 4, 0);
}

static void tcp(struct fb *f, unsigned int sp, unsigned int dp, unsigned int flags)
{
	p16(f, sp);
	p16(f, dp);
	p32(f, 0x11223344);
	p32(f, 0x55667788);
	p8(f, 0x50 | ((flags >> 8) & 1));
	p8(f, flags & 0xff);
	p16(f, 65535);
	p16(f, 0);
	p16(f, 0);
}

static size_t udp(struct fb *f, unsigned int sp, unsigned int dp)
{
	size_t at = f->n;

	p16(f, sp);
	p16(f, dp);
	p16(f, 0);		/* length: udp_end() */
	p16(f, 0);
	return at;
}

static void udp_end(struct fb *f, size_t at)
{
	fix16(f, at + 4, (unsigned int)(f->n - at));
}

/* A complete Ethernet/IPv4/UDP 10.0.0.x -> 10.0.0.y frame, used inside tunnels. */
static void eth_ip4_udp(struct fb *f, uint32_t src, uint32_t dst, unsigned int sp,
			unsigned int dp, size_t payload)
{
	size_t ip, u;

	eth(f, 0x0800);
	ip = ip4(f, 17, src, dst);
	u = udp(f, sp, dp);
	pfill(f, payload, 0xab);
	udp_end(f, u);
	ip4_end(f, ip);
}

static void ip4_tcp(struct fb *f, uint32_t src, uint32_t dst, unsigned int sp, unsigned int dp,
		    size_t payload)
{
	size_t ip = ip4(f, 6, src, dst);

	tcp(f, sp, dp, 0x018);
	pfill(f, payload, 0xcd);
	ip4_end(f, ip);
}

static struct fc_addr a4(uint32_t v)
{
	struct fc_addr a = { { 0 } };

	a.b[0] = (uint8_t)(v >> 24);
	a.b[1] = (uint8_t)(v >> 16);
	a.b[2] = (uint8_t)(v >> 8);
	a.b[3] = (uint8_t)v;
	return a;
}

static struct fc_addr a6(unsigned int last)
{
	struct fc_addr a = { { 0x20, 0x01, 0x0d, 0xb8 } };

	a.b[15] = (uint8_t)last;
	return a;
}

#define ADDR_EQ(x, y) (memcmp((x).b, (y).b, 16) == 0)

#define CHECK_KEY(p, fam, s, d, pr, sp, dp)                  \
	do {                                                 \
		CHECK_EQ_U((p).kind, FC_PKT_FLOW);           \
		CHECK_EQ_U((p).key.family, fam);             \
		CHECK_EQ_U((p).l3_family, fam);              \
		CHECK(ADDR_EQ((p).key.src, s));              \
		CHECK(ADDR_EQ((p).key.dst, d));              \
		CHECK_EQ_U((p).key.proto, pr);               \
		CHECK_EQ_U((p).key.sport, sp);               \
		CHECK_EQ_U((p).key.dport, dp);               \
	} while (0)

#define CHECK_NF(p, nf)                                      \
	do {                                                 \
		CHECK_EQ_U((p).kind, FC_PKT_NONFLOW);        \
		CHECK_STR(fc_nonflow_name((p).nonflow), fc_nonflow_name(nf)); \
	} while (0)

/* ---- decode, truncation sweep, seed dump ---------------------------------- */

#define SW_NOTIP_OK 0x01	/* a cut may look like a complete non-IP frame (NFLOG) */
#define SW_LEN_FROM_CAP 0x02	/* ip_bytes comes from the captured length (TSO) */
#define SW_TRAILER 0x04		/* bytes after the IP packet: cuts there lose nothing */

static struct fc_pkt dec(int lt, const uint8_t *buf, size_t n)
{
	struct fc_pkt pkt;
	uint8_t *copy = n ? malloc(n) : NULL;	/* exact size: ASan sees any over-read */

	if (n)
		memcpy(copy, buf, n);
	fc_decode_frame(lt, copy, (uint32_t)n, &pkt);
	free(copy);
	return pkt;
}

static void sweep_fail(const char *name, size_t cut, const struct fc_pkt *p, const char *why)
{
	fprintf(stderr, "  sweep %s cut %zu: %s (kind %d, %s)\n", name, cut, why, p->kind,
		fc_nonflow_name(p->nonflow));
	t_failed_checks++;
}

static void sweep(const char *name, int lt, const struct fb *f, const struct fc_pkt *full,
		  unsigned int opts)
{
	for (size_t cut = 0; cut < f->n; cut++) {
		struct fc_pkt p = dec(lt, f->b, cut);

		if (p.kind == FC_PKT_NONFLOW) {
			if (p.nonflow == FC_NF_NONE || p.nonflow >= FC_NONFLOW__COUNT)
				sweep_fail(name, cut, &p, "bad reason");
			else if (fc_nonflow_class(p.nonflow) != FC_NFC_TRUNCATED &&
				 !(full->kind == FC_PKT_NONFLOW && p.nonflow == full->nonflow) &&
				 !((opts & SW_NOTIP_OK) && fc_nonflow_class(p.nonflow) == FC_NFC_NOT_IP))
				sweep_fail(name, cut, &p, "not a truncation reason");
			continue;
		}
		if (p.kind == FC_PKT_FRAG_LATER) {
			if (full->kind != FC_PKT_FRAG_LATER || p.ip_bytes != full->ip_bytes)
				sweep_fail(name, cut, &p, "unexpected later fragment");
			continue;
		}
		if (p.kind != FC_PKT_FLOW) {
			sweep_fail(name, cut, &p, "bad kind");
			continue;
		}
		/*
		 * A cut can hide what made the whole frame invalid (a TCP offset
		 * or UDP length after the ports), or what made a tunnelled frame
		 * a later fragment (the inner header): then it is a flow.
		 */
		if (full->kind == FC_PKT_NONFLOW &&
		    (full->nonflow == FC_NF_BAD_TCP_OFF || full->nonflow == FC_NF_BAD_UDP_LEN))
			continue;
		if (full->kind == FC_PKT_FRAG_LATER && (full->flags & FC_PKTF_TUNNEL))
			continue;
		if (full->kind != FC_PKT_FLOW) {
			sweep_fail(name, cut, &p, "cut frame is a flow, whole frame is not");
			continue;
		}
		if (p.key.family != p.l3_family || (p.key.family != 4 && p.key.family != 6))
			sweep_fail(name, cut, &p, "bad family");
		/* A tunnel that could not be followed any more leaves an outer flow. */
		if ((full->flags & FC_PKTF_TUNNEL) &&
		    (!(p.flags & FC_PKTF_TUNNEL) || p.tunnel.depth != full->tunnel.depth))
			continue;
		if (!ADDR_EQ(p.key.src, full->key.src) || !ADDR_EQ(p.key.dst, full->key.dst) ||
		    p.key.proto != full->key.proto || p.key.sport != full->key.sport ||
		    p.key.dport != full->key.dport || p.key.vlan != full->key.vlan ||
		    p.key.tunnel_id != full->key.tunnel_id)
			sweep_fail(name, cut, &p, "key differs from the whole frame's");
		if (!(opts & SW_LEN_FROM_CAP) && p.ip_bytes != full->ip_bytes)
			sweep_fail(name, cut, &p, "ip_bytes differs from the whole frame's");
		if (!(opts & (SW_LEN_FROM_CAP | SW_TRAILER)) && !(p.flags & FC_PKTF_L4_TRUNC))
			sweep_fail(name, cut, &p, "cut flow without FC_PKTF_L4_TRUNC");
	}
}

static void seed_dump(const char *name, int lt, const struct fb *f)
{
	const char *dir = getenv("FC_DECODE_SEED_DIR");
	char path[512];
	uint8_t hdr[2] = { (uint8_t)lt, (uint8_t)(lt >> 8) };
	FILE *fp;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp)
		return;
	fwrite(hdr, 1, 2, fp);
	fwrite(f->b, 1, f->n, fp);
	fclose(fp);
}

static struct fc_pkt run_opts(const char *name, int lt, const struct fb *f, unsigned int opts)
{
	struct fc_pkt full = dec(lt, f->b, f->n);

	seed_dump(name, lt, f);
	sweep(name, lt, f, &full, opts);
	if (full.kind == FC_PKT_NONFLOW && full.flags != 0) {
		fprintf(stderr, "  %s: non-flow with flags %#x\n", name, full.flags);
		t_failed_checks++;
	}
	return full;
}

static struct fc_pkt run(const char *name, int lt, const struct fb *f)
{
	return run_opts(name, lt, f, 0);
}

#define A 0x0a000001u
#define B 0x0a000002u
#define OA 0xc0a80001u
#define OB 0xc0a80002u

/* ---- Ethernet / IPv4 / L4 ------------------------------------------------ */

static void test_eth_ipv4_tcp(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 6, A, B);
	tcp(&f, 40000, 443, 0x1c2);	/* NS | CWR | ECE | SYN */
	pfill(&f, 100, 0xcd);
	ip4_end(&f, ip);
	p = run("eth_ipv4_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 40000, 443);
	CHECK_EQ_U(p.ip_bytes, 140);
	CHECK_EQ_U(p.payload_len, 100);
	CHECK_EQ_U(p.tcp_flags, 0x1c2);
	CHECK_EQ_U(p.tcp_seq, 0x11223344);
	CHECK_EQ_U(p.tcp_ack, 0x55667788);
	CHECK_EQ_U(p.flags, FC_PKTF_TCP);
	CHECK_EQ_U(p.key.flags, 0);
	CHECK_EQ_U(p.key.tunnel_type, 0);
	CHECK_EQ_U(p.nonflow, FC_NF_NONE);
}

static void test_eth_padding_narrowed(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	pfill(&f, 6, 0xee);	/* 60-byte minimum frame padding */
	p = run_opts("eth_ipv4_tcp_pad", FC_LINKTYPE_ETHERNET, &f, SW_TRAILER);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.ip_bytes, 40);
	CHECK_EQ_U(p.payload_len, 0);
	CHECK_EQ_U(p.flags, FC_PKTF_TCP);
}

static void test_ipv4_options_udp(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	eth(&f, 0x0800);
	ip = ip4(&f, 17, A, B);
	f.b[ip] = 0x47;		/* IHL 7: 8 bytes of options */
	p32(&f, 0x94040000);	/* router alert */
	p32(&f, 0x01010100);	/* NOP NOP NOP EOL */
	u = udp(&f, 53, 5353);
	pfill(&f, 12, 0);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_ipv4_opts_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 53, 5353);
	CHECK_EQ_U(p.ip_bytes, 48);
	CHECK_EQ_U(p.payload_len, 12);
	CHECK_EQ_U(p.flags, 0);
}

static void test_snaplen(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x0800);
	ip4_tcp(&f, A, B, 1000, 80, 500);
	/* Cut after the ports: a flow without TCP state. */
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 20 + 4);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1000, 80);
	CHECK_EQ_U(p.ip_bytes, 540);
	CHECK_EQ_U(p.flags, FC_PKTF_L4_TRUNC);
	CHECK_EQ_U(p.tcp_flags, 0);
	/* Cut with the flags byte: TCP state is valid, the header is not complete. */
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 20 + 14);
	CHECK_EQ_U(p.flags, FC_PKTF_L4_TRUNC | FC_PKTF_TCP);
	CHECK_EQ_U(p.tcp_flags, 0x18);
	CHECK_EQ_U(p.payload_len, 500);
	/* Cut in the payload (snaplen 96). */
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 96);
	CHECK_EQ_U(p.flags, FC_PKTF_L4_TRUNC | FC_PKTF_TCP);
	CHECK_EQ_U(p.ip_bytes, 540);
	/* Two bytes of TCP: not even the ports. */
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 20 + 2);
	CHECK_NF(p, FC_NF_TRUNC_TCP);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 19);
	CHECK_NF(p, FC_NF_TRUNC_IPV4);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 13);
	CHECK_NF(p, FC_NF_TRUNC_L2);
	p = dec(FC_LINKTYPE_ETHERNET, NULL, 0);
	CHECK_NF(p, FC_NF_TRUNC_L2);
}

static void test_ipv4_invalid(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 10);
	f.b[14] = 0x65;
	p = run("eth_ipv4_badver", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_IP_VERSION);
	f.b[14] = 0x44;
	p = run("eth_ipv4_badihl", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_IPV4_IHL);
	f.b[14] = 0x45;
	fix16(&f, 16, 19);
	p = run("eth_ipv4_badlen", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_IPV4_LEN);
	/* IHL 15 but only 20 bytes of header captured: truncated, not invalid. */
	f.b[14] = 0x4f;
	fix16(&f, 16, 100);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 30);
	CHECK_NF(p, FC_NF_TRUNC_IPV4);
	/* TCP data offset 4. */
	f.b[14] = 0x45;
	fix16(&f, 16, 50);
	f.b[14 + 20 + 12] = 0x40;
	p = run("eth_tcp_badoff", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_TCP_OFF);
}

static void test_udp_bad_len(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 17, A, B);
	udp(&f, 1, 2);
	fix16(&f, f.n - 4, 5);
	ip4_end(&f, ip);
	p = run("eth_udp_badlen", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_UDP_LEN);
}

static void test_ipv4_tso(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 3000);
	fix16(&f, 16, 0);
	p = run_opts("eth_ipv4_tso", FC_LINKTYPE_ETHERNET, &f, SW_LEN_FROM_CAP);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.ip_bytes, 3040);
	CHECK_EQ_U(p.payload_len, 3000);
	CHECK_EQ_U(p.flags, FC_PKTF_TCP);
}

static void test_ipv4_fragments(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	eth(&f, 0x8100);
	tag(&f, 42, 0x0800);
	ip = ip4(&f, 17, A, B);
	fix16(&f, ip + 6, 0x2000);	/* MF, offset 0 */
	u = udp(&f, 5000, 53);
	pfill(&f, 1472, 0);
	fix16(&f, u + 4, 3000);
	ip4_end(&f, ip);
	p = run("eth_vlan_ipv4_frag_first", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 5000, 53);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST);
	CHECK_EQ_U(p.ip_bytes, 1500);
	CHECK(ADDR_EQ(p.frag.src, a4(A)));
	CHECK(ADDR_EQ(p.frag.dst, a4(B)));
	CHECK_EQ_U(p.frag.id, 0x1234);
	CHECK_EQ_U(p.frag.proto, 17);
	CHECK_EQ_U(p.frag.family, 4);
	CHECK_EQ_U(p.frag.vlan, 42);
	CHECK_EQ_U(p.key.vlan, 42);

	/* Later fragment: offset 185 (1480 bytes), last. */
	f.n = 18;
	ip = ip4(&f, 17, A, B);
	fix16(&f, ip + 6, 185);
	pfill(&f, 1508 - 1480, 0x11);
	ip4_end(&f, ip);
	p = run("eth_vlan_ipv4_frag_later", FC_LINKTYPE_ETHERNET, &f);
	CHECK_EQ_U(p.kind, FC_PKT_FRAG_LATER);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG);
	CHECK_EQ_U(p.ip_bytes, 48);
	CHECK_EQ_U(p.frag.id, 0x1234);
	CHECK_EQ_U(p.frag.proto, 17);
	CHECK_EQ_U(p.frag.vlan, 42);
	CHECK(ADDR_EQ(p.frag.src, a4(A)));

	/* A first fragment too short to hold the ports. */
	f.n = 18;
	ip = ip4(&f, 6, A, B);
	fix16(&f, ip + 6, 0x2000);
	p16(&f, 1234);
	ip4_end(&f, ip);
	p = run("eth_ipv4_frag_tiny", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_FRAG);

	/* A first fragment holding the ports but not the TCP flags is still a flow. */
	f.n = 18;
	ip = ip4(&f, 6, A, B);
	fix16(&f, ip + 6, 0x2000);
	p32(&f, 0x04d20050);
	p32(&f, 0);
	ip4_end(&f, ip);
	p = run("eth_ipv4_frag_8", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1234, 80);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST | FC_PKTF_L4_TRUNC);
}

static void test_sctp_other(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 132, A, B);
	p16(&f, 2905);
	p16(&f, 2906);
	p32(&f, 0xdeadbeef);
	p32(&f, 0);
	pfill(&f, 16, 0);
	ip4_end(&f, ip);
	p = run("eth_sctp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 132, 2905, 2906);
	CHECK_EQ_U(p.flags, 0);

	f.n = 14;
	ip = ip4(&f, 89, A, B);	/* OSPF */
	pfill(&f, 24, 0);
	ip4_end(&f, ip);
	p = run("eth_ospf", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 89, 0, 0);
	CHECK_EQ_U(p.ip_bytes, 44);

	f.n = 14;
	ip = ip4(&f, 50, A, B);	/* ESP */
	pfill(&f, 2, 0);
	ip4_end(&f, ip);
	p = run("eth_esp_short", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 50, 0, 0);
}

/* ---- ICMP / ICMPv6 ----------------------------------------------------- */

static struct fc_pkt icmp4(unsigned int type, unsigned int code, unsigned int id, bool rev)
{
	struct fb f = { .n = 0 };
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 1, rev ? B : A, rev ? A : B);
	p8(&f, type);
	p8(&f, code);
	p16(&f, 0);
	p16(&f, id);
	p16(&f, 7);
	pfill(&f, 32, 0x61);
	ip4_end(&f, ip);
	return run("eth_icmp", FC_LINKTYPE_ETHERNET, &f);
}

static void test_icmp(void)
{
	struct fc_pkt p = icmp4(8, 0, 0x4242, false);

	CHECK_KEY(p, 4, a4(A), a4(B), 1, 8, 0x4242);
	CHECK_EQ_U(p.key.flags, FC_KEYF_PORTS_SYMMETRIC);
	CHECK_EQ_U(p.icmp_type, 8);
	CHECK_EQ_U(p.ip_bytes, 60);
	p = icmp4(0, 0, 0x4242, true);
	CHECK_KEY(p, 4, a4(B), a4(A), 1, 8, 0x4242);
	CHECK_EQ_U(p.icmp_type, 0);
	p = icmp4(14, 0, 9, true);
	CHECK_EQ_U(p.key.sport, 13);
	CHECK_EQ_U(p.key.dport, 9);
	p = icmp4(16, 0, 9, true);
	CHECK_EQ_U(p.key.sport, 15);
	p = icmp4(18, 0, 9, true);
	CHECK_EQ_U(p.key.sport, 17);
	p = icmp4(9, 0, 9, true);
	CHECK_EQ_U(p.key.sport, 10);
	CHECK_EQ_U(p.key.dport, 0);
	p = icmp4(3, 3, 0, false);
	CHECK_KEY(p, 4, a4(A), a4(B), 1, 3, 3);
	CHECK_EQ_U(p.key.flags, FC_KEYF_PORTS_SYMMETRIC);
	CHECK_EQ_U(p.icmp_code, 3);
}

static void test_icmp_trunc(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 1, A, B);
	p8(&f, 8);
	p8(&f, 0);
	p16(&f, 0);
	ip4_end(&f, ip);
	p = run("eth_icmp_echo_short", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_TRUNC_ICMP);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 20 + 1);
	CHECK_NF(p, FC_NF_TRUNC_ICMP);
}

static struct fc_pkt icmp6(unsigned int type, unsigned int code, unsigned int id)
{
	struct fb f = { .n = 0 };
	size_t ip;

	eth(&f, 0x86dd);
	ip = ip6(&f, 58, 1, 2);
	p8(&f, type);
	p8(&f, code);
	p16(&f, 0);
	p16(&f, id);
	p16(&f, 1);
	pfill(&f, 16, 0);
	ip6_end(&f, ip);
	return run("eth_icmp6", FC_LINKTYPE_ETHERNET, &f);
}

static void test_icmp6(void)
{
	struct fc_pkt p = icmp6(128, 0, 77);

	CHECK_KEY(p, 6, a6(1), a6(2), 58, 128, 77);
	CHECK_EQ_U(p.key.flags, FC_KEYF_PORTS_SYMMETRIC);
	CHECK_EQ_U(p.ip_bytes, 64);
	p = icmp6(129, 0, 77);
	CHECK_EQ_U(p.key.sport, 128);
	CHECK_EQ_U(p.key.dport, 77);
	CHECK_EQ_U(p.icmp_type, 129);
	p = icmp6(134, 0, 77);
	CHECK_EQ_U(p.key.sport, 133);
	CHECK_EQ_U(p.key.dport, 0);
	p = icmp6(136, 0, 77);
	CHECK_EQ_U(p.key.sport, 135);
	p = icmp6(131, 0, 77);
	CHECK_EQ_U(p.key.sport, 130);
	p = icmp6(140, 2, 77);
	CHECK_EQ_U(p.key.sport, 139);
	CHECK_EQ_U(p.key.dport, 2);
	p = icmp6(1, 4, 77);
	CHECK_EQ_U(p.key.sport, 1);
	CHECK_EQ_U(p.key.dport, 4);
}

/* ---- IPv6 -------------------------------------------------------------- */

static void test_ipv6_tcp(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x86dd);
	ip = ip6(&f, 6, 1, 2);
	tcp(&f, 5555, 22, 0x010);
	pfill(&f, 48, 0);
	ip6_end(&f, ip);
	p = run("eth_ipv6_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 6, 5555, 22);
	CHECK_EQ_U(p.ip_bytes, 108);
	CHECK_EQ_U(p.payload_len, 48);
	CHECK_EQ_U(p.flags, FC_PKTF_TCP);
}

static void test_ipv6_ext_chain(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	/* HBH -> routing -> dstopts -> AH -> UDP */
	eth(&f, 0x86dd);
	ip = ip6(&f, 0, 1, 2);
	ext6(&f, 43, 0);
	ext6(&f, 60, 1);
	ext6(&f, 51, 0);
	p8(&f, 17);		/* AH: next UDP, length 4 -> (4 + 2) * 4 = 24 bytes */
	p8(&f, 4);
	pfill(&f, 22, 0);
	u = udp(&f, 1000, 2000);
	pfill(&f, 10, 0);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_ext_ah_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 1000, 2000);
	CHECK_EQ_U(p.ip_bytes, 40 + 8 + 16 + 8 + 24 + 18);
	CHECK_EQ_U(p.payload_len, 10);

	/* ESP and No Next Header end the walk with ports 0/0. */
	f.n = 14;
	ip = ip6(&f, 0, 1, 2);
	ext6(&f, 50, 0);
	pfill(&f, 24, 0x77);
	ip6_end(&f, ip);
	p = run("eth_ipv6_esp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 50, 0, 0);
	f.n = 14;
	ip = ip6(&f, 60, 1, 2);
	ext6(&f, 59, 0);
	ip6_end(&f, ip);
	p = run("eth_ipv6_nonxt", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 59, 0, 0);
	CHECK_EQ_U(p.ip_bytes, 48);
}

static void test_ipv6_ext_limits(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;
	int i;

	eth(&f, 0x86dd);
	ip = ip6(&f, 60, 1, 2);
	for (i = 0; i < FC_IPV6_EXT_MAX; i++)
		ext6(&f, i == FC_IPV6_EXT_MAX - 1 ? 17 : 60, 0);
	u = udp(&f, 1, 2);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_ext_16", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 1, 2);

	f.n = 14;
	ip = ip6(&f, 60, 1, 2);
	for (i = 0; i <= FC_IPV6_EXT_MAX; i++)
		ext6(&f, i == FC_IPV6_EXT_MAX ? 17 : 60, 0);
	u = udp(&f, 1, 2);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_ext_17", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_IPV6_EXT_TOO_MANY);

	/* Payload length 8 but a 16-byte destination options header. */
	f.n = 14;
	ip = ip6(&f, 60, 1, 2);
	ext6(&f, 17, 1);
	ip6_end(&f, ip);
	fix16(&f, ip + 4, 8);
	p = run("eth_ipv6_badlen", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_IPV6_LEN);
	/* The same header cut by the capture is a truncation. */
	fix16(&f, ip + 4, 16);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, f.n - 4);
	CHECK_NF(p, FC_NF_TRUNC_IPV6_EXT);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 39);
	CHECK_NF(p, FC_NF_TRUNC_IPV6);
}

/* A 16-byte address 2001:db8::<last> into the frame. */
static void paddr6(struct fb *f, unsigned int last)
{
	p32(f, 0x20010db8);
	pfill(f, 11, 0);
	p8(f, last);
}

/* Routing header of `type` with `segleft` and n addresses 2001:db8::<first + i>. */
static void rt6(struct fb *f, unsigned int nh, unsigned int type, unsigned int segleft,
		unsigned int n, unsigned int first)
{
	unsigned int i;

	p8(f, nh);
	p8(f, 2 * n);
	p8(f, type);
	p8(f, segleft);
	p32(f, 0);		/* reserved (type 4: last entry, flags, tag) */
	for (i = 0; i < n; i++)
		paddr6(f, first + i);
}

static void test_ipv6_routing_final_dst(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	/* Type 0, segments left 2: the last address is the final destination. */
	eth(&f, 0x86dd);
	ip = ip6(&f, 0, 1, 0x10);
	ext6(&f, 43, 0);
	rt6(&f, 17, 0, 2, 2, 0x21);
	u = udp(&f, 53, 53);
	pfill(&f, 3, 0x58);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt0_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x22), 17, 53, 53);
	CHECK_EQ_U(p.ip_bytes, 40 + 8 + 40 + 11);

	/* ... segments left 0: the header's destination is final. */
	f.b[14 + 40 + 8 + 3] = 0;
	p = run("eth_ipv6_rt0_segleft0", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x10), 17, 53, 53);
	f.b[14 + 40 + 8 + 3] = 2;

	/* ... an odd length holds no whole last address: ignored (as Zeek). */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	p8(&f, 17);
	p8(&f, 3);
	p8(&f, 0);
	p8(&f, 1);
	p32(&f, 0);
	paddr6(&f, 0x21);
	pfill(&f, 8, 0xee);
	u = udp(&f, 7, 8);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt0_odd", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x10), 17, 7, 8);

	/* Type 2 (Mobile IPv6): the home address. */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	rt6(&f, 6, 2, 1, 1, 0x33);
	tcp(&f, 1000, 80, 0x002);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt2_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x33), 6, 1000, 80);
	/* ... with two addresses it is not a type 2 header: ignored. */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	rt6(&f, 6, 2, 1, 2, 0x33);
	tcp(&f, 1000, 80, 0x002);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt2_badlen", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x10), 6, 1000, 80);

	/* Type 4 (SRH): Segment List[0] is the final segment. */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	rt6(&f, 58, 4, 2, 3, 0x40);
	p8(&f, 128);
	p8(&f, 0);
	p16(&f, 0);
	p16(&f, 0x6ee);
	p16(&f, 1);
	ip6_end(&f, ip);
	p = run("eth_ipv6_srh_icmp6", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x40), 58, 128, 0x6ee);

	/* Unknown routing type 3 (RPL): the header's destination. */
	f.b[14 + 40 + 2] = 3;
	p = run("eth_ipv6_rt3", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x10), 58, 128, 0x6ee);

	/* Two routing headers: the first one decides (RFC 8200 §4.1: at most one). */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	rt6(&f, 43, 2, 1, 1, 0x50);
	rt6(&f, 17, 2, 1, 1, 0x51);
	u = udp(&f, 1, 2);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt2_twice", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x50), 17, 1, 2);

	/* A first fragment: the key has the final destination, the fragment id the header's. */
	f.n = 14;
	ip = ip6(&f, 43, 1, 0x10);
	rt6(&f, 44, 0, 1, 1, 0x60);
	p8(&f, 17);
	p8(&f, 0);
	p16(&f, 0x0001);
	p32(&f, 77);
	u = udp(&f, 9, 10);
	pfill(&f, 16, 0);
	udp_end(&f, u);
	fix16(&f, u + 4, 1000);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt0_frag_first", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(0x60), 17, 9, 10);
	CHECK(ADDR_EQ(p.frag.dst, a6(0x10)));
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST);
}

/* Destination options header: PadN(2), Home Address option (Opt Data Len `olen`), padding to 8n. */
static void dst_home(struct fb *f, unsigned int nh, unsigned int olen, unsigned int last)
{
	p8(f, nh);
	p8(f, 2);		/* 24 bytes */
	p8(f, 1);
	p8(f, 2);
	p16(f, 0);
	p8(f, 0xc9);
	p8(f, olen);
	paddr6(f, last);
}

static void test_ipv6_home_address(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	eth(&f, 0x86dd);
	ip = ip6(&f, 60, 0x10, 2);
	dst_home(&f, 17, 16, 0x70);
	u = udp(&f, 30000, 13000);
	pfill(&f, 4, 0x58);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("eth_ipv6_home_addr_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(0x70), a6(2), 17, 30000, 13000);

	/*
	 * Opt Data Len must be 16 (RFC 6275 §6.3, as Zeek checks); a length-1
	 * option (zeek-ipv6-mobility-dst-opts.pcap frame 3) names no address.
	 */
	f.b[14 + 40 + 7] = 1;
	p = run("eth_ipv6_home_addr_len1", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(0x10), a6(2), 17, 30000, 13000);

	/* An option running past its header ends the option walk only. */
	f.b[14 + 40 + 6] = 0xca;
	f.b[14 + 40 + 7] = 0x90;
	p = run("eth_ipv6_dstopt_overrun", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(0x10), a6(2), 17, 30000, 13000);

	/* Home address and type 2 routing header: both final endpoints. */
	f.n = 14;
	ip = ip6(&f, 43, 0x10, 2);
	rt6(&f, 60, 2, 1, 1, 0x71);
	dst_home(&f, 6, 16, 0x72);
	tcp(&f, 1, 2, 0x12);
	ip6_end(&f, ip);
	p = run("eth_ipv6_rt2_home_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(0x72), a6(0x71), 6, 1, 2);

	/*
	 * A destination options header longer than the payload length, its
	 * bytes present as Ethernet trailer (frame 2 of the same capture):
	 * invalid, like Wireshark (malformed, no UDP) and Zeek
	 * (invalid_IP_header_size). The home address does not rescue it.
	 */
	f.n = 14;
	ip = ip6(&f, 60, 0x10, 2);
	p8(&f, 17);
	p8(&f, 4);		/* 40 bytes */
	p8(&f, 1);
	p8(&f, 0);
	p8(&f, 0xc9);
	p8(&f, 16);
	paddr6(&f, 0x70);
	p8(&f, 0xc9);
	p8(&f, 16);
	paddr6(&f, 0x70);
	u = udp(&f, 30000, 13000);
	pfill(&f, 4, 0x58);
	udp_end(&f, u);
	ip6_end(&f, ip);
	fix16(&f, ip + 4, 36);
	p = run_opts("eth_ipv6_home_addr_badlen", FC_LINKTYPE_ETHERNET, &f, SW_TRAILER);
	CHECK_NF(p, FC_NF_BAD_IPV6_LEN);
}

static void test_ipv6_fragments(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	eth(&f, 0x86dd);
	ip = ip6(&f, 44, 1, 2);
	p8(&f, 17);
	p8(&f, 0);
	p16(&f, 0x0001);	/* offset 0, M */
	p32(&f, 0xabcdef01);
	u = udp(&f, 53, 4444);
	pfill(&f, 64, 0);
	udp_end(&f, u);
	fix16(&f, u + 4, 3000);
	ip6_end(&f, ip);
	p = run("eth_ipv6_frag_first", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 53, 4444);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST);
	CHECK_EQ_U(p.frag.id, 0xabcdef01);
	CHECK_EQ_U(p.frag.proto, 0);
	CHECK_EQ_U(p.frag.family, 6);
	CHECK(ADDR_EQ(p.frag.dst, a6(2)));
	CHECK_EQ_U(p.ip_bytes, 40 + 8 + 72);

	fix16(&f, 14 + 40 + 2, 0x0100);	/* offset 32, last */
	p = run("eth_ipv6_frag_later", FC_LINKTYPE_ETHERNET, &f);
	CHECK_EQ_U(p.kind, FC_PKT_FRAG_LATER);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG);
	CHECK_EQ_U(p.frag.id, 0xabcdef01);
	CHECK_EQ_U(p.ip_bytes, 120);

	/* Fuzzer find: a later-fragment header after a first one is a later fragment only. */
	f.b[14 + 6] = 44;
	f.b[14 + 40] = 44;
	fix16(&f, 14 + 40 + 2, 0x0001);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 14 + 40 + 8);
	f.b[14 + 40] = 17;
	CHECK_EQ_U(p.kind, FC_PKT_NONFLOW);	/* the second header is cut off */
	{
		struct fb g = { .n = 0 };

		eth(&g, 0x86dd);
		ip = ip6(&g, 44, 1, 2);
		p8(&g, 44);
		p8(&g, 0);
		p16(&g, 0x0001);
		p32(&g, 1);
		p8(&g, 17);
		p8(&g, 0);
		p16(&g, 0x0100);
		p32(&g, 1);
		pfill(&g, 16, 0);
		ip6_end(&g, ip);
		p = run("eth_ipv6_two_frag_hdrs", FC_LINKTYPE_ETHERNET, &g);
		CHECK_EQ_U(p.kind, FC_PKT_FRAG_LATER);
		CHECK_EQ_U(p.flags, FC_PKTF_FRAG);
	}

	fix16(&f, 14 + 40 + 2, 0x0000);	/* atomic fragment: a whole packet */
	p = run("eth_ipv6_frag_atomic", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 53, 4444);
	CHECK_EQ_U(p.flags, 0);
}

static void test_ipv6_jumbo(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x86dd);
	ip = ip6(&f, 0, 1, 2);
	p8(&f, 6);		/* HBH: next TCP, 8 bytes */
	p8(&f, 0);
	p8(&f, 0xc2);
	p8(&f, 4);
	p32(&f, 8 + 20 + 70000);
	tcp(&f, 1, 2, 0x10);
	pfill(&f, 1000, 0);	/* GSO capture cut well short of 70000 */
	(void)ip;
	p = run_opts("eth_ipv6_jumbo", FC_LINKTYPE_ETHERNET, &f, 0);
	CHECK_KEY(p, 6, a6(1), a6(2), 6, 1, 2);
	CHECK_EQ_U(p.ip_bytes, 40 + 8 + 20 + 70000);
	CHECK_EQ_U(p.payload_len, 70000);
	CHECK(p.flags & FC_PKTF_L4_TRUNC);

	/* Payload length 0 without a jumbo option: GSO, use the captured length. */
	f.n = 14;
	ip = ip6(&f, 6, 1, 2);
	tcp(&f, 1, 2, 0x10);
	pfill(&f, 100, 0);
	p = run_opts("eth_ipv6_gso", FC_LINKTYPE_ETHERNET, &f, SW_LEN_FROM_CAP);
	CHECK_KEY(p, 6, a6(1), a6(2), 6, 1, 2);
	CHECK_EQ_U(p.ip_bytes, 160);
	CHECK_EQ_U(p.payload_len, 100);

	/* Fuzzer find: a jumbo length of 0xffffffff must not wrap ip_bytes. */
	f.n = 14;
	ip6(&f, 0, 1, 2);
	p8(&f, 6);
	p8(&f, 0);
	p8(&f, 0xc2);
	p8(&f, 4);
	p32(&f, 0xffffffff);
	tcp(&f, 1, 2, 0x10);
	p = run("eth_ipv6_jumbo_huge", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_BAD_IPV6_LEN);
}

/* ---- VLAN, MPLS, PPPoE, LLC and friends -------------------------------- */

static void test_vlan(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	int i;

	eth(&f, 0x88a8);
	tag(&f, 100, 0x8100);
	tag(&f, 200, 0x8100);
	tag(&f, 300, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("eth_qinqinq_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.key.vlan, 100);
	CHECK_EQ_U(p.key.vlan_inner, 200);
	CHECK_EQ_U(p.key.flags, FC_KEYF_VLAN | FC_KEYF_VLAN2);

	f.n = 0;
	eth(&f, 0x8100);
	tag(&f, 0, 0x86dd);	/* priority tag */
	{
		size_t ip = ip6(&f, 17, 1, 2);
		size_t u = udp(&f, 1, 2);

		udp_end(&f, u);
		ip6_end(&f, ip);
	}
	p = run("eth_vlan0_ipv6_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 1, 2);
	CHECK_EQ_U(p.key.vlan, 0);
	CHECK_EQ_U(p.key.flags, FC_KEYF_VLAN);

	f.n = 0;
	eth(&f, 0x8100);
	for (i = 0; i < FC_VLAN_MAX_DEPTH; i++)
		tag(&f, (unsigned int)i + 1, i == FC_VLAN_MAX_DEPTH - 1 ? 0x0800 : 0x8100);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("eth_vlan8", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.key.vlan, 1);
	CHECK_EQ_U(p.key.vlan_inner, 2);

	f.n = 0;
	eth(&f, 0x8100);
	for (i = 0; i <= FC_VLAN_MAX_DEPTH; i++)
		tag(&f, 1, i == FC_VLAN_MAX_DEPTH ? 0x0800 : 0x8100);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("eth_vlan9", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_VLAN_TOO_DEEP);

	/* Cisco VN-Tag, then 802.1Q, then IPv4. */
	f.n = 0;
	eth(&f, 0x8926);
	p32(&f, 0x80010002);
	p16(&f, 0x8100);
	tag(&f, 7, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("eth_vntag_vlan_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.key.vlan, 7);
}

static void test_not_ip(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x0806);
	pfill(&f, 28, 0);
	p = run("eth_arp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_ARP);
	f.n = 0;
	eth(&f, 0x8100);
	tag(&f, 5, 0x8035);
	pfill(&f, 28, 0);
	p = run("eth_vlan_rarp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_ARP);
	f.n = 0;
	eth(&f, 0x88cc);	/* LLDP */
	pfill(&f, 30, 0);
	p = run("eth_lldp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_NONIP);
	f.n = 0;
	eth(&f, 38);		/* 802.3 length, STP BPDU */
	p8(&f, 0x42);
	p8(&f, 0x42);
	p8(&f, 0x03);
	pfill(&f, 35, 0);
	p = run("eth_stp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_NONIP);
	f.n = 0;
	eth(&f, 0x8863);
	pfill(&f, 20, 0);
	p = run("eth_pppoe_disc", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_PPPOE_DISCOVERY);
}

static void test_llc_snap(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0);
	p8(&f, 0xaa);
	p8(&f, 0xaa);
	p8(&f, 0x03);
	p8(&f, 0);
	p16(&f, 0);
	p16(&f, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	fix16(&f, 12, (unsigned int)(f.n - 14));
	p = run("eth_llc_snap_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	/* Cisco OUI (CDP) is not IP. */
	f.b[17] = 0x0c;
	p = run("eth_snap_cisco", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_NONIP);
}

static void test_mpls(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	int i;

	eth(&f, 0x8100);
	tag(&f, 9, 0x8847);
	p32(&f, (100u << 12) | 64);
	p32(&f, (200u << 12) | 0x100 | 64);
	ip4_tcp(&f, A, B, 1, 2, 10);
	p = run("eth_vlan_mpls_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.key.vlan, 9);

	f.n = 0;
	eth(&f, 0x8847);
	p32(&f, (16u << 12) | 0x100 | 64);
	{
		size_t ip = ip6(&f, 17, 1, 2);
		size_t u = udp(&f, 7, 8);

		udp_end(&f, u);
		ip6_end(&f, ip);
	}
	p = run("eth_mpls_ipv6", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 7, 8);

	f.n = 0;
	eth(&f, 0x8847);
	for (i = 0; i < FC_MPLS_MAX_DEPTH + 1; i++)
		p32(&f, 64);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("eth_mpls_deep", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_MPLS_TOO_DEEP);

	f.n = 0;
	eth(&f, 0x8847);
	p32(&f, 0x100 | 64);
	p32(&f, 0);		/* pseudowire control word, then Ethernet */
	eth(&f, 0x0800);
	p = run("eth_mpls_pw", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_MPLS_PAYLOAD);
}

static void pppoe_frame(struct fb *f, unsigned int proto)
{
	size_t at;

	p8(f, 0x11);
	p8(f, 0);
	p16(f, 0x0001);
	at = f->n;
	p16(f, 0);
	p16(f, proto);
	if (proto == 0x0021)
		ip4_tcp(f, A, B, 1, 2, 5);
	else if (proto == 0x0057) {
		size_t ip = ip6(f, 6, 1, 2);

		tcp(f, 1, 2, 0x02);
		ip6_end(f, ip);
	} else
		pfill(f, 10, 0);
	fix16(f, at, (unsigned int)(f->n - at - 2));
}

static void test_pppoe(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	eth(&f, 0x8864);
	pppoe_frame(&f, 0x0021);
	pfill(&f, 4, 0);	/* padding past the PPPoE length */
	p = run_opts("eth_pppoe_ipv4", FC_LINKTYPE_ETHERNET, &f, SW_TRAILER);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_EQ_U(p.ip_bytes, 45);

	f.n = 0;
	eth(&f, 0x8100);
	tag(&f, 10, 0x8100);
	tag(&f, 20, 0x8864);
	pppoe_frame(&f, 0x0057);
	p = run("eth_qinq_pppoe_ipv6", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 6, 1, 2);
	CHECK_EQ_U(p.key.vlan, 10);
	CHECK_EQ_U(p.key.vlan_inner, 20);

	f.n = 0;
	eth(&f, 0x8864);
	pppoe_frame(&f, 0xc021);
	p = run("eth_pppoe_lcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_NF(p, FC_NF_NONIP);
	p = dec(FC_LINKTYPE_ETHERNET, f.b, 20);
	CHECK_NF(p, FC_NF_TRUNC_PPPOE);

	/* Protocol field compression: PPP protocol 0x21 in one octet. */
	f.n = 0;
	eth(&f, 0x8864);
	p8(&f, 0x11);
	p8(&f, 0);
	p16(&f, 0x002d);
	p16(&f, 0);
	p8(&f, 0x21);
	ip4_tcp(&f, A, B, 57013, 80, 0);
	fix16(&f, 18, (unsigned int)(f.n - 20));
	p = run("eth_pppoe_pfc_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 57013, 80);
}

/* ---- other link types --------------------------------------------------- */

static void test_sll(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	p16(&f, 0);		/* to us */
	p16(&f, 1);		/* ARPHRD_ETHER */
	p16(&f, 6);
	pfill(&f, 8, 0x02);
	p16(&f, 0x0800);
	ip4_tcp(&f, A, B, 6667, 50000, 20);
	p = run("sll_ipv4_tcp", FC_LINKTYPE_LINUX_SLL, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 6667, 50000);
	fix16(&f, 14, 0x0806);
	p = run("sll_arp", FC_LINKTYPE_LINUX_SLL, &f);
	CHECK_NF(p, FC_NF_ARP);

	f.n = 0;
	p16(&f, 0x86dd);
	p16(&f, 0);
	p32(&f, 3);
	p16(&f, 1);
	p8(&f, 4);
	p8(&f, 6);
	pfill(&f, 8, 0x02);
	{
		size_t ip = ip6(&f, 6, 1, 2);

		tcp(&f, 443, 1234, 0x11);
		ip6_end(&f, ip);
	}
	p = run("sll2_ipv6_tcp", FC_LINKTYPE_LINUX_SLL2, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 6, 443, 1234);
	CHECK_EQ_U(p.tcp_flags, 0x11);
}

static void test_null_loop(void)
{
	static const uint32_t afs[] = { 24, 28, 30 };
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t i;

	p32le(&f, 2);
	ip4_tcp(&f, A, B, 110, 50000, 0);
	p = run("null_le_ipv4", FC_LINKTYPE_NULL, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 110, 50000);
	f.n = 0;
	p32(&f, 2);
	ip4_tcp(&f, A, B, 110, 50000, 0);
	p = run("loop_be_ipv4", FC_LINKTYPE_LOOP, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 110, 50000);
	p = run("null_be_ipv4", FC_LINKTYPE_NULL, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 110, 50000);
	for (i = 0; i < sizeof(afs) / sizeof(afs[0]); i++) {
		size_t ip, u;

		f.n = 0;
		if (i & 1)
			p32(&f, afs[i]);
		else
			p32le(&f, afs[i]);
		ip = ip6(&f, 17, 1, 2);
		u = udp(&f, 443, 4433);
		pfill(&f, 30, 0);
		udp_end(&f, u);
		ip6_end(&f, ip);
		p = run("null_ipv6_udp", FC_LINKTYPE_NULL, &f);
		CHECK_KEY(p, 6, a6(1), a6(2), 17, 443, 4433);
	}
	f.b[0] = 7;
	f.b[1] = f.b[2] = f.b[3] = 0;
	p = run("null_af7", FC_LINKTYPE_NULL, &f);
	CHECK_NF(p, FC_NF_NONIP);
}

static void test_ppp_hdlc_fddi(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	p16(&f, 0xff03);
	p16(&f, 0x0021);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("ppp_hdlc_ipv4", FC_LINKTYPE_PPP, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	f.n = 0;
	p8(&f, 0x21);		/* protocol-field-compressed */
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("ppp_pfc_ipv4", FC_LINKTYPE_PPP, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	f.n = 0;
	p16(&f, 0x0057);
	{
		size_t ip = ip6(&f, 59, 1, 2);

		ip6_end(&f, ip);
	}
	p = run("ppp_ipv6", FC_LINKTYPE_PPP, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 59, 0, 0);
	f.n = 0;
	p16(&f, 0xff03);
	p16(&f, 0x0281);
	p32(&f, (17u << 12) | 0x100 | 1);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("ppp_mpls_ipv4", FC_LINKTYPE_PPP, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	f.n = 0;
	p16(&f, 0xff03);
	p16(&f, 0xc021);
	pfill(&f, 8, 0);
	p = run("ppp_lcp", FC_LINKTYPE_PPP, &f);
	CHECK_NF(p, FC_NF_NONIP);

	f.n = 0;
	p8(&f, 0x0f);
	p8(&f, 0);
	p16(&f, 0x0800);
	ip4_tcp(&f, A, B, 80, 1024, 10);
	p = run("chdlc_ipv4", FC_LINKTYPE_C_HDLC, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 80, 1024);
	fix16(&f, 2, 0x8035);
	p = run("chdlc_slarp", FC_LINKTYPE_C_HDLC, &f);
	CHECK_NF(p, FC_NF_NONIP);

	f.n = 0;
	p8(&f, 0x50);
	pfill(&f, 12, 0x03);
	p8(&f, 0xaa);
	p8(&f, 0xaa);
	p8(&f, 0x03);
	pfill(&f, 3, 0);
	p16(&f, 0x0800);
	ip4_tcp(&f, A, B, 23, 1025, 0);
	p = run("fddi_snap_ipv4", FC_LINKTYPE_FDDI, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 23, 1025);
}

static void nflog_frame(struct fb *f, bool with_payload)
{
	p8(f, 2);		/* AF_INET */
	p8(f, 0);
	p16(f, 0);
	p16le(f, 8);		/* NFULA_PACKET_HDR */
	p16le(f, 1);
	p32(f, 0x08000300);
	p16le(f, 7);		/* NFULA_PREFIX "abc", padded */
	p16le(f, 10);
	p8(f, 'a');
	p8(f, 'b');
	p8(f, 0);
	p8(f, 0);
	if (with_payload) {
		size_t at = f->n;

		p16le(f, 0);
		p16le(f, 9);
		ip4_tcp(f, A, B, 80, 33333, 3);
		f->b[at] = (uint8_t)(f->n - at);
		f->b[at + 1] = (uint8_t)((f->n - at) >> 8);
	}
}

static void test_nflog(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	nflog_frame(&f, true);
	p = run_opts("nflog_ipv4_tcp", FC_LINKTYPE_NFLOG, &f, SW_NOTIP_OK);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 80, 33333);
	CHECK_EQ_U(p.ip_bytes, 43);
	f.n = 0;
	nflog_frame(&f, false);
	p = run_opts("nflog_no_payload", FC_LINKTYPE_NFLOG, &f, SW_NOTIP_OK);
	CHECK_NF(p, FC_NF_NONIP);
	f.b[4] = 2;		/* a TLV shorter than its header */
	p = run_opts("nflog_bad_tlv", FC_LINKTYPE_NFLOG, &f, SW_NOTIP_OK);
	CHECK_NF(p, FC_NF_TRUNC_L2);
	f.b[4] = 200;		/* a TLV longer than the frame */
	p = run_opts("nflog_long_tlv", FC_LINKTYPE_NFLOG, &f, SW_NOTIP_OK);
	CHECK_NF(p, FC_NF_TRUNC_L2);
}

static void test_pktap(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;

	p32le(&f, 108);
	p32le(&f, 1);		/* DLT_EN10MB */
	pfill(&f, 100, 0);
	eth_ip4_udp(&f, A, B, 5353, 53, 20);
	p = run("pktap_eth_udp", FC_LINKTYPE_PKTAP, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 5353, 53);
	f.b[4] = 0x02;
	f.b[5] = 0x01;		/* DLT 258 inside PKTAP */
	p = run("pktap_in_pktap", FC_LINKTYPE_PKTAP, &f);
	CHECK_NF(p, FC_NF_LINKTYPE);
}

static void test_raw(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	ip4_tcp(&f, A, B, 1, 2, 0);
	p = run("raw_ipv4", FC_LINKTYPE_RAW, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	p = run("ipv4_ipv4", FC_LINKTYPE_IPV4, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	p = run("dlt12_ipv4", FC_DLT_RAW_12, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	p = run("ipv6_lt_with_ipv4", FC_LINKTYPE_IPV6, &f);
	CHECK_NF(p, FC_NF_BAD_IP_VERSION);
	f.b[0] = 0x55;
	p = run("raw_v5", FC_LINKTYPE_RAW, &f);
	CHECK_NF(p, FC_NF_BAD_IP_VERSION);

	f.n = 0;
	ip = ip6(&f, 17, 1, 2);
	u = udp(&f, 53, 53);
	udp_end(&f, u);
	ip6_end(&f, ip);
	p = run("raw_ipv6", FC_LINKTYPE_RAW, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 53, 53);
	p = run("ipv6_ipv6", FC_LINKTYPE_IPV6, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 53, 53);
	p = run("dlt14_ipv6", FC_DLT_RAW_14, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 53, 53);
	p = run("ipv4_lt_with_ipv6", FC_LINKTYPE_IPV4, &f);
	CHECK_NF(p, FC_NF_BAD_IP_VERSION);
}

static void test_linktypes(void)
{
	static const int ok[] = { 0, 1, 9, 10, 12, 14, 101, 104, 108, 113, 228, 229, 239, 258, 276 };
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(fc_decode_linktype_supported(ok[i]));
	CHECK(!fc_decode_linktype_supported(105));
	CHECK(!fc_decode_linktype_supported(0xabcd));
	CHECK(fc_decode_linktype_supported(0x30000001));	/* FCS bits above 16 are ignored */

	eth(&f, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	p = dec(0x30000001, f.b, f.n);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	p = dec(0xabcd, f.b, f.n);
	CHECK_NF(p, FC_NF_LINKTYPE);
	p = dec(50, f.b, f.n);
	CHECK_NF(p, FC_NF_LINKTYPE);
}

/* ---- tunnels ------------------------------------------------------------ */

/* The key carries the tunnel id unless it differs by direction (GTP-U TEID);
 * the tunnel info always carries it. PPTP is checked with CHECK_TUN_DIR. */
#define CHECK_TUN(p, ty, depth_, tid, osrc, odst)                  \
	CHECK_TUN_KEYID(p, ty, depth_, tid, (ty) == FC_TUN_GTPU ? 0 : (tid), osrc, odst)
#define CHECK_TUN_KEYID(p, ty, depth_, tid, keyid, osrc, odst)     \
	do {                                                      \
		CHECK((p).flags & FC_PKTF_TUNNEL);                \
		CHECK_EQ_U((p).tunnel.type, ty);                  \
		CHECK_EQ_U((p).key.tunnel_type, ty);              \
		CHECK_EQ_U((p).tunnel.depth, depth_);             \
		CHECK_EQ_U((p).tunnel.id, tid);                    \
		CHECK_EQ_U((p).key.tunnel_id, keyid);             \
		CHECK_EQ_U((p).tunnel.family, 4);                 \
		CHECK(ADDR_EQ((p).tunnel.src, a4(osrc)));         \
		CHECK(ADDR_EQ((p).tunnel.dst, a4(odst)));         \
	} while (0)

static void test_gre(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	/* GRE with checksum, key and sequence number carrying IPv4/TCP. */
	eth(&f, 0x8100);
	tag(&f, 77, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0xb000);
	p16(&f, 0x0800);
	p32(&f, 0);
	p32(&f, 0xfeedf00d);
	p32(&f, 1);
	ip4_tcp(&f, A, B, 22, 60000, 30);
	ip4_end(&f, ip);
	p = run("eth_gre_csum_key_seq_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 22, 60000);
	CHECK_TUN(p, FC_TUN_GRE, 1, 0xfeedf00d, OA, OB);
	CHECK_EQ_U(p.ip_bytes, 70);
	CHECK_EQ_U(p.key.vlan, 77);
	CHECK_EQ_U(p.flags, FC_PKTF_TUNNEL | FC_PKTF_TCP);

	/* GRE keepalive-ish payload we do not follow: the outer GRE flow. */
	fix16(&f, 18 + 20 + 2, 0x2000);	/* CDP */
	p = run("eth_gre_cdp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 47, 0, 0);
	CHECK_EQ_U(p.flags, 0);
	CHECK_EQ_U(p.key.tunnel_type, 0);
	CHECK_EQ_U(p.key.vlan, 77);

	/* Transparent Ethernet bridging: the inner VLAN is not part of the key. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0x0000);
	p16(&f, 0x6558);
	eth(&f, 0x8100);
	tag(&f, 999, 0x0800);
	ip4_tcp(&f, A, B, 1, 2, 0);
	ip4_end(&f, ip);
	p = run("eth_gre_teb_vlan", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_TUN(p, FC_TUN_GRE, 1, 0, OA, OB);
	CHECK_EQ_U(p.key.flags, 0);

	/* ... and ARP inside is the outer flow. */
	f.n = 14 + 20 + 4;
	eth(&f, 0x0806);
	pfill(&f, 28, 0);
	ip4_end(&f, 14);
	p = run("eth_gre_teb_arp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 47, 0, 0);
	CHECK_EQ_U(p.flags, 0);

	/* GRE over IPv6 carrying IPv6. */
	f.n = 0;
	eth(&f, 0x86dd);
	ip = ip6(&f, 47, 0x11, 0x22);
	p16(&f, 0x2000);
	p16(&f, 0x86dd);
	p32(&f, 5);
	{
		size_t ip2 = ip6(&f, 17, 1, 2);
		size_t u = udp(&f, 123, 123);

		pfill(&f, 48, 0);
		udp_end(&f, u);
		ip6_end(&f, ip2);
	}
	ip6_end(&f, ip);
	p = run("eth_ipv6_gre_ipv6_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 123, 123);
	CHECK(p.flags & FC_PKTF_TUNNEL);
	CHECK_EQ_U(p.tunnel.family, 6);
	CHECK(ADDR_EQ(p.tunnel.src, a6(0x11)));
	CHECK_EQ_U(p.key.tunnel_id, 5);
}

static void test_erspan(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0x1000);	/* S */
	p16(&f, 0x88be);
	p32(&f, 42);
	p16(&f, 0x1000 | 5);	/* version 1, VLAN 5 */
	p16(&f, 0x0123);	/* session 0x123 */
	p32(&f, 0);
	eth_ip4_udp(&f, A, B, 1111, 2222, 8);
	ip4_end(&f, ip);
	p = run("eth_erspan2", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 1111, 2222);
	CHECK_TUN(p, FC_TUN_ERSPAN, 1, 0x123, OA, OB);

	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0x1000);
	p16(&f, 0x22eb);
	p32(&f, 7);
	p16(&f, 0x2000);	/* version 2 */
	p16(&f, 0x03ff);
	p32(&f, 0x12345678);	/* timestamp */
	p16(&f, 0);		/* SGT */
	p16(&f, 0x0001);	/* FT 0 (Ethernet), O set */
	pfill(&f, 8, 0);	/* platform-specific subheader */
	eth_ip4_udp(&f, A, B, 3333, 4444, 0);
	ip4_end(&f, ip);
	p = run("eth_erspan3_sub", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 3333, 4444);
	CHECK_TUN(p, FC_TUN_ERSPAN, 1, 0x3ff, OA, OB);
}

static void test_pptp(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, plen;

	eth(&f, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0x3001);	/* K, S, version 1 */
	p16(&f, 0x880b);
	plen = f.n;
	p16(&f, 0);
	p16(&f, 0x4001);	/* call id */
	p32(&f, 9);		/* sequence */
	p16(&f, 0xff03);
	p16(&f, 0x0021);
	ip4_tcp(&f, A, B, 1723, 1024, 4);
	fix16(&f, plen, (unsigned int)(f.n - plen - 8));
	ip4_end(&f, ip);
	p = run("eth_pptp_gre_ppp_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1723, 1024);
	/* Each PPTP peer sends its partner's call id: not part of the key. */
	CHECK_TUN_KEYID(p, FC_TUN_GRE, 1, 0x4001, 0, OA, OB);

	/* PPP LCP in the tunnel: the outer GRE flow. */
	fix16(&f, plen + 10, 0xc021);
	p = run("eth_pptp_lcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 47, 0, 0);
	CHECK_EQ_U(p.flags, 0);
}

static void test_vxlan_geneve(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	eth(&f, 0x8100);
	tag(&f, 3, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 50000, 4789);
	p32(&f, 0x08000000);
	p32(&f, 0x12345600);
	eth(&f, 0x8100);
	tag(&f, 4000, 0x0800);
	ip4_tcp(&f, A, B, 80, 8080, 100);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_vxlan_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 80, 8080);
	CHECK_TUN(p, FC_TUN_VXLAN, 1, 0x123456, OA, OB);
	CHECK_EQ_U(p.key.vlan, 3);
	CHECK_EQ_U(p.key.flags, FC_KEYF_VLAN);
	CHECK_EQ_U(p.ip_bytes, 140);

	/* I flag clear: not followed. */
	f.b[18 + 28] = 0;
	p = run("eth_vxlan_noi", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 50000, 4789);
	CHECK_EQ_U(p.flags, 0);
	CHECK_EQ_U(p.key.vlan, 3);

	/* ARP inside VXLAN: the outer UDP flow. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 50000, 4789);
	p32(&f, 0x08000000);
	p32(&f, 0x00000100);
	eth(&f, 0x0806);
	pfill(&f, 28, 0);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_vxlan_arp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 50000, 4789);
	CHECK_EQ_U(p.flags, 0);

	/* Geneve with 8 bytes of options carrying Ethernet. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 40000, 6081);
	p8(&f, 2);
	p8(&f, 0);
	p16(&f, 0x6558);
	p32(&f, 0x00abcd00);
	pfill(&f, 8, 0);
	eth_ip4_udp(&f, A, B, 53, 53, 10);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_geneve_eth_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 53, 53);
	CHECK_TUN(p, FC_TUN_GENEVE, 1, 0xabcd, OA, OB);

	/* Geneve carrying IPv4 directly. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 40000, 6081);
	p8(&f, 0);
	p8(&f, 0);
	p16(&f, 0x0800);
	p32(&f, 0x00000700);
	ip4_tcp(&f, A, B, 5, 6, 0);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_geneve_ipv4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 5, 6);
	CHECK_TUN(p, FC_TUN_GENEVE, 1, 7, OA, OB);
}

static void test_ipip(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, ip2, u;
	int i;

	eth(&f, 0x0800);
	ip = ip4(&f, 4, OA, OB);
	ip4_tcp(&f, A, B, 1, 2, 0);
	ip4_end(&f, ip);
	p = run("eth_ipip", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_TUN(p, FC_TUN_IPIP, 1, 0, OA, OB);

	/* 6in4 */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 41, OA, OB);
	ip2 = ip6(&f, 17, 1, 2);
	u = udp(&f, 3544, 3544);
	udp_end(&f, u);
	ip6_end(&f, ip2);
	ip4_end(&f, ip);
	p = run("eth_6in4", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 3544, 3544);
	CHECK_TUN(p, FC_TUN_IPIP, 1, 0, OA, OB);
	/* ... with a wrong inner version: the outer flow. */
	f.b[34] = 0x40;
	p = run("eth_6in4_badver", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 41, 0, 0);
	CHECK_EQ_U(p.flags, 0);

	/* Five nested IPv4-in-IPv4: followed FC_TUNNEL_MAX_DEPTH deep. */
	f.n = 0;
	eth(&f, 0x0800);
	{
		size_t at[6];

		for (i = 0; i < 5; i++)
			at[i] = ip4(&f, 4, OA + (uint32_t)i, OB + (uint32_t)i);
		at[5] = ip4(&f, 17, A, B);
		u = udp(&f, 9, 9);
		udp_end(&f, u);
		for (i = 5; i >= 0; i--)
			ip4_end(&f, at[i]);
	}
	p = run("eth_ipip_x5", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA + 4), a4(OB + 4), 4, 0, 0);
	CHECK_TUN(p, FC_TUN_IPIP, FC_TUNNEL_MAX_DEPTH, 0, OA + 3, OB + 3);
}

/* GTPv1-U header: flags, message type, length fixed up by gtp_end(), TEID. */
static size_t gtp(struct fb *f, unsigned int flags, unsigned int type, uint32_t teid)
{
	size_t at = f->n;

	p8(f, flags);
	p8(f, type);
	p16(f, 0);
	p32(f, teid);
	return at;
}

static void gtp_end(struct fb *f, size_t at)
{
	fix16(f, at + 2, (unsigned int)(f->n - at - 8));
}

static void test_gtpu(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u, g, ip2;
	int i;

	/* G-PDU, no optional fields, carrying IPv4/TCP. */
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 2152, 2152);
	g = gtp(&f, 0x30, 0xff, 0x01020304);
	ip4_tcp(&f, A, B, 1923, 80, 20);
	gtp_end(&f, g);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_gtpu_ipv4_tcp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1923, 80);
	CHECK_TUN(p, FC_TUN_GTPU, 1, 0x01020304, OA, OB);
	CHECK_EQ_U(p.ip_bytes, 60);
	CHECK_EQ_U(p.flags, FC_PKTF_TUNNEL | FC_PKTF_TCP);
	{
		/* The reply travels under the other end's TEID: same flow key. */
		struct fb r = { .n = 0 };
		struct fc_pkt q;

		eth(&r, 0x0800);
		ip = ip4(&r, 17, OB, OA);
		u = udp(&r, 2152, 2152);
		g = gtp(&r, 0x30, 0xff, 0x0a0b0c0d);
		ip4_tcp(&r, B, A, 80, 1923, 20);
		gtp_end(&r, g);
		udp_end(&r, u);
		ip4_end(&r, ip);
		q = run("eth_gtpu_ipv4_tcp_reply", FC_LINKTYPE_ETHERNET, &r);
		CHECK_KEY(q, 4, a4(B), a4(A), 6, 80, 1923);
		CHECK_EQ_U(q.tunnel.id, 0x0a0b0c0d);
		CHECK_EQ_U(q.key.tunnel_id, p.key.tunnel_id);
		CHECK_EQ_U(q.key.tunnel_type, p.key.tunnel_type);
	}

	/* Echo request (type 1): the outer UDP flow. */
	f.b[14 + 20 + 8 + 1] = 1;
	p = run("eth_gtpu_echo", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 2152, 2152);
	CHECK_EQ_U(p.flags, 0);
	/* GTP' (PT 0) and version 2: the outer flow. */
	f.b[14 + 20 + 8 + 1] = 0xff;
	f.b[14 + 20 + 8] = 0x20;
	p = run("eth_gtpu_prime", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 2152, 2152);
	f.b[14 + 20 + 8] = 0x50;
	p = run("eth_gtpu_v2", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 2152, 2152);

	/* S and E: sequence number, then two extension headers, then IPv6/UDP. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 40000, 2152);
	g = gtp(&f, 0x36, 0xff, 7);
	p16(&f, 99);		/* sequence */
	p8(&f, 0);		/* N-PDU */
	p8(&f, 0x85);		/* next: PDU session container */
	p8(&f, 1);
	p16(&f, 0x0009);
	p8(&f, 0x40);		/* next: another */
	p8(&f, 2);
	pfill(&f, 6, 0);
	p8(&f, 0);		/* end of chain */
	ip2 = ip6(&f, 17, 1, 2);
	{
		size_t u2 = udp(&f, 5353, 5353);

		pfill(&f, 12, 0);
		udp_end(&f, u2);
	}
	ip6_end(&f, ip2);
	gtp_end(&f, g);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_gtpu_ext_ipv6_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 5353, 5353);
	CHECK_TUN(p, FC_TUN_GTPU, 1, 7, OA, OB);

	/* An extension header of length 0 would not advance: the outer flow. */
	f.b[14 + 20 + 8 + 12] = 0;
	p = run("eth_gtpu_ext_len0", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 40000, 2152);
	CHECK_EQ_U(p.flags, 0);
	/* Without E the next-type octet is ignored. */
	f.b[14 + 20 + 8] = 0x32;
	f.b[14 + 20 + 8 + 11] = 0;
	f.n = 14 + 20 + 8;
	g = gtp(&f, 0x32, 0xff, 8);
	p32(&f, 0x000000ff);	/* sequence, N-PDU, next type (ignored) */
	ip4_tcp(&f, A, B, 1, 2, 0);
	gtp_end(&f, g);
	udp_end(&f, 14 + 20);
	ip4_end(&f, 14);
	p = run("eth_gtpu_seq_only", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 6, 1, 2);
	CHECK_TUN(p, FC_TUN_GTPU, 1, 8, OA, OB);

	/* More than GTP_EXT_MAX (16) extension headers: the outer flow. */
	f.n = 14 + 20 + 8;
	g = gtp(&f, 0x34, 0xff, 9);
	p32(&f, 0x00000085);
	for (i = 0; i < 17; i++) {
		p8(&f, 1);
		p16(&f, 0);
		p8(&f, 0x85);
	}
	ip4_tcp(&f, A, B, 1, 2, 0);
	gtp_end(&f, g);
	udp_end(&f, 14 + 20);
	ip4_end(&f, 14);
	p = run("eth_gtpu_ext_too_many", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 40000, 2152);
	CHECK_EQ_U(p.flags, 0);

	/* A first fragment of the outer packet holds GTP but is not followed. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	fix16(&f, ip + 6, 0x2000);
	u = udp(&f, 2152, 2152);
	g = gtp(&f, 0x30, 0xff, 1);
	ip4_tcp(&f, A, B, 1, 2, 100);
	gtp_end(&f, g);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_gtpu_outer_frag", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 2152, 2152);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST);
}

static void test_gre_mpls_udp(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	/* RFC 8086 GRE-in-UDP with a key, carrying IPv4/UDP. */
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 50279, 4754);
	p16(&f, 0x2000);
	p16(&f, 0x0800);
	p32(&f, 0x77);
	{
		size_t ip2 = ip4(&f, 17, A, B);
		size_t u2 = udp(&f, 51714, 53);

		pfill(&f, 26, 0);
		udp_end(&f, u2);
		ip4_end(&f, ip2);
	}
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_gre_udp_ipv4_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 51714, 53);
	CHECK_TUN(p, FC_TUN_GRE_UDP, 1, 0x77, OA, OB);

	/* GRE version 1 (PPTP) is not GRE-in-UDP: the outer flow. */
	f.b[14 + 20 + 8 + 1] = 0x01;
	p = run("eth_gre_udp_v1", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 50279, 4754);
	CHECK_EQ_U(p.flags, 0);

	/* Transparent Ethernet bridging inside GRE-in-UDP. */
	f.n = 14 + 20;
	u = udp(&f, 1, 4754);
	p16(&f, 0);
	p16(&f, 0x6558);
	eth_ip4_udp(&f, A, B, 7, 8, 0);
	udp_end(&f, u);
	ip4_end(&f, 14);
	p = run("eth_gre_udp_teb", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 7, 8);
	CHECK_TUN(p, FC_TUN_GRE_UDP, 1, 0, OA, OB);

	/* RFC 7510 MPLS-in-UDP: two labels, then IPv4/ICMP echo. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 58699, 6635);
	p32(&f, 0x00010000 | 0x3f);
	p32(&f, 0x00020100 | 0x3f);	/* bottom of stack */
	{
		size_t ip2 = ip4(&f, 1, A, B);

		p8(&f, 8);
		p8(&f, 0);
		p16(&f, 0);
		p16(&f, 0xa6eb);
		p16(&f, 16);
		pfill(&f, 8, 0);
		ip4_end(&f, ip2);
	}
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_mpls_udp_icmp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 1, 8, 0xa6eb);
	CHECK_TUN(p, FC_TUN_MPLS_UDP, 1, 0, OA, OB);

	/* Not IP after the label stack: the outer flow. */
	f.b[14 + 20 + 8 + 8] = 0x00;
	p = run("eth_mpls_udp_nonip", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 58699, 6635);
	CHECK_EQ_U(p.flags, 0);
}

static void test_teredo(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u, ip2, u2;

	/* Plain: IPv6/UDP right after UDP, client -> server port 3544. */
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 3797, 3544);
	ip2 = ip6(&f, 17, 1, 2);
	u2 = udp(&f, 1000, 2000);
	pfill(&f, 4, 0);
	udp_end(&f, u2);
	ip6_end(&f, ip2);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_teredo_ipv6_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 1000, 2000);
	CHECK_TUN(p, FC_TUN_TEREDO, 1, 0, OA, OB);
	CHECK_EQ_U(p.ip_bytes, 40 + 12);

	/* Payload length inconsistent with the UDP payload: the outer flow. */
	fix16(&f, ip2 + 4, 13);
	p = run("eth_teredo_badlen", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 3797, 3544);
	CHECK_EQ_U(p.flags, 0);
	fix16(&f, ip2 + 4, 12);
	/* Not version 6: the outer flow. */
	f.b[ip2] = 0x40;
	p = run("eth_teredo_badver", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 3797, 3544);
	f.b[ip2] = 0x60;

	/* Server -> client (source 3544) with an origin indication. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OB, OA);
	u = udp(&f, 3544, 3797);
	p16(&f, 0);
	p16(&f, 0xf227);
	p32(&f, 0xbec861af);
	ip2 = ip6(&f, 58, 3, 4);
	p8(&f, 134);
	p8(&f, 0);
	p16(&f, 0);
	pfill(&f, 12, 0);
	ip6_end(&f, ip2);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_teredo_origin_icmp6", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(3), a6(4), 58, 133, 0);
	CHECK_TUN(p, FC_TUN_TEREDO, 1, 0, OB, OA);

	/* Authentication (ID-len 2, AU-len 3) then origin indication then a bubble with trailing bytes. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 3544, 3544);
	p16(&f, 1);
	p8(&f, 2);
	p8(&f, 3);
	pfill(&f, 2 + 3 + 8 + 1, 0x11);
	p16(&f, 0);
	pfill(&f, 6, 0x22);
	ip2 = ip6(&f, 59, 5, 6);
	pfill(&f, 4, 0);	/* after a bubble: tolerated */
	udp_end(&f, u);
	ip4_end(&f, ip);
	/* (cuts in the trailing bytes lose nothing of the inner packet) */
	p = run_opts("eth_teredo_auth_origin_bubble", FC_LINKTYPE_ETHERNET, &f, SW_TRAILER);
	CHECK_KEY(p, 6, a6(5), a6(6), 59, 0, 0);
	CHECK_TUN(p, FC_TUN_TEREDO, 1, 0, OA, OB);
	CHECK_EQ_U(p.ip_bytes, 40);

	/* The authentication lengths running past the packet: the outer flow. */
	f.b[14 + 20 + 8 + 3] = 200;
	p = run("eth_teredo_auth_overrun", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 3544, 3544);
	CHECK_EQ_U(p.flags, 0);

	/* Ordinary UDP on port 3544 (DNS-ish payload): the outer flow. */
	f.n = 14 + 20;
	u = udp(&f, 53, 3544);
	pfill(&f, 60, 0x61);
	udp_end(&f, u);
	ip4_end(&f, 14);
	p = run("eth_teredo_not", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 53, 3544);
	CHECK_EQ_U(p.flags, 0);

	/* Teredo inside GTP-U: two tunnels deep. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	u = udp(&f, 2152, 2152);
	{
		size_t g = gtp(&f, 0x30, 0xff, 3);
		size_t ip3 = ip4(&f, 17, OA + 1, OB + 1);
		size_t u3 = udp(&f, 3544, 50000);

		ip2 = ip6(&f, 17, 1, 2);
		u2 = udp(&f, 1, 2);
		udp_end(&f, u2);
		ip6_end(&f, ip2);
		udp_end(&f, u3);
		ip4_end(&f, ip3);
		gtp_end(&f, g);
	}
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_gtpu_teredo_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 6, a6(1), a6(2), 17, 1, 2);
	CHECK_TUN(p, FC_TUN_TEREDO, 2, 0, OA + 1, OB + 1);
}

static void test_tunnel_names(void)
{
	CHECK_STR(fc_tunnel_type_name(FC_TUN_GTPU), "gtpu");
	CHECK_STR(fc_tunnel_type_name(FC_TUN_GRE_UDP), "gre_udp");
	CHECK_STR(fc_tunnel_type_name(FC_TUN_MPLS_UDP), "mpls_udp");
	CHECK_STR(fc_tunnel_type_name(FC_TUN_TEREDO), "teredo");
	CHECK_STR(fc_tunnel_type_name(FC_TUN__COUNT), "unknown");
	for (int t = 0; t < FC_TUN__COUNT; t++)
		CHECK(fc_tunnel_type_name((enum fc_tunnel_type)t) != NULL);
}

static void test_tunnel_fragments(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip, u;

	/* A fragmented outer packet is not followed into the tunnel. */
	eth(&f, 0x0800);
	ip = ip4(&f, 17, OA, OB);
	fix16(&f, ip + 6, 0x2000);
	u = udp(&f, 50000, 4789);
	p32(&f, 0x08000000);
	p32(&f, 0x00000100);
	eth_ip4_udp(&f, A, B, 1, 2, 0);
	udp_end(&f, u);
	ip4_end(&f, ip);
	p = run("eth_vxlan_outer_frag", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(OA), a4(OB), 17, 50000, 4789);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST);

	/* A later fragment inside a tunnel is scoped by the tunnel id. */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 47, OA, OB);
	p16(&f, 0x2000);
	p16(&f, 0x0800);
	p32(&f, 99);
	{
		size_t ip2 = ip4(&f, 17, A, B);

		fix16(&f, ip2 + 6, 100);
		pfill(&f, 64, 0);
		ip4_end(&f, ip2);
	}
	ip4_end(&f, ip);
	p = run("eth_gre_inner_frag_later", FC_LINKTYPE_ETHERNET, &f);
	CHECK_EQ_U(p.kind, FC_PKT_FRAG_LATER);
	CHECK_EQ_U(p.flags, FC_PKTF_FRAG | FC_PKTF_TUNNEL);
	CHECK_EQ_U(p.frag.tunnel_id, 99);
	CHECK(ADDR_EQ(p.frag.src, a4(A)));
	CHECK_EQ_U(p.ip_bytes, 84);
	CHECK_EQ_U(p.tunnel.type, FC_TUN_GRE);
}

static void test_nested_vxlan(void)
{
	struct fb f = { .n = 0 };
	struct fc_pkt p;
	size_t ip1, u1, ip2, u2;

	eth(&f, 0x0800);
	ip1 = ip4(&f, 17, OA, OB);
	u1 = udp(&f, 1, 4789);
	p32(&f, 0x08000000);
	p32(&f, 0x00000100);
	eth(&f, 0x0800);
	ip2 = ip4(&f, 17, OA + 10, OB + 10);
	u2 = udp(&f, 2, 4789);
	p32(&f, 0x08000000);
	p32(&f, 0x00000200);
	eth_ip4_udp(&f, A, B, 53, 53, 4);
	udp_end(&f, u2);
	ip4_end(&f, ip2);
	udp_end(&f, u1);
	ip4_end(&f, ip1);
	p = run("eth_vxlan_vxlan_udp", FC_LINKTYPE_ETHERNET, &f);
	CHECK_KEY(p, 4, a4(A), a4(B), 17, 53, 53);
	CHECK_TUN(p, FC_TUN_VXLAN, 2, 2, OA + 10, OB + 10);
}

int main(void)
{
	RUN(test_eth_ipv4_tcp);
	RUN(test_eth_padding_narrowed);
	RUN(test_ipv4_options_udp);
	RUN(test_snaplen);
	RUN(test_ipv4_invalid);
	RUN(test_udp_bad_len);
	RUN(test_ipv4_tso);
	RUN(test_ipv4_fragments);
	RUN(test_sctp_other);
	RUN(test_icmp);
	RUN(test_icmp_trunc);
	RUN(test_icmp6);
	RUN(test_ipv6_tcp);
	RUN(test_ipv6_ext_chain);
	RUN(test_ipv6_ext_limits);
	RUN(test_ipv6_routing_final_dst);
	RUN(test_ipv6_home_address);
	RUN(test_ipv6_fragments);
	RUN(test_ipv6_jumbo);
	RUN(test_vlan);
	RUN(test_not_ip);
	RUN(test_llc_snap);
	RUN(test_mpls);
	RUN(test_pppoe);
	RUN(test_sll);
	RUN(test_null_loop);
	RUN(test_ppp_hdlc_fddi);
	RUN(test_nflog);
	RUN(test_pktap);
	RUN(test_raw);
	RUN(test_linktypes);
	RUN(test_gre);
	RUN(test_erspan);
	RUN(test_pptp);
	RUN(test_vxlan_geneve);
	RUN(test_ipip);
	RUN(test_gtpu);
	RUN(test_gre_mpls_udp);
	RUN(test_teredo);
	RUN(test_tunnel_names);
	RUN(test_tunnel_fragments);
	RUN(test_nested_vxlan);
	return T_DONE();
}
