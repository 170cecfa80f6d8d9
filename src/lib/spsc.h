/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spsc.h - a bounded single-producer/single-consumer ring of flow records,
 * lock-free with C11 atomics. The capacity is a power of two; head and tail
 * are free-running 64-bit counters (they never wrap in practice), so "full"
 * is tail - head == cap and no slot is wasted. The producer owns tail, the
 * consumer owns head; each keeps a cached copy of the other's counter so a
 * push or pop touches the shared cache line only when the cache says the
 * ring looks full (or empty).
 *
 * Records are copied in and out: the producer never allocates.
 */
#ifndef FC_SPSC_H
#define FC_SPSC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/record.h"

struct fc_spsc {
	/* producer side */
	_Alignas(64) _Atomic uint64_t tail;
	uint64_t head_cache;
	/* consumer side */
	_Alignas(64) _Atomic uint64_t head;
	uint64_t tail_cache;
	/* read-only after init */
	_Alignas(64) uint64_t mask;
	struct fc_flow_rec *slots;
};

/* cap must be a power of two >= 2. Returns 0 or -EINVAL / -ENOMEM. */
static inline int fc_spsc__init(struct fc_spsc *r, uint64_t cap)
{
	memset(r, 0, sizeof(*r));
	if (cap < 2 || (cap & (cap - 1)) || cap > (1ull << 32))
		return -EINVAL;
	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	r->mask = cap - 1;
	return 0;
}

static inline void fc_spsc__fini(struct fc_spsc *r)
{
	free(r->slots);
	r->slots = NULL;
}

/* Producer: copy rec in. Returns false when the ring is full (nothing copied). */
static inline bool fc_spsc__push(struct fc_spsc *r, const struct fc_flow_rec *rec)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (t - r->head_cache > r->mask) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t - r->head_cache > r->mask)
			return false;
	}
	r->slots[t & r->mask] = *rec;
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

/* Consumer: copy up to max records out, in order. Returns how many. */
static inline size_t fc_spsc__pop(struct fc_spsc *r, struct fc_flow_rec *out, size_t max)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t n = 0;

	if (r->tail_cache == h)
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	while (n < max && h != r->tail_cache) {
		out[n++] = r->slots[h & r->mask];
		h++;
	}
	if (n)
		atomic_store_explicit(&r->head, h, memory_order_release);
	return n;
}

/* Either side: records in the ring now (a snapshot). */
static inline uint64_t fc_spsc__count(struct fc_spsc *r)
{
	return atomic_load_explicit(&r->tail, memory_order_acquire) -
	       atomic_load_explicit(&r->head, memory_order_acquire);
}

#endif
