// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_gc.c - flow table garbage collection: a table filled with thousands
 * of entries through the library, half of them stale (their per-CPU
 * counters written directly), collected while iterating. Every key must be
 * visited exactly once, exactly the stale ones must be gone with their
 * final counts handed over, the live ones untouched and still counted,
 * and the freed slots reusable. Needs root; SKIP otherwise.
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

/* Flow i: 10.0.0.1:(1000 + i) -> 10.0.0.2:80, TCP (side a is 10.0.0.1). */
static struct fc_flow_rec rec_of(uint32_t i)
{
	struct fc_flow_rec r;

	memset(&r, 0, sizeof(r));
	r.family = 4, r.proto = 6;
	r.src.b[0] = 10, r.src.b[3] = 1, r.dst.b[0] = 10, r.dst.b[3] = 2;
	r.sport = (uint16_t)(1000 + i), r.dport = 80;
	return r;
}

static uint32_t idx_of(const void *key)
{
	const struct fc_bp_key4 *k = key;

	return (uint32_t)k->port_a - 1000;
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

static void test_gc_visits_once(void)
{
	struct fc_bypass_opts o = { .mode = FC_BYPASS_SOCKET, .ifname = "lo", .pin_root = "",
				    .max_entries = N, .vlan_key = true };
	int ncpu = libbpf_num_possible_cpus(), c, slot;
	struct fc_bp_counters *v = calloc((size_t)ncpu, sizeof(*v));
	struct gc_ctx *g = calloc(1, sizeof(*g));
	struct fc_flow_rec r;
	struct fc_bypass *b = NULL;
	uint64_t want_pkts = 0;
	char err[256];
	long removed;
	uint32_t i, s;

	CHECK_EQ_U(fc_bypass__open(&o, &b, err, sizeof(err)), 0);
	if (!b || !v || !g)
		goto out;
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		CHECK_EQ_U(fc_bypass__add(b, &r, 1), 0);
		slot = fc_bypass__slot(b, &r);
		CHECK(slot >= 0);
		if (slot < 0)
			goto out;
		for (c = 0; c < ncpu; c++) {
			v[c].pkts[0] = c == 0 ? i + 1 : 0;
			v[c].last_ns = i % 2 ? 1000000 + i : i % 1000;
		}
		if (i % 2 == 0)
			want_pkts += i + 1;
		s = (uint32_t)slot;
		CHECK_EQ_U(bpf_map_update_elem(fc_bypass__map_fd(b, 4), &s, v, BPF_ANY), 0);
	}
	r = rec_of(N);
	CHECK_EQ_U(fc_bypass__add(b, &r, 1), (uint64_t)-E2BIG);	/* full */
	removed = fc_bypass__table_gc(b, 4, stale, gone, g);
	CHECK_EQ_U(removed, N / 2);
	CHECK_EQ_U(g->gone_pkts, want_pkts);
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		if (g->visits[i] != 1 || g->gone[i] != (i % 2 == 0)) {
			fprintf(stderr, "  key %u: visited %u times, removed %u times\n", i, g->visits[i],
				g->gone[i]);
			t_failed_checks++;
			break;
		}
		if ((fc_bypass__slot(b, &r) >= 0) != (i % 2 == 1)) {
			fprintf(stderr, "  key %u: present after GC is wrong\n", i);
			t_failed_checks++;
			break;
		}
	}
	/* the freed slots take new entries, with zeroed counters */
	for (i = 0; i < N; i += 2) {
		struct fc_flowtab_kcounts k;

		r = rec_of(i);
		CHECK_EQ_U(fc_bypass__add(b, &r, 1), 0);
		memset(&k, 0xff, sizeof(k));
		CHECK_EQ_U(fc_bypass__sync(b, &r, FC_FT_SYNC_PEEK, &k), 0);
		if (k.pkts[0] || k.pkts[1] || k.bytes[0] || k.bytes[1]) {
			fprintf(stderr, "  key %u: re-added entry not zeroed\n", i);
			t_failed_checks++;
			break;
		}
	}
	CHECK_EQ_U(fc_bypass__flush(b), N);
out:
	fc_bypass__close(b);
	free(v);
	free(g);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP bpf_gc: needs root\n");
		return 0;
	}
	RUN(test_gc_visits_once);
	return T_DONE();
}
