// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcpstate.c - Zeek-style TCP endpoint states, conn_state and history.
 *
 * The endpoint machine is a reduced form of Zeek's TCP analyzer
 * (TCP_ENDPOINT_INACTIVE .. RESET): a SYN moves an inactive endpoint to
 * SYN_SENT, a SYN-ACK to SYN_ACK_SENT and, answering a SYN, establishes
 * both ends; FIN closes an endpoint, RST resets it; anything else from an
 * inactive endpoint makes it PARTIAL (midstream). conn_state() is a
 * transcription of Zeek's base/protocols/conn/main.zeek conn_state(), and
 * the history letters follow Zeek's update_history(): one of S/H (SYN,
 * SYN-ACK), F, R for a packet with exactly one of SYN/FIN/RST; I for
 * FIN+RST, Q for other multi-flag packets; otherwise D for payload, A for a
 * pure ACK. Uppercase = originator, lowercase = responder.
 */
#include "tcpstate.h"

enum { L_S, L_H, L_A, L_D, L_F, L_R, L_I, L_Q, L__COUNT };

static const char letters[L__COUNT + 1] = "SHADFRIQ";

static void set_ep(struct fc_tcpstate *ts, int dir, enum fc_tcp_ep s)
{
	ts->ep = (uint8_t)((ts->ep & ~(7u << (3 * dir))) | ((unsigned)s << (3 * dir)));
}

static void add_letter(struct fc_tcpstate *ts, int dir, int letter)
{
	unsigned code = (unsigned)letter + (dir ? L__COUNT : 0);

	if (ts->seen & (1u << code))
		return;
	ts->seen |= (uint16_t)(1u << code);
	if (ts->hlen >= 16 || ts->hlen >= FC_HISTORY_MAX)
		return;
	ts->hist[ts->hlen >> 3] |= code << (4 * (ts->hlen & 7));
	ts->hlen++;
}

static void update_history(struct fc_tcpstate *ts, int dir, uint16_t flags, uint32_t payload_len)
{
	int syn = !!(flags & FC_TCPF_SYN), fin = !!(flags & FC_TCPF_FIN), rst = !!(flags & FC_TCPF_RST);
	int bits = syn + fin + rst;

	if (bits > 1)
		add_letter(ts, dir, fin && rst ? L_I : L_Q);
	else if (syn)
		add_letter(ts, dir, flags & FC_TCPF_ACK ? L_H : L_S);
	else if (fin)
		add_letter(ts, dir, L_F);
	else if (rst)
		add_letter(ts, dir, L_R);
	else if (payload_len)
		add_letter(ts, dir, L_D);
	else if (flags & FC_TCPF_ACK)
		add_letter(ts, dir, L_A);
}

void fc_tcpstate__update(struct fc_tcpstate *ts, int dir, uint16_t flags, uint32_t payload_len)
{
	int peer = !dir;
	enum fc_tcp_ep e = fc_tcpstate__ep(ts, dir), p = fc_tcpstate__ep(ts, peer);
	bool syn = flags & FC_TCPF_SYN, ack = flags & FC_TCPF_ACK;
	bool fin = flags & FC_TCPF_FIN, rst = flags & FC_TCPF_RST;

	update_history(ts, dir, flags, payload_len);
	if (payload_len)
		ts->ep |= (uint8_t)(0x40u << dir);
	if (e == FC_TCP_EP_RESET)
		return;	/* nothing revives a reset endpoint within one flow */

	if (rst) {
		set_ep(ts, dir, FC_TCP_EP_RESET);
		return;
	}
	if (syn && ack) {
		if (e == FC_TCP_EP_INACTIVE || e == FC_TCP_EP_SYN_SENT)
			e = FC_TCP_EP_SYN_ACK_SENT;
		if (e == FC_TCP_EP_SYN_ACK_SENT &&
		    (p == FC_TCP_EP_SYN_SENT || p == FC_TCP_EP_SYN_ACK_SENT)) {
			e = FC_TCP_EP_ESTABLISHED;
			set_ep(ts, peer, FC_TCP_EP_ESTABLISHED);
		}
	} else if (syn) {
		if (e == FC_TCP_EP_INACTIVE)
			e = FC_TCP_EP_SYN_SENT;
		/* SYN after the peer's SYN-ACK: the two were captured reversed */
		if (e == FC_TCP_EP_SYN_SENT && p == FC_TCP_EP_SYN_ACK_SENT) {
			e = FC_TCP_EP_ESTABLISHED;
			set_ep(ts, peer, FC_TCP_EP_ESTABLISHED);
		}
	} else if (e == FC_TCP_EP_INACTIVE) {
		e = FC_TCP_EP_PARTIAL;
	}
	if (fin)
		e = FC_TCP_EP_CLOSED;
	set_ep(ts, dir, e);
}

