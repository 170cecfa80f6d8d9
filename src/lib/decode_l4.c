// SPDX-License-Identifier: BSD-2-Clause
/*
 * decode_l4.c - the transport layer of the flow key: TCP, UDP and SCTP
 * ports, TCP flags/sequence numbers, ICMP and ICMPv6 type/code with the
 * request/reply normalisation that lets both directions meet in one flow,
 * and the hand-off to tunnel decoders (GRE, IP-in-IP and the UDP tunnels:
 * VXLAN, Geneve, GTP-U, GRE-in-UDP, MPLS-in-UDP, Teredo).
 *
 * Snaplen rule: as long as the first 4 bytes (the ports) are there, the
 * packet is a flow packet; a header cut after that sets FC_PKTF_L4_TRUNC.
 * FC_PKTF_L4_TRUNC is also set when the header is whole but the payload the
 * IP header announces was not all captured. Protocols without ports (ESP,
 * AH payload, OSPF, IGMP, PIM, unfollowed GRE, ...) are flows with 0/0.
 */
#include "decode_int.h"

#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8

/*
 * RFC 9293 §3.1 - TCP header (RFC 3540 adds NS as the low bit of byte 12;
 * tcpControlBits in IPFIX carries all 9 flag bits).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |     |N|C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsv |S|W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static inline enum fc_nonflow dec_tcp(struct fc_pkt *pkt, struct fc_cursor c, uint32_t l4_len)
{
	size_t left = fc_left(&c);
	const uint8_t *h = c.p;
	uint32_t hl;

	if (unlikely(left < 14)) {
		if (left < 4)
			return FC_NF_TRUNC_TCP;
		pkt->key.sport = fc_load_be16(h);
		pkt->key.dport = fc_load_be16(h + 2);
		pkt->flags |= FC_PKTF_L4_TRUNC;
		return FC_NF_NONE;
	}
	hl = (h[12] >> 4) * 4u;
	if (unlikely(hl < TCP_HDR_MIN))
		return FC_NF_BAD_TCP_OFF;
	pkt->key.sport = fc_load_be16(h);
	pkt->key.dport = fc_load_be16(h + 2);
	pkt->tcp_seq = fc_load_be32(h + 4);
	pkt->tcp_ack = fc_load_be32(h + 8);
	pkt->tcp_flags = (uint16_t)(((h[12] & 0x01u) << 8) | h[13]);
	pkt->payload_len = l4_len > hl ? l4_len - hl : 0;
	pkt->flags |= FC_PKTF_TCP;
	if (unlikely(left < l4_len || left < hl))
		pkt->flags |= FC_PKTF_L4_TRUNC;
	return FC_NF_NONE;
}

/*
 * Hand the payload of a UDP packet on a tunnel port (header checked by
 * dec_udp()) to decode_tunnel.c. Out of line so that dec_udp() keeps its
 * few registers: most UDP packets never come here. Returns FC_NF_NONE.
 */
static __attribute__((noinline)) enum fc_nonflow udp_tunnel(struct fc_dec *d, struct fc_cursor c,
							     uint32_t l4_len)
{
	const uint8_t *h = fc_pull(&c, UDP_HDR_LEN);
	uint16_t ulen = fc_load_be16(h + 4);
	/* The payload length: the smaller of what UDP and IP announce. */
	uint32_t len = l4_len > UDP_HDR_LEN ? l4_len - UDP_HDR_LEN : 0;

	if (ulen != 0) {
		fc_narrow(&c, ulen - UDP_HDR_LEN);
		if (ulen < l4_len)
			len = ulen - UDP_HDR_LEN;
	}
	fc_dec_udp_tunnel(d, fc_load_be16(h), fc_load_be16(h + 2), c, len);
	return FC_NF_NONE;
}

/*
 * RFC 768 - UDP header. Length 0 is allowed (RFC 2675 jumbograms, GSO).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Length             |           Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static inline enum fc_nonflow dec_udp(struct fc_dec *d, struct fc_cursor c, uint32_t l4_len,
				      bool tunnels)
{
	struct fc_pkt *pkt = d->pkt;
	size_t left = fc_left(&c);
	const uint8_t *h = c.p;
	uint16_t ulen;

	if (unlikely(left < UDP_HDR_LEN)) {
		if (left < 4)
			return FC_NF_TRUNC_UDP;
		pkt->key.sport = fc_load_be16(h);
		pkt->key.dport = fc_load_be16(h + 2);
		pkt->flags |= FC_PKTF_L4_TRUNC;
		return FC_NF_NONE;
	}
	ulen = fc_load_be16(h + 4);
	if (unlikely(ulen != 0 && ulen < UDP_HDR_LEN))
		return FC_NF_BAD_UDP_LEN;
	pkt->key.sport = fc_load_be16(h);
	pkt->key.dport = fc_load_be16(h + 2);
	pkt->payload_len = l4_len > UDP_HDR_LEN ? l4_len - UDP_HDR_LEN : 0;
	if (unlikely(left < l4_len))
		pkt->flags |= FC_PKTF_L4_TRUNC;

	if (unlikely(tunnels) && fc_udp_tunnel_port(pkt->key.sport, pkt->key.dport) &&
	    d->tun_depth < FC_TUNNEL_MAX_DEPTH)
		return udp_tunnel(d, c, l4_len);	/* a tail call: nothing to keep */
	return FC_NF_NONE;
}

