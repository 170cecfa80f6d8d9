/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bypass_table.h - placement in the bypass flow tables (tab_v4 / tab_v6,
 * bpf/bypass_common.h): which slot holds a key, which slot a new key takes,
 * and the slot state changes, over the slot array as userspace sees it
 * (the mmapped BPF array, or plain memory in the unit tests). No bpf(2)
 * calls and no locking here: bypass.c holds its lock around every call and
 * does the counter work (zero before VALID, read after DRAIN, zero again
 * after a grace period before EMPTY).
 */
#ifndef FC_BYPASS_TABLE_H
#define FC_BYPASS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bypass_common.h"

/* Userspace-only state: DRAIN before a grace period that has started (see fc_bypass reclaim). */
#define FC_BP_SLOT_RETIRE 3

struct fc_bptab {
	uint8_t *slots;		/* 2^bits slots of slot_size octets; not owned */
	size_t slot_size;	/* sizeof(struct fc_bp_slot4 / 6) */
	size_t key_size;	/* sizeof(struct fc_bp_key4 / 6); the state follows the key */
	uint32_t bits, mask;
	int v6;
	uint32_t max_live;	/* entry limit (the map size the user asked for) */
	uint32_t live;		/* VALID slots */
	uint32_t dead;		/* DRAIN and RETIRE slots: reusable after a grace period */
};

/*
 * Attach to slots (2^bits of them, family v6) and count what they hold (a
 * predecessor's entries). Cost: one pass over the slots.
 */
void fc_bptab_init(struct fc_bptab *t, void *slots, int v6, uint32_t bits, uint32_t max_live);

uint32_t fc_bptab_state(const struct fc_bptab *t, uint32_t i);
const void *fc_bptab_key(const struct fc_bptab *t, uint32_t i);

/* The slot of key's VALID entry, or -ENOENT. At most FC_BP_PROBE slots read. */
long fc_bptab_find(const struct fc_bptab *t, const void *key);

/*
 * Where a new key would go: 0 and *i = an EMPTY slot of its probe window;
 * -EEXIST and *i = its VALID slot; -E2BIG when max_live entries exist;
 * -EAGAIN when the window has no EMPTY slot but dead ones (free after a
 * grace period); -ENOSPC when the window is full of live entries.
 */
int fc_bptab_place(const struct fc_bptab *t, const void *key, uint32_t *i);

/* EMPTY -> VALID with key (key written first, state stored last, release). */
void fc_bptab_fill(struct fc_bptab *t, uint32_t i, const void *key);
/* VALID -> DRAIN: the programs stop counting into slot i (state stored, full barrier). */
void fc_bptab_drain(struct fc_bptab *t, uint32_t i);
/* Every DRAIN slot -> RETIRE (before a grace period starts); how many. */
uint32_t fc_bptab_retire(struct fc_bptab *t);
/* RETIRE -> EMPTY (after the grace period, its counters zeroed by the caller). */
void fc_bptab_free(struct fc_bptab *t, uint32_t i);

#endif
