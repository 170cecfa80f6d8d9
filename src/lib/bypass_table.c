// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass_table.c - placement in the bypass flow tables (bypass_table.h):
 * bounded linear probing from a key's home slot, the same walk the BPF
 * programs make (bpf/bypass.bpf.c find4/find6), and the slot state stores
 * in the order the programs rely on. Lookups never stop at an EMPTY slot,
 * so removing an entry moves nothing and needs no tombstone: a walk over
 * the slot indices visits every entry exactly once, whatever is removed
 * meanwhile.
 */
#include <errno.h>
#include <string.h>

#include "bypass_table.h"

static uint32_t *state_of(const struct fc_bptab *t, uint32_t i)
{
	return (uint32_t *)(t->slots + (size_t)(i & t->mask) * t->slot_size + t->key_size);
}

uint32_t fc_bptab_state(const struct fc_bptab *t, uint32_t i)
{
	return __atomic_load_n(state_of(t, i), __ATOMIC_ACQUIRE);
}

const void *fc_bptab_key(const struct fc_bptab *t, uint32_t i)
{
	return t->slots + (size_t)(i & t->mask) * t->slot_size;
}

void fc_bptab_init(struct fc_bptab *t, void *slots, int v6, uint32_t bits, uint32_t max_live)
{
	uint32_t i, s;

	memset(t, 0, sizeof(*t));
	t->slots = slots;
	t->v6 = v6;
	t->slot_size = v6 ? sizeof(struct fc_bp_slot6) : sizeof(struct fc_bp_slot4);
	t->key_size = v6 ? sizeof(struct fc_bp_key6) : sizeof(struct fc_bp_key4);
	t->bits = bits;
	t->mask = (1u << bits) - 1;
	t->max_live = max_live;
	for (i = 0; i <= t->mask; i++) {
		s = fc_bptab_state(t, i);
		if (s == FC_BP_SLOT_VALID)
			t->live++;
		else if (s != FC_BP_SLOT_EMPTY)
			t->dead++;
	}
}

static uint32_t home_of(const struct fc_bptab *t, const void *key)
{
	uint64_t k[6] = { 0 };	/* fc_bp_hash reads whole words: an aligned copy */

	memcpy(k, key, t->key_size);
	return fc_bp_home(fc_bp_hash(k, t->v6), t->bits);
}

/* Whether slot i holds key's VALID entry. */
static bool holds(const struct fc_bptab *t, uint32_t i, uint32_t state, const void *key)
{
	return state == FC_BP_SLOT_VALID && !memcmp(fc_bptab_key(t, i), key, t->key_size);
}

long fc_bptab_find(const struct fc_bptab *t, const void *key)
{
	uint32_t h = home_of(t, key), j, i;

	for (j = 0; j < FC_BP_PROBE; j++) {
		i = (h + j) & t->mask;
		if (holds(t, i, fc_bptab_state(t, i), key))
			return i;
	}
	return -ENOENT;
}

/* One walk of the window: the key's own slot, else its first EMPTY one. */
int fc_bptab_place(const struct fc_bptab *t, const void *key, uint32_t *i)
{
	uint32_t h = home_of(t, key), j, s, at = 0, k;
	bool empty = false, dead = false;

	for (j = 0; j < FC_BP_PROBE; j++) {
		k = (h + j) & t->mask;
		s = fc_bptab_state(t, k);
		if (holds(t, k, s, key)) {
			*i = k;
			return -EEXIST;
		}
		if (s == FC_BP_SLOT_EMPTY && !empty)
			empty = true, at = k;
		else if (s == FC_BP_SLOT_DRAIN || s == FC_BP_SLOT_RETIRE)
			dead = true;
	}
	if (t->live >= t->max_live)
		return -E2BIG;
	if (empty) {
		*i = at;
		return 0;
	}
	return dead ? -EAGAIN : -ENOSPC;
}

void fc_bptab_fill(struct fc_bptab *t, uint32_t i, const void *key)
{
	memcpy(t->slots + (size_t)(i & t->mask) * t->slot_size, key, t->key_size);
	/* a program that sees VALID sees the whole key */
	__atomic_store_n(state_of(t, i), FC_BP_SLOT_VALID, __ATOMIC_RELEASE);
	t->live++;
}

void fc_bptab_drain(struct fc_bptab *t, uint32_t i)
{
	/* seq_cst: the caller's counter read must not move before this store */
	__atomic_store_n(state_of(t, i), FC_BP_SLOT_DRAIN, __ATOMIC_SEQ_CST);
	t->live--;
	t->dead++;
}

uint32_t fc_bptab_retire(struct fc_bptab *t)
{
	uint32_t i, n = 0;

	if (!t->dead)
		return 0;
	for (i = 0; i <= t->mask; i++) {
		uint32_t s = fc_bptab_state(t, i);

		if (s == FC_BP_SLOT_DRAIN)
			__atomic_store_n(state_of(t, i), FC_BP_SLOT_RETIRE, __ATOMIC_RELAXED);
		n += s == FC_BP_SLOT_DRAIN || s == FC_BP_SLOT_RETIRE;
	}
	return n;
}

void fc_bptab_free(struct fc_bptab *t, uint32_t i)
{
	__atomic_store_n(state_of(t, i), FC_BP_SLOT_EMPTY, __ATOMIC_RELEASE);
	t->dead--;
}
