// SPDX-License-Identifier: BSD-2-Clause
/*
 * sha1.c - SHA-1 per FIPS 180-4 section 6.1: 512-bit blocks, 80 rounds,
 * big-endian words. Owns nothing but the hash; the Community ID code is its
 * only user. Portable C, no table lookups, no allocation.
 */
#include <string.h>

#include "sha1.h"

static inline uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	/* Four loops of 20 rounds, one function each: no branch per round, and
	 * the compiler unrolls them (one loop with the choice inside it cost
	 * 4 % of a capture's CPU, a SHA-1 per flow record). */
#define SHA1_ROUND(fexpr, kval)                                  \
	do {                                                     \
		t = rol32(a, 5) + (fexpr) + e + (kval) + w[i];   \
		e = d;                                           \
		d = c;                                           \
		c = rol32(b, 30);                                \
		b = a;                                           \
		a = t;                                           \
	} while (0)
	for (i = 0; i < 20; i++)
		SHA1_ROUND((b & c) | (~b & d), 0x5a827999u);
	for (; i < 40; i++)
		SHA1_ROUND(b ^ c ^ d, 0x6ed9eba1u);
	for (; i < 60; i++)
		SHA1_ROUND((b & c) | (b & d) | (c & d), 0x8f1bbcdcu);
	for (; i < 80; i++)
		SHA1_ROUND(b ^ c ^ d, 0xca62c1d6u);
#undef SHA1_ROUND
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void fc_sha1__init(struct fc_sha1 *s)
{
	s->h[0] = 0x67452301;
	s->h[1] = 0xefcdab89;
	s->h[2] = 0x98badcfe;
	s->h[3] = 0x10325476;
	s->h[4] = 0xc3d2e1f0;
	s->len = 0;
	s->nbuf = 0;
}

void fc_sha1__update(struct fc_sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	if (s->nbuf) {
		size_t n = 64 - s->nbuf;

		if (n > len)
			n = len;
		memcpy(s->buf + s->nbuf, p, n);
		s->nbuf += n;
		p += n;
		len -= n;
		if (s->nbuf < 64)
			return;
		sha1_block(s->h, s->buf);
		s->nbuf = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha1_block(s->h, p);
	memcpy(s->buf, p, len);
	s->nbuf = len;
}

void fc_sha1__final(struct fc_sha1 *s, uint8_t out[FC_SHA1_LEN])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72] = { 0x80 };
	size_t npad = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
	int i;

	for (i = 0; i < 8; i++)
		pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
	fc_sha1__update(s, pad, npad + 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void fc_sha1(const void *data, size_t len, uint8_t out[FC_SHA1_LEN])
{
	struct fc_sha1 s;

	fc_sha1__init(&s);
	fc_sha1__update(&s, data, len);
	fc_sha1__final(&s, out);
}
