// SPDX-License-Identifier: BSD-2-Clause
/*
 * decode_tunnel.c - following a flow into tunnels: GRE (v0 and PPTP's v1),
 * ERSPAN II/III, IP-in-IP (protocols 4 and 41) and the UDP tunnels: VXLAN,
 * Geneve, GTP-U, GRE-in-UDP, MPLS-in-UDP and Teredo.
 *
 * Fail open: the outer packet has been fully decoded as a flow (GRE, UDP
 * 4789, ...) before a tunnel decoder runs. The inner packet is decoded into
 * a scratch copy and replaces the outer one only if it decodes to a flow
 * packet or a later fragment; anything else (truncated, unsupported payload,
 * ARP inside VXLAN, keepalives) leaves the outer flow. So a tunnel never
 * turns a good outer packet into a decode error. Depth is bounded by
 * FC_TUNNEL_MAX_DEPTH (callers check d->tun_depth before calling in).
 */
#include "decode_int.h"

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_V1_A 0x0080
#define GRE_VER_MASK 0x0007
#define GRE_PROTO_PPP 0x880b
#define GRE_PROTO_ERSPAN2 0x88be
#define GRE_PROTO_ERSPAN3 0x22eb

#define VXLAN_I 0x08

#define GTP_VERSION_1 0x20	/* version 1 in the top three bits */
#define GTP_PT 0x10		/* protocol type GTP (not GTP') */
#define GTP_E 0x04
#define GTP_S 0x02
#define GTP_PN 0x01
#define GTP_GPDU 0xff
#define GTP_EXT_MAX 16		/* extension headers followed in one GTP-U header */

#define TEREDO_ORIGIN 0x0000
#define TEREDO_AUTH 0x0001
#define IPV6_NONXT 59

enum inner {
	INNER_ETHER,		/* an Ethernet frame */
	INNER_ETHERTYPE,	/* a payload of ethertype `et` */
	INNER_IP,		/* IPv4 or IPv6 by the version nibble */
	INNER_PPP,		/* a PPP frame (PPTP) */
};

/*
 * Decode the tunnel payload at c; commit the result over the outer packet if
 * it is a flow (or a later fragment). `type` and `id` name the tunnel (the
 * id is part of the key unless it differs by direction); the tunnel
 * endpoints are the outer packet's addresses.
 */
static void try_inner(struct fc_dec *d, struct fc_cursor c, enum inner what, uint16_t et,
		      uint8_t type, uint32_t id)
{
	const struct fc_pkt *outer = d->pkt;
	struct fc_pkt in;
	struct fc_dec sub = { .pkt = &in, .tun_depth = (uint8_t)(d->tun_depth + 1), .inner_l2 = true };
	enum fc_nonflow nf;

	memset(&in, 0, sizeof(in));
	/* The outer VLANs scope the inner flow; the inner frame's own tags do not. */
	in.key.vlan = outer->key.vlan;
	in.key.vlan_inner = outer->key.vlan_inner;
	in.key.flags = outer->key.flags & (FC_KEYF_VLAN | FC_KEYF_VLAN2);
	in.key.tunnel_type = type;
	/* A GTP-U TEID and a PPTP call id name the receiving end, so the two
	 * directions of one inner flow carry different ids: keep them out of
	 * the key (the record still shows the first packet's id). */
	in.key.tunnel_id = type == FC_TUN_GTPU || what == INNER_PPP ? 0 : id;
	in.tunnel.id = id;
	in.tunnel.src = outer->key.src;
	in.tunnel.dst = outer->key.dst;
	in.tunnel.family = outer->key.family;
	in.tunnel.type = type;
	in.tunnel.depth = sub.tun_depth;
	in.flags = FC_PKTF_TUNNEL;

	switch (what) {
	case INNER_ETHER:
		nf = fc_dec_ether(&sub, c);
		break;
	case INNER_ETHERTYPE:
		nf = fc_dec_ethertype(&sub, et, c);
		break;
	case INNER_IP:
		nf = fc_dec_ip(&sub, c, FC_NF_TRUNC_IPV4);
		break;
	case INNER_PPP:
	default:
		nf = fc_dec_ppp(&sub, c, FC_NF_TRUNC_L2);
		break;
	}
	if (nf == FC_NF_NONE)
		*d->pkt = in;
}

