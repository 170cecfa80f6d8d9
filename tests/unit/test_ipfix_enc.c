// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the IPFIX encoder (ipfix_enc.c) and the ipfix sinks: exact
 * header and template bytes (enterprise bit, PEN 29305), 64-bit counters,
 * timestamps, end reasons, no padding, MTU splitting, sequence numbers,
 * template refresh, build-without-commit, and a round trip through an
 * independent parser (ipfix_parse.h); then the sinks over loopback UDP and
 * TCP, including a collector that is down or goes away. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "ipfix_enc.h"
#include "ipfix_parse.h"
#include "t.h"

#define PEN FC_IPFIX_PEN_REVERSE

static void rec4(struct fc_flow_rec *r, uint64_t id)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = id;
	r->start_ns = 1700000000123456789ULL;
	r->end_ns = 1700000005987654321ULL;
	r->family = 4;
	r->proto = 6;
	inet_pton(AF_INET, "10.0.0.1", r->src.b);
	inet_pton(AF_INET, "192.0.2.7", r->dst.b);
	r->sport = 40000;
	r->dport = 443;
	r->pkts = 5000000000ULL;	/* > 2^32: must survive as 64 bits */
	r->bytes = 0x123456789aULL;
	r->rpkts = 7;
	r->rbytes = 900;
	r->tcp_flags = 0x1b;
	r->rtcp_flags = 0x112;	/* NS bit: needs the 2-octet encoding */
	r->end_reason = FC_END_FIN;
}

static struct fc_ipfix_enc_opts opts(uint32_t mtu)
{
	struct fc_ipfix_enc_opts o = { .domain = 7, .max_msg = mtu };

	return o;
}

/* Parse every message of buf[0..len) (a TCP stream or one datagram). */
static int parse_stream(struct p_state *ps, const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint16_t ml;

		if (len - off < 4)
			return p_fail(ps, "stream cut");
		ml = p_be16(b + off + 2);
		if (ml < 16 || ml > len - off)
			return p_fail(ps, "message length");
		if (p_message(ps, b + off, ml))
			return -1;
		off += ml;
	}
	return 0;
}

