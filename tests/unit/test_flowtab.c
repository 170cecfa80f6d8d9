// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_flowtab.c - the flow table driven by crafted struct fc_pkt sequences
 * (no decoder): direction and initiator, keying (VLAN, tunnel, ICMP),
 * timeouts, interim records, TCP close and port reuse, eviction, flush, the
 * accounting identity under random load, constructor failures, and SipHash
 * against its reference vectors.
 */
#include <errno.h>
#include <stdlib.h>

#include "flowcut/flowtab.h"
#include "aeshash.h"
#include "siphash.h"
#include "tcpstate.h"
#include "t.h"

#define SEC FC_NS_PER_SEC
#define T0 (1700000000ULL * SEC)

/* ---- record capture ------------------------------------------------- */

struct sink {
	struct fc_flow_rec *r;
	size_t n, cap;
	uint64_t pkts, bytes;
};

static void on_emit(void *ctx, const struct fc_flow_rec *rec)
{
	struct sink *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->r = realloc(s->r, s->cap * sizeof(*s->r));
		if (!s->r)
			abort();
	}
	s->r[s->n++] = *rec;
	s->pkts += rec->pkts + rec->rpkts;
	s->bytes += rec->bytes + rec->rbytes;
}

static void sink_reset(struct sink *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

static struct fc_flowtab *mk(struct sink *s, struct fc_flowtab_opts *o)
{
	static const uint8_t seed[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct fc_flowtab *ft;

	o->emit = on_emit;
	o->emit_ctx = s;
	o->fixed_seed = true;
	memcpy(o->seed, seed, sizeof(seed));
	ft = fc_flowtab__new(o);
	CHECK(ft != NULL);
	return ft;
}

static void defaults(struct fc_flowtab_opts *o)
{
	fc_flowtab_opts__defaults(o);
	o->max_flows = 1024;
}

/* ---- packet builders ------------------------------------------------ */

static struct fc_pkt pkt4(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			  uint32_t bytes)
{
	struct fc_pkt p;

	memset(&p, 0, sizeof(p));
	p.kind = FC_PKT_FLOW;
	p.key.family = 4;
	p.key.proto = proto;
	p.key.src.b[0] = (uint8_t)(src >> 24), p.key.src.b[1] = (uint8_t)(src >> 16);
	p.key.src.b[2] = (uint8_t)(src >> 8), p.key.src.b[3] = (uint8_t)src;
	p.key.dst.b[0] = (uint8_t)(dst >> 24), p.key.dst.b[1] = (uint8_t)(dst >> 16);
	p.key.dst.b[2] = (uint8_t)(dst >> 8), p.key.dst.b[3] = (uint8_t)dst;
	p.key.sport = sport;
	p.key.dport = dport;
	p.ip_bytes = bytes;
	p.l3_family = 4;
	return p;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define CLI IP(10, 0, 0, 2)
#define SRV IP(10, 0, 0, 1)	/* lower than CLI: the canonical order differs from the initiator's */

static struct fc_pkt udp(uint32_t s, uint16_t sp, uint32_t d, uint16_t dp, uint32_t bytes)
{
	return pkt4(17, s, sp, d, dp, bytes);
}

static struct fc_pkt tcp(uint32_t s, uint16_t sp, uint32_t d, uint16_t dp, uint16_t flags, uint32_t len)
{
	struct fc_pkt p = pkt4(6, s, sp, d, dp, 40 + len);

	p.flags |= FC_PKTF_TCP;
	p.tcp_flags = flags;
	p.payload_len = len;
	return p;
}

/* client CLI:40000 <-> server SRV:80; 'C' from the client, 'S' from the server */
static struct fc_pkt web(char who, uint16_t flags, uint32_t len)
{
	return who == 'C' ? tcp(CLI, 40000, SRV, 80, flags, len) : tcp(SRV, 80, CLI, 40000, flags, len);
}

static struct fc_pkt icmp(uint32_t s, uint32_t d, uint8_t type, uint8_t code, uint16_t id)
{
	/* as the decoder keys it: type normalised to the request, dport = echo id */
	struct fc_pkt p = pkt4(1, s, type == 0 ? 8 : type, d, id, 84);

	p.key.flags |= FC_KEYF_PORTS_SYMMETRIC;
	p.icmp_type = type;
	p.icmp_code = code;
	return p;
}

#define SYN FC_TCPF_SYN
#define ACK FC_TCPF_ACK
#define FIN (FC_TCPF_FIN | FC_TCPF_ACK)
#define RST FC_TCPF_RST
#define PSH (FC_TCPF_PSH | FC_TCPF_ACK)

static void feed(struct fc_flowtab *ft, struct fc_pkt p, uint64_t ts)
{
	CHECK_EQ_U(fc_flowtab__update(ft, &p, ts), 0);
}

/* A full client-initiated exchange: ShADadFf, 8 packets. */
static void web_session(struct fc_flowtab *ft, uint64_t ts)
{
	feed(ft, web('C', SYN, 0), ts);
	feed(ft, web('S', SYN | ACK, 0), ts + 1000);
	feed(ft, web('C', ACK, 0), ts + 2000);
	feed(ft, web('C', PSH, 100), ts + 3000);
	feed(ft, web('S', ACK, 0), ts + 4000);
	feed(ft, web('S', PSH, 1000), ts + 5000);
	feed(ft, web('C', FIN, 0), ts + 6000);
	feed(ft, web('S', FIN, 0), ts + 7000);
}

static uint32_t ip_of(const struct fc_addr *a)
{
	return IP(a->b[0], a->b[1], a->b[2], a->b[3]);
}

/* ---- tests ---------------------------------------------------------- */

static void test_both_directions_meet(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	ft = mk(&s, &o);
	feed(ft, udp(CLI, 5353, SRV, 53, 60), T0);
	feed(ft, udp(SRV, 53, CLI, 5353, 200), T0 + SEC);
	feed(ft, udp(CLI, 5353, SRV, 53, 70), T0 + 2 * SEC);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 1);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(ip_of(&s.r[0].src), CLI);
	CHECK_EQ_U(ip_of(&s.r[0].dst), SRV);
	CHECK_EQ_U(s.r[0].sport, 5353);
	CHECK_EQ_U(s.r[0].dport, 53);
	CHECK_EQ_U(s.r[0].pkts, 2);
	CHECK_EQ_U(s.r[0].bytes, 130);
	CHECK_EQ_U(s.r[0].rpkts, 1);
	CHECK_EQ_U(s.r[0].rbytes, 200);
	CHECK_EQ_U(s.r[0].start_ns, T0);
	CHECK_EQ_U(s.r[0].end_ns, T0 + 2 * SEC);
	CHECK_EQ_U(s.r[0].family, 4);
	CHECK_EQ_U(s.r[0].proto, 17);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_EOF);
	CHECK_EQ_U(s.r[0].flow_id, 1);
	CHECK_EQ_U(s.r[0].has_vlan, 0);
	CHECK_EQ_U(s.r[0].has_tunnel, 0);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 0);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_EOF], 1);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_initiator_is_first_sender(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	/* the server side speaks first: it is the initiator, whatever the address order */
	defaults(&o);
	ft = mk(&s, &o);
	feed(ft, udp(SRV, 53, CLI, 5353, 10), T0);
	feed(ft, udp(CLI, 5353, SRV, 53, 20), T0 + 1);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(ip_of(&s.r[0].src), SRV);
	CHECK_EQ_U(s.r[0].sport, 53);
	CHECK_EQ_U(s.r[0].dport, 5353);
	CHECK_EQ_U(s.r[0].bytes, 10);
	CHECK_EQ_U(s.r[0].rbytes, 20);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_tcp_session_fin_after_grace(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	char cid[FC_COMMUNITY_ID_LEN];

	defaults(&o);
	ft = mk(&s, &o);
	web_session(ft, T0);
	feed(ft, web('C', ACK, 0), T0 + 8000);	/* last ACK, inside the grace */
	CHECK_EQ_U(s.n, 0);
	fc_flowtab__expire(ft, T0 + 8000 + o.tcp_close_ns - 1);
	CHECK_EQ_U(s.n, 0);
	fc_flowtab__expire(ft, T0 + 8000 + o.tcp_close_ns);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_FIN);
	CHECK_EQ_U(s.r[0].tcp_state, FC_TCP_SF);
	CHECK_STR(s.r[0].history, "ShADadFf");
	CHECK_EQ_U(s.r[0].pkts, 5);
	CHECK_EQ_U(s.r[0].rpkts, 4);
	CHECK_EQ_U(s.r[0].bytes, 5 * 40 + 100);
	CHECK_EQ_U(s.r[0].rbytes, 4 * 40 + 1000);
	CHECK_EQ_U(s.r[0].tcp_flags, SYN | ACK | FIN | PSH);
	CHECK_EQ_U(s.r[0].rtcp_flags, SYN | ACK | FIN | PSH);
	CHECK_EQ_U(s.r[0].end_ns, T0 + 8000);
	CHECK_EQ_U(ip_of(&s.r[0].src), CLI);
	CHECK_EQ_U(s.r[0].sport, 40000);
	fc_community_id(4, 6, &s.r[0].src, &s.r[0].dst, 40000, 80, cid);
	CHECK_STR(s.r[0].community_id, cid);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_FIN], 1);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_synack_first_makes_syn_sender_src(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	ft = mk(&s, &o);
	feed(ft, web('S', SYN | ACK, 0), T0);
	feed(ft, web('C', ACK, 0), T0 + 1);
	feed(ft, web('C', PSH, 10), T0 + 2);
	feed(ft, web('S', PSH, 20), T0 + 3);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(ip_of(&s.r[0].src), CLI);
	CHECK_EQ_U(s.r[0].sport, 40000);
	CHECK_EQ_U(s.r[0].dport, 80);
	CHECK_EQ_U(s.r[0].pkts, 2);
	CHECK_EQ_U(s.r[0].rpkts, 2);
	CHECK_STR(s.r[0].history, "hADd");
	CHECK_EQ_U(s.r[0].tcp_state, FC_TCP_OTH);
	CHECK_EQ_U(s.r[0].rtcp_flags, SYN | ACK | PSH);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_vlan_keying(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	struct fc_pkt a = udp(CLI, 1000, SRV, 2000, 50), b = a, c = a;
	int no_vlan;

	a.key.flags |= FC_KEYF_VLAN;
	a.key.vlan = 10;
	b.key.flags |= FC_KEYF_VLAN;
	b.key.vlan = 20;
	c.key.flags |= FC_KEYF_VLAN | FC_KEYF_VLAN2;
	c.key.vlan = 10;
	c.key.vlan_inner = 30;
	for (no_vlan = 0; no_vlan < 2; no_vlan++) {
		defaults(&o);
		o.no_vlan_key = no_vlan;
		ft = mk(&s, &o);
		feed(ft, a, T0);
		feed(ft, b, T0 + 1);
		feed(ft, c, T0 + 2);
		feed(ft, udp(SRV, 2000, CLI, 1000, 50), T0 + 3);	/* untagged */
		CHECK_EQ_U(fc_flowtab__stats(ft)->active, no_vlan ? 1 : 4);
		fc_flowtab__flush(ft, FC_END_EOF);
		/* the first record is always the vlan-10 flow; its tags come from its first packet */
		CHECK_EQ_U(s.r[0].has_vlan, 1);
		CHECK_EQ_U(s.r[0].vlan, 10);
		if (no_vlan) {
			CHECK_EQ_U(s.r[0].pkts, 3);
			CHECK_EQ_U(s.r[0].rpkts, 1);
		} else {
			size_t i;

			for (i = 0; i < s.n; i++)
				if (s.r[i].has_vlan == 2) {
					CHECK_EQ_U(s.r[i].vlan, 10);
					CHECK_EQ_U(s.r[i].vlan_inner, 30);
				}
		}
		fc_flowtab__free(ft);
		sink_reset(&s);
	}
}

static void test_tunnel_keying(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	struct fc_pkt a = udp(CLI, 1000, SRV, 2000, 50), b;
	size_t i;

	a.key.tunnel_type = FC_TUN_VXLAN;
	a.key.tunnel_id = 42;
	a.tunnel.id = 42;	/* the decoder sets both (the key may leave it out) */
	a.flags |= FC_PKTF_TUNNEL;
	a.tunnel.family = 4;
	a.tunnel.type = FC_TUN_VXLAN;
	a.tunnel.depth = 1;
	a.tunnel.src.b[0] = 192, a.tunnel.src.b[3] = 1;
	a.tunnel.dst.b[0] = 192, a.tunnel.dst.b[3] = 2;
	b = a;
	b.key.tunnel_id = 43;
	b.tunnel.id = 43;
	defaults(&o);
	ft = mk(&s, &o);
	feed(ft, a, T0);
	feed(ft, b, T0 + 1);
	feed(ft, a, T0 + 2);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 2);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 2);
	for (i = 0; i < s.n; i++) {
		const struct fc_flow_rec *r = &s.r[i];

		CHECK(r->tunnel_id == 42 || r->tunnel_id == 43);
		CHECK_EQ_U(r->pkts, r->tunnel_id == 42 ? 2 : 1);
		CHECK_EQ_U(r->has_tunnel, 1);
		CHECK_EQ_U(r->tunnel.type, FC_TUN_VXLAN);
		CHECK_EQ_U(r->tunnel.family, 4);
		CHECK_EQ_U(r->tunnel.depth, 1);
		CHECK_EQ_U(r->tunnel.src.b[3], 1);
		CHECK_EQ_U(r->tunnel.dst.b[3], 2);
	}
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_icmp_echo(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	size_t i;

	defaults(&o);
	ft = mk(&s, &o);
	feed(ft, icmp(CLI, SRV, 8, 0, 7), T0);
	feed(ft, icmp(SRV, CLI, 0, 0, 7), T0 + 1);
	feed(ft, icmp(CLI, SRV, 8, 0, 7), T0 + 2);
	feed(ft, icmp(CLI, SRV, 8, 0, 9), T0 + 3);	/* another echo id: another flow */
	feed(ft, icmp(SRV, CLI, 3, 1, 0), T0 + 4);	/* unreachable, code 1 */
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 3);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 3);
	for (i = 0; i < s.n; i++) {
		const struct fc_flow_rec *r = &s.r[i];

		if (r->has_icmp_id && r->icmp_id == 7) {
			CHECK_EQ_U(ip_of(&r->src), CLI);
			CHECK_EQ_U(r->sport, 8);
			CHECK_EQ_U(r->dport, 0);
			CHECK_EQ_U(r->pkts, 2);
			CHECK_EQ_U(r->rpkts, 1);
			/* tshark's value for 10.0.0.2 -> 10.0.0.1 echo request */
			CHECK_STR(r->community_id, "1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ=");
		} else if (r->has_icmp_id) {
			CHECK_EQ_U(r->icmp_id, 9);
			CHECK_EQ_U(r->pkts, 1);
			CHECK_EQ_U(r->rpkts, 0);
		} else {
			CHECK_EQ_U(ip_of(&r->src), SRV);
			CHECK_EQ_U(r->sport, 3);
			CHECK_EQ_U(r->dport, 1);
		}
	}
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_idle_per_class(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	o.idle_tcp_ns = 10 * SEC;
	o.idle_udp_ns = 0;	/* off */
	o.idle_other_ns = 5 * SEC;
	o.active_ns = 0;
	ft = mk(&s, &o);
	feed(ft, web('C', SYN, 0), T0);
	feed(ft, udp(CLI, 1, SRV, 2, 30), T0);
	feed(ft, pkt4(47, CLI, 0, SRV, 0, 100), T0);
	fc_flowtab__expire(ft, T0 + 5 * SEC - 1);
	CHECK_EQ_U(s.n, 0);
	fc_flowtab__expire(ft, T0 + 5 * SEC);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].proto, 47);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_IDLE);
	fc_flowtab__expire(ft, T0 + 10 * SEC);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.r[1].proto, 6);
	CHECK_EQ_U(s.r[1].tcp_state, FC_TCP_S0);
	CHECK_STR(s.r[1].history, "S");
	fc_flowtab__expire(ft, T0 + 100000 * SEC);
	CHECK_EQ_U(s.n, 2);	/* UDP idle is off */
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 1);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_IDLE], 2);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_idle_on_arrival_without_expire(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	o.idle_udp_ns = 60 * SEC;
	ft = mk(&s, &o);
	feed(ft, udp(CLI, 1, SRV, 2, 30), T0);
	feed(ft, udp(SRV, 2, CLI, 1, 30), T0 + 60 * SEC);	/* exactly the timeout: a new flow */
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_IDLE);
	CHECK_EQ_U(s.r[0].flow_id, 1);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.r[1].flow_id, 2);
	CHECK_EQ_U(ip_of(&s.r[1].src), SRV);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_active_timeout_interim(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	uint64_t ts = T0, tot = 0;
	size_t i;
	int k;

	defaults(&o);
	o.active_ns = 10 * SEC;
	o.idle_udp_ns = 0;
	o.flow_id_base = 1000;
	ft = mk(&s, &o);
	/* 25 s of traffic, one packet each way per second: server speaks first */
	for (k = 0; k < 25; k++, ts += SEC) {
		feed(ft, udp(SRV, 53, CLI, 999, 100), ts);
		feed(ft, udp(CLI, 999, SRV, 53, 10), ts + 1);
	}
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 3);
	for (i = 0; i < s.n; i++) {
		CHECK_EQ_U(s.r[i].flow_id, 1001);
		CHECK_EQ_U(ip_of(&s.r[i].src), SRV);
		CHECK_EQ_U(s.r[i].sport, 53);
		CHECK_EQ_U(s.r[i].pkts, s.r[i].rpkts);
		tot += s.r[i].pkts + s.r[i].rpkts;
	}
	CHECK_EQ_U(s.r[0].end_reason, FC_END_ACTIVE);
	CHECK_EQ_U(s.r[1].end_reason, FC_END_ACTIVE);
	CHECK_EQ_U(s.r[2].end_reason, FC_END_EOF);
	/* the packet at T0+10s opens the second interval */
	CHECK_EQ_U(s.r[0].start_ns, T0);
	CHECK_EQ_U(s.r[0].end_ns, T0 + 9 * SEC + 1);
	CHECK_EQ_U(s.r[0].pkts, 10);
	CHECK_EQ_U(s.r[0].bytes, 1000);
	CHECK_EQ_U(s.r[0].rbytes, 100);
	CHECK_EQ_U(s.r[1].start_ns, T0 + 10 * SEC);
	CHECK_EQ_U(s.r[1].pkts, 10);
	CHECK_EQ_U(s.r[2].start_ns, T0 + 20 * SEC);
	CHECK_EQ_U(s.r[2].pkts, 5);
	CHECK_EQ_U(tot, 50);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_ACTIVE], 2);
	CHECK_EQ_U(fc_flowtab__stats(ft)->flows_created, 1);
	CHECK_EQ_U(fc_flowtab__stats(ft)->pkts_emitted, 50);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_tcp_close_immediate_and_rst(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	o.tcp_close_ns = 0;
	ft = mk(&s, &o);
	web_session(ft, T0);
	CHECK_EQ_U(s.n, 1);	/* ended on the second FIN */
	CHECK_EQ_U(s.r[0].end_reason, FC_END_FIN);
	CHECK_EQ_U(s.r[0].pkts + s.r[0].rpkts, 8);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 0);
	feed(ft, web('C', SYN, 0), T0 + SEC);
	feed(ft, web('S', RST | ACK, 0), T0 + SEC + 1);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.r[1].end_reason, FC_END_RST);
	CHECK_EQ_U(s.r[1].tcp_state, FC_TCP_REJ);
	CHECK_STR(s.r[1].history, "Sr");
	CHECK_EQ_U(s.r[1].flow_id, 2);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_RST], 1);
	fc_flowtab__free(ft);
	sink_reset(&s);

	/* with a grace, the RST flow waits and late packets still count */
	defaults(&o);
	o.tcp_close_ns = 2 * SEC;
	ft = mk(&s, &o);
	feed(ft, web('C', SYN, 0), T0);
	feed(ft, web('S', SYN | ACK, 0), T0 + 1);
	feed(ft, web('C', RST, 0), T0 + 2);
	feed(ft, web('S', ACK, 0), T0 + SEC);	/* in the grace */
	fc_flowtab__expire(ft, T0 + 2 * SEC);
	CHECK_EQ_U(s.n, 0);
	fc_flowtab__expire(ft, T0 + 3 * SEC);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_RST);
	CHECK_EQ_U(s.r[0].tcp_state, FC_TCP_RSTO);
	CHECK_EQ_U(s.r[0].rpkts, 2);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_tcp_port_reuse(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	ft = mk(&s, &o);
	web_session(ft, T0);
	feed(ft, web('C', SYN, 0), T0 + SEC);	/* in the grace, a new connection */
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_FIN);
	CHECK_EQ_U(s.r[0].flow_id, 1);
	CHECK_EQ_U(s.r[0].pkts + s.r[0].rpkts, 8);
	feed(ft, web('S', SYN | ACK, 0), T0 + SEC + 1);
	/* a retransmitted SYN on an open flow is the same flow */
	feed(ft, web('C', SYN, 0), T0 + SEC + 2);
	CHECK_EQ_U(s.n, 1);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.r[1].flow_id, 2);
	CHECK_EQ_U(s.r[1].pkts, 2);
	CHECK_EQ_U(s.r[1].rpkts, 1);
	CHECK_STR(s.r[1].history, "Sh");
	CHECK_EQ_U(s.r[1].tcp_state, FC_TCP_S1);

	/* the reverse side reusing after a RST: it becomes the new initiator */
	sink_reset(&s);
	feed(ft, web('C', SYN, 0), T0 + 10 * SEC);
	feed(ft, web('S', RST | ACK, 0), T0 + 10 * SEC + 1);
	feed(ft, web('S', SYN, 0), T0 + 10 * SEC + 2);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_RST);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(ip_of(&s.r[1].src), SRV);
	CHECK_EQ_U(s.r[1].flow_id, 4);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_eviction_lru_exact(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	o.max_flows = 3;
	ft = mk(&s, &o);
	feed(ft, udp(CLI, 1, SRV, 9, 10), T0 + 1);			/* A (udp) */
	feed(ft, web('C', SYN, 0), T0 + 2);				/* B (tcp) */
	feed(ft, pkt4(47, CLI, 0, SRV, 0, 10), T0 + 3);			/* C (other) */
	feed(ft, udp(SRV, 9, CLI, 1, 10), T0 + 4);			/* A touched */
	feed(ft, udp(CLI, 2, SRV, 9, 10), T0 + 5);			/* D: evicts B */
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].end_reason, FC_END_EVICTED);
	CHECK_EQ_U(s.r[0].proto, 6);
	feed(ft, udp(CLI, 3, SRV, 9, 10), T0 + 6);			/* E: evicts C */
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.r[1].proto, 47);
	feed(ft, udp(CLI, 4, SRV, 9, 10), T0 + 7);			/* F: evicts A */
	CHECK_EQ_U(s.n, 3);
	CHECK_EQ_U(s.r[2].sport, 1);
	CHECK_EQ_U(s.r[2].pkts + s.r[2].rpkts, 2);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_EVICTED], 3);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 3);
	CHECK_EQ_U(fc_flowtab__stats(ft)->peak_active, 3);
	fc_flowtab__flush(ft, FC_END_SHUTDOWN);
	CHECK_EQ_U(s.n, 6);
	CHECK_EQ_U(fc_flowtab__stats(ft)->records[FC_END_SHUTDOWN], 3);
	CHECK_EQ_U(fc_flowtab__stats(ft)->pkts_emitted, 7);
	CHECK_EQ_U(s.pkts, 7);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

