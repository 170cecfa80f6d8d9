// SPDX-License-Identifier: BSD-2-Clause
/*
 * decode_ip.c - IPv4 and IPv6 headers: version, lengths, options, the IPv6
 * extension-header chain (bounded by FC_IPV6_EXT_MAX) and fragments.
 *
 * After the IP header the cursor is narrowed to the length the header
 * announces (end = min(end, l3 + total length)) so L4 never reads Ethernet
 * padding. ip_bytes is always the announced length, never the captured one:
 * a snaplen-cut packet still counts its full size. A zero length is taken as
 * a segmentation-offload (TSO/GSO/BIG TCP) capture and the captured length
 * (or the IPv6 Jumbo Payload length) is used instead.
 *
 * An IPv6 flow is keyed on its final endpoints, the ones the transport
 * checksum covers (RFC 8200 §8.1), as Zeek and Wireshark do: a routing
 * header with segments left names the final destination, a Home Address
 * destination option (RFC 6275 §6.3) the source. Fragment identity stays on
 * the header's own addresses: reassembly is keyed on them (RFC 8200 §4.5).
 */
#include "decode_int.h"

#define IPV4_MF 0x2000
#define IPV4_OFFMASK 0x1fff

#define IPV6_HOPOPTS 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_AH 51
#define IPV6_NONXT 59
#define IPV6_DSTOPTS 60

#define IPV6_OPT_PAD1 0
#define IPV6_OPT_JUMBO 0xc2
#define IPV6_OPT_HOME_ADDR 0xc9

#define IPV6_RT_SOURCE 0	/* RFC 2460 type 0 (deprecated by RFC 5095) */
#define IPV6_RT_MIP6 2		/* RFC 6275 §6.4 type 2 */
#define IPV6_RT_SRH 4		/* RFC 8754 segment routing header */

static inline void frag_fill(struct fc_pkt *pkt, const uint8_t *src, const uint8_t *dst,
			     size_t alen, uint32_t id, uint8_t proto, uint8_t family)
{
	memcpy(pkt->frag.src.b, src, alen);
	memcpy(pkt->frag.dst.b, dst, alen);
	pkt->frag.id = id;
	pkt->frag.proto = proto;
	pkt->frag.family = family;
	pkt->frag.vlan = (pkt->key.flags & FC_KEYF_VLAN) ? pkt->key.vlan : 0;
	pkt->frag.tunnel_id = pkt->key.tunnel_id;
}

/*
 * L4 of a first fragment: missing ports are the fragment's own fault
 * (FC_NF_BAD_FRAG) when the whole fragment was captured, the capture's when not.
 */
static enum fc_nonflow first_frag_l4(struct fc_dec *d, uint8_t proto, struct fc_cursor c,
				     uint32_t l4_len)
{
	bool cut = fc_left(&c) < l4_len;
	enum fc_nonflow nf = fc_dec_l4(d, proto, c, l4_len, false);

	if (nf >= FC_NF_TRUNC_TCP && nf <= FC_NF_TRUNC_ICMPV6 && !cut)
		return FC_NF_BAD_FRAG;
	return nf;
}

/*
 * RFC 791 §3.1 - Internet Header Format.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
enum fc_nonflow fc_dec_ipv4(struct fc_dec *d, struct fc_cursor c)
{
	struct fc_pkt *pkt = d->pkt;
	const uint8_t *ip = fc_pull(&c, 20);
	uint32_t hl, tot;
	uint16_t frag;

	if (unlikely(!ip))
		return FC_NF_TRUNC_IPV4;
	if (unlikely((ip[0] >> 4) != 4))
		return FC_NF_BAD_IP_VERSION;
	hl = (ip[0] & 0x0fu) * 4u;
	if (unlikely(hl < 20))
		return FC_NF_BAD_IPV4_IHL;
	tot = fc_load_be16(ip + 2);
	if (unlikely(tot < hl && tot != 0))
		return FC_NF_BAD_IPV4_LEN;
	if (unlikely(hl > 20) && !fc_pull(&c, hl - 20))
		return FC_NF_TRUNC_IPV4;
	if (unlikely(tot == 0))		/* TSO: the stack fills the length in later */
		tot = hl + (uint32_t)fc_left(&c);
	else
		fc_narrow(&c, tot - hl);

	pkt->ip_bytes = tot;
	pkt->l3_family = 4;
	frag = fc_load_be16(ip + 6);
	if (unlikely(frag & (IPV4_MF | IPV4_OFFMASK))) {
		frag_fill(pkt, ip + 12, ip + 16, 4, fc_load_be16(ip + 4), ip[9], 4);
		pkt->flags |= FC_PKTF_FRAG;
		if (frag & IPV4_OFFMASK) {
			pkt->kind = FC_PKT_FRAG_LATER;
			return FC_NF_NONE;
		}
		pkt->flags |= FC_PKTF_FRAG_FIRST;
	}

	pkt->key.family = 4;
	pkt->key.proto = ip[9];
	memcpy(pkt->key.src.b, ip + 12, 4);
	memcpy(pkt->key.dst.b, ip + 16, 4);
	if (unlikely(pkt->flags & FC_PKTF_FRAG))
		return first_frag_l4(d, ip[9], c, tot - hl);
	return fc_dec_l4(d, ip[9], c, tot - hl, true);
}

