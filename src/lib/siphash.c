// SPDX-License-Identifier: BSD-2-Clause
/*
 * siphash.c - the byte-oriented SipHash-c-d, kept beside the inline word
 * version in siphash.h so the two can be checked against each other and
 * against the reference vectors (https://github.com/veorq/SipHash).
 */
#include "siphash.h"

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void fc_siphash_key__init(struct fc_siphash_key *k, const uint8_t bytes[16])
{
	k->k0 = load_le64(bytes);
	k->k1 = load_le64(bytes + 8);
}

uint64_t fc_siphash(const struct fc_siphash_key *k, const void *msg, size_t len, int c, int d)
{
	const uint8_t *p = msg;
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, m;
	size_t left = len & 7, i;
	int r;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		for (r = 0; r < c; r++)
			FC_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (; left; left--)
		b |= (uint64_t)p[i + left - 1] << (8 * (left - 1));
	v3 ^= b;
	for (r = 0; r < c; r++)
		FC_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		FC_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
