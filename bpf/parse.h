/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parse.h - frame parsing shared by the XDP and the socket-filter program:
 * Ethernet, up to FC_BP_VLAN_MAX_DEPTH 802.1Q/802.1ad tags, IPv4 (IHL,
 * options, fragments), IPv6 (a bounded walk over hop-by-hop and AH
 * headers), TCP and UDP ports. The result is the normalised flow key the
 * maps use, the packet's direction in it and its IP length.
 *
 * Bytes are read through one loader with two bodies: direct packet access
 * with a bounds check for XDP, bpf_skb_load_bytes_relative() from the MAC
 * header for socket filters (which may not touch packet memory directly).
 * The flag selecting the body is a constant at each call site, so each
 * program only contains its own. A helper call costs ~25 ns, so the socket
 * filter first copies a window of the frame from the EtherType on (one
 * call): the usual shapes (Ethernet, at most a VLAN tag in the metadata,
 * IPv4 without options or IPv6 without extension headers, TCP or UDP) are
 * parsed from it at constant offsets; anything else takes the general path.
 * The XDP program does the same in place (parse_fast_xdp: word loads from
 * packet memory, one bounds check) before the general path.
 *
 * Anything not understood ends in a verdict that passes the packet (fail
 * open): the monitor in userspace then decodes and counts it as usual. What
 * the userspace decoder keys differently from what we can see here (IPv6
 * routing headers and destination options may name other endpoints,
 * fragments carry no ports) is passed too, so a packet is only counted here
 * when userspace would have put it in the very same flow.
 */
#ifndef FLOWCUT_BPF_PARSE_H
#define FLOWCUT_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bypass_common.h"

#define ETH_P_8021AD_ 0x88A8
#define ETH_P_QINQ1_ 0x9100
#define MAX_L3_OFF (14 + 4 * FC_BP_VLAN_MAX_DEPTH)
#define MAX_OFF 1024		/* no header we read starts beyond this */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60

#define TCPF_FIN_ 0x01
#define TCPF_SYN_ 0x02
#define TCPF_RST_ 0x04

/* Verdicts of parse_frame(); every one but P_FLOW passes the packet. */
enum {
	P_FLOW = 0,		/* key valid: look it up */
	P_NOT_IP,
	P_PARSE_FAIL,
	P_FRAG,
	P_CTRL,
	P_OTHER_L4,		/* IP, but neither TCP nor UDP: only the block list applies */
};

#define WIN_OFF 12		/* the EtherType */
#define WIN_MAX 56		/* EtherType + IPv6 header + 14 octets of TCP */

struct parsed {
	__u8 family;		/* 4 or 6, valid from the IP header on */
	__u8 dir;		/* 0: sender is side a of the key */
	__u16 pad;
	__u32 ip_bytes;
	__u16 vlan, vlan_inner;	/* FC_BP_VLAN_PRESENT | VID, or 0 */
	__u8 src[16];		/* sender address (IPv4: first 4 bytes) for the block list */
	struct fc_bp_key4 k4 __attribute__((aligned(8)));	/* 8-aligned: fc_bp_pf_slot() reads words */
	struct fc_bp_key6 k6 __attribute__((aligned(8)));
	__u32 wlen;		/* socket filter: valid bytes in win */
	__u8 win[64];		/* socket filter: the frame from offset WIN_OFF */
};

/* Copy len bytes at offset off from the start of the frame; 0 or -1. */
static __always_inline int load(void *ctx, const int xdp, __u32 off, void *dst, const __u32 len)
{
	if (xdp) {
		struct xdp_md *x = ctx;
		void *data = (void *)(long)x->data;
		void *end = (void *)(long)x->data_end;

		if (off > MAX_OFF)
			return -1;
		data += off;
		if (data + len > end)
			return -1;
		__builtin_memcpy(dst, data, len);
		return 0;
	}
	return bpf_skb_load_bytes_relative(ctx, off, dst, len, BPF_HDR_START_MAC) ? -1 : 0;
}

