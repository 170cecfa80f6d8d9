// SPDX-License-Identifier: BSD-2-Clause
/*
 * gen_synth.c - deterministic synthetic capture generator for the benchmark.
 *
 * Writes a classic pcap (LINKTYPE_ETHERNET, microsecond timestamps,
 * little-endian) full of interleaved, plausible flows, so that flowcut and
 * its peers can be timed on the same bytes everywhere. One fixed-seed PRNG
 * drives every decision, in a fixed order, so a given command line always
 * produces the same file (compare sha256sum across runs).
 *
 * Model, per flow (shares are of flows, not packets):
 *   - 70 % TCP: SYN, SYN-ACK, ACK, data both ways with plausible seq/ack, then
 *     78 % FIN teardown, 8 % RST after data, 4 % rejected (SYN -> RST/ACK),
 *     10 % left open at the end of the capture;
 *   - 25 % UDP request/response; 5 % ICMP / ICMPv6 echo pairs;
 *   - 20 % IPv6, 15 % on an 802.1Q VLAN;
 *   - packet counts are heavy tailed (Pareto, alpha 1.2): many mice, a few
 *     elephants; the counts are scaled so the file holds exactly --packets;
 *   - each flow has a start time, a duration (log-uniform 10 ms .. 120 s,
 *     longer for elephants) and an RTT; a min-heap merges all flows so the
 *     capture interleaves thousands of concurrent flows with timestamps that
 *     never go backwards, over about three minutes.
 * Each (client address, client port) pair is used by exactly one flow, so
 * the number of bidirectional 5-tuples in the file equals --flows.
 *
 * Payload bytes are all zero. That keeps the generator fast (a 1 GB file
 * takes a few seconds) and lets it write valid IPv4, TCP, UDP and ICMP
 * checksums while summing headers only. Server ports are ones tshark has no
 * dissector for, so zero payloads never show up as "Malformed".
 *
 * Plain stdio, no libpcap: cc -O2 -o gen_synth gen_synth.c -lm
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEF_PACKETS 2000000u
#define DEF_FLOWS 60000u
#define DEF_SEED 0x666c6f77637574ull		/* "flowcut" */
#define SPAN_US (180ull * 1000000)		/* flows live within ~3 minutes */
#define TS_BASE_S 1700000000u			/* 2023-11-14T22:13:20Z */
#define SNAPLEN 65535u
#define MAX_FRAME 1514u				/* untagged Ethernet, no FCS */
#define MIN_FRAME 60u				/* Ethernet minimum without FCS */
#define OUTBUF_SIZE (4u << 20)
#define PCAP_REC_HDR 16u
#define HOST_BITS 14u				/* 16384 client hosts ... */
#define PORT_BITS 14u				/* ... x 16384 client ports each */
#define KEY_MASK ((1u << (HOST_BITS + PORT_BITS)) - 1)
#define N_SERVERS 4096u

enum size_mode { SIZE_SMALL, SIZE_MIXED, SIZE_LARGE };
enum flow_proto { FP_TCP, FP_UDP, FP_ICMP, FP__COUNT };
enum tcp_end { END_FIN, END_RST, END_REJECT, END_OPEN };

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct flow {
	uint64_t next_us;	/* capture-relative time of the next packet */
	uint32_t total;		/* packets this flow sends */
	uint32_t sent;		/* packets already written */
	uint32_t gap_mean_us;	/* mean gap between data packets */
	uint32_t rtt_us;
	uint32_t seq[2];	/* next TCP sequence number: [0] client, [1] server */
	uint32_t tsval[2];	/* TCP timestamp clock offset per side */
	uint32_t c_acked;	/* last ack number the client sent */
	uint32_t chost;		/* client host index (< 2^HOST_BITS) */
	uint32_t shost;		/* server host index (< N_SERVERS) */
	uint32_t flowlabel;	/* IPv6 flow label (20 bits) */
	uint16_t ipid[2];	/* next IPv4 identification per side */
	uint16_t cport;		/* client port, or ICMP echo identifier */
	uint16_t sport;		/* server port */
	uint16_t vlan;		/* 802.1Q VID; 0 = untagged */
	uint8_t proto;		/* enum flow_proto */
	uint8_t v6;
	uint8_t end;		/* enum tcp_end */
	uint8_t closer;		/* side sending the first FIN or the RST */
	uint8_t next_dir;	/* 0 = client to server, 1 = server to client */
};