static void test_first_message_bytes(void)
{
	static const uint8_t tmpl0[] = {
		/* template set header: id 2, length 4 + 4 + 16 * 4 + 3 * 4 */
		0x00, 0x02, 0x00, 0x54,
		0x01, 0x01, 0x00, 0x10,	/* template 257, 16 fields */
		0x00, 0x08, 0x00, 0x04,	/* sourceIPv4Address */
		0x00, 0x0c, 0x00, 0x04,	/* destinationIPv4Address */
		0x00, 0x07, 0x00, 0x02,	/* sourceTransportPort */
		0x00, 0x0b, 0x00, 0x02,	/* destinationTransportPort */
		0x00, 0x04, 0x00, 0x01,	/* protocolIdentifier */
		0x00, 0x06, 0x00, 0x02,	/* tcpControlBits */
		0x00, 0x98, 0x00, 0x08,	/* flowStartMilliseconds */
		0x00, 0x99, 0x00, 0x08,	/* flowEndMilliseconds */
		0x00, 0x01, 0x00, 0x08,	/* octetDeltaCount */
		0x00, 0x02, 0x00, 0x08,	/* packetDeltaCount */
		0x80, 0x01, 0x00, 0x08, 0x00, 0x00, 0x72, 0x79,	/* reverse octetDeltaCount */
		0x80, 0x02, 0x00, 0x08, 0x00, 0x00, 0x72, 0x79,	/* reverse packetDeltaCount */
		0x80, 0x06, 0x00, 0x02, 0x00, 0x00, 0x72, 0x79,	/* reverse tcpControlBits */
		0x00, 0x88, 0x00, 0x01,	/* flowEndReason */
		0x00, 0xef, 0x00, 0x01,	/* biflowDirection */
		0x00, 0x94, 0x00, 0x08,	/* flowId */
	};
	static const uint8_t opt[] = {
		0x00, 0x03, 0x00, 0x1a,	/* options template set, 26 octets */
		0x01, 0x00, 0x00, 0x04, 0x00, 0x01,	/* template 256, 4 fields, 1 scope */
		0x00, 0x95, 0x00, 0x04,	/* observationDomainId (scope) */
		0x00, 0x29, 0x00, 0x08,	/* exportedMessageTotalCount */
		0x00, 0x2a, 0x00, 0x08,	/* exportedFlowRecordTotalCount */
		0x00, 0x28, 0x00, 0x08,	/* exportedOctetTotalCount */
		0x01, 0x00, 0x00, 0x20,	/* data set 256, 32 octets */
		0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t data[] = {
		0x01, 0x01, 0x00, 0x4f,	/* data set 257: 4 + 75 octets, no padding */
		10, 0, 0, 1, 192, 0, 2, 7, 0x9c, 0x40, 0x01, 0xbb, 6, 0x00, 0x1b,
		0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,	/* 1700000000123 ms */
		0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x7f, 0x63,	/* 1700000005987 ms */
		0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a,
		0x00, 0x00, 0x00, 0x01, 0x2a, 0x05, 0xf2, 0x00,	/* 5000000000 */
		0, 0, 0, 0, 0, 0, 0x03, 0x84, 0, 0, 0, 0, 0, 0, 0, 7, 0x01, 0x12,
		0x03, 0x01, 0, 0, 0, 0, 0, 0, 0, 42,
	};
	struct fc_ipfix_enc_opts o = opts(1400);
	struct fc_ipfix_enc e;
	struct fc_flow_rec r;
	uint8_t buf[1400];
	size_t used = 0;
	int len;

	rec4(&r, 42);
	CHECK(!fc_ipfix_enc__init(&e, &o));
	len = fc_ipfix_enc__build(&e, &r, 1, 0x01020304, buf, sizeof(buf), &used);
	CHECK_EQ_U(used, 1);
	CHECK_EQ_U(len, 16 + sizeof(opt) + sizeof(tmpl0) + sizeof(data));
	CHECK_EQ_U(p_be16(buf), 10);
	CHECK_EQ_U(p_be16(buf + 2), len);
	CHECK_EQ_U(p_be32(buf + 4), 0x01020304);
	CHECK_EQ_U(p_be32(buf + 8), 0);
	CHECK_EQ_U(p_be32(buf + 12), 7);
	CHECK(!memcmp(buf + 16, opt, sizeof(opt)));
	CHECK(!memcmp(buf + 16 + sizeof(opt), tmpl0, sizeof(tmpl0)));
	CHECK(!memcmp(buf + 16 + sizeof(opt) + sizeof(tmpl0), data, sizeof(data)));

	/* Second message: no templates, no stats; seq counts the 2 data records. */
	fc_ipfix_enc__commit(&e);
	r.flow_id = 43;
	len = fc_ipfix_enc__build(&e, &r, 1, 5, buf, sizeof(buf), &used);
	CHECK_EQ_U(len, 16 + sizeof(data));
	CHECK_EQ_U(p_be32(buf + 8), 2);
	CHECK(!memcmp(buf + 16, data, sizeof(data) - 1));
	CHECK_EQ_U(buf[len - 1], 43);
}

static void test_end_reasons(void)
{
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_IDLE), 0x01);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_ACTIVE), 0x02);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_FIN), 0x03);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_RST), 0x03);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_EOF), 0x04);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_SHUTDOWN), 0x04);
	CHECK_EQ_U(fc_ipfix_end_reason(FC_END_EVICTED), 0x05);
}