/* 1 if a < b, 0 if a > b, -1 if equal; addresses as big-endian numbers. */
static __always_inline int addr_lt(const __u8 *a, const __u8 *b, const int words)
{
	__u32 x, y;
	int i;

	for (i = 0; i < words && i < 4; i++) {
		__builtin_memcpy(&x, a + 4 * i, 4);
		__builtin_memcpy(&y, b + 4 * i, 4);
		if (x != y)
			return bpf_ntohl(x) < bpf_ntohl(y) ? 1 : 0;
	}
	return -1;
}

/* Fill the normalised key (side a = lower (address, port)) and the direction. */
static __always_inline void make_key(struct parsed *p, const __u8 *src, const __u8 *dst, __u16 sport,
				     __u16 dport, __u8 proto)
{
	int lt = addr_lt(src, dst, p->family == 4 ? 1 : 4);
	int swap = lt == 0 || (lt < 0 && sport > dport);

	p->dir = swap;
	if (p->family == 4) {
		__builtin_memset(&p->k4, 0, sizeof(p->k4));	/* padding is part of the key */
		__builtin_memcpy(&p->k4.addr_a, swap ? dst : src, 4);
		__builtin_memcpy(&p->k4.addr_b, swap ? src : dst, 4);
		p->k4.port_a = swap ? dport : sport;
		p->k4.port_b = swap ? sport : dport;
		p->k4.vlan = p->vlan;
		p->k4.vlan_inner = p->vlan_inner;
		p->k4.proto = proto;
	} else {
		__builtin_memset(&p->k6, 0, sizeof(p->k6));
		__builtin_memcpy(p->k6.addr_a, swap ? dst : src, 16);
		__builtin_memcpy(p->k6.addr_b, swap ? src : dst, 16);
		p->k6.port_a = swap ? dport : sport;
		p->k6.port_b = swap ? sport : dport;
		p->k6.vlan = p->vlan;
		p->k6.vlan_inner = p->vlan_inner;
		p->k6.proto = proto;
	}
}

/*
 * TCP (RFC 9293) and UDP (RFC 768) ports at l4, with `room` IP payload
 * octets left. TCP control segments (SYN, FIN, RST) go to userspace so the
 * monitor sees every connection open and close.
 */
static __always_inline int parse_l4(void *ctx, const int xdp, struct parsed *p, __u32 l4, __u32 room,
				    __u8 proto, const __u8 *src, const __u8 *dst, const __u8 *pre)
{
	__u8 buf[14];
	const __u8 *h = pre ? pre : buf;	/* pre: 14 octets at l4, already loaded */
	__u16 sport, dport;

	if (proto == IPPROTO_TCP) {
		if (room < 20 || (!pre && load(ctx, xdp, l4, buf, 14)))
			return P_PARSE_FAIL;
		if ((h[12] >> 4) < 5 || (__u32)(h[12] >> 4) * 4 > room)
			return P_PARSE_FAIL;
		if (h[13] & (TCPF_FIN_ | TCPF_SYN_ | TCPF_RST_))
			return P_CTRL;
	} else if (proto == IPPROTO_UDP) {
		if (room < 8 || (!pre && load(ctx, xdp, l4, buf, 8)))
			return P_PARSE_FAIL;
		if (((__u32)h[4] << 8 | h[5]) < 8)
			return P_PARSE_FAIL;
	} else {
		return P_OTHER_L4;
	}
	sport = (__u16)h[0] << 8 | h[1];
	dport = (__u16)h[2] << 8 | h[3];
	make_key(p, src, dst, sport, dport, proto);
	return P_FLOW;
}

/*
 * IPv4, RFC 791:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 */
