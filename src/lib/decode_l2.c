// SPDX-License-Identifier: BSD-2-Clause
/*
 * decode_l2.c - link layers down to the IP header: Ethernet II, 802.3 with
 * LLC/SNAP, 802.1Q/802.1ad tag stacks, Cisco VN-Tag, MPLS label stacks,
 * PPPoE, PPP, Cisco HDLC, FDDI, Linux cooked capture (SLL v1/v2), BSD
 * NULL/LOOP, NFLOG and Apple PKTAP.
 *
 * Every path ends in fc_dec_ipv4()/fc_dec_ipv6() or a non-IP reason. All
 * walks are bounded: tag stacks by FC_VLAN_MAX_DEPTH, label stacks by
 * FC_MPLS_MAX_DEPTH, TLV walks by the frame length; nothing recurses except
 * through IP tunnels, which decode_tunnel.c bounds by FC_TUNNEL_MAX_DEPTH.
 */
#include "decode_int.h"

#define LLC_SNAP 0xaa
#define LLC_UI 0x03

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define PPP_MPLS 0x0281
#define PPP_MPLS_MC 0x0283

#define SLL_P_802_2 0x0004	/* Linux ETH_P_802_2: an LLC header follows */
#define ARPHRD_NETLINK 824

#define NFULA_PAYLOAD 9

/*
 * RFC 3032 §2.1 - MPLS label stack entry; the payload after bottom of stack
 * has no type field, so it is guessed from the IP version nibble.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Label                  | TC  |S|      TTL      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum fc_nonflow dec_mpls(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h;
	int i;

	for (i = 0; i < FC_MPLS_MAX_DEPTH; i++) {
		h = fc_pull(&c, 4);
		if (!h)
			return FC_NF_TRUNC_MPLS;
		if (h[2] & 0x01)
			break;
	}
	if (i == FC_MPLS_MAX_DEPTH)
		return FC_NF_MPLS_TOO_DEEP;
	h = fc_peek(&c, 1);
	if (!h)
		return FC_NF_TRUNC_MPLS;
	switch (h[0] >> 4) {
	case 4:
		return fc_dec_ipv4(d, c);
	case 6:
		return fc_dec_ipv6(d, c);
	default:
		return FC_NF_MPLS_PAYLOAD;
	}
}

static enum fc_nonflow dec_ppp_proto(struct fc_dec *d, uint16_t proto, struct fc_cursor c)
{
	switch (proto) {
	case PPP_IPV4:
		return fc_dec_ipv4(d, c);
	case PPP_IPV6:
		return fc_dec_ipv6(d, c);
	case PPP_MPLS:
	case PPP_MPLS_MC:
		return dec_mpls(d, c);
	default:	/* LCP, IPCP, CHAP, VJ-compressed, ...: PPP's own business */
		return FC_NF_NONIP;
	}
}

/* The protocol field, one octet when compressed (odd), else two; then the payload. */
static enum fc_nonflow dec_ppp_protofield(struct fc_dec *d, struct fc_cursor c,
					  enum fc_nonflow trunc)
{
	const uint8_t *h = fc_peek(&c, 1);
	uint16_t proto;

	if (!h)
		return trunc;
	if (h[0] & 0x01) {
		proto = h[0];
		fc_pull(&c, 1);
	} else {
		h = fc_pull(&c, 2);
		if (!h)
			return trunc;
		proto = fc_load_be16(h);
	}
	return dec_ppp_proto(d, proto, c);
}

/*
 * RFC 1661 §2 (PPP encapsulation), RFC 1662 §3.1 (HDLC-like framing, the
 * optional ff 03 prefix), RFC 1661 §6.5 (protocol field compression: an
 * odd first octet is a one-octet protocol).
 *
 * +----------+----------+----------+-----------------
 * | Address  | Control  | Protocol | Information ...
 * |   0xff   |   0x03   | 8/16 bits|
 * +----------+----------+----------+-----------------
 */
enum fc_nonflow fc_dec_ppp(struct fc_dec *d, struct fc_cursor c, enum fc_nonflow trunc)
{
	const uint8_t *h = fc_peek(&c, 2);

	if (!h)
		return trunc;
	if (h[0] == 0xff && h[1] == 0x03)
		fc_pull(&c, 2);
	return dec_ppp_protofield(d, c, trunc);
}

