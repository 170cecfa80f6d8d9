/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.h - the finished flow record: the interface every output (JSON
 * lines today, sinks later) builds on. One record per flow end, and one per
 * active-timeout interval of a long flow (same flow_id, same direction).
 *
 * src is the initiator: the sender of the flow's first packet, or the SYN
 * sender when a SYN-ACK was seen first. "forward" counters are src -> dst,
 * "r" counters dst -> src. Bytes are IP octets (IP header + payload) of the
 * flow's IP packet (the inner one for tunnelled traffic).
 */
#ifndef FLOWCUT_RECORD_H
#define FLOWCUT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/pkt.h"

enum fc_end_reason {
	FC_END_FIN = 0,		/* TCP: FIN seen both ways */
	FC_END_RST,		/* TCP: reset */
	FC_END_IDLE,		/* idle timeout */
	FC_END_ACTIVE,		/* active timeout: interim record, flow goes on */
	FC_END_EOF,		/* end of input file */
	FC_END_EVICTED,		/* table full: least recently seen flow pushed out */
	FC_END_SHUTDOWN,	/* monitor stopped (live capture) */
	FC_END__COUNT
};

/* TCP connection state, Zeek's conn_state vocabulary. */
enum fc_tcp_state {
	FC_TCP_S0 = 0,	/* SYN seen, no reply */
	FC_TCP_S1,	/* established, not terminated */
	FC_TCP_SF,	/* normal establishment and termination */
	FC_TCP_REJ,	/* SYN answered by RST */
	FC_TCP_S2,	/* established, originator sent FIN, nothing from responder */
	FC_TCP_S3,	/* established, responder sent FIN, nothing from originator */
	FC_TCP_RSTO,	/* established, originator aborted (RST) */
	FC_TCP_RSTR,	/* established, responder aborted */
	FC_TCP_RSTOS0,	/* originator sent SYN then RST, no SYN-ACK seen */
	FC_TCP_RSTRH,	/* responder sent SYN-ACK then RST, no SYN from originator */
	FC_TCP_SH,	/* originator sent SYN then FIN, no SYN-ACK */
	FC_TCP_SHR,	/* responder sent SYN-ACK then FIN, no SYN from originator */
	FC_TCP_OTH,	/* no SYN seen, midstream traffic */
	FC_TCP__COUNT
};

#define FC_HISTORY_MAX 24	/* history letters kept per flow (NUL not included) */
#define FC_COMMUNITY_ID_LEN 31	/* "1:" + 28 base64 chars + NUL */

struct fc_bypass_share {
	uint64_t pkts, bytes;	/* kernel-counted, initiator -> responder */
	uint64_t rpkts, rbytes;	/* kernel-counted, responder -> initiator */
	uint64_t start_ns;	/* when the flow was handed to the kernel; 0 = never */
};

struct fc_flow_rec {
	uint64_t flow_id;	/* unique per flow within a run; interim records share it */
	uint64_t start_ns;	/* first packet of this record's interval, epoch ns */
	uint64_t end_ns;	/* last packet of this record's interval, epoch ns */
	struct fc_addr src, dst;
	uint16_t sport, dport;	/* host order; ICMP: type and code of the first packet */
	uint16_t vlan, vlan_inner;
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* IANA protocol number */
	uint8_t has_vlan;	/* 0, 1 (vlan) or 2 (vlan and vlan_inner) */
	uint8_t end_reason;	/* enum fc_end_reason */
	uint32_t icmp_id;	/* echo identifier when has_icmp_id */
	uint8_t has_icmp_id;
	uint8_t tcp_state;	/* enum fc_tcp_state, TCP only */
	uint16_t tcp_flags;	/* OR of initiator's tcpControlBits */
	uint16_t rtcp_flags;	/* OR of responder's tcpControlBits */
	uint8_t has_tunnel;
	uint8_t pad0;
	uint32_t tunnel_id;
	struct fc_tunnel_info tunnel;
	uint64_t pkts, bytes;	/* initiator -> responder, incl. any bypass share */
	uint64_t rpkts, rbytes;	/* responder -> initiator, incl. any bypass share */
	struct fc_bypass_share bypass;
	char history[FC_HISTORY_MAX + 1];	/* Zeek-style history letters, TCP only */
	char community_id[FC_COMMUNITY_ID_LEN];
};

const char *fc_end_reason_name(enum fc_end_reason r);
const char *fc_tcp_state_name(enum fc_tcp_state s);

/*
 * Format one record as a JSON object (no trailing newline) into buf.
 * Returns the length written (excluding NUL), or a negative errno
 * (-ENOSPC if cap is too small; 1024 bytes is always enough).
 */
int fc_record_to_json(const struct fc_flow_rec *rec, char *buf, size_t cap);

/* Format an address as text (IPv4 dotted quad, IPv6 per RFC 5952). */
void fc_addr_to_str(const struct fc_addr *a, int family, char *buf, size_t cap);

/* Parse IPv4 or IPv6 text into *a (zero-filled first): 4, 6, or -EINVAL. */
int fc_addr_from_str(const char *s, struct fc_addr *a);

#endif