static __always_inline int parse_ipv4(void *ctx, const int xdp, struct parsed *p, __u32 l3, const __u8 *pre,
				      const __u8 *pre_l4)
{
	__u8 buf[20];
	const __u8 *ip = pre ? pre : buf;	/* pre: the header, already loaded */
	__u32 hl, tot;

	if (!pre && load(ctx, xdp, l3, buf, 20))
		return P_PARSE_FAIL;
	if ((ip[0] >> 4) != 4)
		return P_PARSE_FAIL;
	hl = (ip[0] & 0x0f) * 4;
	tot = (__u32)ip[2] << 8 | ip[3];
	if (hl < 20 || tot < hl)	/* tot == 0 (TSO) lands here too */
		return P_PARSE_FAIL;
	p->family = 4;
	p->ip_bytes = tot;
	__builtin_memcpy(p->src, ip + 12, 4);
	if (((__u32)ip[6] << 8 | ip[7]) & 0x3fff)	/* MF or an offset: a fragment */
		return P_FRAG;
	/* pre_l4 is only given when IHL is 5 */
	return parse_l4(ctx, xdp, p, l3 + hl, tot - hl, ip[9], ip + 12, ip + 16, pre_l4);
}

/*
 * IPv6, RFC 8200: 40-octet fixed header, then extension headers. We step
 * over hop-by-hop options and AH (RFC 4302) only; a routing header or
 * destination options may name other final endpoints (the decoder keys on
 * those), a fragment header means no ports: those packets pass.
 */
static __always_inline int parse_ipv6(void *ctx, const int xdp, struct parsed *p, __u32 l3, const __u8 *pre,
				      const __u8 *pre_l4)
{
	__u8 buf[40], h[2];
	const __u8 *ip = pre ? pre : buf;
	__u32 off = l3 + 40, rem, hlen;
	__u8 nh;
	int i;

	if (!pre && load(ctx, xdp, l3, buf, 40))
		return P_PARSE_FAIL;
	if ((ip[0] >> 4) != 6)
		return P_PARSE_FAIL;
	rem = (__u32)ip[4] << 8 | ip[5];
	if (!rem)			/* jumbogram or GSO: the length is not in the header */
		return P_PARSE_FAIL;
	p->family = 6;
	p->ip_bytes = 40 + rem;
	__builtin_memcpy(p->src, ip + 8, 16);
	nh = ip[6];
	for (i = 0; i < FC_BP_IPV6_EXT_MAX; i++) {
		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_AH_)
			break;
		if (load(ctx, xdp, off, h, 2))
			return P_PARSE_FAIL;
		hlen = nh == IPPROTO_AH_ ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
		if (hlen > rem)
			return P_PARSE_FAIL;
		rem -= hlen;
		off += hlen;
		if (off > MAX_OFF)
			return P_PARSE_FAIL;
		nh = h[0];
	}
	if (nh == IPPROTO_FRAGMENT_)
		return P_FRAG;
	if (nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_AH_ || nh == IPPROTO_ROUTING_ ||
	    nh == IPPROTO_DSTOPTS_)
		return P_PARSE_FAIL;
	/* pre_l4 is only given when the next header is TCP or UDP */
	return parse_l4(ctx, xdp, p, off, rem, nh, ip + 8, ip + 24, pre_l4);
}

/*
 * XDP, the usual shapes read in place: Ethernet II (no tag), IPv4 with IHL 5
 * or IPv6 without extension headers, TCP or UDP, not a fragment. The header
 * fields are loaded as words at constant offsets from one bounds check; the
 * general path (parse_frame) copies each header byte by byte to the stack,
 * which cost more than the rest of a hit. Returns a verdict, or -1 when the
 * frame is of another shape or fails a check: the general path then decides
 * (and counts the reason), so the verdicts are the same either way.
 */