static void test_init_rejects(void)
{
	struct fc_ipfix_enc_opts o = opts(FC_IPFIX_MSG_MIN - 1);
	struct fc_ipfix_enc e;
	struct fc_flow_rec r;
	uint8_t buf[600];
	size_t used;

	CHECK((fc_ipfix_enc__init(&e, &o)) == -EINVAL);
	o.max_msg = FC_IPFIX_MSG_MAX + 1;
	CHECK((fc_ipfix_enc__init(&e, &o)) == -EINVAL);
	o.max_msg = 600;
	CHECK(!fc_ipfix_enc__init(&e, &o));
	rec4(&r, 1);
	CHECK((fc_ipfix_enc__build(&e, &r, 1, 0, buf, 599, &used)) == -EINVAL);
	/* nothing to send once the options record went out */
	CHECK(fc_ipfix_enc__build(&e, &r, 0, 0, buf, sizeof(buf), &used) > 0);
	fc_ipfix_enc__commit(&e);
	CHECK_EQ_U(fc_ipfix_enc__build(&e, &r, 0, 0, buf, sizeof(buf), &used), 0);
}

/* Many mixed records through a small MTU: every message fits, every flow
 * arrives once and in order, sequence numbers and templates line up. */
static void test_mtu_split_roundtrip(void)
{
	enum { N = 2000 };
	struct fc_ipfix_enc_opts o = opts(512);
	struct fc_flow_rec *recs = calloc(N, sizeof(*recs));
	struct p_state *ps = calloc(1, sizeof(*ps));
	struct fc_ipfix_enc e;
	uint8_t buf[512];
	size_t done = 0, used, i, flows = 0;
	unsigned msgs = 0;
	int len;

	for (i = 0; i < N; i++) {
		rec4(&recs[i], i + 1);
		recs[i].pkts = i;
		if (i % 3 == 1) {
			recs[i].family = 6;
			inet_pton(AF_INET6, "2001:db8::1", recs[i].src.b);
			inet_pton(AF_INET6, "2001:db8::2", recs[i].dst.b);
		}
		if (i % 5 == 2) {
			recs[i].has_vlan = 1 + (i % 2);
			recs[i].vlan = 100;
			recs[i].vlan_inner = 200;
		}
		if (i % 7 == 3) {
			recs[i].proto = recs[i].family == 6 ? 58 : 1;
			recs[i].sport = recs[i].family == 6 ? 128 : 8;
			recs[i].dport = 0;
		}
		recs[i].end_reason = (uint8_t)(i % FC_END__COUNT);
	}
	CHECK(!fc_ipfix_enc__init(&e, &o));
	while (done < N) {
		len = fc_ipfix_enc__build(&e, recs + done, N - done, 99, buf, sizeof(buf), &used);
		CHECK(len > 0 && len <= 512);
		CHECK(used > 0 || msgs == 0);
		if (len <= 0)
			break;
		if (p_message(ps, buf, (size_t)len)) {
			fprintf(stderr, "  parse: %s\n", ps->why);
			CHECK(0);
			break;
		}
		fc_ipfix_enc__commit(&e);
		done += used;
		msgs++;
	}
	CHECK(msgs > N / 6);
	for (i = 0; i < ps->nrecs; i++) {
		const struct p_rec *r = &ps->recs[i];
		const struct fc_flow_rec *want;
		const struct p_val *v;

		if (r->tid == FC_IPFIX_OPTIONS_TID)
			continue;
		want = &recs[flows++];
		v = p_get(r, 0, FC_IE_FLOW_ID);
		CHECK(v && v->v == want->flow_id);
		v = p_get(r, 0, FC_IE_PACKET_DELTA);
		CHECK(v && v->v == want->pkts);
		v = p_get(r, PEN, FC_IE_OCTET_DELTA);
		CHECK(v && v->v == want->rbytes);
		v = p_get(r, 0, FC_IE_FLOW_END_REASON);
		CHECK(v && v->v == fc_ipfix_end_reason(want->end_reason));
		v = p_get(r, 0, want->family == 6 ? FC_IE_SRC_IPV6 : FC_IE_SRC_IPV4);
		CHECK(v && !memcmp(v->b, want->src.b, want->family == 6 ? 16 : 4));
		if (want->has_vlan) {
			v = p_get(r, 0, FC_IE_VLAN);
			CHECK(v && v->v == 100);
		}
		CHECK(!p_get(r, 0, FC_IE_CUSTOMER_VLAN) == (want->has_vlan != 2));
		if (want->proto == 1 || want->proto == 58) {
			v = p_get(r, 0, want->family == 6 ? FC_IE_ICMP_TC_V6 : FC_IE_ICMP_TC_V4);
			CHECK(v && v->v == (uint64_t)want->sport << 8);
			CHECK(!p_get(r, 0, FC_IE_SRC_PORT));
		} else {
			v = p_get(r, 0, FC_IE_DST_PORT);
			CHECK(v && v->v == 443);
		}
	}
	CHECK_EQ_U(flows, N);
	CHECK_EQ_U(ps->next_seq, e.cur.seq);
	CHECK_EQ_U(e.cur.flow_recs, N);
	CHECK_EQ_U(e.cur.msgs, msgs);
	p_free(ps);
	free(ps);
	free(recs);
}

