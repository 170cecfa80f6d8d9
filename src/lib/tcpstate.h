/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpstate.h - TCP connection state and history in Zeek's vocabulary
 * (conn.log conn_state and history), as a small value type updated one
 * packet at a time. Pure: no I/O, no allocation, no clock.
 *
 * Directions are relative to the flow's originator (dir 0 = originator ->
 * responder, 1 = responder -> originator); the flow table decides who the
 * originator is. History keeps each letter the first time it is seen per
 * direction (Zeek's rule for S H A D F R I Q); the repeat-counted letters
 * C T W need checksums, sequence tracking and windows that we do not keep.
 */
#ifndef FC_TCPSTATE_H
#define FC_TCPSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "flowcut/record.h"

#define FC_TCPF_FIN 0x001
#define FC_TCPF_SYN 0x002
#define FC_TCPF_RST 0x004
#define FC_TCPF_PSH 0x008
#define FC_TCPF_ACK 0x010
#define FC_TCPF_URG 0x020
#define FC_TCPF_ECE 0x040
#define FC_TCPF_CWR 0x080
#define FC_TCPF_NS 0x100

/* Endpoint states, after Zeek's TCP_ENDPOINT_* */
enum fc_tcp_ep {
	FC_TCP_EP_INACTIVE = 0,
	FC_TCP_EP_SYN_SENT,
	FC_TCP_EP_SYN_ACK_SENT,
	FC_TCP_EP_PARTIAL,
	FC_TCP_EP_ESTABLISHED,
	FC_TCP_EP_CLOSED,
	FC_TCP_EP_RESET,
};

/*
 * 12 bytes; zero-initialised is the valid initial state. History letters
 * are 4-bit codes (0..7 = S H A D F R I Q of the originator, 8..15 the same
 * letters of the responder), packed low nibble first.
 */
struct fc_tcpstate {
	uint32_t hist[2];	/* up to 16 letter codes, 8 per word */
	uint16_t seen;		/* bit per letter code already in hist */
	uint8_t hlen;		/* letters in hist */
	uint8_t ep;		/* bits 0-2 originator state, 3-5 responder, 6-7 data seen (orig, resp) */
};

/* Account one TCP segment: flags are the 9 tcpControlBits, payload_len its payload bytes. */
void fc_tcpstate__update(struct fc_tcpstate *ts, int dir, uint16_t flags, uint32_t payload_len);

enum fc_tcp_state fc_tcpstate__conn_state(const struct fc_tcpstate *ts);

/* Writes the history as a NUL-terminated string (at most FC_HISTORY_MAX letters). */
void fc_tcpstate__history(const struct fc_tcpstate *ts, char out[FC_HISTORY_MAX + 1]);

static inline enum fc_tcp_ep fc_tcpstate__ep(const struct fc_tcpstate *ts, int dir)
{
	return (enum fc_tcp_ep)((ts->ep >> (3 * dir)) & 7);
}

/* The connection is over: FIN seen both ways, or a RST either way. */
static inline bool fc_tcpstate__closed(const struct fc_tcpstate *ts)
{
	enum fc_tcp_ep o = fc_tcpstate__ep(ts, 0), r = fc_tcpstate__ep(ts, 1);

	return o == FC_TCP_EP_RESET || r == FC_TCP_EP_RESET ||
	       (o == FC_TCP_EP_CLOSED && r == FC_TCP_EP_CLOSED);
}

static inline bool fc_tcpstate__reset(const struct fc_tcpstate *ts)
{
	return fc_tcpstate__ep(ts, 0) == FC_TCP_EP_RESET || fc_tcpstate__ep(ts, 1) == FC_TCP_EP_RESET;
}

#endif
