// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_gc.c - map garbage collection: a per-CPU flow map filled with
 * thousands of entries, half of them stale, collected while iterating, by
 * batch lookup and by the get_next_key walk. Every key must be visited
 * exactly once, exactly the stale ones must be gone with their final counts
 * handed over, and the live ones untouched. Needs root; SKIP otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bypass_common.h"
#include "flowcut/bypass.h"
#include "../unit/t.h"

#define N 6000

struct gc_ctx {
	uint8_t visits[N];
	uint8_t gone[N];
	uint64_t gone_pkts;
};

static uint32_t idx_of(const void *key)
{
	const struct fc_bp_key4 *k = key;

	return k->port_a | (uint32_t)k->port_b << 16;
}

static bool stale(void *ctx, const void *key, const struct fc_bp_counters_sum *c)
{
	struct gc_ctx *g = ctx;
	uint32_t i = idx_of(key);

	if (i < N)
		g->visits[i]++;
	return c->last_ns < 1000;	/* even entries were written with last_ns 0..998 */
}

static void gone(void *ctx, const void *key, const struct fc_bp_counters_sum *c)
{
	struct gc_ctx *g = ctx;
	uint32_t i = idx_of(key);

	if (i < N)
		g->gone[i]++;
	g->gone_pkts += c->pkts[0];
}

static void run_gc(unsigned flags)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fc_bp_counters *v = calloc((size_t)ncpu, sizeof(*v));
	struct fc_bp_key4 k;
	struct gc_ctx *g = calloc(1, sizeof(*g));
	uint64_t want_pkts = 0;
	long removed;
	uint32_t i;
	int fd, c;

	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "gc_test", sizeof(k), sizeof(*v), N, NULL);
	CHECK(fd >= 0);
	if (fd < 0 || !v || !g)
		goto out;
	for (i = 0; i < N; i++) {
		memset(&k, 0, sizeof(k));
		k.addr_a = 0x0100000a, k.addr_b = 0x0200000a, k.proto = 6;
		k.port_a = (uint16_t)i, k.port_b = (uint16_t)(i >> 16);
		for (c = 0; c < ncpu; c++) {
			v[c].pkts[0] = c == 0 ? i + 1 : 0;
			v[c].last_ns = i % 2 ? 1000000 + i : i % 1000;
		}
		if (i % 2 == 0)
			want_pkts += i + 1;
		CHECK_EQ_U(bpf_map_update_elem(fd, &k, v, BPF_NOEXIST), 0);
	}
	removed = fc_bypass_map_gc(fd, 4, flags, stale, gone, g);
	CHECK_EQ_U(removed, N / 2);
	CHECK_EQ_U(g->gone_pkts, want_pkts);
	for (i = 0; i < N; i++) {
		memset(&k, 0, sizeof(k));
		k.addr_a = 0x0100000a, k.addr_b = 0x0200000a, k.proto = 6;
		k.port_a = (uint16_t)i, k.port_b = (uint16_t)(i >> 16);
		if (g->visits[i] != 1 || g->gone[i] != (i % 2 == 0)) {
			fprintf(stderr, "  key %u: visited %u times, removed %u times\n", i, g->visits[i],
				g->gone[i]);
			t_failed_checks++;
			break;
		}
		if ((bpf_map_lookup_elem(fd, &k, v) == 0) != (i % 2 == 1)) {
			fprintf(stderr, "  key %u: present after GC is wrong\n", i);
			t_failed_checks++;
			break;
		}
	}
	close(fd);
out:
	free(v);
	free(g);
}

static void test_gc_batch(void)
{
	run_gc(0);
}

static void test_gc_next_key(void)
{
	run_gc(FC_BYPASS_GC_NO_BATCH);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP bpf_gc: needs root\n");
		return 0;
	}
	RUN(test_gc_batch);
	RUN(test_gc_next_key);
	return T_DONE();
}