struct gen {
	uint64_t rng[4];	/* xoshiro256** state */
	enum size_mode size;
	struct flow *flows;
	uint32_t nflows;
	uint32_t *heap;		/* flow indexes, min-heap on (next_us, index) */
	uint32_t heap_n;
	FILE *out;
	uint8_t *buf;
	size_t buf_len;
	/* summary */
	uint64_t packets, bytes, file_bytes;
	uint64_t pkts_by_proto[FP__COUNT], flows_by_proto[FP__COUNT];
	uint64_t flows_v6, flows_vlan, last_us;
	uint32_t max_flow_pkts;
};

/* --- PRNG: splitmix64 seeding, xoshiro256** (public domain, Vigna) --- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct gen *g)
{
	uint64_t *s = g->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, n), n < 2^32 (Lemire's multiply-shift; bias is negligible). */
static uint32_t rnd_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((rnd(g) >> 32) * (uint64_t)n) >> 32);
}

static uint32_t rnd_range(struct gen *g, uint32_t lo, uint32_t hi)
{
	return lo + rnd_below(g, hi - lo + 1);
}

/* Uniform in [0, 1). */
static double rnd_unit(struct gen *g)
{
	return (double)(rnd(g) >> 11) * 0x1.0p-53;
}

static double rnd_exp(struct gen *g, double mean)
{
	return -log(1.0 - rnd_unit(g)) * mean;
}

static double rnd_loguniform(struct gen *g, double lo, double hi)
{
	return lo * exp(rnd_unit(g) * log(hi / lo));
}

/* --- byte helpers and checksums --- */

static inline void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (; n > 1; n -= 2, p += 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* --- addresses --- */

/* 10.0.1.1 .. 10.0.65.x; host 0 and .255 are never used. */
static uint32_t v4_client(uint32_t h)
{
	return 0x0a000000u | ((h / 254 + 1) << 8) | (h % 254 + 1);
}

/* 198.18.0.0/15, the benchmarking range (RFC 2544). */
static uint32_t v4_server(uint32_t h)
{
	return 0xc6120000u | ((h / 254) << 8) | (h % 254 + 1);
}

/* 2001:db8:c1::/64 clients, 2001:db8:5e::/64 servers (RFC 3849). */
static void v6_addr(uint8_t *p, int server, uint32_t h)
{
	static const uint8_t pfx_c[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xc1, 0, 0 };
	static const uint8_t pfx_s[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x5e, 0, 0 };

	memcpy(p, server ? pfx_s : pfx_c, 8);
	memset(p + 8, 0, 4);
	put_be32(p + 12, h + 1);
}

static void client_mac(uint8_t *p, uint32_t h)
{
	p[0] = 0x02;
	p[1] = 0x00;
	put_be32(p + 2, h + 1);
}

/* Every server is behind the same router (VRRP-style MAC). */
static const uint8_t router_mac[6] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0x01 };

/*
 * Bijection on 28 bits: flow index -> (client host, client port), so no two
 * flows share a 5-tuple while hosts still carry many flows each.
 */
static uint32_t mix28(uint32_t x, uint64_t seed)
{
	x ^= (uint32_t)seed & KEY_MASK;
	x = (x * 0x9e3779b1u) & KEY_MASK;
	x ^= x >> 13;
	x = (x * 0x85ebca77u) & KEY_MASK;
	x ^= x >> 11;
	return x;
}

/* --- sizes --- */

/*
 * Target frame length (untagged-equivalent, no FCS) for a packet that carries
 * data. Control packets (SYN, pure ACK, FIN, RST) keep their natural size.
 */
static uint32_t pick_len(struct gen *g)
{
	uint32_t u = rnd_below(g, 1000);

	switch (g->size) {
	case SIZE_SMALL:
		return rnd_range(g, 64, 128);
	case SIZE_MIXED:	/* simple IMIX, 7:4:1 by packets */
		if (u < 583)
			return rnd_range(g, 64, 100);
		if (u < 916)
			return rnd_range(g, 570, 600);
		return MAX_FRAME;
	case SIZE_LARGE:	/* tuned so the whole file averages ~500 B */
		if (u < 200)
			return MAX_FRAME;
		if (u < 600)
			return rnd_range(g, 64, 256);
		return rnd_range(g, 256, 1100);
	}
	return 64;
}

/* --- flow setup --- */