static void test_uniflow(void)
{
	struct fc_ipfix_enc_opts o = opts(1400);
	struct p_state *ps = calloc(1, sizeof(*ps));
	struct fc_ipfix_enc e;
	struct fc_flow_rec r[3];
	uint8_t buf[1400];
	const struct p_val *v;
	size_t used;
	int len;

	o.uniflow = true;
	rec4(&r[0], 1);
	rec4(&r[1], 2);
	r[1].rpkts = 0;	/* one direction only: one record */
	r[1].rbytes = 0;
	rec4(&r[2], 3);
	r[2].proto = 1;
	r[2].sport = 8;	/* echo request -> reverse record says echo reply */
	r[2].dport = 0;
	CHECK(!fc_ipfix_enc__init(&e, &o));
	len = fc_ipfix_enc__build(&e, r, 3, 0, buf, sizeof(buf), &used);
	CHECK_EQ_U(used, 3);
	CHECK(len > 0 && !p_message(ps, buf, (size_t)len));
	CHECK_EQ_U(ps->nrecs, 1 + 5);	/* options record + 2 + 1 + 2 */
	if (ps->nrecs == 6) {
		CHECK(!p_get(&ps->recs[1], PEN, FC_IE_OCTET_DELTA));
		CHECK(!p_get(&ps->recs[1], 0, FC_IE_BIFLOW_DIR));
		v = p_get(&ps->recs[2], 0, FC_IE_SRC_IPV4);
		CHECK(v && !memcmp(v->b, r[0].dst.b, 4));
		v = p_get(&ps->recs[2], 0, FC_IE_SRC_PORT);
		CHECK(v && v->v == 443);
		v = p_get(&ps->recs[2], 0, FC_IE_PACKET_DELTA);
		CHECK(v && v->v == 7);
		v = p_get(&ps->recs[2], 0, FC_IE_TCP_FLAGS);
		CHECK(v && v->v == 0x112);
		v = p_get(&ps->recs[2], 0, FC_IE_FLOW_ID);
		CHECK(v && v->v == 1);
		v = p_get(&ps->recs[3], 0, FC_IE_FLOW_ID);
		CHECK(v && v->v == 2);
		v = p_get(&ps->recs[5], 0, FC_IE_ICMP_TC_V4);
		CHECK(v && v->v == 0x0000);
		v = p_get(&ps->recs[4], 0, FC_IE_ICMP_TC_V4);
		CHECK(v && v->v == 0x0800);
	}
	fc_ipfix_enc__commit(&e);
	CHECK_EQ_U(e.cur.flow_recs, 5);
	CHECK_EQ_U(e.cur.seq, 6);
	p_free(ps);
	free(ps);
}

static void test_v6_vlan_vxlan_ns(void)
{
	struct fc_ipfix_enc_opts o = opts(1400);
	struct p_state *ps = calloc(1, sizeof(*ps));
	struct fc_ipfix_enc e;
	struct fc_flow_rec r;
	uint8_t buf[1400];
	const struct p_val *v;
	size_t used;
	int len;

	o.time_ns = true;
	rec4(&r, 9);
	r.family = 6;
	r.proto = 58;
	r.sport = 128;
	r.dport = 0;
	inet_pton(AF_INET6, "2001:db8::1", r.src.b);
	inet_pton(AF_INET6, "2001:db8::ff00:42:8329", r.dst.b);
	r.has_vlan = 2;
	r.vlan = 0xf64;	/* 12 bits kept */
	r.vlan_inner = 200;
	r.has_tunnel = 1;
	r.tunnel.type = FC_TUN_VXLAN;
	r.tunnel_id = 0xabcdef;
	r.start_ns = 1700000000500000000ULL;	/* .5 s: NTP fraction 0x80000000 */
	CHECK(!fc_ipfix_enc__init(&e, &o));
	len = fc_ipfix_enc__build(&e, &r, 1, 0, buf, sizeof(buf), &used);
	CHECK(len > 0 && !p_message(ps, buf, (size_t)len));
	CHECK_EQ_U(ps->nrecs, 2);
	if (ps->nrecs == 2) {
		const struct p_rec *d = &ps->recs[1];

		CHECK_EQ_U(d->tid, FC_IPFIX_DATA_TID_BASE + (FC_IPFIX_SHAPE_V6 | FC_IPFIX_SHAPE_ICMP |
							      FC_IPFIX_SHAPE_VLAN | FC_IPFIX_SHAPE_VLAN2 |
							      FC_IPFIX_SHAPE_VXLAN));
		v = p_get(d, 0, FC_IE_DST_IPV6);
		CHECK(v && !memcmp(v->b, r.dst.b, 16));
		v = p_get(d, 0, FC_IE_ICMP_TC_V6);
		CHECK(v && v->v == 0x8000);
		v = p_get(d, 0, FC_IE_VLAN);
		CHECK(v && v->v == 0xf64);
		v = p_get(d, 0, FC_IE_CUSTOMER_VLAN);
		CHECK(v && v->v == 200);
		v = p_get(d, 0, FC_IE_L2_SEGMENT);
		CHECK(v && v->v == 0x0100000000abcdefULL);
		v = p_get(d, 0, FC_IE_START_NS);
		CHECK(v && v->v == ((1700000000ULL + 2208988800ULL) << 32 | 0x80000000ULL));
		CHECK(!p_get(d, 0, FC_IE_START_MS));
	}
	p_free(ps);
	free(ps);
}

/* Refresh re-announces every template used so far plus options and stats;
 * an unsent (uncommitted) message changes nothing. */
