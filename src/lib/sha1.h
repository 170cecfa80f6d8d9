/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sha1.h - SHA-1 (FIPS 180-4), small and self-contained. Used only for
 * Community ID hashing; not for anything that needs collision resistance.
 */
#ifndef FC_SHA1_H
#define FC_SHA1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_SHA1_LEN 20

struct fc_sha1 {
	uint32_t h[5];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;		/* bytes waiting in buf */
};

void fc_sha1__init(struct fc_sha1 *s);
void fc_sha1__update(struct fc_sha1 *s, const void *data, size_t len);
/* Writes the digest; the context must be re-initialised before reuse. */
void fc_sha1__final(struct fc_sha1 *s, uint8_t out[FC_SHA1_LEN]);

/*
 * Chooses the block function for the whole process: portable C, or the
 * CPU's SHA extensions where it has them (the default). Returns false if
 * the SHA extensions were asked for and this CPU has none (C is then used).
 */
bool fc_sha1__select(bool portable);

/* One-shot convenience. */
void fc_sha1(const void *data, size_t len, uint8_t out[FC_SHA1_LEN]);

#endif