/*
 * Against a model of every flow's last-seen time, over 200k packets on
 * skewed keys across the three classes: each eviction must take a flow with
 * the smallest last-seen time of all, each expiry only flows idle past their
 * class's timeout and leave none behind, and a flush emit every flow in
 * last-seen order per class.
 */
#define LM_KEYS 600
static uint64_t rnd(void);
static struct lru_model {
	uint64_t last[LM_KEYS];
	bool live[LM_KEYS];
	unsigned bad, evicted, idle;
	uint64_t now, flushed_prev[3];
} lm;

static unsigned lm_key(const struct fc_flow_rec *r)
{
	return (unsigned)(r->sport - 1024);
}

static int lm_cls(unsigned k)
{
	return k % 3;	/* 0 udp, 1 tcp, 2 other (proto 50) */
}

static void lm_emit(void *ctx, const struct fc_flow_rec *r)
{
	unsigned k = lm_key(r), j;
	uint64_t idle = lm_cls(k) == 0 ? SEC : 2 * SEC;

	(void)ctx;
	if (k >= LM_KEYS || !lm.live[k] || r->end_ns != lm.last[k]) {
		lm.bad++;
		return;
	}
	if (r->end_reason == FC_END_EVICTED) {
		lm.evicted++;
		for (j = 0; j < LM_KEYS; j++)
			if (lm.live[j] && lm.last[j] < lm.last[k])
				lm.bad++;	/* a flow seen longer ago was kept */
	} else if (r->end_reason == FC_END_IDLE) {
		lm.idle++;
		if (lm.now - lm.last[k] < idle)
			lm.bad++;	/* not idle yet */
	} else if (r->end_reason == FC_END_EOF) {
		if (r->end_ns < lm.flushed_prev[lm_cls(k)])
			lm.bad++;	/* out of last-seen order within the class */
		lm.flushed_prev[lm_cls(k)] = r->end_ns;
	}
	lm.live[k] = false;
}

