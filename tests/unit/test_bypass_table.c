// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests for placement in the bypass flow tables (bypass_table.c) over
 * plain memory, the same walk the BPF programs make: keys that share a home
 * slot fill its probe window and the next one is refused (-ENOSPC, the
 * caller's map-full path), the window wraps at the end of the table, the
 * entry limit gives -E2BIG, a removed entry's slot turns reusable only
 * through DRAIN -> RETIRE -> EMPTY (-EAGAIN meanwhile), removing an entry
 * never hides another of its window, and init counts what a predecessor
 * left (restart adoption).
 */
#include <errno.h>
#include <stdlib.h>

#include "bypass_table.h"
#include "t.h"

#define BITS 8
#define SLOTS (1u << BITS)

static struct fc_bp_slot4 mem4[SLOTS];
static struct fc_bp_slot6 mem6[SLOTS];

static struct fc_bp_key4 key4(uint32_t n)
{
	struct fc_bp_key4 k;

	memset(&k, 0, sizeof(k));
	k.addr_a = 0x0100000a, k.addr_b = 0x0200000a;
	k.port_a = (uint16_t)n, k.port_b = (uint16_t)(n >> 16);
	k.proto = 6;
	return k;
}

static uint32_t home4(const struct fc_bp_key4 *k)
{
	uint64_t w[3] = { 0 };

	memcpy(w, k, sizeof(*k));
	return fc_bp_home(fc_bp_hash(w, 0), BITS);
}

/* Up to max keys whose home slot is `home`, from n = *next on. */
static int same_home(uint32_t home, struct fc_bp_key4 *out, int max, uint32_t *next)
{
	int got = 0;

	while (got < max && *next < 50000000u) {
		struct fc_bp_key4 k = key4((*next)++);

		if (home4(&k) == home)
			out[got++] = k;
	}
	return got;
}

static void fresh4(struct fc_bptab *t, uint32_t max_live)
{
	memset(mem4, 0, sizeof(mem4));
	fc_bptab_init(t, mem4, 0, BITS, max_live);
}

static int add(struct fc_bptab *t, const void *k)
{
	uint32_t i;
	int err = fc_bptab_place(t, k, &i);

	if (!err)
		fc_bptab_fill(t, i, k);
	return err;
}

static void test_window_full_is_enospc(void)
{
	struct fc_bp_key4 ks[FC_BP_PROBE + 1];
	struct fc_bptab t;
	uint32_t next = 0, i;
	int j;

	fresh4(&t, SLOTS);
	CHECK_EQ_U(same_home(5, ks, FC_BP_PROBE + 1, &next), FC_BP_PROBE + 1);
	for (j = 0; j < FC_BP_PROBE; j++)
		CHECK_EQ_U(add(&t, &ks[j]), 0);
	CHECK_EQ_U(add(&t, &ks[FC_BP_PROBE]), (uint64_t)-ENOSPC);
	/* every key of the window is found where it went: home + j */
	for (j = 0; j < FC_BP_PROBE; j++)
		CHECK_EQ_U(fc_bptab_find(&t, &ks[j]), 5 + (uint32_t)j);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[FC_BP_PROBE]), (uint64_t)-ENOENT);
	CHECK_EQ_U(fc_bptab_place(&t, &ks[3], &i), (uint64_t)-EEXIST);
	CHECK_EQ_U(i, 8);
	CHECK_EQ_U(t.live, FC_BP_PROBE);
}

static void test_window_wraps(void)
{
	struct fc_bp_key4 ks[3];
	struct fc_bptab t;
	uint32_t next = 0;
	int j;

	fresh4(&t, SLOTS);
	CHECK_EQ_U(same_home(SLOTS - 1, ks, 3, &next), 3);
	for (j = 0; j < 3; j++)
		CHECK_EQ_U(add(&t, &ks[j]), 0);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[0]), SLOTS - 1);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[1]), 0);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[2]), 1);
}

static void test_limit_is_e2big(void)
{
	struct fc_bptab t;
	struct fc_bp_key4 k;
	uint32_t n;

	fresh4(&t, 10);
	for (n = 0; n < 10; n++) {
		k = key4(n);
		CHECK_EQ_U(add(&t, &k), 0);
	}
	k = key4(10);
	CHECK_EQ_U(add(&t, &k), (uint64_t)-E2BIG);
	k = key4(3);
	CHECK_EQ_U(add(&t, &k), (uint64_t)-EEXIST);	/* an existing key is not "full" */
}

