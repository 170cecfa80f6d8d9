/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt.h - what the decoder tells the rest of flowcut about one frame.
 *
 * The decoder (src/lib/decode*.c) is pure: bytes in, struct fc_pkt out. It
 * never allocates, never does I/O and keeps no state. Every frame ends in
 * exactly one enum fc_pkt_kind; frames that cannot join a flow carry a named
 * reason (enum fc_nonflow) so that accounting can put each packet read into
 * exactly one flow record or one named counter.
 */
#ifndef FLOWCUT_PKT_H
#define FLOWCUT_PKT_H

#include <stdbool.h>
#include <stdint.h>

/* Bounds on every variable-length walk; shared with the BPF programs. */
#define FC_VLAN_MAX_DEPTH 8	/* stacked 802.1Q / 802.1ad tags */
#define FC_MPLS_MAX_DEPTH 16	/* MPLS label stack entries */
#define FC_IPV6_EXT_MAX 16	/* IPv6 extension headers */
#define FC_TUNNEL_MAX_DEPTH 4	/* nested tunnels followed into */

/* Link types we decode (values are LINKTYPE_* from tcpdump.org). */
#define FC_LINKTYPE_NULL 0
#define FC_LINKTYPE_ETHERNET 1
#define FC_LINKTYPE_PPP 9
#define FC_LINKTYPE_FDDI 10
#define FC_LINKTYPE_RAW 101
#define FC_LINKTYPE_C_HDLC 104
#define FC_LINKTYPE_LOOP 108
#define FC_LINKTYPE_LINUX_SLL 113
#define FC_LINKTYPE_IPV4 228
#define FC_LINKTYPE_IPV6 229
#define FC_LINKTYPE_NFLOG 239
#define FC_LINKTYPE_PKTAP 258
#define FC_LINKTYPE_LINUX_SLL2 276
/* DLT_RAW as libpcap reports it on some platforms (12 or 14). */
#define FC_DLT_RAW_12 12
#define FC_DLT_RAW_14 14

/*
 * Why a packet is not part of any flow. Every member has a stable name
 * (fc_nonflow_name()) used in --stats JSON and metrics. Keep
 * FC_NONFLOW__COUNT last. The "class" of each reason (not IP, truncated,
 * invalid, unsupported, ...) is given by fc_nonflow_class().
 */
enum fc_nonflow {
	FC_NF_NONE = 0,
	/* not IP at all: counted, never an error */
	FC_NF_ARP,		/* ARP / RARP */
	FC_NF_NONIP,		/* other ethertypes, LLC/STP/CDP, PPP control, ... */
	FC_NF_PPPOE_DISCOVERY,	/* PPPoE discovery stage (PADI, PADO, ...) */
	FC_NF_LINKTYPE,		/* link type we cannot decode */
	/* truncated: the capture ran out of bytes */
	FC_NF_TRUNC_L2,		/* link-layer header (Ethernet, SLL, NULL, ...) */
	FC_NF_TRUNC_VLAN,
	FC_NF_TRUNC_MPLS,
	FC_NF_TRUNC_PPPOE,
	FC_NF_TRUNC_IPV4,
	FC_NF_TRUNC_IPV6,
	FC_NF_TRUNC_IPV6_EXT,
	FC_NF_TRUNC_TCP,
	FC_NF_TRUNC_UDP,
	FC_NF_TRUNC_SCTP,
	FC_NF_TRUNC_ICMP,
	FC_NF_TRUNC_ICMPV6,
	/* invalid: fields disagree with each other */
	FC_NF_BAD_IP_VERSION,	/* version nibble is neither 4 nor 6 (or not the link's) */
	FC_NF_BAD_IPV4_IHL,	/* IHL < 5 */
	FC_NF_BAD_IPV4_LEN,	/* total length < IHL*4 */
	FC_NF_BAD_IPV6_LEN,	/* payload length shorter than its extension headers */
	FC_NF_BAD_TCP_OFF,	/* TCP data offset < 5 */
	FC_NF_BAD_UDP_LEN,	/* UDP length < 8 */
	FC_NF_BAD_FRAG,		/* first fragment too short to hold the L4 ports */
	/* unsupported: understood but beyond our bounds */
	FC_NF_VLAN_TOO_DEEP,	/* more than FC_VLAN_MAX_DEPTH tags */
	FC_NF_MPLS_TOO_DEEP,	/* no bottom-of-stack within FC_MPLS_MAX_DEPTH */
	FC_NF_MPLS_PAYLOAD,	/* MPLS payload neither IPv4 nor IPv6 */
	FC_NF_IPV6_EXT_TOO_MANY,/* more than FC_IPV6_EXT_MAX extension headers */
	/* fragments */
	FC_NF_FRAG_ORPHAN,	/* non-first fragment whose first fragment never came */
	/* filter */
	FC_NF_FILTERED,		/* rejected by the -f filter expression */
	FC_NONFLOW__COUNT
};

enum fc_nonflow_class {
	FC_NFC_NOT_IP,
	FC_NFC_TRUNCATED,
	FC_NFC_INVALID,
	FC_NFC_UNSUPPORTED,
	FC_NFC_FRAGMENT,
	FC_NFC_FILTERED,
	FC_NFC__COUNT
};

