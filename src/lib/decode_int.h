/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode_int.h - how the decoder's files (decode.c, decode_l2.c,
 * decode_ip.c, decode_l4.c, decode_tunnel.c) call each other. Not part of
 * the public API.
 *
 * Convention: every fc_dec_* function decodes the layer at the cursor into
 * d->pkt and returns FC_NF_NONE when the frame is (so far) a flow packet or
 * a later fragment, else the reason it is not. Tunnel decoders return
 * nothing: they either replace *d->pkt with the inner flow or leave the
 * outer flow untouched (fail open).
 */
#ifndef FC_DECODE_INT_H
#define FC_DECODE_INT_H

#include <stdbool.h>

#include "cursor.h"
#include "flowcut/pkt.h"

/* Ethertypes, PPP protocol numbers and IP protocols the decoder knows. */
#define FC_ETH_IPV4 0x0800
#define FC_ETH_ARP 0x0806
#define FC_ETH_TEB 0x6558	/* transparent Ethernet bridging (GRE, Geneve) */
#define FC_ETH_RARP 0x8035
#define FC_ETH_VLAN 0x8100
#define FC_ETH_IPV6 0x86dd
#define FC_ETH_MPLS 0x8847
#define FC_ETH_MPLS_MC 0x8848
#define FC_ETH_PPPOE_DISC 0x8863
#define FC_ETH_PPPOE_SESS 0x8864
#define FC_ETH_QINQ 0x88a8
#define FC_ETH_VNTAG 0x8926
#define FC_ETH_QINQ_OLD 0x9100

#define FC_IPPROTO_ICMP 1
#define FC_IPPROTO_IPIP 4
#define FC_IPPROTO_TCP 6
#define FC_IPPROTO_UDP 17
#define FC_IPPROTO_IPV6 41
#define FC_IPPROTO_GRE 47
#define FC_IPPROTO_ICMPV6 58
#define FC_IPPROTO_SCTP 132

#define FC_UDP_GTPU 2152
#define FC_UDP_TEREDO 3544
#define FC_UDP_GRE 4754
#define FC_UDP_VXLAN 4789
#define FC_UDP_GENEVE 6081
#define FC_UDP_MPLS 6635

struct fc_dec {
	struct fc_pkt *pkt;
	uint8_t tun_depth;	/* tunnels followed so far */
	bool inner_l2;		/* a tunnelled frame: its VLAN tags stay out of the key */
};

/* decode.c: link-type dispatch (also used by PKTAP for its inner DLT). */
enum fc_nonflow fc_dec_link(struct fc_dec *d, unsigned int linktype, struct fc_cursor c);

/* decode_l2.c */
enum fc_nonflow fc_dec_ether(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_ethertype(struct fc_dec *d, uint16_t et, struct fc_cursor c);
enum fc_nonflow fc_dec_ppp(struct fc_dec *d, struct fc_cursor c, enum fc_nonflow trunc);
enum fc_nonflow fc_dec_sll(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_sll2(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_null(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_chdlc(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_fddi(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_nflog(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_pktap(struct fc_dec *d, struct fc_cursor c);

/* decode_ip.c */
enum fc_nonflow fc_dec_ip(struct fc_dec *d, struct fc_cursor c, enum fc_nonflow empty);
enum fc_nonflow fc_dec_ipv4(struct fc_dec *d, struct fc_cursor c);
enum fc_nonflow fc_dec_ipv6(struct fc_dec *d, struct fc_cursor c);

/*
 * decode_l4.c: proto is the IP protocol (also in d->pkt->key.proto); c the IP payload
 * window (already narrowed to the IP length), l4_len the payload length the
 * IP header(s) announce. Tunnels are followed only when `tunnels` is true
 * (never out of a fragment).
 */
enum fc_nonflow fc_dec_l4(struct fc_dec *d, uint8_t proto, struct fc_cursor c, uint32_t l4_len,
			  bool tunnels);

/* decode_tunnel.c: c starts at the tunnel header. */
void fc_dec_gre(struct fc_dec *d, struct fc_cursor c);
void fc_dec_ipip(struct fc_dec *d, struct fc_cursor c, uint8_t proto);

/*
 * A UDP port one of the UDP tunnels below is known by: destination port
 * 4789, 6081, 2152, 4754 or 6635, or Teredo's 3544 on either side. Cheap:
 * called for every unfragmented UDP packet.
 */
static inline bool fc_udp_tunnel_port(uint16_t sport, uint16_t dport)
{
	switch (dport) {
	case FC_UDP_GTPU:
	case FC_UDP_TEREDO:
	case FC_UDP_GRE:
	case FC_UDP_VXLAN:
	case FC_UDP_GENEVE:
	case FC_UDP_MPLS:
		return true;
	default:
		return sport == FC_UDP_TEREDO;
	}
}

/*
 * decode_tunnel.c: the UDP tunnel named by the ports (fc_udp_tunnel_port()
 * was true). c is the UDP payload, narrowed to the UDP length; len is the
 * payload length the UDP and IP headers announce (c may be shorter when the
 * capture was cut).
 */
void fc_dec_udp_tunnel(struct fc_dec *d, uint16_t sport, uint16_t dport, struct fc_cursor c,
		       uint32_t len);

#endif