/*
 * RFC 2516 §4 - PPPoE; the session stage (0x8864) carries PPP, the
 * discovery stage (0x8863) is PADI/PADO/PADR/PADS/PADT.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  VER  | TYPE  |      CODE     |          SESSION_ID           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            LENGTH             |  PPP protocol (8 or 16 bits)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum fc_nonflow dec_pppoe_session(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 6);

	if (!h)
		return FC_NF_TRUNC_PPPOE;
	if (h[0] != 0x11 || h[1] != 0x00)	/* version 1, type 1, code 0 (session data) */
		return FC_NF_NONIP;
	/* LENGTH covers the PPP frame, not the Ethernet padding. */
	fc_narrow(&c, fc_load_be16(h + 4));
	/* Peers may negotiate protocol field compression (a one-octet 0x21). */
	return dec_ppp_protofield(d, c, FC_NF_TRUNC_PPPOE);
}

static enum fc_nonflow dec_llc(struct fc_dec *d, struct fc_cursor c);

/*
 * IEEE 802.1Q §9.6 - a tag after the TPID; IEEE 802.1ad uses TPID 0x88a8
 * (0x9100 is the pre-standard QinQ TPID). Cisco VN-Tag (0x8926) is 4 bytes
 * of tag before the next ethertype.
 *
 * +----------------+-----+---+-------------------+----------------+
 * | TPID (16)      | PCP | D |     VID (12)      | next type (16) |
 * +----------------+-----+---+-------------------+----------------+
 *
 * `et` has been read; c starts right after it. Tags are recorded for the key
 * unless this is a tunnelled frame; VLAN id 0 (priority tag) is still a tag.
 */
enum fc_nonflow fc_dec_ethertype(struct fc_dec *d, uint16_t et, struct fc_cursor c)
{
	struct fc_flow_key *key = &d->pkt->key;
	const uint8_t *h;
	unsigned int tags = 0;	/* VLAN and VN-Tags walked: bounds the loop */
	unsigned int vids = 0;	/* VLAN ids seen: the first two enter the key */

	for (;;) {
		if (likely(et == FC_ETH_IPV4))
			return fc_dec_ipv4(d, c);
		if (likely(et == FC_ETH_IPV6))
			return fc_dec_ipv6(d, c);
		switch (et) {
		case FC_ETH_VLAN:
		case FC_ETH_QINQ:
		case FC_ETH_QINQ_OLD:
			if (tags >= FC_VLAN_MAX_DEPTH)
				return FC_NF_VLAN_TOO_DEEP;
			h = fc_pull(&c, 4);
			if (!h)
				return FC_NF_TRUNC_VLAN;
			if (!d->inner_l2) {
				uint16_t vid = fc_load_be16(h) & 0x0fff;

				if (vids == 0) {
					key->vlan = vid;
					key->flags |= FC_KEYF_VLAN;
				} else if (vids == 1) {
					key->vlan_inner = vid;
					key->flags |= FC_KEYF_VLAN2;
				}
			}
			vids++;
			tags++;
			et = fc_load_be16(h + 2);
			continue;
		case FC_ETH_VNTAG:
			/* Counted with the tags so a run of VN-Tags is bounded too. */
			if (tags >= FC_VLAN_MAX_DEPTH)
				return FC_NF_VLAN_TOO_DEEP;
			h = fc_pull(&c, 6);
			if (!h)
				return FC_NF_TRUNC_VLAN;
			tags++;
			et = fc_load_be16(h + 4);
			continue;
		case FC_ETH_MPLS:
		case FC_ETH_MPLS_MC:
			return dec_mpls(d, c);
		case FC_ETH_PPPOE_SESS:
			return dec_pppoe_session(d, c);
		case FC_ETH_PPPOE_DISC:
			return FC_NF_PPPOE_DISCOVERY;
		case FC_ETH_ARP:
		case FC_ETH_RARP:
			return FC_NF_ARP;
		default:
			if (et < 0x0600)	/* an 802.3 length after the tags: LLC follows */
				return dec_llc(d, c);
			return FC_NF_NONIP;
		}
	}
}