enum fc_tunnel_type {
	FC_TUN_NONE = 0,
	FC_TUN_GRE,		/* GRE (RFC 2784/2890), incl. transparent Ethernet bridging */
	FC_TUN_ERSPAN,		/* ERSPAN type II / III over GRE */
	FC_TUN_VXLAN,		/* VXLAN, UDP 4789 (RFC 7348) */
	FC_TUN_GENEVE,		/* Geneve, UDP 6081 (RFC 8926) */
	FC_TUN_IPIP,		/* IPv4/IPv6 in IPv4/IPv6 (protocols 4, 41) */
	FC_TUN_GTPU,		/* GTPv1-U G-PDU, UDP 2152 (3GPP TS 29.281); id = TEID */
	FC_TUN_GRE_UDP,		/* GRE-in-UDP, UDP 4754 (RFC 8086); id = GRE key */
	FC_TUN_MPLS_UDP,	/* MPLS-in-UDP, UDP 6635 (RFC 7510) */
	FC_TUN_TEREDO,		/* Teredo IPv6 over UDP 3544 (RFC 4380) */
	FC_TUN__COUNT
};

/* Addresses are stored in 16 bytes; IPv4 uses the first 4, rest zero. */
struct fc_addr {
	uint8_t b[16];
};

/*
 * Flow key as the decoder sees it: oriented sender -> receiver of this packet.
 * Ports are host order. For ICMP/ICMPv6: sport = type normalised to the
 * request type of a request/reply pair, dport = echo identifier for echo
 * and similar query messages, else the code; such keys are direction-free
 * (FC_KEYF_PORTS_SYMMETRIC) so request and reply meet.
 */
struct fc_flow_key {
	struct fc_addr src;
	struct fc_addr dst;
	uint16_t sport;
	uint16_t dport;
	uint16_t vlan;		/* outer VLAN id (12 bits), valid if FC_KEYF_VLAN */
	uint16_t vlan_inner;	/* second VLAN id, valid if FC_KEYF_VLAN2 */
	uint32_t tunnel_id;	/* VNI, GRE key, ERSPAN session id; 0 if none */
	uint8_t proto;		/* IANA protocol number */
	uint8_t family;		/* 4 or 6 */
	uint8_t tunnel_type;	/* enum fc_tunnel_type */
	uint8_t flags;		/* FC_KEYF_* */
};

#define FC_KEYF_VLAN 0x01
#define FC_KEYF_VLAN2 0x02
#define FC_KEYF_PORTS_SYMMETRIC 0x04

enum fc_pkt_kind {
	FC_PKT_FLOW = 0,	/* key is valid: joins a flow */
	FC_PKT_FRAG_LATER,	/* non-first IP fragment: key invalid, frag is valid */
	FC_PKT_NONFLOW,		/* nonflow says why */
};

/* Fragment identity (RFC 791 / RFC 8200 §4.5): who sent it, to whom, which datagram. */
struct fc_frag_id {
	struct fc_addr src;
	struct fc_addr dst;
	uint32_t id;		/* IPv4: 16-bit identification; IPv6: 32-bit */
	uint8_t proto;		/* IPv4 protocol; IPv6: 0 (not part of the id) */
	uint8_t family;
	uint16_t vlan;		/* same scoping as the flow key */
	uint32_t tunnel_id;
};

/* The outer endpoints of the tunnel that carried the flow (innermost tunnel). */
struct fc_tunnel_info {
	struct fc_addr src;
	struct fc_addr dst;
	uint32_t id;		/* VNI, GRE key, TEID, ... as seen on this packet */
	uint8_t family;
	uint8_t type;		/* enum fc_tunnel_type */
	uint8_t depth;		/* how many tunnels were followed into */
	uint8_t pad;
};

#define FC_PKTF_FRAG 0x01	/* this packet is an IP fragment */
#define FC_PKTF_FRAG_FIRST 0x02	/* ... and it is the first one (offset 0) */
#define FC_PKTF_TUNNEL 0x04	/* tunnel is valid */
#define FC_PKTF_TCP 0x08	/* tcp_flags/tcp_seq/tcp_ack/payload_len are valid */
#define FC_PKTF_L4_TRUNC 0x10	/* L4 header was complete but payload snapped */

struct fc_pkt {
	enum fc_pkt_kind kind;
	enum fc_nonflow nonflow;	/* valid when kind == FC_PKT_NONFLOW */
	uint32_t flags;			/* FC_PKTF_* */
	struct fc_flow_key key;		/* valid when kind == FC_PKT_FLOW */
	struct fc_frag_id frag;		/* valid when flags & FC_PKTF_FRAG */
	struct fc_tunnel_info tunnel;	/* valid when flags & FC_PKTF_TUNNEL */
	uint32_t ip_bytes;		/* IP octets of the flow's IP packet: header + payload */
	uint32_t payload_len;		/* L4 payload bytes per the IP/TCP headers */
	uint16_t tcp_flags;		/* tcpControlBits incl. NS/CWR/ECE (9 bits) */
	uint8_t icmp_type;		/* real type/code of an ICMP packet */
	uint8_t icmp_code;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t l3_family;		/* family of the flow's IP header */
};

/*
 * Decode one frame of link type `linktype` (LINKTYPE_* value; only the low
 * 16 bits are used) of `caplen` bytes. Fills *pkt completely. Never fails:
 * undecodable frames come back as FC_PKT_NONFLOW with a reason. Pure.
 */
void fc_decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
		     struct fc_pkt *pkt);

/* True when fc_decode_frame() knows this link type. */
bool fc_decode_linktype_supported(int linktype);

/* Stable snake_case name of a reason, e.g. "ipv4_truncated". */
const char *fc_nonflow_name(enum fc_nonflow nf);
enum fc_nonflow_class fc_nonflow_class(enum fc_nonflow nf);
const char *fc_nonflow_class_name(enum fc_nonflow_class c);
const char *fc_tunnel_type_name(enum fc_tunnel_type t);

#endif