static __always_inline int parse_fast_xdp(struct xdp_md *ctx, struct parsed *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const __u8 *ip = data + 14, *l4;
	__u32 tot, room, ports, s4, d4, swap, w;
	__u16 et;
	__u8 proto;

	if (data + 14 + 20 + 14 > end)
		return -1;
	et = *(__u16 *)(data + 12);
	if (et == bpf_htons(ETH_P_IP)) {
		if (ip[0] != 0x45 || (*(__u16 *)(ip + 6) & bpf_htons(0x3fff)))
			return -1;
		proto = ip[9];
		tot = bpf_ntohs(*(__u16 *)(ip + 2));
		if (tot < 20)
			return -1;
		room = tot - 20;
		l4 = ip + 20;
	} else if (et == bpf_htons(ETH_P_IPV6)) {
		if (data + 14 + 40 + 14 > end || (ip[0] >> 4) != 6)
			return -1;
		proto = ip[6];
		room = bpf_ntohs(*(__u16 *)(ip + 4));
		if (!room)
			return -1;
		tot = 40 + room;
		l4 = ip + 40;
	} else {
		return -1;
	}
	if (proto == IPPROTO_TCP) {
		if (room < 20 || (l4[12] >> 4) < 5 || (__u32)(l4[12] >> 4) * 4 > room)
			return -1;
		if (l4[13] & (TCPF_FIN_ | TCPF_SYN_ | TCPF_RST_))
			return -1;	/* counted as control by the general path */
	} else if (proto == IPPROTO_UDP) {
		if (room < 8 || bpf_ntohs(*(__u16 *)(l4 + 4)) < 8)
			return -1;
	} else {
		return -1;
	}
	ports = *(__u32 *)l4;
	p->ip_bytes = tot;
	if (et == bpf_htons(ETH_P_IP)) {
		s4 = *(__u32 *)(ip + 12);
		d4 = *(__u32 *)(ip + 16);
		swap = bpf_ntohl(s4) > bpf_ntohl(d4) ||
		       (s4 == d4 && bpf_ntohs((__u16)ports) > bpf_ntohs((__u16)(ports >> 16)));
		p->family = 4;
		p->dir = swap;
		__builtin_memcpy(p->src, &s4, 4);
		p->k4.addr_a = swap ? d4 : s4;
		p->k4.addr_b = swap ? s4 : d4;
		p->k4.port_a = bpf_ntohs((__u16)(swap ? ports >> 16 : ports));
		p->k4.port_b = bpf_ntohs((__u16)(swap ? ports : ports >> 16));
		p->k4.vlan = 0;
		p->k4.vlan_inner = 0;
		w = proto;	/* with the zero padding: one store */
		__builtin_memcpy(&p->k4.proto, &w, 4);
	} else {
		__u64 s0 = *(__u64 *)(ip + 8), s1 = *(__u64 *)(ip + 16);
		__u64 d0 = *(__u64 *)(ip + 24), d1 = *(__u64 *)(ip + 32);
		__u64 sh = bpf_be64_to_cpu(s0), dh = bpf_be64_to_cpu(d0);

		if (sh == dh) {
			sh = bpf_be64_to_cpu(s1);
			dh = bpf_be64_to_cpu(d1);
		}
		swap = sh > dh ||
		       (sh == dh && bpf_ntohs((__u16)ports) > bpf_ntohs((__u16)(ports >> 16)));
		p->family = 6;
		p->dir = swap;
		__builtin_memcpy(p->src, &s0, 8);
		__builtin_memcpy(p->src + 8, &s1, 8);
		sh = swap ? d0 : s0, dh = swap ? d1 : s1;
		__builtin_memcpy(p->k6.addr_a, &sh, 8);
		__builtin_memcpy(p->k6.addr_a + 8, &dh, 8);
		sh = swap ? s0 : d0, dh = swap ? s1 : d1;
		__builtin_memcpy(p->k6.addr_b, &sh, 8);
		__builtin_memcpy(p->k6.addr_b + 8, &dh, 8);
		p->k6.port_a = bpf_ntohs((__u16)(swap ? ports >> 16 : ports));
		p->k6.port_b = bpf_ntohs((__u16)(swap ? ports : ports >> 16));
		p->k6.vlan = 0;
		p->k6.vlan_inner = 0;
		w = proto;
		__builtin_memcpy(&p->k6.proto, &w, 4);
	}
	return P_FLOW;
}