static void test_refresh_and_uncommitted(void)
{
	struct fc_ipfix_enc_opts o = opts(1400);
	struct p_state *ps = calloc(1, sizeof(*ps));
	struct fc_ipfix_enc e;
	struct fc_flow_rec r[2];
	uint8_t buf[1400];
	size_t used;
	int len, len1;

	rec4(&r[0], 1);
	rec4(&r[1], 2);
	r[1].family = 6;
	CHECK(!fc_ipfix_enc__init(&e, &o));
	len1 = fc_ipfix_enc__build(&e, r, 2, 0, buf, sizeof(buf), &used);
	/* not committed: the same message comes out again */
	len = fc_ipfix_enc__build(&e, r, 2, 0, buf, sizeof(buf), &used);
	CHECK_EQ_U(len, len1);
	CHECK(!p_message(ps, buf, (size_t)len));
	fc_ipfix_enc__commit(&e);
	CHECK_EQ_U(ps->tmpl_recs, 2);
	CHECK_EQ_U(ps->opt_tmpl_recs, 1);

	fc_ipfix_enc__resend_templates(&e);
	len = fc_ipfix_enc__build(&e, r, 0, 0, buf, sizeof(buf), &used);
	CHECK(len > 0 && !p_message(ps, buf, (size_t)len));
	fc_ipfix_enc__commit(&e);
	CHECK_EQ_U(ps->tmpl_recs, 4);
	CHECK_EQ_U(ps->opt_tmpl_recs, 2);
	CHECK_EQ_U(ps->nrecs, 4);	/* stats, 2 flows, stats */
	if (ps->nrecs == 4) {
		CHECK_EQ_U(p_get(&ps->recs[3], 0, FC_IE_EXP_MSGS)->v, 1);
		CHECK_EQ_U(p_get(&ps->recs[3], 0, FC_IE_EXP_FLOWS)->v, 2);
		CHECK_EQ_U(p_get(&ps->recs[3], 0, FC_IE_EXP_OCTETS)->v, len1);
		CHECK_EQ_U(p_get(&ps->recs[3], 0, FC_IE_DOMAIN_ID)->v, 7);
	}
	CHECK_EQ_U(e.cur.seq, 4);
	p_free(ps);
	free(ps);
}

/* ---- the sinks over loopback ----------------------------------------- */

static int bound_socket(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &al) || (type == SOCK_STREAM && listen(fd, 4))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static struct fc_sink *open_sink(const char *type, uint16_t port, const char *query)
{
	struct fc_sink_spec spec;
	struct fc_sink *s;
	char url[160], err[256];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", type, port, query);
	if (fc_sink_spec__parse(url, &spec, err, sizeof(err)))
		return NULL;
	s = fc_sink__open(&spec, err, sizeof(err));
	if (!s)
		fprintf(stderr, "  %s: %s\n", url, err);
	fc_sink_spec__free(&spec);
	return s;
}

static void test_sink_udp(void)
{
	enum { N = 100 };
	struct fc_flow_rec recs[N];
	struct p_state *ps = calloc(1, sizeof(*ps));
	struct fc_sink *s;
	uint8_t dgram[2048];
	uint16_t port;
	size_t i, flows = 0;
	int fd = bound_socket(SOCK_DGRAM, &port), rc = 0;
	ssize_t got;

	CHECK(fd >= 0);
	for (i = 0; i < N; i++)
		rec4(&recs[i], i + 1);
	s = open_sink("ipfix", port, "?domain=3&mtu=600");
	CHECK(s != NULL);
	if (!s || fd < 0)
		goto out;
	CHECK_EQ_U(fc_sink__write(s, recs, N), N);
	CHECK(!fc_sink__flush(s));
	while ((got = recv(fd, dgram, sizeof(dgram), MSG_DONTWAIT)) > 0) {
		CHECK(got <= 600);
		if (p_message(ps, dgram, (size_t)got)) {
			fprintf(stderr, "  parse: %s\n", ps->why);
			CHECK(0);
		}
	}
	for (i = 0; i < ps->nrecs; i++)
		flows += ps->recs[i].tid != FC_IPFIX_OPTIONS_TID;
	CHECK_EQ_U(flows, N);
	CHECK_EQ_U(ps->domain, 3);
	CHECK_EQ_U(fc_sink__health(s)->written, N);

	/* The collector goes away: the port answers ICMP unreachable. */
	close(fd);
	fd = -1;
	for (i = 0; i < 5 && rc >= 0; i++) {
		rc = fc_sink__write(s, recs, 1);
		usleep(10000);
	}
	CHECK((rc) == -ECONNREFUSED);
	CHECK(!fc_sink__health(s)->up);
	CHECK(fc_sink__health(s)->failed >= 1);
out:
	fc_sink__close(s);
	if (fd >= 0)
		close(fd);
	p_free(ps);
	free(ps);
}

