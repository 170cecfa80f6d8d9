/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_le.h - the little-endian integers inside the flow store's packed
 * blobs (rollup parts, store_rollup.c; address postings, store_post.c).
 * Byte by byte, so a store file reads the same on any host.
 */
#ifndef FC_STORE_LE_H
#define FC_STORE_LE_H

#include <stdint.h>

/* The low n octets of v at p, least significant first. */
static inline void fc_store_put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t fc_store_get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