/*
 * Ethernet II with 802.1Q / 802.1ad tags. In socket-filter mode the stack
 * may already have moved the outer tag into the packet's metadata
 * (vlan_present): that tag comes first, then any left in the frame.
 */
static __always_inline int parse_frame(void *ctx, const int xdp, struct parsed *p, int vlan_key,
				       __u32 meta_vlan_present, __u32 meta_vlan_tci)
{
	__u8 h[4];
	__u16 et, vid;
	__u32 off = 12;
	int tags = 0, i;

	if (!xdp && meta_vlan_present) {
		p->vlan = FC_BP_VLAN_PRESENT | (meta_vlan_tci & 0x0fff);
		tags = 1;
	}
	if (!xdp) {
		__u32 n = ((struct __sk_buff *)ctx)->len;

		/* skb->len counts from the MAC header for packet sockets (SOCK_RAW),
		 * from the network header otherwise: never more than the frame has. */
		n = n > WIN_OFF + WIN_MAX ? WIN_MAX : n > WIN_OFF ? n - WIN_OFF : 0;
		asm volatile("" : "+r"(n));
		n &= 63;	/* a no-op (n <= WIN_MAX) that bounds the register the helper gets */
		p->wlen = 0;
		if (n >= 2 + 20 + 8 &&
		    !bpf_skb_load_bytes_relative(ctx, WIN_OFF, p->win, n, BPF_HDR_START_MAC))
			p->wlen = n;
		if (!vlan_key)
			p->vlan = 0;
		/* IPv4, IHL 5, TCP (14 octets read) or UDP (8) */
		if (p->wlen && p->win[0] == 0x08 && p->win[1] == 0x00 && p->win[2] == 0x45 &&
		    ((p->win[11] == IPPROTO_TCP && p->wlen >= 2 + 20 + 14) ||
		     (p->win[11] == IPPROTO_UDP && p->wlen >= 2 + 20 + 8)))
			return parse_ipv4(ctx, xdp, p, WIN_OFF + 2, p->win + 2, p->win + 22);
		/* IPv6 straight to TCP or UDP */
		if (p->wlen && p->win[0] == 0x86 && p->win[1] == 0xdd &&
		    ((p->win[8] == IPPROTO_TCP && p->wlen >= 2 + 40 + 14) ||
		     (p->win[8] == IPPROTO_UDP && p->wlen >= 2 + 40 + 8)))
			return parse_ipv6(ctx, xdp, p, WIN_OFF + 2, p->win + 2, p->win + 42);
	}
	if (load(ctx, xdp, off, h, 2))
		return P_PARSE_FAIL;
	et = (__u16)h[0] << 8 | h[1];
	for (i = 0; i < FC_BP_VLAN_MAX_DEPTH; i++) {
		if (et != ETH_P_8021Q && et != ETH_P_8021AD_ && et != ETH_P_QINQ1_)
			break;
		if (tags >= FC_BP_VLAN_MAX_DEPTH)
			return P_PARSE_FAIL;
		if (load(ctx, xdp, off + 2, h, 4))
			return P_PARSE_FAIL;
		vid = FC_BP_VLAN_PRESENT | (((__u16)h[0] << 8 | h[1]) & 0x0fff);
		if (tags == 0)
			p->vlan = vid;
		else if (tags == 1)
			p->vlan_inner = vid;
		tags++;
		et = (__u16)h[2] << 8 | h[3];
		off += 4;
	}
	if (!vlan_key)
		p->vlan = p->vlan_inner = 0;
	if (et == ETH_P_IP)
		return parse_ipv4(ctx, xdp, p, off + 2, NULL, NULL);
	if (et == ETH_P_IPV6)
		return parse_ipv6(ctx, xdp, p, off + 2, NULL, NULL);
	if (et == ETH_P_8021Q || et == ETH_P_8021AD_ || et == ETH_P_QINQ1_)
		return P_PARSE_FAIL;	/* deeper than FC_BP_VLAN_MAX_DEPTH */
	return P_NOT_IP;
}

#endif