static void test_sink_tcp(void)
{
	enum { N = 3000 };
	struct fc_flow_rec *recs = calloc(N, sizeof(*recs));
	struct p_state *ps = calloc(1, sizeof(*ps));
	uint8_t *stream = malloc(1 << 20);
	struct fc_sink *s;
	size_t i, flows = 0, have = 0;
	uint16_t port;
	int lfd = bound_socket(SOCK_STREAM, &port), cfd = -1, rc = 0;
	ssize_t got;

	CHECK(lfd >= 0);
	for (i = 0; i < N; i++)
		rec4(&recs[i], i + 1);
	s = open_sink("ipfix+tcp", port, "?timeout_ms=500");
	CHECK(s != NULL);
	if (!s || lfd < 0)
		goto out;
	CHECK(fc_sink__health(s)->up);
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	CHECK_EQ_U(fc_sink__write(s, recs, N), N);
	for (;;) {
		struct pollfd pfd = { .fd = cfd, .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			break;
		got = recv(cfd, stream + have, (1 << 20) - have, 0);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	if (parse_stream(ps, stream, have)) {
		fprintf(stderr, "  parse: %s\n", ps->why);
		CHECK(0);
	}
	for (i = 0; i < ps->nrecs; i++)
		flows += ps->recs[i].tid != FC_IPFIX_OPTIONS_TID;
	CHECK_EQ_U(flows, N);
	CHECK_EQ_U(ps->tmpl_recs, 1);

	/* The collector dies: the next write fails fast, records are kept. */
	close(cfd);
	cfd = -1;
	close(lfd);
	lfd = -1;
	for (i = 0; i < 5 && rc >= 0; i++)
		rc = fc_sink__write(s, recs, N);
	CHECK(rc < 0);
	CHECK(!fc_sink__health(s)->up);
out:
	fc_sink__close(s);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	p_free(ps);
	free(ps);
	free(stream);
	free(recs);
}

static void test_sink_bad_options(void)
{
	static const char *const bad[] = {
		"ipfix://127.0.0.1:4739?mtu=100",
		"ipfix://127.0.0.1:4739?mtu=70000",
		"ipfix://127.0.0.1:4739?uniflow=2",
		"ipfix://127.0.0.1:4739?domain=-1",
		"ipfix://127.0.0.1:4739?colour=blue",
		"ipfix://127.0.0.1:4739?timestamps=us",
		"ipfix://::1:4739",
		"ipfix://[::1",
		"ipfix://:4739",
		"ipfix+tcp://127.0.0.1:",
	};
	struct fc_sink_spec spec;
	struct fc_sink *s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!fc_sink_spec__parse(bad[i], &spec, err, sizeof(err)));
		s = fc_sink__open(&spec, err, sizeof(err));
		if (s)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK(s == NULL);
		fc_sink__close(s);
		fc_sink_spec__free(&spec);
	}
	/* A collector that is down at start is not an error (TCP retries later). */
	CHECK(!fc_sink_spec__parse("ipfix+tcp://[::1]:1?timeout_ms=100", &spec, err, sizeof(err)));
	s = fc_sink__open(&spec, err, sizeof(err));
	CHECK(s != NULL);
	if (s) {
		struct fc_flow_rec r;

		rec4(&r, 1);
		CHECK(!fc_sink__health(s)->up);
		CHECK(fc_sink__write(s, &r, 1) < 0);
	}
	fc_sink__close(s);
	fc_sink_spec__free(&spec);
	CHECK(fc_sink_lookup("ipfix") && fc_sink_lookup("ipfix+tcp"));
}

int main(void)
{
	RUN(test_first_message_bytes);
	RUN(test_end_reasons);
	RUN(test_init_rejects);
	RUN(test_mtu_split_roundtrip);
	RUN(test_uniflow);
	RUN(test_v6_vlan_vxlan_ns);
	RUN(test_refresh_and_uncommitted);
	RUN(test_sink_udp);
	RUN(test_sink_tcp);
	RUN(test_sink_bad_options);
	return T_DONE();
}