/*
 * IEEE 802.2 LLC and RFC 1042 SNAP: AA AA 03 + OUI 00-00-00 (or 00-00-F8,
 * 802.1H) + ethertype carries IP; any other SAP (STP 42, NetBIOS F0, IPX
 * E0, ...) or OUI (Cisco CDP/VTP/DTP) is not IP.
 *
 * +------+------+------+---------------+---------------+
 * | DSAP | SSAP | Ctrl | OUI (3 bytes) | Ethertype (2) |
 * +------+------+------+---------------+---------------+
 */
static enum fc_nonflow dec_llc(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 3);
	uint16_t et;

	if (!h)
		return FC_NF_TRUNC_L2;
	if (h[0] != LLC_SNAP || h[1] != LLC_SNAP || h[2] != LLC_UI)
		return FC_NF_NONIP;
	h = fc_pull(&c, 5);
	if (!h)
		return FC_NF_TRUNC_L2;
	if (h[0] != 0 || h[1] != 0 || (h[2] != 0 && h[2] != 0xf8))
		return FC_NF_NONIP;
	et = fc_load_be16(h + 3);
	if (et < 0x0600)	/* SNAP never carries a length; also stops LLC-in-LLC recursion */
		return FC_NF_NONIP;
	return fc_dec_ethertype(d, et, c);
}

/*
 * IEEE 802.3 §3.1.1 - Ethernet II / 802.3 MAC header. A type/length value
 * below 0x0600 is an 802.3 length and an LLC header follows.
 *
 * +-------------------+-------------------+---------------+
 * | Destination (6)   | Source (6)        | Type/Len (2)  |
 * +-------------------+-------------------+---------------+
 */
enum fc_nonflow fc_dec_ether(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 14);
	uint16_t et;

	if (unlikely(!h))
		return FC_NF_TRUNC_L2;
	et = fc_load_be16(h + 12);
	if (likely(et == FC_ETH_IPV4))
		return fc_dec_ipv4(d, c);
	if (et < 0x0600)
		return dec_llc(d, c);
	return fc_dec_ethertype(d, et, c);
}

/*
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, tcpdump.org/linktypes).
 *
 * +-------------+-------------+-------------+---------------+-------------+
 * | pkttype (2) | ARPHRD (2)  | addrlen (2) | address (8)   | protocol (2)|
 * +-------------+-------------+-------------+---------------+-------------+
 */
static enum fc_nonflow dec_sll_proto(struct fc_dec *d, uint16_t arphrd, uint16_t proto,
				     struct fc_cursor c)
{
	if (arphrd == ARPHRD_NETLINK)
		return FC_NF_NONIP;
	if (proto == SLL_P_802_2)
		return dec_llc(d, c);
	if (proto < 0x0600)	/* Novell 802.3, CAN, ...: Linux-internal protocol ids */
		return FC_NF_NONIP;
	return fc_dec_ethertype(d, proto, c);
}

enum fc_nonflow fc_dec_sll(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 16);

	if (!h)
		return FC_NF_TRUNC_L2;
	return dec_sll_proto(d, fc_load_be16(h + 2), fc_load_be16(h + 14), c);
}

/*
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2).
 *
 * +--------------+--------------+----------------+------------+
 * | protocol (2) | reserved (2) | ifindex (4)    | ARPHRD (2) |
 * +--------------+--------------+----------------+------------+
 * | pkttype (1)  | addrlen (1)  | address (8)                 |
 * +--------------+--------------+-----------------------------+
 */
enum fc_nonflow fc_dec_sll2(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 20);

	if (!h)
		return FC_NF_TRUNC_L2;
	return dec_sll_proto(d, fc_load_be16(h + 8), fc_load_be16(h), c);
}

/*
 * BSD loopback (LINKTYPE_NULL: AF in the writer's byte order; LINKTYPE_LOOP:
 * network order). AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD),
 * 28 (FreeBSD) or 30 (macOS). The IP version nibble decides the decoder.
 *
 * +---------------------------------------------------------------+
 * |                  address family (32 bits)                     |
 * +---------------------------------------------------------------+
 */
enum fc_nonflow fc_dec_null(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 4);
	uint32_t af;

	if (!h)
		return FC_NF_TRUNC_L2;
	af = fc_load_be32(h);
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	switch (af) {
	case 2:
		return fc_dec_ip(d, c, FC_NF_TRUNC_IPV4);
	case 24:
	case 28:
	case 30:
		return fc_dec_ip(d, c, FC_NF_TRUNC_IPV6);
	default:
		return FC_NF_NONIP;
	}
}

