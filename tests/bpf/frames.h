/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frames.h - crafted Ethernet frames for the BPF tests and the benchmark:
 * any number of VLAN tags, IPv4 (with options, fragment bits) or IPv6
 * (with extension headers), then TCP, UDP or ICMP.
 */
#ifndef FC_TEST_FRAMES_H
#define FC_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct frame_spec {
	int family;			/* 4 or 6 */
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t proto;			/* 6, 17, 1, 58 */
	uint8_t tcp_flags;		/* default ACK */
	int ntags;
	uint16_t vids[10];
	int ip_opts_words;		/* IPv4 options, 4-byte words */
	uint16_t frag;			/* IPv4 flags+offset field */
	uint8_t exts[4];		/* IPv6 extension header types, in order */
	int nexts;
	int payload;
};

/* Writes the frame into buf; returns its length. */
static inline int frame_build(const struct frame_spec *s, uint8_t *buf)
{
	uint8_t *p = buf, *ip, *l4;
	int i, l4len, hl;
	uint8_t proto = s->proto ? s->proto : 6;

	memset(buf, 0, 1600);
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	p += 12;
	for (i = 0; i < s->ntags; i++) {
		*p++ = i == 0 && s->ntags > 1 ? 0x88 : 0x81;
		*p++ = i == 0 && s->ntags > 1 ? 0xa8 : 0x00;
		*p++ = (uint8_t)(s->vids[i] >> 8);
		*p++ = (uint8_t)s->vids[i];
	}
	*p++ = s->family == 4 ? 0x08 : 0x86;
	*p++ = s->family == 4 ? 0x00 : 0xdd;
	ip = p;
	l4len = (proto == 6 ? 20 : 8) + s->payload;
	if (s->family == 4) {
		hl = 20 + 4 * s->ip_opts_words;
		ip[0] = (uint8_t)(0x40 | (hl / 4));
		ip[2] = (uint8_t)((hl + l4len) >> 8), ip[3] = (uint8_t)(hl + l4len);
		ip[6] = (uint8_t)(s->frag >> 8), ip[7] = (uint8_t)s->frag;
		ip[8] = 64, ip[9] = proto;
		inet_pton(AF_INET, s->src, ip + 12);
		inet_pton(AF_INET, s->dst, ip + 16);
		for (i = 20; i < hl; i++)
			ip[i] = 1;	/* NOP options */
		l4 = ip + hl;
	} else {
		int ext = 0;
		uint8_t *h = ip + 40;

		ip[0] = 0x60;
		inet_pton(AF_INET6, s->src, ip + 8);
		inet_pton(AF_INET6, s->dst, ip + 24);
		ip[7] = 64;
		ip[6] = s->nexts ? s->exts[0] : proto;
		for (i = 0; i < s->nexts; i++) {
			h[0] = i + 1 < s->nexts ? s->exts[i + 1] : proto;
			if (s->exts[i] == 44) {
				h[1] = 0;
				h[3] = 1;	/* M flag: a first fragment */
			} else if (s->exts[i] == 51) {
				h[1] = 1;	/* AH: (1 + 2) * 4 = 12 octets */
			} else {
				h[1] = 0;	/* 8 octets */
				h[2] = 1;	/* PadN */
			}
			hl = s->exts[i] == 51 ? 12 : 8;
			h += hl;
			ext += hl;
		}
		ip[4] = (uint8_t)((ext + l4len) >> 8), ip[5] = (uint8_t)(ext + l4len);
		l4 = h;
	}
	l4[0] = (uint8_t)(s->sport >> 8), l4[1] = (uint8_t)s->sport;
	l4[2] = (uint8_t)(s->dport >> 8), l4[3] = (uint8_t)s->dport;
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = s->tcp_flags ? s->tcp_flags : 0x10;
	} else if (proto == 17) {
		l4[4] = (uint8_t)(l4len >> 8), l4[5] = (uint8_t)l4len;
	}
	return (int)(l4 + l4len - buf);
}

#endif