/* A removed slot is skipped, not a stop: the keys after it stay found. */
static void test_remove_keeps_window(void)
{
	struct fc_bp_key4 ks[4];
	struct fc_bptab t;
	uint32_t next = 0, i;
	long at;
	int j;

	fresh4(&t, SLOTS);
	CHECK_EQ_U(same_home(40, ks, 4, &next), 4);
	for (j = 0; j < 4; j++)
		CHECK_EQ_U(add(&t, &ks[j]), 0);
	at = fc_bptab_find(&t, &ks[1]);
	CHECK_EQ_U(at, 41);
	fc_bptab_drain(&t, (uint32_t)at);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[1]), (uint64_t)-ENOENT);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[2]), 42);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[3]), 43);
	CHECK_EQ_U(t.live, 3);
	CHECK_EQ_U(t.dead, 1);
	/* re-adding ks[1] takes the next EMPTY slot, never the draining one */
	CHECK_EQ_U(fc_bptab_place(&t, &ks[1], &i), 0);
	CHECK_EQ_U(i, 44);
	CHECK_EQ_U(fc_bptab_retire(&t), 1);
	CHECK_EQ_U(fc_bptab_state(&t, 41), FC_BP_SLOT_RETIRE);
	fc_bptab_free(&t, 41);
	CHECK_EQ_U(t.dead, 0);
	CHECK_EQ_U(fc_bptab_place(&t, &ks[1], &i), 0);
	CHECK_EQ_U(i, 41);
}

/* A window with no EMPTY slot but drained ones: -EAGAIN (reclaim, then retry). */
static void test_drained_window_is_eagain(void)
{
	struct fc_bp_key4 ks[FC_BP_PROBE + 1];
	struct fc_bptab t;
	uint32_t next = 0, i;
	int j;

	fresh4(&t, SLOTS);
	CHECK_EQ_U(same_home(100, ks, FC_BP_PROBE + 1, &next), FC_BP_PROBE + 1);
	for (j = 0; j < FC_BP_PROBE; j++)
		CHECK_EQ_U(add(&t, &ks[j]), 0);
	fc_bptab_drain(&t, 100 + 7);
	CHECK_EQ_U(fc_bptab_place(&t, &ks[FC_BP_PROBE], &i), (uint64_t)-EAGAIN);
	CHECK_EQ_U(fc_bptab_retire(&t), 1);
	fc_bptab_free(&t, 107);
	CHECK_EQ_U(add(&t, &ks[FC_BP_PROBE]), 0);
	CHECK_EQ_U(fc_bptab_find(&t, &ks[FC_BP_PROBE]), 107);
}

/* init counts a predecessor's slots: VALID live, DRAIN/RETIRE dead; IPv6 keys too. */
static void test_init_adopts(void)
{
	struct fc_bptab t, t2;
	struct fc_bp_key6 k6;
	int n;

	memset(mem6, 0, sizeof(mem6));
	fc_bptab_init(&t, mem6, 1, BITS, SLOTS);
	for (n = 0; n < 20; n++) {
		memset(&k6, 0, sizeof(k6));
		k6.addr_a[0] = 0x20, k6.addr_a[15] = (uint8_t)n, k6.addr_b[0] = 0x20, k6.addr_b[15] = 0xff;
		k6.port_a = 443, k6.port_b = (uint16_t)(40000 + n), k6.proto = 17;
		k6.vlan = FC_BP_VLAN_PRESENT | 7;
		CHECK_EQ_U(add(&t, &k6), 0);
	}
	fc_bptab_drain(&t, (uint32_t)fc_bptab_find(&t, &k6));	/* the last one */
	fc_bptab_init(&t2, mem6, 1, BITS, SLOTS);
	CHECK_EQ_U(t2.live, 19);
	CHECK_EQ_U(t2.dead, 1);
	k6.port_b = 40000;
	k6.addr_a[15] = 0;
	CHECK(fc_bptab_find(&t2, &k6) >= 0);
	k6.vlan = 0;	/* the VLAN is part of the key */
	CHECK_EQ_U(fc_bptab_find(&t2, &k6), (uint64_t)-ENOENT);
}

int main(void)
{
	RUN(test_window_full_is_enospc);
	RUN(test_window_wraps);
	RUN(test_limit_is_e2big);
	RUN(test_remove_keeps_window);
	RUN(test_drained_window_is_eagain);
	RUN(test_init_adopts);
	return T_DONE();
}