/* Zeek: /\^?S[^HAFGIQ]*R.*\/ == history  (SYN, then no handshake/close from us, then our RST) */
static unsigned letter_at(const struct fc_tcpstate *ts, unsigned i)
{
	return (ts->hist[i >> 3] >> (4 * (i & 7))) & 15;
}

static bool rstos0_history(const struct fc_tcpstate *ts)
{
	unsigned i;

	if (ts->hlen == 0 || letter_at(ts, 0) != L_S)
		return false;
	for (i = 1; i < ts->hlen; i++) {
		unsigned code = letter_at(ts, i);

		if (code == L_R)
			return true;
		if (code == L_H || code == L_A || code == L_F || code == L_I || code == L_Q)
			return false;
	}
	return false;
}

enum fc_tcp_state fc_tcpstate__conn_state(const struct fc_tcpstate *ts)
{
	enum fc_tcp_ep os = fc_tcpstate__ep(ts, 0), rs = fc_tcpstate__ep(ts, 1);
	bool o_inactive = os == FC_TCP_EP_INACTIVE || os == FC_TCP_EP_PARTIAL;
	bool r_inactive = rs == FC_TCP_EP_INACTIVE || rs == FC_TCP_EP_PARTIAL;
	bool no_data = !(ts->ep & 0xc0);

	if (rs == FC_TCP_EP_RESET) {
		if (os == FC_TCP_EP_SYN_SENT || os == FC_TCP_EP_SYN_ACK_SENT ||
		    (os == FC_TCP_EP_RESET && no_data))
			return FC_TCP_REJ;
		return o_inactive ? FC_TCP_RSTRH : FC_TCP_RSTR;
	}
	if (os == FC_TCP_EP_RESET) {
		if (r_inactive)
			return rstos0_history(ts) ? FC_TCP_RSTOS0 : FC_TCP_OTH;
		return FC_TCP_RSTO;
	}
	if (rs == FC_TCP_EP_CLOSED && os == FC_TCP_EP_CLOSED)
		return FC_TCP_SF;
	if (os == FC_TCP_EP_CLOSED)
		return r_inactive ? FC_TCP_SH : FC_TCP_S2;
	if (rs == FC_TCP_EP_CLOSED)
		return o_inactive ? FC_TCP_SHR : FC_TCP_S3;
	if (os == FC_TCP_EP_SYN_SENT && rs == FC_TCP_EP_INACTIVE)
		return FC_TCP_S0;
	if (os == FC_TCP_EP_ESTABLISHED && rs == FC_TCP_EP_ESTABLISHED)
		return FC_TCP_S1;
	return FC_TCP_OTH;
}

void fc_tcpstate__history(const struct fc_tcpstate *ts, char out[FC_HISTORY_MAX + 1])
{
	unsigned i;

	for (i = 0; i < ts->hlen; i++) {
		unsigned code = letter_at(ts, i);
		char c = letters[code % L__COUNT];

		out[i] = code >= L__COUNT ? (char)(c - 'A' + 'a') : c;
	}
	out[i] = '\0';
}