static const uint16_t tcp_ports[] = { 8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008, 9000 };
static const uint16_t udp_ports[] = { 7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009 };
static const uint16_t vlan_ids[] = { 10, 20, 30, 100, 101, 102, 200, 300, 1000, 4000 };

/* Fewest packets each flow needs to play its script. */
static uint32_t min_packets(const struct flow *f)
{
	if (f->proto == FP_UDP)
		return 2;
	if (f->proto == FP_ICMP)
		return f->total;	/* fixed at setup */
	switch (f->end) {
	case END_FIN:
		return 8;	/* 3 handshake, 1 data, 4 teardown */
	case END_RST:
		return 5;
	case END_REJECT:
		return 2;
	default:
		return 4;
	}
}

/*
 * Draws every flow's shape, then shares the packets left over after each
 * flow's minimum in proportion to a Pareto weight. Returns 0, or -1 if
 * npackets cannot hold nflows flows.
 */
static int setup_flows(struct gen *g, uint64_t npackets, uint64_t seed)
{
	double *w = calloc(g->nflows, sizeof(*w));
	double wsum = 0, wmax = g->nflows / 20.0;
	uint64_t need = 0, extra, given = 0;
	uint32_t i;

	if (!w)
		return -1;
	for (i = 0; i < g->nflows; i++) {
		struct flow *f = &g->flows[i];
		uint32_t key = mix28(i, seed), u = rnd_below(g, 100);

		f->proto = u < 70 ? FP_TCP : u < 95 ? FP_UDP : FP_ICMP;
		f->v6 = rnd_below(g, 100) < 20;
		f->vlan = rnd_below(g, 100) < 15 ? vlan_ids[rnd_below(g, 10)] : 0;
		f->chost = key >> PORT_BITS;
		f->cport = (uint16_t)(32768 + (key & ((1u << PORT_BITS) - 1)));
		/* a few popular servers, a long tail of others */
		f->shost = (uint32_t)(pow(rnd_unit(g), 3) * N_SERVERS);
		f->rtt_us = (uint32_t)rnd_loguniform(g, 200, 150000);
		f->flowlabel = (uint32_t)rnd(g) & 0xfffff;
		f->ipid[0] = (uint16_t)rnd(g);
		f->ipid[1] = (uint16_t)rnd(g);
		f->seq[0] = (uint32_t)rnd(g);
		f->seq[1] = (uint32_t)rnd(g);
		f->tsval[0] = (uint32_t)rnd(g);
		f->tsval[1] = (uint32_t)rnd(g);
		w[i] = pow(1.0 - rnd_unit(g), -1 / 1.2);
		/* so no single elephant outweighs ~1 % of all flows */
		if (w[i] > wmax)
			w[i] = wmax > 20 ? wmax : 20;
		switch (f->proto) {
		case FP_TCP:
			u = rnd_below(g, 100);
			f->end = u < 78 ? END_FIN : u < 86 ? END_RST : u < 90 ? END_REJECT : END_OPEN;
			f->closer = rnd_below(g, 100) < 70 ? 0 : 1;
			f->sport = tcp_ports[rnd_below(g, 10)];
			if (f->end == END_REJECT)
				w[i] = 0;
			break;
		case FP_UDP:
			f->sport = udp_ports[rnd_below(g, 10)];
			break;
		default:
			f->total = 2 * rnd_range(g, 1, 10);
			w[i] = 0;
			break;
		}
		f->total = min_packets(f);
		need += f->total;
		wsum += w[i];
	}
	if (need > npackets) {
		free(w);
		return -1;
	}
	if (wsum == 0 && need < npackets) {
		/* only ICMP and rejected TCP flows: the first becomes UDP to carry the rest */
		struct flow *f = &g->flows[0];

		need -= f->total;
		f->proto = FP_UDP;
		f->sport = udp_ports[0];
		f->total = min_packets(f);
		need += f->total;
		w[0] = wsum = 1;
	}
	extra = npackets - need;
	for (i = 0; i < g->nflows; i++) {
		uint64_t e = (uint64_t)((double)extra * w[i] / wsum);

		g->flows[i].total += (uint32_t)e;
		given += e;
	}
	/* rounding leftovers: one more packet each for the first weighted flows */
	for (i = 0; given < extra; i = (i + 1) % g->nflows) {
		if (w[i] > 0) {
			g->flows[i].total++;
			given++;
		}
	}
	for (i = 0; i < g->nflows; i++) {
		struct flow *f = &g->flows[i];
		double dur = rnd_loguniform(g, 10e3, 120e6) + f->total * 200.0;

		if (f->proto == FP_ICMP)
			dur = f->total / 2 * 1e6;	/* one ping a second */
		if (dur > SPAN_US)
			dur = SPAN_US;
		f->gap_mean_us = (uint32_t)(dur / f->total);
		f->next_us = (uint64_t)(rnd_unit(g) * (SPAN_US - dur));
		f->next_dir = 0;
		if (f->total > g->max_flow_pkts)
			g->max_flow_pkts = f->total;
		g->flows_by_proto[f->proto]++;
		g->flows_v6 += f->v6;
		g->flows_vlan += f->vlan != 0;
	}
	free(w);
	return 0;
}

