// SPDX-License-Identifier: BSD-2-Clause
/*
 * fragtab.c - bounded, timed fragment table (see fragtab.h).
 *
 * Entries live in one array allocated at creation. A bucket array of uint32
 * heads chains entries by hash; a FIFO list in creation order gives both the
 * timeout order and the victim when the table is full (the oldest datagram).
 * Fragments are rare next to whole packets, so clarity wins over speed here;
 * the hash is keyed with a random seed all the same, as crafted fragments are
 * a classic way to flood such a table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flowcut/fragtab.h"

#define NIL UINT32_MAX

struct frag_entry {
	struct fc_frag_id id;
	struct fc_flow_key key;		/* valid when has_key */
	uint64_t created_ns;
	uint32_t next;			/* bucket chain */
	uint32_t older, newer;		/* FIFO by creation */
	uint8_t has_key;
	uint8_t npending;
	struct fc_frag_pending pending[FC_FRAG_PENDING_MAX];
};

struct fc_fragtab {
	struct frag_entry *e;
	uint32_t *bucket;
	uint32_t mask;			/* buckets - 1 */
	uint32_t max;
	uint32_t count;
	uint32_t free_head;		/* free list through .next */
	uint32_t oldest, newest;
	uint64_t timeout_ns;
	uint64_t seed;
};

struct fc_fragtab *fc_fragtab__new(uint32_t max_entries, uint64_t timeout_ns)
{
	struct fc_fragtab *ft;
	uint32_t nb = 16, i;

	if (!max_entries || max_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < max_entries)
		nb <<= 1;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	ft->e = calloc(max_entries, sizeof(*ft->e));
	ft->bucket = malloc(nb * sizeof(*ft->bucket));
	if (!ft->e || !ft->bucket) {
		fc_fragtab__free(ft);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < nb; i++)
		ft->bucket[i] = NIL;
	for (i = 0; i < max_entries; i++)
		ft->e[i].next = i + 1 < max_entries ? i + 1 : NIL;
	ft->mask = nb - 1;
	ft->max = max_entries;
	ft->free_head = 0;
	ft->oldest = ft->newest = NIL;
	ft->timeout_ns = timeout_ns;
	if (getrandom(&ft->seed, sizeof(ft->seed), GRND_NONBLOCK) != sizeof(ft->seed))
		ft->seed = (uint64_t)(uintptr_t)ft ^ 0x9e3779b97f4a7c15ULL;
	return ft;
}

void fc_fragtab__free(struct fc_fragtab *ft)
{
	if (!ft)
		return;
	free(ft->e);
	free(ft->bucket);
	free(ft);
}

static uint32_t hash_id(const struct fc_fragtab *ft, const struct fc_frag_id *id)
{
	/* FNV-1a over the id, started from the random seed, then mixed. */
	const uint8_t *p = (const uint8_t *)id;
	uint64_t h = ft->seed ^ 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*id); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h & ft->mask;
}

static uint32_t find(const struct fc_fragtab *ft, const struct fc_frag_id *id, uint32_t b)
{
	uint32_t i;

	for (i = ft->bucket[b]; i != NIL; i = ft->e[i].next)
		if (!memcmp(&ft->e[i].id, id, sizeof(*id)))
			return i;
	return NIL;
}

static void fifo_unlink(struct fc_fragtab *ft, uint32_t i)
{
	struct frag_entry *e = &ft->e[i];

	if (e->older != NIL)
		ft->e[e->older].newer = e->newer;
	else
		ft->oldest = e->newer;
	if (e->newer != NIL)
		ft->e[e->newer].older = e->older;
	else
		ft->newest = e->older;
}

/* Remove entry i; returns how many pending fragments it orphans. */
static uint32_t remove_entry(struct fc_fragtab *ft, uint32_t i)
{
	struct frag_entry *e = &ft->e[i];
	uint32_t *pp = &ft->bucket[hash_id(ft, &e->id)];
	uint32_t orphans = e->npending;

	while (*pp != i)
		pp = &ft->e[*pp].next;
	*pp = e->next;
	fifo_unlink(ft, i);
	e->next = ft->free_head;
	ft->free_head = i;
	ft->count--;
	return orphans;
}

static uint32_t insert(struct fc_fragtab *ft, const struct fc_frag_id *id, uint32_t b,
		       uint64_t now_ns, uint64_t *orphans)
{
	struct frag_entry *e;
	uint32_t i;

	if (ft->free_head == NIL)
		*orphans += remove_entry(ft, ft->oldest);
	i = ft->free_head;
	e = &ft->e[i];
	ft->free_head = e->next;
	memset(e, 0, sizeof(*e));
	e->id = *id;
	e->created_ns = now_ns;
	e->next = ft->bucket[b];
	ft->bucket[b] = i;
	e->older = ft->newest;
	e->newer = NIL;
	if (ft->newest != NIL)
		ft->e[ft->newest].newer = i;
	else
		ft->oldest = i;
	ft->newest = i;
	ft->count++;
	return i;
}

int fc_fragtab__first(struct fc_fragtab *ft, const struct fc_frag_id *id,
		      const struct fc_flow_key *key, uint64_t now_ns,
		      struct fc_frag_pending out[FC_FRAG_PENDING_MAX], uint64_t *orphans)
{
	uint32_t b = hash_id(ft, id);
	uint32_t i = find(ft, id, b);
	int n;

	if (i == NIL)
		i = insert(ft, id, b, now_ns, orphans);
	ft->e[i].key = *key;
	ft->e[i].has_key = 1;
	n = ft->e[i].npending;
	memcpy(out, ft->e[i].pending, (size_t)n * sizeof(*out));
	ft->e[i].npending = 0;
	return n;
}

int fc_fragtab__later(struct fc_fragtab *ft, const struct fc_frag_id *id, uint32_t ip_bytes,
		      uint64_t now_ns, struct fc_flow_key *key, uint64_t *orphans)
{
	uint32_t b = hash_id(ft, id);
	uint32_t i = find(ft, id, b);
	struct frag_entry *e;

	if (i == NIL)
		i = insert(ft, id, b, now_ns, orphans);
	e = &ft->e[i];
	if (e->has_key) {
		*key = e->key;
		return 1;
	}
	if (e->npending == FC_FRAG_PENDING_MAX) {
		(*orphans)++;
		return 0;
	}
	e->pending[e->npending].ts_ns = now_ns;
	e->pending[e->npending].ip_bytes = ip_bytes;
	e->npending++;
	return 0;
}

uint64_t fc_fragtab__expire(struct fc_fragtab *ft, uint64_t now_ns)
{
	uint64_t orphans = 0;

	while (ft->oldest != NIL && ft->e[ft->oldest].created_ns + ft->timeout_ns <= now_ns)
		orphans += remove_entry(ft, ft->oldest);
	return orphans;
}

uint64_t fc_fragtab__flush(struct fc_fragtab *ft)
{
	uint64_t orphans = 0;

	while (ft->oldest != NIL)
		orphans += remove_entry(ft, ft->oldest);
	return orphans;
}

uint32_t fc_fragtab__count(const struct fc_fragtab *ft)
{
	return ft->count;
}
