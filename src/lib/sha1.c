// SPDX-License-Identifier: BSD-2-Clause
/*
 * sha1.c - SHA-1 per FIPS 180-4 section 6.1: 512-bit blocks, 80 rounds,
 * big-endian words. Owns nothing but the hash; the Community ID code is its
 * only user (one block per flow record). Portable C, no table lookups, no
 * allocation; on x86-64 CPUs with the SHA extensions the block function uses
 * them instead (~8x fewer instructions a block), chosen once at run time.
 */
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FC_SHA1_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "sha1.h"

static inline uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block_c(uint32_t h[5], const uint8_t *p)
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

#ifdef FC_SHA1_X86
/*
 * The same block with SHA-NI. The state is ABCD in one register (A in the
 * top lane) and E in the top lane of another; each sha1rnds4 does four rounds
 * with the round function chosen by its immediate (0..3 = rounds 0-19 ..
 * 60-79), sha1nexte folds E (rotated) into the next four message words, and
 * sha1msg1 / xor / sha1msg2 compute the schedule W[t] four words at a time,
 * t = 16..79, from the four registers M0..M3 that hold W[t-16..t-1].
 * Group g (rounds 4g..4g+3) uses M[g % 4] and, as it goes, advances the
 * words of groups g+2, g+3 and g+4 (each by the step of its recurrence
 * it can now take).
 */
#define SHA1_GROUP(g, Ecur, Enext, Mg, Mn1, Mp1, Mp2, f)                        \
	do {                                                                    \
		Ecur = (g) ? _mm_sha1nexte_epu32(Ecur, Mg) : _mm_add_epi32(Ecur, Mg); \
		Enext = abcd;                                                   \
		if ((g) >= 3 && (g) <= 18)                                      \
			Mn1 = _mm_sha1msg2_epu32(Mn1, Mg);                      \
		abcd = _mm_sha1rnds4_epu32(abcd, Ecur, f);                      \
		if ((g) >= 1 && (g) <= 16)                                      \
			Mp1 = _mm_sha1msg1_epu32(Mp1, Mg);                      \
		if ((g) >= 2 && (g) <= 17)                                      \
			Mp2 = _mm_xor_si128(Mp2, Mg);                           \
	} while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void sha1_block_ni(uint32_t h[5],
								      const uint8_t *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0x1b);
	__m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0), e1;
	__m128i abcd0 = abcd, e00 = e0;
	__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
	__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
	__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
	__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

	/* g:  Ecur Enext  M[g%4] M[(g+1)%4] M[(g-1)%4] M[(g-2)%4] f */
	SHA1_GROUP(0, e0, e1, m0, m1, m3, m2, 0);
	SHA1_GROUP(1, e1, e0, m1, m2, m0, m3, 0);
	SHA1_GROUP(2, e0, e1, m2, m3, m1, m0, 0);
	SHA1_GROUP(3, e1, e0, m3, m0, m2, m1, 0);
	SHA1_GROUP(4, e0, e1, m0, m1, m3, m2, 0);
	SHA1_GROUP(5, e1, e0, m1, m2, m0, m3, 1);
	SHA1_GROUP(6, e0, e1, m2, m3, m1, m0, 1);
	SHA1_GROUP(7, e1, e0, m3, m0, m2, m1, 1);
	SHA1_GROUP(8, e0, e1, m0, m1, m3, m2, 1);
	SHA1_GROUP(9, e1, e0, m1, m2, m0, m3, 1);
	SHA1_GROUP(10, e0, e1, m2, m3, m1, m0, 2);
	SHA1_GROUP(11, e1, e0, m3, m0, m2, m1, 2);
	SHA1_GROUP(12, e0, e1, m0, m1, m3, m2, 2);
	SHA1_GROUP(13, e1, e0, m1, m2, m0, m3, 2);
	SHA1_GROUP(14, e0, e1, m2, m3, m1, m0, 2);
	SHA1_GROUP(15, e1, e0, m3, m0, m2, m1, 3);
	SHA1_GROUP(16, e0, e1, m0, m1, m3, m2, 3);
	SHA1_GROUP(17, e1, e0, m1, m2, m0, m3, 3);
	SHA1_GROUP(18, e0, e1, m2, m3, m1, m0, 3);
	SHA1_GROUP(19, e1, e0, m3, m0, m2, m1, 3);
	e0 = _mm_sha1nexte_epu32(e0, e00);	/* E += rol(A of round 76, 30) */
	abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd0), 0x1b);
	_mm_storeu_si128((__m128i *)h, abcd);
	h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}
#undef SHA1_GROUP

/* CPUID, not __builtin_cpu_supports: clang 14 does not know "sha" there. */
static bool sha1_ni_available(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

/* 1 = SHA-NI, 0 = portable C, -1 = not chosen yet (relaxed atomics: every
 * thread that chooses makes the same choice). */
static int sha1_use_ni = -1;

bool fc_sha1__select(bool portable)
{
	bool ni = false;

#ifdef FC_SHA1_X86
	ni = !portable && sha1_ni_available();
#endif
	__atomic_store_n(&sha1_use_ni, ni, __ATOMIC_RELAXED);
	return ni || portable;
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
#ifdef FC_SHA1_X86
	int ni = __atomic_load_n(&sha1_use_ni, __ATOMIC_RELAXED);

	if (ni < 0) {
		ni = sha1_ni_available();
		__atomic_store_n(&sha1_use_ni, ni, __ATOMIC_RELAXED);
	}
	if (ni) {
		sha1_block_ni(h, p);
		return;
	}
#endif
	sha1_block_c(h, p);
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
