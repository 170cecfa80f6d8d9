/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * oahash.h - what the store's two in-memory group tables share (the
 * summaries a query adds up in store_query.c, the rollup sums of the writer
 * in store_rollup.c): open addressing with linear probing over a
 * power-of-two array of fixed-size slots, each holding its 64-bit hash,
 * where a hash of 0 marks an empty slot.
 */
#ifndef FC_OAHASH_H
#define FC_OAHASH_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* murmur3's fmix64, then never 0: the slot bits depend on every input bit,
 * and 0 stays free for "empty". */
static inline uint64_t fc_oa_finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static inline uint64_t fc_oa__slot_hash(const unsigned char *slot, size_t hash_off)
{
	uint64_t h;

	memcpy(&h, slot + hash_off, sizeof(h));
	return h;
}

/*
 * Double the table at *slots (*cap slots of elem bytes, the hash at
 * hash_off; an empty table grows to first_cap) and re-place every entry.
 * 0, or -ENOMEM with the table unchanged.
 */
static inline int fc_oa_grow(void *slots, size_t *cap, size_t elem, size_t hash_off,
			     size_t first_cap)
{
	unsigned char *old = *(unsigned char **)slots, *n;
	size_t ncap = *cap ? *cap * 2 : first_cap, i, j;

	n = calloc(ncap, elem);
	if (!n)
		return -ENOMEM;
	for (i = 0; i < *cap; i++) {
		uint64_t h = fc_oa__slot_hash(old + i * elem, hash_off);

		if (!h)
			continue;
		for (j = h & (ncap - 1); fc_oa__slot_hash(n + j * elem, hash_off); j = (j + 1) & (ncap - 1))
			;
		memcpy(n + j * elem, old + i * elem, elem);
	}
	free(old);
	*(unsigned char **)slots = n;
	*cap = ncap;
	return 0;
}

#endif