/*
 * Cisco HDLC (LINKTYPE_C_HDLC): address 0x0f/0x8f, control 0, then an
 * ethertype. 0x8035 here is SLARP (keepalives), not RARP.
 *
 * +-------------+-------------+---------------------------+
 * | address (1) | control (1) | protocol (ethertype, 2)   |
 * +-------------+-------------+---------------------------+
 */
enum fc_nonflow fc_dec_chdlc(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 4);
	uint16_t proto;

	if (!h)
		return FC_NF_TRUNC_L2;
	proto = fc_load_be16(h + 2);
	if (proto == FC_ETH_RARP || proto < 0x0600)
		return FC_NF_NONIP;
	return fc_dec_ethertype(d, proto, c);
}

/*
 * ANSI X3.139 FDDI MAC header, then 802.2 LLC (SNAP for IP).
 *
 * +--------+-------------------+-------------------+---------
 * | FC (1) | Destination (6)   | Source (6)        | LLC ...
 * +--------+-------------------+-------------------+---------
 */
enum fc_nonflow fc_dec_fddi(struct fc_dec *d, struct fc_cursor c)
{
	if (!fc_pull(&c, 13))
		return FC_NF_TRUNC_L2;
	return dec_llc(d, c);
}

/*
 * Linux NFLOG (LINKTYPE_NFLOG, tcpdump.org/linktypes/LINKTYPE_NFLOG.html):
 * a 4-byte header, then TLVs whose length and type are in the capturing
 * host's byte order (little-endian as written on x86). Length includes the
 * TLV header; each TLV is padded to 4 bytes. Type 9 (NFULA_PAYLOAD) holds
 * the IP packet.
 *
 * +------------+-------------+---------------------------+
 * | family (1) | version (1) | resource id (16, BE)      |
 * +------------+-------------+---------------------------+
 * | tlv_length (16, host)    | tlv_type (16, host)       |  value ... pad
 * +--------------------------+---------------------------+
 */
enum fc_nonflow fc_dec_nflog(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_pull(&c, 4);

	if (!h)
		return FC_NF_TRUNC_L2;
	while (fc_left(&c) > 0) {
		uint16_t len, type;
		size_t step;

		h = fc_pull(&c, 4);
		if (!h)
			return FC_NF_TRUNC_L2;
		len = fc_load_le16(h);
		type = fc_load_le16(h + 2) & 0x7fff;	/* drop NLA_F_NESTED */
		if (len < 4)
			return FC_NF_TRUNC_L2;	/* a TLV shorter than its own header: the walk is lost */
		if (type == NFULA_PAYLOAD) {
			/* The payload may be cut by the snaplen; IP decoding reports that. */
			fc_narrow(&c, len - 4u);
			return fc_dec_ip(d, c, FC_NF_TRUNC_IPV4);
		}
		step = ((size_t)len + 3u) & ~(size_t)3u;
		step -= 4;
		if (step > fc_left(&c)) {
			if ((size_t)len - 4u > fc_left(&c))
				return FC_NF_TRUNC_L2;
			step = fc_left(&c);	/* last TLV without its padding */
		}
		fc_pull(&c, step);
	}
	return FC_NF_NONIP;	/* no packet, only metadata */
}

/*
 * Apple PKTAP (LINKTYPE_PKTAP): a header in the writer's byte order
 * (little-endian) whose first field is its own length and whose second is
 * the DLT of the frame that follows.
 *
 * +---------------------------+---------------------------+------
 * | pth_length (32, host)     | pth_type_next (DLT, 32)   | ...
 * +---------------------------+---------------------------+------
 */
enum fc_nonflow fc_dec_pktap(struct fc_dec *d, struct fc_cursor c)
{
	const uint8_t *h = fc_peek(&c, 8);
	uint32_t hlen, dlt;

	if (!h)
		return FC_NF_TRUNC_L2;
	hlen = fc_load_le32(h);
	dlt = fc_load_le32(h + 4);
	if (hlen < 8 || !fc_pull(&c, hlen))
		return FC_NF_TRUNC_L2;
	if (dlt == FC_LINKTYPE_PKTAP || dlt > 0xffff)	/* no PKTAP in PKTAP */
		return FC_NF_LINKTYPE;
	return fc_dec_link(d, dlt, c);
}