static void lru_model_run(bool siphash)
{
	static const uint8_t protos[3] = { 17, 6, 50 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	uint64_t ts = T0;
	unsigned k, j, n;

	memset(&lm, 0, sizeof(lm));
	defaults(&o);
	o.max_flows = 150;
	o.idle_udp_ns = SEC;
	o.idle_tcp_ns = 2 * SEC;
	o.idle_other_ns = 2 * SEC;
	o.active_ns = 0;
	o.emit = lm_emit;
	o.emit_ctx = NULL;
	o.siphash = siphash;
	ft = fc_flowtab__new(&o);
	CHECK(ft != NULL);
	if (!ft)
		return;
	for (n = 0; n < 200000; n++) {
		uint64_t r = rnd();
		/* a skewed key choice: some flows are touched often, most rarely */
		struct fc_pkt p;

		k = (unsigned)((r & 3) ? (r >> 8) % 40 : (r >> 8) % LM_KEYS);
		p = pkt4(protos[lm_cls(k)], CLI, (uint16_t)(1024 + k), SRV, 9, 100);
		if (lm_cls(k) == 1) {
			p.flags |= FC_PKTF_TCP;
			p.tcp_flags = ACK;
		}
		ts += (r >> 40) % 20000000;	/* 0-20 ms apart: every class expires now and then */
		lm.now = ts;
		feed(ft, p, ts);
		lm.live[k] = true;
		lm.last[k] = ts;
		if (n % 500 == 0)
			fc_flowtab__expire(ft, ts);
	}
	lm.now = ts + SEC + 1;	/* every UDP flow is idle now, the others only if old */
	fc_flowtab__expire(ft, lm.now);
	for (j = 0, k = 0; k < LM_KEYS; k++)
		if (lm.live[k] && lm.now - lm.last[k] >= (lm_cls(k) == 0 ? SEC : 2 * SEC))
			j++;	/* idle flows that expire() left behind */
	CHECK_EQ_U(j, 0);
	fc_flowtab__flush(ft, FC_END_EOF);
	for (k = 0; k < LM_KEYS; k++)
		CHECK(!lm.live[k]);
	CHECK_EQ_U(lm.bad, 0);
	CHECK(lm.evicted > 1000);
	CHECK(lm.idle > 100);
	fc_flowtab__free(ft);
}

/* Both index hashes (AES rounds where the CPU has them, SipHash). */
static void test_lru_matches_model(void)
{
	lru_model_run(false);
	lru_model_run(true);
}

static void test_flush_eof_and_identity(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	const struct fc_flowtab_stats *st;
	int k;

	defaults(&o);
	ft = mk(&s, &o);
	for (k = 0; k < 100; k++)
		feed(ft, udp(CLI, (uint16_t)(1000 + k % 37), SRV, 53, (uint32_t)(60 + k)), T0 + (uint64_t)k);
	web_session(ft, T0 + 1000);
	fc_flowtab__flush(ft, FC_END_EOF);
	st = fc_flowtab__stats(ft);
	CHECK_EQ_U(st->active, 0);
	CHECK_EQ_U(st->flows_created, 38);
	CHECK_EQ_U(st->records[FC_END_EOF], 37);
	CHECK_EQ_U(st->records[FC_END_FIN], 1);	/* the web session had closed */
	CHECK_EQ_U(st->pkts_emitted, 108);
	CHECK_EQ_U(st->pkts_emitted, s.pkts);
	CHECK_EQ_U(st->bytes_emitted, s.bytes);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_flush_keeps_close_reason(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	size_t i;

	defaults(&o);
	ft = mk(&s, &o);
	web_session(ft, T0);					/* closed by FIN, in the grace */
	feed(ft, tcp(CLI, 5, SRV, 6, SYN, 0), T0);
	feed(ft, tcp(SRV, 6, CLI, 5, RST | ACK, 0), T0 + 1);	/* closed by RST */
	feed(ft, tcp(CLI, 7, SRV, 8, SYN, 0), T0);		/* still open */
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.n, 3);
	for (i = 0; i < s.n; i++)
		CHECK_EQ_U(s.r[i].end_reason, s.r[i].sport == 40000 ? FC_END_FIN :
					      s.r[i].sport == 5	    ? FC_END_RST :
									      FC_END_EOF);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_stress_identity(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	const struct fc_flowtab_stats *st;
	uint64_t ts = T0, fed = 0, fed_bytes = 0, non_active = 0;
	static const uint16_t fl[] = { SYN, SYN | ACK, ACK, PSH, FIN, RST, RST | ACK, 0 };
	size_t i;
	int k;

	defaults(&o);
	o.max_flows = 1000;
	o.idle_tcp_ns = 3 * SEC;
	o.idle_udp_ns = SEC;
	o.idle_other_ns = 0;
	o.active_ns = 4 * SEC;
	o.tcp_close_ns = SEC / 2;
	ft = mk(&s, &o);
	for (k = 0; k < 100000; k++) {
		uint64_t r = rnd();
		/* half the packets on 200 hot keys (long flows: active timeouts), half on 10k */
		uint32_t key = (uint32_t)((r & 0x80000000u) ? r % 200 : r % 10000);
		uint32_t a = IP(10, 1, key >> 8, key & 255), b = IP(10, 2, 0, 1);
		uint16_t sp = (uint16_t)(1024 + key), dp = 443;
		uint8_t proto = key % 3 == 0 ? 6 : key % 3 == 1 ? 17 : 50;
		struct fc_pkt p;

		if ((r >> 32) & 1) {	/* reverse direction */
			uint32_t t = a;
			uint16_t tp = sp;

			a = b, b = t, sp = dp, dp = tp;
		}
		p = pkt4(proto, a, sp, b, dp, (uint32_t)(40 + ((r >> 40) & 1023)));
		if (proto == 6) {
			p.flags |= FC_PKTF_TCP;
			p.tcp_flags = fl[(r >> 33) & 7];
			p.payload_len = (r >> 36) & 1 ? 100 : 0;
		}
		if (key % 97 == 0) {	/* some tagged, tunnelled traffic */
			p.key.flags |= FC_KEYF_VLAN;
			p.key.vlan = 7;
			p.key.tunnel_type = FC_TUN_GRE;
			p.key.tunnel_id = 5;
		}
		ts += (r >> 38) % 2000000;	/* ~1 ms average gap */
		feed(ft, p, ts);
		fed++;
		fed_bytes += p.ip_bytes;
		if (k % 1000 == 0)
			fc_flowtab__expire(ft, ts);
	}
	st = fc_flowtab__stats(ft);
	CHECK(st->active <= 1000);
	CHECK(st->peak_active == 1000);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(st->active, 0);
	CHECK_EQ_U(s.pkts, fed);
	CHECK_EQ_U(s.bytes, fed_bytes);
	CHECK_EQ_U(st->pkts_emitted, fed);
	CHECK_EQ_U(st->bytes_emitted, fed_bytes);
	for (i = 0; i < s.n; i++) {
		CHECK(s.r[i].pkts + s.r[i].rpkts > 0);
		CHECK(s.r[i].start_ns <= s.r[i].end_ns);
		if (s.r[i].end_reason != FC_END_ACTIVE)
			non_active++;
	}
	CHECK_EQ_U(non_active, st->flows_created);
	for (i = 0; i < FC_END__COUNT; i++)
		if (getenv("T_VERBOSE"))
			fprintf(stderr, "  %s %" PRIu64 "\n", fc_end_reason_name((enum fc_end_reason)i), st->records[i]);
	CHECK(st->records[FC_END_EVICTED] > 0);
	CHECK(st->records[FC_END_IDLE] > 0);
	CHECK(st->records[FC_END_ACTIVE] > 0);
	CHECK(st->records[FC_END_RST] > 0);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

static void test_new_failures(void)
{
	struct fc_flowtab_opts o;
	struct sink s = { 0 };
	struct fc_flowtab *ft;

	defaults(&o);
	errno = 0;
	CHECK(fc_flowtab__new(&o) == NULL);	/* no emit callback */
	CHECK_EQ_U(errno, EINVAL);
	CHECK(fc_flowtab__new(NULL) == NULL);

	o.emit = on_emit;
	o.emit_ctx = &s;
	o.max_flows = 1u << 31;		/* ~400 GB of pool */
	errno = 0;
	CHECK(fc_flowtab__new(&o) == NULL);
	CHECK_EQ_U(errno, ENOMEM);
	o.max_flows = UINT32_MAX;
	errno = 0;
	CHECK(fc_flowtab__new(&o) == NULL);
	CHECK_EQ_U(errno, ENOMEM);

	fc_flowtab__free(NULL);

	/* max_flows 0 means the default; random seed path */
	o.max_flows = 0;
	o.fixed_seed = false;
	ft = fc_flowtab__new(&o);
	CHECK(ft != NULL);
	if (ft)
		CHECK(fc_flowtab__bytes_per_flow(ft) <= 200);
	fc_flowtab__free(ft);
}

static void test_bytes_per_flow(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;

	defaults(&o);
	o.max_flows = 50000;
	ft = mk(&s, &o);
	CHECK(fc_flowtab__bytes_per_flow(ft) <= 200);
	fc_flowtab__free(ft);
}

static void test_nonflow_rejected(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	struct fc_pkt p = udp(CLI, 1, SRV, 2, 10);

	defaults(&o);
	ft = mk(&s, &o);
	p.kind = FC_PKT_NONFLOW;
	CHECK(fc_flowtab__update(ft, &p, T0) == -EINVAL);
	p.kind = FC_PKT_FRAG_LATER;
	CHECK(fc_flowtab__update(ft, &p, T0) == -EINVAL);
	CHECK_EQ_U(fc_flowtab__stats(ft)->flows_created, 0);
	fc_flowtab__free(ft);
}

static void test_ipv6_and_stray_v4_bytes(void)
{
	struct sink s = { 0 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	struct fc_pkt a = udp(CLI, 1, SRV, 2, 10), b = udp(SRV, 2, CLI, 1, 10), c;

	defaults(&o);
	ft = mk(&s, &o);
	b.key.src.b[9] = 0xee;	/* garbage past the 4 IPv4 bytes must not split the flow */
	feed(ft, a, T0);
	feed(ft, b, T0 + 1);
	c = a;
	c.key.family = 6;
	c.key.src.b[0] = 0x20, c.key.src.b[15] = 1;
	c.key.dst.b[0] = 0x20, c.key.dst.b[15] = 2;
	feed(ft, c, T0 + 2);
	CHECK_EQ_U(fc_flowtab__stats(ft)->active, 2);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(s.r[0].rpkts, 1);
	CHECK_EQ_U(s.r[1].family, 6);
	CHECK_EQ_U(s.r[1].src.b[15], 1);
	fc_flowtab__free(ft);
	sink_reset(&s);
}

/* SipHash-2-4 reference vectors (veorq/SipHash vectors.h): key 00..0f, message 00..len-1. */
/*
 * The AES-round hash has no reference vectors (it is this project's
 * construction): check what the table relies on. Deterministic per key;
 * every one of the 192 single-bit changes of an IPv4 key and of the 384 of
 * an IPv6 key changes the hash, flipping about half of its low 32 bits (the
 * bucket index) on average; another seed gives another hash; the padding
 * word and the length are part of it.
 */
static void test_aeshash_properties(void)
{
	struct fc_siphash_key sk, sk2;
	struct fc_aeshash_key ak, ak2;
	uint8_t kb[16];
	uint64_t w[6], h0, h, flips = 0, tries = 0;
	size_t n, bit;
	int i;

	if (!fc_aeshash_available()) {
		fprintf(stderr, "  (no AES-NI here: only the SipHash path is used)\n");
		return;
	}
	for (i = 0; i < 16; i++)
		kb[i] = (uint8_t)(i * 7 + 1);
	fc_siphash_key__init(&sk, kb);
	fc_aeshash_key__init(&ak, &sk);
	kb[0] ^= 1;
	fc_siphash_key__init(&sk2, kb);
	fc_aeshash_key__init(&ak2, &sk2);
	for (n = 3; n <= 6; n += 3) {
		for (i = 0; i < 6; i++)
			w[i] = 0x0a000001c0a80101ULL * (uint64_t)(i + 1);
		h0 = fc_aeshash_words(&ak, w, n);
		CHECK_EQ_U(fc_aeshash_words(&ak, w, n), h0);
		CHECK(fc_aeshash_words(&ak2, w, n) != h0);
		for (bit = 0; bit < 64 * n; bit++) {
			w[bit / 64] ^= 1ULL << (bit % 64);
			h = fc_aeshash_words(&ak, w, n);
			w[bit / 64] ^= 1ULL << (bit % 64);
			CHECK(h != h0);
			flips += (uint64_t)__builtin_popcount((uint32_t)(h ^ h0));
			tries++;
		}
	}
	CHECK(flips > tries * 14 && flips < tries * 18);	/* ~16 of 32 */
	w[3] = 0;
	CHECK(fc_aeshash_words(&ak, w, 3) != fc_aeshash_words(&ak, w, 4));
}

static void test_siphash_vectors(void)
{
	uint8_t kb[16], msg[64];
	struct fc_siphash_key k;
	uint64_t w[6];
	int i;

	for (i = 0; i < 16; i++)
		kb[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	fc_siphash_key__init(&k, kb);
	CHECK_EQ_U(fc_siphash(&k, msg, 0, 2, 4), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ_U(fc_siphash(&k, msg, 15, 2, 4), 0xa129ca6149be45e5ULL);
	CHECK_EQ_U(fc_siphash(&k, msg, 1, 2, 4), 0x74f839c593dc67fdULL);
	/* the inline word version is the byte version on whole words */
	memcpy(w, msg, sizeof(w));
	CHECK_EQ_U(fc_siphash13_words(&k, w, 3), fc_siphash(&k, msg, 24, 1, 3));
	CHECK_EQ_U(fc_siphash13_words(&k, w, 6), fc_siphash(&k, msg, 48, 1, 3));
}

int main(void)
{
	RUN(test_both_directions_meet);
	RUN(test_initiator_is_first_sender);
	RUN(test_tcp_session_fin_after_grace);
	RUN(test_synack_first_makes_syn_sender_src);
	RUN(test_vlan_keying);
	RUN(test_tunnel_keying);
	RUN(test_icmp_echo);
	RUN(test_idle_per_class);
	RUN(test_idle_on_arrival_without_expire);
	RUN(test_active_timeout_interim);
	RUN(test_tcp_close_immediate_and_rst);
	RUN(test_tcp_port_reuse);
	RUN(test_eviction_lru_exact);
	RUN(test_lru_matches_model);
	RUN(test_flush_eof_and_identity);
	RUN(test_flush_keeps_close_reason);
	RUN(test_stress_identity);
	RUN(test_new_failures);
	RUN(test_bytes_per_flow);
	RUN(test_nonflow_rejected);
	RUN(test_ipv6_and_stray_v4_bytes);
	RUN(test_siphash_vectors);
	RUN(test_aeshash_properties);
	return T_DONE();
}