/*
 * ERSPAN type II (draft-foschiano-erspan §4.1), 8 bytes, GRE proto 0x88be
 * with the S bit; without S it is type I (no header at all).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Ver  |          VLAN         | COS | En|T|    Session ID     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reserved         |                  Index                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * ERSPAN type III (§4.2), 12 bytes, GRE proto 0x22eb, then an 8-byte
 * platform-specific subheader when O is set. FT 0 is Ethernet, 2 is IP.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static void dec_erspan(struct fc_dec *d, struct fc_cursor c, uint16_t proto, bool seq)
{
	const uint8_t *h;
	enum inner what = INNER_ETHER;

	if (proto == GRE_PROTO_ERSPAN2) {
		if (!seq) {	/* type I */
			try_inner(d, c, INNER_ETHER, 0, FC_TUN_ERSPAN, 0);
			return;
		}
		h = fc_pull(&c, 8);
		if (!h)
			return;
	} else {
		h = fc_pull(&c, 12);
		if (!h)
			return;
		if ((h[11] & 0x01) && !fc_pull(&c, 8))
			return;
		if (((h[10] >> 2) & 0x1f) == 2)
			what = INNER_IP;
	}
	try_inner(d, c, what, 0, FC_TUN_ERSPAN, fc_load_be16(h + 2) & 0x03ffu);
}

/*
 * RFC 2784 / RFC 2890 - GRE version 0 (R, the RFC 1701 routing bit, is
 * not followed):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Checksum (optional)      |       Reserved1 (Optional)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Key (optional)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Sequence Number (Optional)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 2637 §4.1 - enhanced GRE (version 1, PPTP) carrying PPP; the key
 * holds payload length and call id, and the call id names the tunnel:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C|R|K|S|s|Recur|A| Flags | Ver |    Protocol Type (0x880B)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Key (HW) Payload Length    |       Key (LW) Call ID        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Sequence Number (Optional)  |  Acknowledgment Number (Opt.)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static void dec_gre(struct fc_dec *d, struct fc_cursor c, uint8_t type)
{
	const uint8_t *h = fc_pull(&c, 4);
	uint16_t flags, proto;
	uint32_t key = 0;

	if (!h)
		return;
	flags = fc_load_be16(h);
	proto = fc_load_be16(h + 2);

	if ((flags & GRE_VER_MASK) == 1) {
		uint16_t plen;

		/* (RFC 8086 carries version 0 only) */
		if (type != FC_TUN_GRE || proto != GRE_PROTO_PPP || !(flags & GRE_K) ||
		    (flags & (GRE_C | GRE_R)))
			return;
		h = fc_pull(&c, 4);
		if (!h)
			return;
		plen = fc_load_be16(h);
		key = fc_load_be16(h + 2);
		if ((flags & GRE_S) && !fc_pull(&c, 4))
			return;
		if ((flags & GRE_V1_A) && !fc_pull(&c, 4))
			return;
		fc_narrow(&c, plen);
		try_inner(d, c, INNER_PPP, 0, type, key);
		return;
	}
	if ((flags & GRE_VER_MASK) != 0 || (flags & GRE_R))
		return;
	if ((flags & GRE_C) && !fc_pull(&c, 4))
		return;
	if (flags & GRE_K) {
		h = fc_pull(&c, 4);
		if (!h)
			return;
		key = fc_load_be32(h);
	}
	if ((flags & GRE_S) && !fc_pull(&c, 4))
		return;

	switch (proto) {
	case FC_ETH_TEB:
		try_inner(d, c, INNER_ETHER, 0, type, key);
		break;
	case GRE_PROTO_ERSPAN2:
	case GRE_PROTO_ERSPAN3:
		dec_erspan(d, c, proto, flags & GRE_S);
		break;
	case FC_ETH_IPV4:
	case FC_ETH_IPV6:
	case FC_ETH_MPLS:
	case FC_ETH_MPLS_MC:
		try_inner(d, c, INNER_ETHERTYPE, proto, type, key);
		break;
	default:	/* keepalives, CDP, NHRP, WCCP, ...: stay the GRE flow */
		break;
	}
}