/*
 * RFC 9260 §3.1 - SCTP common header.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Source Port Number        |     Destination Port Number   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Verification Tag                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           Checksum                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum fc_nonflow dec_sctp(struct fc_pkt *pkt, struct fc_cursor c, uint32_t l4_len)
{
	size_t left = fc_left(&c);
	const uint8_t *h = fc_peek(&c, 4);

	if (!h)
		return FC_NF_TRUNC_SCTP;
	pkt->key.sport = fc_load_be16(h);
	pkt->key.dport = fc_load_be16(h + 2);
	pkt->payload_len = l4_len > 12 ? l4_len - 12 : 0;
	if (left < 12 || left < l4_len)
		pkt->flags |= FC_PKTF_L4_TRUNC;
	return FC_NF_NONE;
}

/*
 * Request type of an ICMP (RFC 792, RFC 950, RFC 1256) or ICMPv6 (RFC
 * 4443, RFC 4861, RFC 2710, RFC 4620) request/reply pair, or -1. *by_id is
 * set when the pair is matched by its identifier rather than its code.
 */
static int icmp_request_type(bool v6, uint8_t type, bool *by_id)
{
	*by_id = false;
	if (!v6) {
		switch (type) {
		case 8: case 0:		/* echo */
			*by_id = true;
			return 8;
		case 13: case 14:	/* timestamp */
			*by_id = true;
			return 13;
		case 15: case 16:	/* information */
			*by_id = true;
			return 15;
		case 17: case 18:	/* address mask */
			*by_id = true;
			return 17;
		case 10: case 9:	/* router solicitation / advertisement */
			return 10;
		default:
			return -1;
		}
	}
	switch (type) {
	case 128: case 129:		/* echo */
		*by_id = true;
		return 128;
	case 133: case 134:		/* router solicitation / advertisement */
		return 133;
	case 135: case 136:		/* neighbour solicitation / advertisement */
		return 135;
	case 130: case 131:		/* MLD query / report */
		return 130;
	case 139: case 140:		/* node information query / reply */
		return 139;
	default:
		return -1;
	}
}

/*
 * RFC 792 / RFC 4443 §2.1 - ICMP and ICMPv6 message header. Query messages
 * (echo, timestamp, ...) carry an identifier in the first 16 bits of the
 * rest of the header.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Identifier          |        Sequence Number        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum fc_nonflow dec_icmp(struct fc_pkt *pkt, struct fc_cursor c, uint32_t l4_len, bool v6)
{
	enum fc_nonflow trunc = v6 ? FC_NF_TRUNC_ICMPV6 : FC_NF_TRUNC_ICMP;
	size_t left = fc_left(&c);
	const uint8_t *h = fc_peek(&c, 2);
	bool by_id;
	int req;

	if (!h)
		return trunc;
	pkt->icmp_type = h[0];
	pkt->icmp_code = h[1];
	req = icmp_request_type(v6, h[0], &by_id);
	if (by_id) {
		if (left < 6)
			return trunc;
		pkt->key.sport = (uint16_t)req;
		pkt->key.dport = fc_load_be16(h + 4);
	} else {
		pkt->key.sport = req >= 0 ? (uint16_t)req : h[0];
		pkt->key.dport = h[1];
	}
	pkt->key.flags |= FC_KEYF_PORTS_SYMMETRIC;
	pkt->payload_len = l4_len > 8 ? l4_len - 8 : 0;
	if (left < 8 || left < l4_len)
		pkt->flags |= FC_PKTF_L4_TRUNC;
	return FC_NF_NONE;
}

enum fc_nonflow fc_dec_l4(struct fc_dec *d, uint8_t proto, struct fc_cursor c, uint32_t l4_len,
			  bool tunnels)
{
	struct fc_pkt *pkt = d->pkt;

	/* The common case first, without a jump table. */
	if (likely(proto == FC_IPPROTO_TCP))
		return dec_tcp(pkt, c, l4_len);
	if (likely(proto == FC_IPPROTO_UDP))
		return dec_udp(d, c, l4_len, tunnels);

	switch (proto) {
	case FC_IPPROTO_ICMP:
		return dec_icmp(pkt, c, l4_len, false);
	case FC_IPPROTO_ICMPV6:
		return dec_icmp(pkt, c, l4_len, true);
	case FC_IPPROTO_SCTP:
		return dec_sctp(pkt, c, l4_len);
	default:
		break;
	}
	/* No ports: ESP, AH payload, OSPF, IGMP, PIM, ... and tunnels we may follow. */
	pkt->payload_len = l4_len;
	if (fc_left(&c) < l4_len)
		pkt->flags |= FC_PKTF_L4_TRUNC;
	if (tunnels && d->tun_depth < FC_TUNNEL_MAX_DEPTH) {
		if (proto == FC_IPPROTO_GRE)
			fc_dec_gre(d, c);
		else if (proto == FC_IPPROTO_IPIP || proto == FC_IPPROTO_IPV6)
			fc_dec_ipip(d, c, proto);
	}
	return FC_NF_NONE;
}
