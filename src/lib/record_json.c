// SPDX-License-Identifier: BSD-2-Clause
/*
 * record_json.c - a flow record as one JSON object. The field names here are
 * the user-facing interface documented in man/flowcut.1 (RECORD FIELDS);
 * sinks and scripts build on them, so they change only with a version bump.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flowcut/record.h"
#include "jsonw.h"

/* Dotted quad without printf: a record has two or four of them. */
static size_t ipv4_to_str(const uint8_t *b, char *out)
{
	char *p = out;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';
	return (size_t)(p - 1 - out);
}

/* Lowercase hex of a 16-bit group without leading zeros. */
static char *put_hex16(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;

	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 15];
	return p;
}

/* The first longest run of at least two zero groups, as [*base, *base+len). */
static void longest_zero_run(const unsigned g[8], int *base, int *len)
{
	int i, cur = -1;

	*base = -1;
	*len = 0;
	for (i = 0; i <= 8; i++) {
		if (i < 8 && g[i] == 0) {
			if (cur < 0)
				cur = i;
			continue;
		}
		if (cur >= 0 && i - cur > *len && i - cur >= 2) {
			*base = cur;
			*len = i - cur;
		}
		cur = -1;
	}
}

/*
 * IPv6 text as glibc's inet_ntop writes it (RFC 5952: lowercase, no leading
 * zeros, the first longest run of two or more zero groups as "::") and, like
 * it, ::a.b.c.d and ::ffff:a.b.c.d with the last 32 bits dotted. inet_ntop
 * cost ~3,000 instructions an address through sprintf; this ~150.
 * out needs INET6_ADDRSTRLEN bytes. Returns the length.
 */
static size_t ipv6_to_str(const uint8_t *b, char *out)
{
	unsigned g[8];
	int i, base, len;
	char *p = out;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	longest_zero_run(g, &base, &len);
	for (i = 0; i < 8; i++) {
		if (base >= 0 && i >= base && i < base + len) {
			if (i == base)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && g[5] == 0xffff)))
			return (size_t)(p - out) + ipv4_to_str(b + 12, p);
		p = put_hex16(p, g[i]);
	}
	if (base >= 0 && base + len == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - out);
}

static size_t addr_to_str(const struct fc_addr *a, int family, char *buf)
{
	return family == 6 ? ipv6_to_str(a->b, buf) : ipv4_to_str(a->b, buf);
}

void fc_addr_to_str(const struct fc_addr *a, int family, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (cap >= sizeof(tmp)) {	/* the usual case: room for any address */
		addr_to_str(a, family, buf);
		return;
	}
	n = addr_to_str(a, family, tmp);
	if (!cap)
		return;
	if (n >= cap)
		n = 0;	/* too small: empty, as inet_ntop's failure left it */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

int fc_addr_from_str(const char *s, struct fc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, a->b) == 1)
		return 4;
	if (s && inet_pton(AF_INET6, s, a->b) == 1)
		return 6;
	memset(a, 0, sizeof(*a));	/* a failed parse may have written part of it */
	return -EINVAL;
}

static void put_addr(struct fc_jsonw *w, const char *key, const struct fc_addr *a, int family)
{
	char s[INET6_ADDRSTRLEN];

	fc_jsonw__str_plain(w, key, s, addr_to_str(a, family, s));
}

static void put_name(struct fc_jsonw *w, const char *key, const char *s)
{
	fc_jsonw__str_plain(w, key, s, strlen(s));
}

static void put_tunnel(struct fc_jsonw *w, const struct fc_flow_rec *rec)
{
	fc_jsonw__obj_open(w, "tunnel");
	put_name(w, "type", fc_tunnel_type_name(rec->tunnel.type));
	fc_jsonw__u64(w, "id", rec->tunnel_id);
	put_addr(w, "src", &rec->tunnel.src, rec->tunnel.family);
	put_addr(w, "dst", &rec->tunnel.dst, rec->tunnel.family);
	fc_jsonw__u64(w, "depth", rec->tunnel.depth);
	fc_jsonw__obj_close(w);
}

static void put_bypass(struct fc_jsonw *w, const struct fc_bypass_share *b)
{
	fc_jsonw__obj_open(w, "bypass");
	fc_jsonw__u64(w, "pkts", b->pkts);
	fc_jsonw__u64(w, "bytes", b->bytes);
	fc_jsonw__u64(w, "rpkts", b->rpkts);
	fc_jsonw__u64(w, "rbytes", b->rbytes);
	fc_jsonw__ts(w, "start", b->start_ns);
	fc_jsonw__obj_close(w);
}

int fc_record_to_json(const struct fc_flow_rec *rec, char *buf, size_t cap)
{
	struct fc_jsonw w;
	int is_tcp = rec->proto == 6;

	fc_jsonw__init(&w, buf, cap);
	fc_jsonw__obj_open(&w, NULL);
	fc_jsonw__u64(&w, "flow_id", rec->flow_id);
	fc_jsonw__ts(&w, "start", rec->start_ns);
	fc_jsonw__ts(&w, "end", rec->end_ns);
	fc_jsonw__u64(&w, "proto", rec->proto);
	put_addr(&w, "src", &rec->src, rec->family);
	fc_jsonw__u64(&w, "sport", rec->sport);
	put_addr(&w, "dst", &rec->dst, rec->family);
	fc_jsonw__u64(&w, "dport", rec->dport);
	if (rec->has_icmp_id)
		fc_jsonw__u64(&w, "icmp_id", rec->icmp_id);
	if (rec->has_vlan)
		fc_jsonw__u64(&w, "vlan", rec->vlan);
	if (rec->has_vlan > 1)
		fc_jsonw__u64(&w, "vlan_inner", rec->vlan_inner);
	if (rec->has_tunnel)
		put_tunnel(&w, rec);
	fc_jsonw__u64(&w, "pkts", rec->pkts);
	fc_jsonw__u64(&w, "bytes", rec->bytes);
	fc_jsonw__u64(&w, "rpkts", rec->rpkts);
	fc_jsonw__u64(&w, "rbytes", rec->rbytes);
	if (is_tcp) {
		fc_jsonw__u64(&w, "tcp_flags", rec->tcp_flags);
		fc_jsonw__u64(&w, "rtcp_flags", rec->rtcp_flags);
		put_name(&w, "state", fc_tcp_state_name(rec->tcp_state));
		put_name(&w, "history", rec->history);
	}
	put_name(&w, "end_reason", fc_end_reason_name(rec->end_reason));
	put_name(&w, "community_id", rec->community_id);
	if (rec->bypass.start_ns)
		put_bypass(&w, &rec->bypass);
	fc_jsonw__obj_close(&w);
	if (w.overflow)
		return -ENOSPC;
	return (int)w.len;
}