/* --- event heap --- */

static inline int heap_less(const struct gen *g, uint32_t a, uint32_t b)
{
	uint64_t ta = g->flows[a].next_us, tb = g->flows[b].next_us;

	return ta < tb || (ta == tb && a < b);
}

static void heap_down(struct gen *g, uint32_t i)
{
	uint32_t *h = g->heap, n = g->heap_n;

	for (;;) {
		uint32_t l = 2 * i + 1, m = i, t;

		if (l < n && heap_less(g, h[l], h[m]))
			m = l;
		if (l + 1 < n && heap_less(g, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_build(struct gen *g)
{
	uint32_t i;

	g->heap_n = g->nflows;
	for (i = 0; i < g->nflows; i++)
		g->heap[i] = i;
	for (i = g->nflows / 2; i-- > 0;)
		heap_down(g, i);
}

/* --- output --- */

static int flush_out(struct gen *g)
{
	if (g->buf_len && fwrite(g->buf, 1, g->buf_len, g->out) != g->buf_len)
		return -1;
	g->file_bytes += g->buf_len;
	g->buf_len = 0;
	return 0;
}

static int write_global_header(struct gen *g)
{
	uint8_t *p = g->buf;

	put_le32(p, 0xa1b2c3d4);
	p[4] = 2, p[5] = 0;	/* version 2.4, little-endian */
	p[6] = 4, p[7] = 0;
	put_le32(p + 8, 0);	/* thiszone */
	put_le32(p + 12, 0);	/* sigfigs */
	put_le32(p + 16, SNAPLEN);
	put_le32(p + 20, 1);	/* LINKTYPE_ETHERNET */
	g->buf_len = 24;
	return 0;
}

struct pkt_spec {
	int dir;		/* 0 = client to server */
	uint8_t tcp_flags;
	uint32_t payload;	/* bytes of (zero) payload */
	int syn;		/* SYN-style TCP options */
	uint32_t seq, ack;	/* TCP, already chosen */
	uint16_t icmp_seq;
};

/* Ethernet + optional 802.1Q + IP + L4 header length, without payload. */
static uint32_t hdr_len(const struct flow *f, int syn)
{
	uint32_t l = 14 + (f->vlan ? 4 : 0) + (f->v6 ? 40 : 20);

	switch (f->proto) {
	case FP_TCP:
		return l + (syn ? 40 : 32);
	default:
		return l + 8;
	}
}

/* Builds one frame into the output buffer at g->buf + g->buf_len + 16. */
static uint32_t build_frame(struct gen *g, const struct flow *f, const struct pkt_spec *s,
			    uint64_t now_us)
{
	uint8_t *fr = g->buf + g->buf_len + PCAP_REC_HDR, *l3, *l4;
	uint32_t hl = hdr_len(f, s->syn), l4_len, frame_len, acc;
	uint8_t l4_hl, proto;
	int dir = s->dir;

	frame_len = hl + s->payload;
	if (frame_len < MIN_FRAME)
		frame_len = MIN_FRAME;	/* Ethernet padding, outside the IP packet */
	memset(fr, 0, frame_len);

	/* Ethernet II, RFC 894 */
	if (dir == 0) {
		memcpy(fr, router_mac, 6);
		client_mac(fr + 6, f->chost);
	} else {
		client_mac(fr, f->chost);
		memcpy(fr + 6, router_mac, 6);
	}
	l3 = fr + 12;
	if (f->vlan) {
		put_be16(l3, 0x8100);
		put_be16(l3 + 2, f->vlan);
		l3 += 4;
	}
	put_be16(l3, f->v6 ? 0x86dd : 0x0800);
	l3 += 2;

	switch (f->proto) {
	case FP_TCP:
		proto = 6;
		l4_hl = s->syn ? 40 : 32;
		break;
	case FP_UDP:
		proto = 17;
		l4_hl = 8;
		break;
	default:
		proto = f->v6 ? 58 : 1;
		l4_hl = 8;
		break;
	}
	l4_len = l4_hl + s->payload;
	l4 = l3 + (f->v6 ? 40 : 20);

	/* pseudo-header sum (RFC 793 / RFC 8200 section 8.1); ICMPv4 has none */
	if (!f->v6) {
		uint32_t src = dir ? v4_server(f->shost) : v4_client(f->chost);
		uint32_t dst = dir ? v4_client(f->chost) : v4_server(f->shost);

		l3[0] = 0x45;
		put_be16(l3 + 2, 20 + l4_len);
		put_be16(l3 + 4, f->ipid[dir]);
		put_be16(l3 + 6, proto == 6 ? 0x4000 : 0);	/* DF on TCP */
		l3[8] = dir ? 57 : 64;
		l3[9] = proto;
		put_be32(l3 + 12, src);
		put_be32(l3 + 16, dst);
		put_be16(l3 + 10, csum_fold(sum16(l3, 20, 0)));
		acc = proto == 1 ? 0 : sum16(l3 + 12, 8, proto + l4_len);
	} else {
		put_be32(l3, 0x60000000u | f->flowlabel);
		put_be16(l3 + 4, l4_len);
		l3[6] = proto;
		l3[7] = dir ? 57 : 64;
		v6_addr(l3 + 8, dir, dir ? f->shost : f->chost);
		v6_addr(l3 + 24, !dir, dir ? f->chost : f->shost);
		acc = sum16(l3 + 8, 32, proto + l4_len);
	}

	switch (f->proto) {
	case FP_TCP: {
		uint32_t ts = (uint32_t)(now_us / 1000);
		uint8_t *o = l4 + 20;

		put_be16(l4, dir ? f->sport : f->cport);
		put_be16(l4 + 2, dir ? f->cport : f->sport);
		put_be32(l4 + 4, s->seq);
		put_be32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(l4_hl / 4) << 4;
		l4[13] = s->tcp_flags;
		put_be16(l4 + 14, s->syn ? 64240 : 2053);
		if (s->syn) {
			/* MSS, SACK permitted, timestamps, NOP, window scale 7 */
			o[0] = 2, o[1] = 4;
			put_be16(o + 2, f->v6 ? 1440 : 1460);
			o[4] = 4, o[5] = 2;
			o[6] = 8, o[7] = 10;
			put_be32(o + 8, f->tsval[dir] + ts);
			put_be32(o + 12, dir ? f->tsval[0] + ts - f->rtt_us / 2000 : 0);
			o[16] = 1;
			o[17] = 3, o[18] = 3, o[19] = 7;
		} else {
			o[0] = 1, o[1] = 1;
			o[2] = 8, o[3] = 10;
			put_be32(o + 4, f->tsval[dir] + ts);
			put_be32(o + 8, f->tsval[!dir] + ts - f->rtt_us / 2000);
		}
		put_be16(l4 + 16, csum_fold(sum16(l4, l4_hl, acc)));
		break;
	}
	case FP_UDP: {
		uint16_t c;

		put_be16(l4, dir ? f->sport : f->cport);
		put_be16(l4 + 2, dir ? f->cport : f->sport);
		put_be16(l4 + 4, l4_len);
		c = csum_fold(sum16(l4, 8, acc));
		put_be16(l4 + 6, c ? c : 0xffff);	/* RFC 768: 0 means "none" */
		break;
	}
	default:
		if (f->v6)
			l4[0] = dir ? 129 : 128;	/* RFC 4443 echo reply / request */
		else
			l4[0] = dir ? 0 : 8;		/* RFC 792 */
		put_be16(l4 + 4, f->cport);
		put_be16(l4 + 6, s->icmp_seq);
		put_be16(l4 + 2, csum_fold(sum16(l4, 8, acc)));
		break;
	}
	/* the payload is zero, so summing headers gives the full checksum */
	return frame_len;
}

static uint32_t data_payload(struct gen *g, const struct flow *f)
{
	uint32_t hl = hdr_len(f, 0), len = pick_len(g);

	if (len > MAX_FRAME)
		len = MAX_FRAME;
	return len > hl ? len - hl : 1;
}

/* Chooses and writes the flow's next packet; advances its state. */
static int emit(struct gen *g, struct flow *f)
{
	struct pkt_spec s = { 0 };
	uint32_t k = f->sent, t = f->total, rec_len;

	if (g->buf_len + PCAP_REC_HDR + MAX_FRAME + 64 > OUTBUF_SIZE && flush_out(g))
		return -1;

	switch (f->proto) {
	case FP_TCP:
		if (k == 0) {
			s.dir = 0, s.tcp_flags = TH_SYN, s.syn = 1;
		} else if (f->end == END_REJECT) {
			s.dir = 1, s.tcp_flags = TH_RST | TH_ACK;
		} else if (k == 1) {
			s.dir = 1, s.tcp_flags = TH_SYN | TH_ACK, s.syn = 1;
		} else if (k == 2) {
			s.dir = 0, s.tcp_flags = TH_ACK;
		} else if (f->end == END_FIN && k + 4 >= t) {
			/* closer FIN, other ACK, other FIN, closer ACK */
			s.dir = (k + 4 == t || k + 1 == t) ? f->closer : !f->closer;
			s.tcp_flags = TH_ACK | (k + 4 == t || k + 2 == t ? TH_FIN : 0);
		} else if (f->end == END_RST && k + 1 == t) {
			s.dir = f->closer, s.tcp_flags = TH_RST | TH_ACK;
		} else {
			s.dir = f->next_dir;
			/* the client mostly ACKs; a second ACK of the same data would be a dup */
			s.payload = s.dir == 0 && f->c_acked != f->seq[1] && rnd_below(g, 100) < 60 ?
				0 : data_payload(g, f);
			s.tcp_flags = TH_ACK | (s.payload ? TH_PSH : 0);
		}
		s.seq = f->seq[s.dir];
		s.ack = (s.tcp_flags & TH_ACK) ? f->seq[!s.dir] : 0;
		if (f->end == END_REJECT && k == 1)
			s.seq = 0;
		if (s.dir == 0)
			f->c_acked = s.ack;
		f->seq[s.dir] += s.payload + ((s.tcp_flags & (TH_SYN | TH_FIN)) ? 1 : 0);
		break;
	case FP_UDP:
		s.dir = k == 0 ? 0 : f->next_dir;
		s.payload = data_payload(g, f);
		break;
	default:
		s.dir = k & 1;
		s.icmp_seq = (uint16_t)(k / 2 + 1);
		s.payload = 56;		/* ping(8) default */
		break;
	}

	rec_len = build_frame(g, f, &s, f->next_us);
	if (!f->v6)
		f->ipid[s.dir]++;
	{
		uint8_t *r = g->buf + g->buf_len;
		uint64_t ts = f->next_us;

		put_le32(r, TS_BASE_S + (uint32_t)(ts / 1000000));
		put_le32(r + 4, (uint32_t)(ts % 1000000));
		put_le32(r + 8, rec_len);
		put_le32(r + 12, rec_len);
	}
	g->buf_len += PCAP_REC_HDR + rec_len;
	g->packets++;
	g->bytes += rec_len;
	g->pkts_by_proto[f->proto]++;
	g->last_us = f->next_us;
	f->sent++;
	return 0;
}

/* Time until the flow's next packet; also picks that packet's direction. */
static uint64_t next_gap(struct gen *g, struct flow *f)
{
	uint32_t k = f->sent, t = f->total;

	switch (f->proto) {
	case FP_TCP:
		if (k < 3 || (f->end == END_FIN && k + 4 >= t))
			return f->rtt_us / 2 + rnd_below(g, 50);
		/* the first data segment is the client's request */
		f->next_dir = k == 3 ? 0 : rnd_below(g, 100) < 30 ? 0 : 1;
		break;
	case FP_UDP:
		f->next_dir = rnd_below(g, 100) < 55 ? 1 : 0;
		break;
	default:
		if (k & 1)	/* a reply comes after one RTT */
			return f->rtt_us + rnd_below(g, 50);
		return 1000000 + rnd_below(g, 2000) - 1000;
	}
	return (uint64_t)rnd_exp(g, f->gap_mean_us);
}

static int run(struct gen *g)
{
	heap_build(g);
	while (g->heap_n) {
		uint32_t i = g->heap[0];
		struct flow *f = &g->flows[i];

		if (emit(g, f))
			return -1;
		if (f->sent == f->total) {
			g->heap[0] = g->heap[--g->heap_n];
		} else {
			f->next_us += next_gap(g, f);
		}
		heap_down(g, 0);
	}
	return flush_out(g);
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: gen_synth -o FILE [--packets N] [--flows N] [--size small|mixed|large] [--seed N]\n"
		"  --packets N   packets to write (default %u)\n"
		"  --flows N     bidirectional flows (default %u)\n"
		"  --size S      small: 64-128 B frames; mixed: IMIX-like; large: ~500 B average (default)\n"
		"  --seed N      PRNG seed (default %llu); same arguments, same bytes\n",
		DEF_PACKETS, DEF_FLOWS, (unsigned long long)DEF_SEED);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "packets", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen g = { .size = SIZE_LARGE };
	uint64_t packets = DEF_PACKETS, flows = DEF_FLOWS, seed = DEF_SEED, sm;
	const char *path = NULL, *size_name = "large";
	int c, i;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			path = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &packets) || packets == 0 || packets > UINT32_MAX) {
				fprintf(stderr, "gen_synth: bad --packets '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			if (parse_u64(optarg, &flows) || flows == 0 || flows > KEY_MASK) {
				fprintf(stderr, "gen_synth: bad --flows '%s' (1..%u)\n", optarg, KEY_MASK);
				return 2;
			}
			break;
		case 's':
			size_name = optarg;
			if (!strcmp(optarg, "small"))
				g.size = SIZE_SMALL;
			else if (!strcmp(optarg, "mixed"))
				g.size = SIZE_MIXED;
			else if (!strcmp(optarg, "large"))
				g.size = SIZE_LARGE;
			else {
				fprintf(stderr, "gen_synth: bad --size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			if (parse_u64(optarg, &seed)) {
				fprintf(stderr, "gen_synth: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}

	sm = seed;
	for (i = 0; i < 4; i++)
		g.rng[i] = splitmix64(&sm);
	g.nflows = (uint32_t)flows;
	g.flows = calloc(g.nflows, sizeof(*g.flows));
	g.heap = calloc(g.nflows, sizeof(*g.heap));
	g.buf = malloc(OUTBUF_SIZE);
	if (!g.flows || !g.heap || !g.buf) {
		fprintf(stderr, "gen_synth: out of memory\n");
		return 1;
	}
	if (setup_flows(&g, packets, seed)) {
		fprintf(stderr, "gen_synth: %llu packets cannot hold %llu flows; lower --flows\n",
			(unsigned long long)packets, (unsigned long long)flows);
		return 2;
	}

	g.out = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!g.out) {
		fprintf(stderr, "gen_synth: %s: %s\n", path, strerror(errno));
		return 1;
	}
	write_global_header(&g);
	if (run(&g) || (g.out != stdout ? fclose(g.out) : fflush(g.out))) {
		fprintf(stderr, "gen_synth: %s: write failed: %s\n", path, strerror(errno));
		return 1;
	}

	fprintf(stderr,
		"gen_synth: %s: %llu packets, %u flows (tcp %llu, udp %llu, icmp %llu; ipv6 %llu, vlan %llu),"
		" %llu bytes on the wire (avg %.1f B/packet), %llu file bytes, %.1f s span,"
		" largest flow %u packets, size %s, seed %llu\n",
		path, (unsigned long long)g.packets, g.nflows,
		(unsigned long long)g.flows_by_proto[FP_TCP], (unsigned long long)g.flows_by_proto[FP_UDP],
		(unsigned long long)g.flows_by_proto[FP_ICMP], (unsigned long long)g.flows_v6,
		(unsigned long long)g.flows_vlan, (unsigned long long)g.bytes,
		g.packets ? (double)g.bytes / g.packets : 0.0, (unsigned long long)g.file_bytes,
		g.last_us / 1e6, g.max_flow_pkts, size_name, (unsigned long long)seed);
	/* one machine-readable line for bench/run.sh */
	fprintf(stderr, "gen_synth: packets=%llu flows=%u bytes=%llu file_bytes=%llu\n",
		(unsigned long long)g.packets, g.nflows, (unsigned long long)g.bytes,
		(unsigned long long)g.file_bytes);
	free(g.flows);
	free(g.heap);
	free(g.buf);
	return 0;
}
