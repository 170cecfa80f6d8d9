/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * siphash.h - SipHash (Aumasson & Bernstein, 2012), the keyed hash behind
 * the flow table index. A generic SipHash-c-d over bytes (for tests against
 * the reference vectors) and an inline SipHash-1-3 over 64-bit words for
 * the packet path. Both give the same value for the same bytes (words are
 * read little-endian, as the reference does).
 */
#ifndef FC_SIPHASH_H
#define FC_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct fc_siphash_key {
	uint64_t k0, k1;	/* the 128-bit key, k0 = little-endian bytes 0..7 */
};

/* Key from 16 bytes, little-endian halves as in the reference code. */
void fc_siphash_key__init(struct fc_siphash_key *k, const uint8_t bytes[16]);

/* SipHash-c-d of len bytes at msg. c = compression rounds, d = finalisation rounds. */
uint64_t fc_siphash(const struct fc_siphash_key *k, const void *msg, size_t len, int c, int d);

#define FC_SIPROUND(v0, v1, v2, v3)                                     \
	do {                                                            \
		v0 += v1; v1 = (v1 << 13) | (v1 >> 51); v1 ^= v0;       \
		v0 = (v0 << 32) | (v0 >> 32);                           \
		v2 += v3; v3 = (v3 << 16) | (v3 >> 48); v3 ^= v2;       \
		v0 += v3; v3 = (v3 << 21) | (v3 >> 43); v3 ^= v0;       \
		v2 += v1; v1 = (v1 << 17) | (v1 >> 47); v1 ^= v2;       \
		v2 = (v2 << 32) | (v2 >> 32);                           \
	} while (0)

/*
 * SipHash-1-3 of n 64-bit words (equal to fc_siphash(k, bytes, 8 * n, 1, 3)
 * on a little-endian host when w holds those bytes). O(n), no branches on data.
 */
static inline uint64_t fc_siphash13_words(const struct fc_siphash_key *k, const uint64_t *w, size_t n)
{
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)(8 * n) << 56;
	size_t i;

	for (i = 0; i < n; i++) {
		v3 ^= w[i];
		FC_SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v3 ^= b;
	FC_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	FC_SIPROUND(v0, v1, v2, v3);
	FC_SIPROUND(v0, v1, v2, v3);
	FC_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif
