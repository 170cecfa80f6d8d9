// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the JSON writer and the flow record's JSON form: field
 * names, RFC 5952 IPv6 text, optional fields, escaping, and that a too-small
 * buffer is an error rather than a cut record. */
#include <arpa/inet.h>
#include <errno.h>

#include "flowcut/record.h"
#include "jsonw.h"
#include "t.h"

static void base_rec(struct fc_flow_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = 42;
	r->start_ns = 1700000000123456789ULL;
	r->end_ns = 1700000001000000000ULL;
	r->family = 4;
	r->proto = 17;
	inet_pton(AF_INET, "10.0.0.1", r->src.b);
	inet_pton(AF_INET, "10.0.0.2", r->dst.b);
	r->sport = 5353;
	r->dport = 53;
	r->pkts = 3;
	r->bytes = 300;
	r->rpkts = 1;
	r->rbytes = 120;
	r->end_reason = FC_END_IDLE;
	strcpy(r->community_id, "1:abc=");
}

static void test_udp_record(void)
{
	struct fc_flow_rec r;
	char buf[1024];
	int n;

	base_rec(&r);
	n = fc_record_to_json(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_STR(buf, "{\"flow_id\":42,\"start\":1700000000.123456789,\"end\":1700000001.000000000,"
		       "\"proto\":17,\"src\":\"10.0.0.1\",\"sport\":5353,\"dst\":\"10.0.0.2\","
		       "\"dport\":53,\"pkts\":3,\"bytes\":300,\"rpkts\":1,\"rbytes\":120,"
		       "\"end_reason\":\"idle\",\"community_id\":\"1:abc=\"}");
}

static void test_tcp_vlan_tunnel_v6(void)
{
	struct fc_flow_rec r;
	char buf[1024];

	base_rec(&r);
	r.family = 6;
	r.proto = 6;
	inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", r.src.b);
	inet_pton(AF_INET6, "2001:db8::ff00:42:8329", r.dst.b);
	r.has_vlan = 2;
	r.vlan = 100;
	r.vlan_inner = 200;
	r.has_tunnel = 1;
	r.tunnel_id = 42;
	r.tunnel.type = FC_TUN_VXLAN;
	r.tunnel.family = 4;
	r.tunnel.depth = 1;
	inet_pton(AF_INET, "192.0.2.1", r.tunnel.src.b);
	inet_pton(AF_INET, "192.0.2.2", r.tunnel.dst.b);
	r.tcp_flags = 0x1b;
	r.rtcp_flags = 0x12;
	r.tcp_state = FC_TCP_SF;
	strcpy(r.history, "ShADadFf");
	r.end_reason = FC_END_FIN;
	CHECK(fc_record_to_json(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"src\":\"2001:db8::1:0:0:1\"") != NULL);	/* RFC 5952 4.2.3 */
	CHECK(strstr(buf, "\"dst\":\"2001:db8::ff00:42:8329\"") != NULL);
	CHECK(strstr(buf, "\"vlan\":100,\"vlan_inner\":200") != NULL);
	CHECK(strstr(buf, "\"tunnel\":{\"type\":\"vxlan\",\"id\":42,\"src\":\"192.0.2.1\","
			  "\"dst\":\"192.0.2.2\",\"depth\":1}") != NULL);
	CHECK(strstr(buf, "\"tcp_flags\":27,\"rtcp_flags\":18,\"state\":\"SF\","
			  "\"history\":\"ShADadFf\",\"end_reason\":\"fin\"") != NULL);
	CHECK(strstr(buf, "bypass") == NULL);
}

static void test_bypass_and_small_buffer(void)
{
	struct fc_flow_rec r;
	char buf[1024];
	int i;

	base_rec(&r);
	r.bypass.start_ns = 1700000000500000000ULL;
	r.bypass.pkts = 10;
	r.bypass.rbytes = 7;
	CHECK(fc_record_to_json(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"bypass\":{\"pkts\":10,\"bytes\":0,\"rpkts\":0,\"rbytes\":7,"
			  "\"start\":1700000000.500000000}") != NULL);
	for (i = 0; i < 64; i++)
		CHECK(fc_record_to_json(&r, buf, (size_t)i) == -ENOSPC);
}

static void test_jsonw_escape(void)
{
	struct fc_jsonw w;
	char buf[128];

	fc_jsonw__init(&w, buf, sizeof(buf));
	fc_jsonw__obj_open(&w, NULL);
	fc_jsonw__str(&w, "k", "a\\b\n\x01\"");
	fc_jsonw__u64(&w, "n", UINT64_MAX);
	fc_jsonw__arr_open(&w, "a");
	fc_jsonw__u64(&w, NULL, 0);
	fc_jsonw__bool(&w, NULL, true);
	fc_jsonw__arr_close(&w);
	fc_jsonw__obj_close(&w);
	CHECK(!w.overflow);
	CHECK_STR(buf, "{\"k\":\"a\\\\b\\n\\u0001\\\"\",\"n\":18446744073709551615,\"a\":[0,true]}");
}

/*
 * fc_addr_to_str writes IPv6 as glibc's inet_ntop does: every pattern of zero
 * and non-zero groups (256), each with non-zero groups 1, 0xffff, 0x0a0b and
 * pseudo-random values, and the IPv4-compatible / -mapped shapes.
 */
static void check_v6_like_inet_ntop(const uint8_t b[16])
{
	char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN];
	struct fc_addr a;

	memcpy(a.b, b, 16);
	CHECK(inet_ntop(AF_INET6, b, want, sizeof(want)) != NULL);
	fc_addr_to_str(&a, 6, got, sizeof(got));
	CHECK_STR(got, want);
}

