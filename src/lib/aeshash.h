/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aeshash.h - a keyed hash of 64-bit words built from AES rounds (AES-NI),
 * the flow table's index hash on CPUs that have the instructions; the
 * table falls back to SipHash-1-3 (siphash.h) on the others.
 *
 * Why not SipHash everywhere: SipHash-1-3 of a 24-byte IPv4 key is seven
 * SipRounds, ~160 instructions per packet, 10 % of a read's and 16 % of a
 * capture worker's instructions. The AES round instruction does a full
 * round of a 128-bit permutation in one instruction.
 *
 * Construction (the idea of Go's runtime hash and of aHash, not their code):
 * the message is cut into 128-bit blocks; block i, xor-ed with its own
 * secret key, goes through two AES rounds with secret round keys; the
 * blocks are then xor-ed together with the length and go through two more
 * rounds. All six 128-bit keys are drawn from the table's random seed.
 * What an attacker who sees neither keys nor hashes would need for a
 * collision is the output difference of two keyed AES rounds for an input
 * difference he chooses: after two rounds a one-byte difference reaches
 * all 16 bytes through four S-boxes whose inputs depend on unknown key
 * bytes, so guessing right has a probability around 2^-30 per attempt
 * (one key byte for the first S-box, four for the second round's), where
 * a single round would leave a 2^-8 guess per family of colliding keys.
 * This is a hash-flooding defence, not a MAC: it is not meant to resist
 * an attacker who can query hash values.
 */
#ifndef FC_AESHASH_H
#define FC_AESHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define FC_AESHASH_X86 1
/* For a caller's function that inlines fc_aeshash_words(). */
#define FC_AESHASH_TARGET __attribute__((target("aes,sse2")))
#else
#define FC_AESHASH_TARGET
#endif

struct fc_aeshash_key {
	uint64_t k[6][2];	/* whitening keys of blocks 0-2, round keys r1, r2, final */
};

/* Derive the six 128-bit keys from a SipHash key (the table's seed). */
static inline void fc_aeshash_key__init(struct fc_aeshash_key *ak, const struct fc_siphash_key *sk)
{
	uint64_t i;

	for (i = 0; i < 12; i++) {
		uint64_t w = 0xae5ae5ae5ae50000ULL | i;

		ak->k[i / 2][i % 2] = fc_siphash13_words(sk, &w, 1);
	}
}

#ifdef FC_AESHASH_X86
/* True if this CPU has AES-NI (then fc_aeshash_words may be called). */
static inline bool fc_aeshash_available(void)
{
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse2");
}

__attribute__((target("aes,sse2"))) static inline __m128i fc_aeshash__load(const uint64_t k[2])
{
	return _mm_set_epi64x((long long)k[1], (long long)k[0]);
}

/*
 * Hash n (2 <= n <= 6, even or odd) 64-bit words: blocks of two words, the
 * last one padded with zero. Returns 64 bits.
 */
__attribute__((target("aes,sse2"))) static inline uint64_t
fc_aeshash_words(const struct fc_aeshash_key *ak, const uint64_t *w, size_t n)
{
	const __m128i r1 = fc_aeshash__load(ak->k[3]), r2 = fc_aeshash__load(ak->k[4]);
	__m128i acc = _mm_set_epi64x(0, (long long)n), b;
	size_t i;

	for (i = 0; i < n; i += 2) {
		b = _mm_set_epi64x(i + 1 < n ? (long long)w[i + 1] : 0, (long long)w[i]);
		b = _mm_xor_si128(b, fc_aeshash__load(ak->k[i / 2]));
		b = _mm_aesenc_si128(b, r1);
		b = _mm_aesenc_si128(b, r2);
		acc = _mm_xor_si128(acc, b);
	}
	acc = _mm_aesenc_si128(acc, fc_aeshash__load(ak->k[5]));
	acc = _mm_aesenc_si128(acc, r1);
	return (uint64_t)_mm_cvtsi128_si64(acc) ^ (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
}
#else
static inline bool fc_aeshash_available(void)
{
	return false;
}

static inline uint64_t fc_aeshash_words(const struct fc_aeshash_key *ak, const uint64_t *w, size_t n)
{
	(void)ak, (void)w, (void)n;
	return 0;	/* never called: fc_aeshash_available() is false */
}
#endif

#endif