/*
 * RFC 8200 §4.2 - the TLV-encoded options of a hop-by-hop or destination
 * options header. opts is the option area (after next-header and length),
 * len its size. Returns the data of the first option of `type` whose Opt
 * Data Len is exactly `dlen`, or NULL. An option running past the area ends
 * the walk (nothing found): the header's own length is what the chain walk
 * trusts. Each step advances at least one octet, so len bounds the walk.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
 * |  Option Type  |  Opt Data Len |  Option Data
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
 */
static const uint8_t *ipv6_opt_find(const uint8_t *opts, size_t len, uint8_t type, uint8_t dlen)
{
	size_t i = 0;

	while (i < len) {
		if (opts[i] == IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (len - i < 2 || len - i - 2 < opts[i + 1])
			return NULL;
		if (opts[i] == type && opts[i + 1] == dlen)
			return opts + i + 2;
		i += 2u + opts[i + 1];
	}
	return NULL;
}

/*
 * RFC 2675 §2 - the Jumbo Payload option in a hop-by-hop header. Returns
 * the jumbo payload length, or 0 if the option is absent.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Option Type  |  Opt Data Len |     Jumbo Payload Length (32) |
 * |     0xC2      |       4       |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static uint32_t hbh_jumbo(const uint8_t *opts, size_t len)
{
	const uint8_t *v = ipv6_opt_find(opts, len, IPV6_OPT_JUMBO, 4);

	return v ? fc_load_be32(v) : 0;
}

/*
 * The final destination a routing header names, or NULL when the header's
 * destination is final (Segments Left 0) or the type is one we do not know.
 * h is the whole header, (h[1] + 1) * 8 octets, already pulled. Lengths that
 * do not fit the type are ignored, as Zeek does.
 *
 * RFC 8200 §4.4 - common part; RFC 2460 §4.4 type 0 (Hdr Ext Len = 2 * n
 * addresses; the last is the final destination); RFC 6275 §6.4 type 2
 * (one address, the home address: Hdr Ext Len 2); RFC 8754 §2 type 4 (the
 * segment list is in reverse order: Segment List[0] is the final segment).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  type 0, 2: Reserved          | type 4: Last Entry, Flags, Tag|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Address[1] / Home Address / Segment List[0]        |
 * +                          (128 bits)                           +
 * |                              ...                              |
 */
static const uint8_t *rt_final_dst(const uint8_t *h)
{
	uint32_t hlen = (h[1] + 1u) * 8u;

	if (h[3] == 0)
		return NULL;
	switch (h[2]) {
	case IPV6_RT_SOURCE:
		return (h[1] >= 2 && !(h[1] & 1)) ? h + hlen - 16 : NULL;
	case IPV6_RT_MIP6:
		return h[1] == 2 ? h + 8 : NULL;
	case IPV6_RT_SRH:
		return h[1] >= 2 ? h + 8 : NULL;
	default:
		return NULL;
	}
}

static inline bool ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPV6_HOPOPTS:
	case IPV6_ROUTING:
	case IPV6_DSTOPTS:
	case IPV6_AH:
	case IPV6_FRAGMENT:
		return true;
	default:
		return false;
	}
}

/* The upper layer of an IPv6 packet whose flow endpoints are src and dst. */
static inline enum fc_nonflow ipv6_upper(struct fc_dec *d, struct fc_cursor c, uint8_t nh,
					 uint32_t rem, const uint8_t *src, const uint8_t *dst)
{
	struct fc_pkt *pkt = d->pkt;

	pkt->key.family = 6;
	pkt->key.proto = nh;
	memcpy(pkt->key.src.b, src, 16);
	memcpy(pkt->key.dst.b, dst, 16);
	if (unlikely(pkt->flags & FC_PKTF_FRAG))
		return first_frag_l4(d, nh, c, rem);
	return fc_dec_l4(d, nh, c, rem, true);
}

/*
 * The extension-header chain of the IPv6 header at ip (see fc_dec_ipv6());
 * c is at the first extension header. Out of line: the common packet has
 * none, and the walk's state would cost it registers.
 */
