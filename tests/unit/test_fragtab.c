// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the fragment table: first/later matching, pending
 * fragments that arrive before the first, timeouts, eviction when full, and
 * that every pending fragment ends either attached or counted as an orphan. */
#include <errno.h>
#include <stdlib.h>

#include "flowcut/fragtab.h"
#include "t.h"

static struct fc_frag_id mkid(uint32_t id)
{
	struct fc_frag_id f;

	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.proto = 17;
	f.src.b[0] = 10;
	f.dst.b[0] = 192;
	f.id = id;
	return f;
}

static struct fc_flow_key mkkey(uint16_t sport)
{
	struct fc_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.proto = 17;
	k.sport = sport;
	k.dport = 53;
	return k;
}

static void test_first_then_later(void)
{
	struct fc_fragtab *ft = fc_fragtab__new(16, 30000000000ULL);
	struct fc_frag_pending pend[FC_FRAG_PENDING_MAX];
	struct fc_frag_id id = mkid(7);
	struct fc_flow_key k = mkkey(1234), got;
	uint64_t orphans = 0;

	CHECK(ft != NULL);
	CHECK_EQ_U(fc_fragtab__first(ft, &id, &k, 100, pend, &orphans), 0);
	CHECK_EQ_U(fc_fragtab__later(ft, &id, 500, 200, &got, &orphans), 1);
	CHECK_EQ_U(got.sport, 1234);
	CHECK_EQ_U(fc_fragtab__later(ft, &id, 500, 300, &got, &orphans), 1);
	CHECK_EQ_U(orphans, 0);
	CHECK_EQ_U(fc_fragtab__count(ft), 1);
	fc_fragtab__free(ft);
}

static void test_later_before_first(void)
{
	struct fc_fragtab *ft = fc_fragtab__new(16, 30000000000ULL);
	struct fc_frag_pending pend[FC_FRAG_PENDING_MAX];
	struct fc_frag_id id = mkid(9);
	struct fc_flow_key k = mkkey(99), got;
	uint64_t orphans = 0;

	CHECK_EQ_U(fc_fragtab__later(ft, &id, 100, 10, &got, &orphans), 0);
	CHECK_EQ_U(fc_fragtab__later(ft, &id, 200, 20, &got, &orphans), 0);
	CHECK_EQ_U(fc_fragtab__first(ft, &id, &k, 30, pend, &orphans), 2);
	CHECK_EQ_U(pend[0].ip_bytes, 100);
	CHECK_EQ_U(pend[1].ts_ns, 20);
	CHECK_EQ_U(orphans, 0);
	/* Attached pending fragments are not orphaned later. */
	CHECK_EQ_U(fc_fragtab__flush(ft), 0);
	fc_fragtab__free(ft);
}

static void test_pending_overflow_and_expiry(void)
{
	struct fc_fragtab *ft = fc_fragtab__new(16, 1000);
	struct fc_frag_id id = mkid(1);
	struct fc_flow_key got;
	uint64_t orphans = 0;
	int i;

	for (i = 0; i < FC_FRAG_PENDING_MAX + 3; i++)
		CHECK_EQ_U(fc_fragtab__later(ft, &id, 64, 5, &got, &orphans), 0);
	CHECK_EQ_U(orphans, 3);	/* no room: counted at once */
	CHECK_EQ_U(fc_fragtab__expire(ft, 500), 0);	/* not yet */
	CHECK_EQ_U(fc_fragtab__expire(ft, 1005), FC_FRAG_PENDING_MAX);
	CHECK_EQ_U(fc_fragtab__count(ft), 0);
	fc_fragtab__free(ft);
}

static void test_full_evicts_oldest(void)
{
	struct fc_fragtab *ft = fc_fragtab__new(4, 1000000);
	struct fc_frag_pending pend[FC_FRAG_PENDING_MAX];
	struct fc_flow_key k = mkkey(5), got;
	uint64_t orphans = 0;
	uint32_t i;

	for (i = 0; i < 4; i++) {
		struct fc_frag_id id = mkid(i);

		fc_fragtab__later(ft, &id, 10, i, &got, &orphans);
	}
	CHECK_EQ_U(orphans, 0);
	{
		struct fc_frag_id id = mkid(100);

		CHECK_EQ_U(fc_fragtab__first(ft, &id, &k, 10, pend, &orphans), 0);
	}
	CHECK_EQ_U(orphans, 1);	/* datagram 0, the oldest, was pushed out */
	{
		struct fc_frag_id id0 = mkid(0), id1 = mkid(1);

		/* id 0 is new again (pending), id 1 still pending. */
		CHECK_EQ_U(fc_fragtab__first(ft, &id1, &k, 11, pend, &orphans), 1);
		CHECK_EQ_U(fc_fragtab__later(ft, &id0, 10, 12, &got, &orphans), 0);
	}
	CHECK_EQ_U(fc_fragtab__count(ft), 4);
	fc_fragtab__free(ft);
}

static void test_many_ids_chain(void)
{
	struct fc_fragtab *ft = fc_fragtab__new(1024, 1000000);
	struct fc_frag_pending pend[FC_FRAG_PENDING_MAX];
	struct fc_flow_key got;
	uint64_t orphans = 0;
	uint32_t i, found = 0;

	for (i = 0; i < 1024; i++) {
		struct fc_frag_id id = mkid(i);
		struct fc_flow_key k = mkkey((uint16_t)i);

		fc_fragtab__first(ft, &id, &k, i, pend, &orphans);
	}
	for (i = 0; i < 1024; i++) {
		struct fc_frag_id id = mkid(i);

		if (fc_fragtab__later(ft, &id, 1, 2000, &got, &orphans) == 1 && got.sport == i)
			found++;
	}
	CHECK_EQ_U(found, 1024);
	CHECK_EQ_U(orphans, 0);
	CHECK_EQ_U(fc_fragtab__expire(ft, 1000000 + 2000), 0);
	CHECK_EQ_U(fc_fragtab__count(ft), 0);
	fc_fragtab__free(ft);
}

static void test_bad_args(void)
{
	errno = 0;
	CHECK(fc_fragtab__new(0, 1) == NULL);
	CHECK_EQ_U(errno, EINVAL);
	fc_fragtab__free(NULL);
}

int main(void)
{
	RUN(test_first_then_later);
	RUN(test_later_before_first);
	RUN(test_pending_overflow_and_expiry);
	RUN(test_full_evicts_oldest);
	RUN(test_many_ids_chain);
	RUN(test_bad_args);
	return T_DONE();
}