static void test_ipv6_text_matches_inet_ntop(void)
{
	static const unsigned fixed[] = { 1, 0xffff, 0x0a0b };
	uint32_t x = 0x12345678u;
	uint8_t b[16];
	unsigned mask, v, i;

	for (mask = 0; mask < 256; mask++) {
		for (v = 0; v < 4; v++) {
			for (i = 0; i < 8; i++) {
				unsigned g = fixed[v < 3 ? v : 0];

				if (v == 3) {
					x ^= x << 13, x ^= x >> 17, x ^= x << 5;
					g = x >> 16 ? x >> 16 : 1;
				}
				g = mask >> i & 1 ? g : 0;
				b[2 * i] = (uint8_t)(g >> 8);
				b[2 * i + 1] = (uint8_t)g;
			}
			check_v6_like_inet_ntop(b);
		}
	}
	memset(b, 0, sizeof(b));
	b[10] = b[11] = 0xff;	/* ::ffff:a.b.c.d and ::ffff:0:0 */
	check_v6_like_inet_ntop(b);
	b[12] = 192, b[13] = 0, b[14] = 2, b[15] = 1;
	check_v6_like_inet_ntop(b);
	b[10] = b[11] = 0;	/* ::a.b.c.d, ::0.0.0.1 (::1 stays hex) */
	check_v6_like_inet_ntop(b);
	b[12] = b[13] = b[14] = 0, b[15] = 1;
	check_v6_like_inet_ntop(b);
	b[14] = 1;
	check_v6_like_inet_ntop(b);
}

static void test_addr_text_small_buffer(void)
{
	struct fc_addr a;
	char s[8];

	memset(&a, 0xab, sizeof(a));
	memset(s, 'x', sizeof(s));
	fc_addr_to_str(&a, 6, s, sizeof(s));
	CHECK_STR(s, "");
	fc_addr_to_str(&a, 4, s, 0);	/* no room at all: untouched */
	CHECK(s[0] == '\0');
}

static void test_addr_from_str(void)
{
	struct fc_addr a;
	char s[INET6_ADDRSTRLEN];

	CHECK_EQ_U(fc_addr_from_str("192.0.2.7", &a), 4);
	fc_addr_to_str(&a, 4, s, sizeof(s));
	CHECK_STR(s, "192.0.2.7");
	CHECK(a.b[4] == 0 && a.b[15] == 0);	/* the rest zero-filled */
	CHECK_EQ_U(fc_addr_from_str("2001:DB8::01", &a), 6);
	fc_addr_to_str(&a, 6, s, sizeof(s));
	CHECK_STR(s, "2001:db8::1");
	memset(&a, 0xab, sizeof(a));
	CHECK(fc_addr_from_str("10.0.0.256", &a) == -EINVAL);
	CHECK(a.b[0] == 0 && a.b[15] == 0);
	CHECK(fc_addr_from_str("", &a) == -EINVAL);
	CHECK(fc_addr_from_str(NULL, &a) == -EINVAL);
}

int main(void)
{
	RUN(test_udp_record);
	RUN(test_tcp_vlan_tunnel_v6);
	RUN(test_bypass_and_small_buffer);
	RUN(test_jsonw_escape);
	RUN(test_ipv6_text_matches_inet_ntop);
	RUN(test_addr_text_small_buffer);
	RUN(test_addr_from_str);
	return T_DONE();
}
