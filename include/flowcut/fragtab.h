/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fragtab.h - the fragment table: remembers, for a bounded time, which flow
 * the first fragment of each IP datagram belonged to, so that the later
 * fragments (which carry no ports) are counted in that flow.
 *
 * Later fragments that arrive before their first fragment are held as
 * "pending" (timestamp and size only, at most FC_FRAG_PENDING_MAX per
 * datagram) and attached when the first fragment comes. Whatever is still
 * pending when an entry times out, is evicted or is flushed becomes an
 * orphan, and the table reports how many. Memory is allocated once.
 */
#ifndef FLOWCUT_FRAGTAB_H
#define FLOWCUT_FRAGTAB_H

#include <stdint.h>

#include "flowcut/pkt.h"

#define FC_FRAG_PENDING_MAX 8
#define FC_FRAG_DEFAULT_MAX 8192
#define FC_FRAG_DEFAULT_TIMEOUT_NS (30ULL * 1000000000ULL)	/* Linux ipfrag_time */

struct fc_frag_pending {
	uint64_t ts_ns;
	uint32_t ip_bytes;
};

/* Returns a new table, or NULL with errno set. Free with fc_fragtab__free(). */
struct fc_fragtab *fc_fragtab__new(uint32_t max_entries, uint64_t timeout_ns);
void fc_fragtab__free(struct fc_fragtab *ft);

/*
 * The first fragment of datagram `id` belongs to the flow `key` (oriented as
 * that packet). Copies the later fragments held for it into out[] (in arrival
 * order) and returns how many (0..FC_FRAG_PENDING_MAX). Orphans produced by
 * making room are added to *orphans.
 */
int fc_fragtab__first(struct fc_fragtab *ft, const struct fc_frag_id *id,
		      const struct fc_flow_key *key, uint64_t now_ns,
		      struct fc_frag_pending out[FC_FRAG_PENDING_MAX], uint64_t *orphans);

/*
 * A later fragment of datagram `id`. Returns 1 and fills *key when the first
 * fragment is known; 0 when the fragment is held pending; and adds to
 * *orphans (returning 0) when it cannot be held.
 */
int fc_fragtab__later(struct fc_fragtab *ft, const struct fc_frag_id *id, uint32_t ip_bytes,
		      uint64_t now_ns, struct fc_flow_key *key, uint64_t *orphans);

/* Drop entries older than the timeout; returns the pending fragments orphaned. */
uint64_t fc_fragtab__expire(struct fc_fragtab *ft, uint64_t now_ns);

/* Drop every entry; returns the pending fragments orphaned. */
uint64_t fc_fragtab__flush(struct fc_fragtab *ft);

uint32_t fc_fragtab__count(const struct fc_fragtab *ft);

#endif
