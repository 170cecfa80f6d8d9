// SPDX-License-Identifier: BSD-2-Clause
/*
 * community_id.c - Community ID v1 flow hashes
 * (https://github.com/corelight/community-id-spec), seed 0:
 *
 *   "1:" base64(sha1(seed:be16 | saddr | daddr | proto:8 | 0:8 [| sport:be16 | dport:be16]))
 *
 * The endpoints are ordered so both directions give the same value: the
 * smaller (address, port) goes first, except for one-way ICMP messages.
 * ICMP and ICMPv6 map (type, code) to ports: a type with a request/reply
 * counterpart uses (type, counterpart type), any other uses (type, code)
 * and is one-way. Only TCP, UDP, SCTP, ICMP and ICMPv6 hash ports.
 */
#include <string.h>

#include "flowcut/flowtab.h"
#include "sha1.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

/* Returns the counterpart type of a two-way ICMP type, or -1 if one-way. */
static int icmp_counterpart(uint8_t proto, uint16_t type)
{
	static const uint8_t v4[][2] = { { 8, 0 }, { 13, 14 }, { 15, 16 }, { 10, 9 }, { 17, 18 } };
	static const uint8_t v6[][2] = { { 128, 129 }, { 133, 134 }, { 135, 136 },
					 { 130, 131 }, { 144, 145 }, { 139, 140 } };
	const uint8_t(*t)[2] = proto == IPPROTO_ICMP_ ? v4 : v6;
	size_t n = proto == IPPROTO_ICMP_ ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i][0] == type)
			return t[i][1];
		if (t[i][1] == type)
			return t[i][0];
	}
	return -1;
}

static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

void fc_community_id(int family, uint8_t proto, const struct fc_addr *src, const struct fc_addr *dst,
		     uint16_t sport, uint16_t dport, char out[FC_COMMUNITY_ID_LEN])
{
	size_t alen = family == 6 ? 16 : 4;
	bool ports = proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_ ||
		     proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
	bool one_way = false;
	const struct fc_addr *a = src, *b = dst;
	uint8_t buf[2 + 16 + 16 + 2 + 4], digest[FC_SHA1_LEN];
	size_t n = 0;
	int cmp;

	if (proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_) {
		int peer = icmp_counterpart(proto, sport);

		if (peer >= 0) {
			dport = (uint16_t)peer;
		} else {
			/* dport already holds the code */
			one_way = true;
		}
	}
	cmp = memcmp(src->b, dst->b, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && ports && sport > dport))) {
		uint16_t t = sport;

		a = dst, b = src;
		sport = dport;
		dport = t;
	}
	buf[n++] = 0;	/* seed 0, big-endian */
	buf[n++] = 0;
	memcpy(buf + n, a->b, alen);
	n += alen;
	memcpy(buf + n, b->b, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	fc_sha1(buf, n, digest);
	out[0] = '1';
	out[1] = ':';
	base64(digest, sizeof(digest), out + 2);
}

void fc_flow_rec__fill_community_id(struct fc_flow_rec *r)
{
	if (r->community_id[0] == '\0')
		fc_community_id(r->family, r->proto, &r->src, &r->dst, r->sport, r->dport, r->community_id);
}