void fc_dec_gre(struct fc_dec *d, struct fc_cursor c)
{
	dec_gre(d, c, FC_TUN_GRE);
}

/*
 * RFC 7348 §5 - VXLAN header (UDP destination port 4789), then Ethernet.
 * The I flag must be set for the VNI to be valid.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static void dec_vxlan(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 8);

	if (!h || !(h[0] & VXLAN_I))
		return;
	try_inner(d, c, INNER_ETHER, 0, FC_TUN_VXLAN, fc_load_be32(h + 4) >> 8);
}

/*
 * RFC 8926 §3.4 - Geneve header (UDP destination port 6081), options of
 * Opt Len * 4 bytes, then a payload named by an ethertype.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Virtual Network Identifier (VNI)       |    Reserved   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Variable-Length Options                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static void dec_geneve(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 8);
	uint16_t proto;
	uint32_t vni;

	if (!h || (h[0] >> 6) != 0)
		return;
	if (!fc_pull(&c, (h[0] & 0x3fu) * 4u))
		return;
	proto = fc_load_be16(h + 2);
	vni = fc_load_be32(h + 4) >> 8;
	if (proto == FC_ETH_TEB)
		try_inner(d, c, INNER_ETHER, 0, FC_TUN_GENEVE, vni);
	else if (proto == FC_ETH_IPV4 || proto == FC_ETH_IPV6)
		try_inner(d, c, INNER_ETHERTYPE, proto, FC_TUN_GENEVE, vni);
}

/*
 * RFC 2003 (IPv4 in IP, protocol 4) and RFC 4213 / RFC 2473 (IPv6 in IP,
 * protocol 41): the payload is the inner IP header. The protocol number
 * fixes the inner version; a mismatch leaves the outer flow.
 */
void fc_dec_ipip(struct fc_dec *d, struct fc_cursor c, uint8_t proto)
{
	try_inner(d, c, INNER_ETHERTYPE, proto == FC_IPPROTO_IPIP ? FC_ETH_IPV4 : FC_ETH_IPV6,
		  FC_TUN_IPIP, 0);
}

/*
 * 3GPP TS 29.281 §5.1 - GTPv1-U header (UDP destination port 2152). Length
 * counts the octets after the first 8. When any of E, S, PN is set the
 * next 4 octets are present; with E a chain of extension headers follows,
 * each Length * 4 octets ending in the next type (0: none). Only a G-PDU
 * (message type 255) carries a user packet (T-PDU: IPv4 or IPv6); echo,
 * error indication, end marker, ... stay the outer flow. The TEID names the
 * tunnel.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver=1|PT|*|E|S|PN| Message Type  |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Tunnel Endpoint Identifier                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       Sequence Number         | N-PDU Number  | Next Ext Type |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Extension header (§5.2.1):
 * +---------------+----------------------------+----------------+
 * | Length (4n)   |  Content ...               | Next Ext Type  |
 * +---------------+----------------------------+----------------+
 */
static void dec_gtpu(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 8);
	const uint8_t *o;
	uint8_t next;
	int i;

	if (!h || (h[0] & 0xf0) != (GTP_VERSION_1 | GTP_PT) || h[1] != GTP_GPDU)
		return;
	fc_narrow(&c, fc_load_be16(h + 2));
	if (h[0] & (GTP_E | GTP_S | GTP_PN)) {
		o = fc_pull(&c, 4);
		if (!o)
			return;
		next = (h[0] & GTP_E) ? o[3] : 0;
		for (i = 0; next != 0; i++) {
			if (i >= GTP_EXT_MAX)
				return;
			o = fc_peek(&c, 1);
			if (!o || o[0] == 0)	/* length 0 would never advance */
				return;
			o = fc_pull(&c, o[0] * 4u);
			if (!o)
				return;
			next = o[o[0] * 4u - 1];
		}
	}
	try_inner(d, c, INNER_IP, 0, FC_TUN_GTPU, fc_load_be32(h + 4));
}