static __attribute__((noinline)) enum fc_nonflow ipv6_ext(struct fc_dec *d, struct fc_cursor c,
							  const uint8_t *ip, uint32_t rem,
							  bool declared)
{
	struct fc_pkt *pkt = d->pkt;
	const uint8_t *h;
	const uint8_t *home = NULL, *fin = NULL;	/* final endpoints, if a header names them */
	uint8_t nh = ip[6];
	int n;

	for (n = 0;; n++) {
		uint32_t hlen;

		if (!ipv6_is_ext(nh))
			break;
		if (unlikely(n >= FC_IPV6_EXT_MAX))
			return FC_NF_IPV6_EXT_TOO_MANY;
		h = fc_peek(&c, 2);
		if (!h)
			return (declared && rem < 8) ? FC_NF_BAD_IPV6_LEN : FC_NF_TRUNC_IPV6_EXT;
		if (nh == IPV6_FRAGMENT)
			hlen = 8;
		else if (nh == IPV6_AH)
			hlen = (h[1] + 2u) * 4u;
		else
			hlen = (h[1] + 1u) * 8u;
		/*
		 * A header longer than the payload length is invalid even when the
		 * bytes are there (Ethernet trailer): Wireshark stops at the payload
		 * length (malformed, no transport layer) and Zeek drops the packet
		 * (invalid_IP_header_size), so no flow has it either.
		 */
		if (hlen > rem)
			return declared ? FC_NF_BAD_IPV6_LEN : FC_NF_TRUNC_IPV6_EXT;
		h = fc_pull(&c, hlen);
		if (!h)
			return FC_NF_TRUNC_IPV6_EXT;
		rem -= hlen;

		if (nh == IPV6_HOPOPTS && !declared && n == 0) {
			uint32_t jumbo = hbh_jumbo(h + 2, hlen - 2);

			if (jumbo != 0) {
				/* Shorter than the header carrying it, or too big to count. */
				if (jumbo < hlen || jumbo > UINT32_MAX - 40)
					return FC_NF_BAD_IPV6_LEN;
				pkt->ip_bytes = 40 + jumbo;
				rem = jumbo - hlen;
				declared = true;
				fc_narrow(&c, rem);
			}
		} else if (nh == IPV6_FRAGMENT) {
			uint16_t off = fc_load_be16(h + 2);

			/* An atomic fragment (offset 0, M clear; RFC 6946) is a whole packet. */
			if (off & 0xfff9) {
				frag_fill(pkt, ip + 8, ip + 24, 16, fc_load_be32(h + 4), 0, 6);
				pkt->flags |= FC_PKTF_FRAG;
				if (off & 0xfff8) {
					/* (a second fragment header can follow a first one) */
					pkt->flags &= ~(uint32_t)FC_PKTF_FRAG_FIRST;
					pkt->kind = FC_PKT_FRAG_LATER;
					return FC_NF_NONE;
				}
				pkt->flags |= FC_PKTF_FRAG_FIRST;
			}
		} else if (nh == IPV6_ROUTING) {
			if (!fin)
				fin = rt_final_dst(h);
		} else if (nh == IPV6_DSTOPTS) {
			if (!home)
				home = ipv6_opt_find(h + 2, hlen - 2, IPV6_OPT_HOME_ADDR, 16);
		}
		nh = h[0];
	}

	return ipv6_upper(d, c, nh, rem, home ? home : ip + 8, fin ? fin : ip + 24);
}

/*
 * RFC 8200 §3 - IPv6 header, then §4 extension headers: hop-by-hop (0),
 * routing (43), destination options (60) as (len + 1) * 8 octets,
 * fragment (44, 8 octets), and AH (51, RFC 4302: (len + 2) * 4 octets).
 * ESP (50) and No Next Header (59) end the walk: ports 0/0. The first
 * routing header with a final destination and the first Home Address
 * option replace the key's destination and source (see the top of the file).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Source Address (128 bits)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Destination Address (128 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Fragment header (RFC 8200 §4.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Identification                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
enum fc_nonflow fc_dec_ipv6(struct fc_dec *d, struct fc_cursor c)
{
	struct fc_pkt *pkt = d->pkt;
	const uint8_t *ip = fc_pull(&c, 40);
	uint32_t rem;		/* payload octets the header(s) announce from c.p on */
	bool declared;		/* rem comes from a length field, not from the capture */
	uint8_t nh;

	if (unlikely(!ip))
		return FC_NF_TRUNC_IPV6;
	if (unlikely((ip[0] >> 4) != 6))
		return FC_NF_BAD_IP_VERSION;
	rem = fc_load_be16(ip + 4);
	nh = ip[6];
	declared = rem != 0 || nh == IPV6_NONXT;
	if (likely(declared))
		fc_narrow(&c, rem);
	else	/* payload length 0: Jumbo Payload (RFC 2675) or a GSO capture */
		rem = (uint32_t)fc_left(&c);
	pkt->ip_bytes = 40 + rem;
	pkt->l3_family = 6;

	if (likely(!ipv6_is_ext(nh)))
		return ipv6_upper(d, c, nh, rem, ip + 8, ip + 24);
	return ipv6_ext(d, c, ip, rem, declared);
}

/* Raw IP (LINKTYPE_RAW, DLT 12/14, NULL, NFLOG, MPLS): the version nibble decides. */
enum fc_nonflow fc_dec_ip(struct fc_dec *d, struct fc_cursor c, enum fc_nonflow empty)
{
	const uint8_t *h = fc_peek(&c, 1);

	if (!h)
		return empty;
	switch (h[0] >> 4) {
	case 4:
		return fc_dec_ipv4(d, c);
	case 6:
		return fc_dec_ipv6(d, c);
	default:
		return FC_NF_BAD_IP_VERSION;
	}
}