/*
 * RFC 4380 §5.1.1 - Teredo (UDP port 3544 on either side): an optional
 * authentication indicator, an optional origin indication, then an IPv6
 * packet. Port 3544 alone is weak evidence, so the IPv6 header must hold
 * up: version 6 and a payload length that accounts for exactly the rest of
 * the UDP payload (as Zeek checks). A bubble (No Next Header, payload
 * length 0) may carry trailing bytes. Anything else is the outer UDP flow.
 *
 * Authentication indicator:
 * +-------------+-------------+-------------+-------------+
 * |  0x00       | 0x01        | ID-len      |  AU-len     |
 * +-------------+-------------+-------------+-------------+
 * |  Client identifier (ID-len octets)                    |
 * |  Authentication value (AU-len octets)                 |
 * |  Nonce (8 octets)                                     |
 * +-------------+-------------+-------------+-------------+
 * | Confirmation|
 * +-------------+
 *
 * Origin indication:
 * +-------------+-------------+-------------+-------------+
 * |  0x00       | 0x00        | Origin port # (obfuscated)|
 * +-------------+-------------+-------------+-------------+
 * |  Origin IPv4 address (obfuscated)                     |
 * +-------------+-------------+-------------+-------------+
 */
static void dec_teredo(struct fc_dec *d, struct fc_cursor c, uint32_t len)
{
	const uint8_t *h = fc_peek(&c, 2);
	uint32_t plen, skip;

	if (h && fc_load_be16(h) == TEREDO_AUTH) {
		h = fc_pull(&c, 4);
		if (!h)
			return;
		skip = h[2] + h[3] + 9u;
		if (!fc_pull(&c, skip) || len < 4 + skip)
			return;
		len -= 4 + skip;
		h = fc_peek(&c, 2);
	}
	if (h && fc_load_be16(h) == TEREDO_ORIGIN) {
		if (!fc_pull(&c, 8) || len < 8)
			return;
		len -= 8;
	}
	h = fc_peek(&c, 40);
	if (!h || (h[0] >> 4) != 6 || len < 40)
		return;
	plen = fc_load_be16(h + 4);
	if (40 + plen != len && !(plen == 0 && h[6] == IPV6_NONXT))
		return;
	try_inner(d, c, INNER_ETHERTYPE, FC_ETH_IPV6, FC_TUN_TEREDO, 0);
}

/*
 * The UDP tunnels, by port:
 *  - VXLAN 4789, Geneve 6081 (above);
 *  - GTP-U 2152 (above);
 *  - RFC 8086 GRE-in-UDP 4754: a GRE header (version 0) right after UDP;
 *  - RFC 7510 MPLS-in-UDP 6635: an MPLS label stack right after UDP;
 *  - Teredo 3544 either side (above).
 */
void fc_dec_udp_tunnel(struct fc_dec *d, uint16_t sport, uint16_t dport, struct fc_cursor c,
		       uint32_t len)
{
	switch (dport) {
	case FC_UDP_VXLAN:
		dec_vxlan(d, c);
		return;
	case FC_UDP_GENEVE:
		dec_geneve(d, c);
		return;
	case FC_UDP_GTPU:
		dec_gtpu(d, c);
		return;
	case FC_UDP_GRE:
		dec_gre(d, c, FC_TUN_GRE_UDP);
		return;
	case FC_UDP_MPLS:
		try_inner(d, c, INNER_ETHERTYPE, FC_ETH_MPLS, FC_TUN_MPLS_UDP, 0);
		return;
	default:
		break;
	}
	if (sport == FC_UDP_TEREDO || dport == FC_UDP_TEREDO)
		dec_teredo(d, c, len);
}
