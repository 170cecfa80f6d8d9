// SPDX-License-Identifier: BSD-2-Clause
/*
 * engine.c - the per-worker packet path (see engine.h).
 *
 * Time is the capture's: "now" is the largest timestamp seen, so frames that
 * are slightly out of order never move the clock back. Timeouts run when now
 * crosses a one-second tick, which keeps the per-packet cost at one compare.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/engine.h"
#include "flowcut/fragtab.h"

#define TICK_NS FC_NS_PER_SEC

/*
 * Decoded packets wait in a short ring before they are accounted, so that the
 * flow-table memory they need is prefetched while later frames are decoded:
 * stage 1 (bucket) as a packet enters, stage 2 (entry) STAGE_GAP packets
 * later, stage 3 (LRU neighbours) another STAGE_GAP later, accounting after
 * PIPE_DEPTH. On a table larger than the caches this hides most of the
 * memory latency (see BENCHMARKS.md). Packets are always accounted in arrival
 * order, and the ring is drained before timeouts run and at the end.
 */
#define STAGE_GAP 4
#define PIPE_DEPTH (3 * STAGE_GAP)
#define PIPE_SLOTS 16	/* power of two > PIPE_DEPTH */

struct pipe_slot {
	struct fc_pkt pkt;
	uint64_t ts_ns;
	struct fc_flowtab_hint hint;	/* from prefetch stage 1, for the update */
};

struct fc_engine {
	struct fc_flowtab *ft;
	struct fc_fragtab *frag;
	struct fc_stats st;
	uint64_t now_ns;
	uint64_t next_tick_ns;
	uint64_t pipe_in, pipe_out;	/* packets entered / accounted */
	struct pipe_slot pipe[PIPE_SLOTS];
};

struct fc_engine *fc_engine__new(const struct fc_engine_opts *opts)
{
	struct fc_engine *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->ft = fc_flowtab__new(&opts->flow);
	if (!e->ft)
		goto err_free;
	e->frag = fc_fragtab__new(opts->frag_max ? opts->frag_max : FC_FRAG_DEFAULT_MAX,
				  opts->frag_timeout_ns ? opts->frag_timeout_ns :
							  FC_FRAG_DEFAULT_TIMEOUT_NS);
	if (!e->frag)
		goto err_free;
	return e;

err_free:
	err = errno;
	fc_engine__free(e);
	errno = err;
	return NULL;
}

void fc_engine__free(struct fc_engine *e)
{
	if (!e)
		return;
	fc_flowtab__free(e->ft);
	fc_fragtab__free(e->frag);
	free(e);
}

static void account(struct fc_engine *e, struct pipe_slot *sl);

static void drain(struct fc_engine *e)
{
	while (e->pipe_out < e->pipe_in)
		account(e, &e->pipe[e->pipe_out++ & (PIPE_SLOTS - 1)]);
}

static void run_timeouts(struct fc_engine *e)
{
	drain(e);
	fc_flowtab__expire(e->ft, e->now_ns);
	e->st.nonflow[FC_NF_FRAG_ORPHAN] += fc_fragtab__expire(e->frag, e->now_ns);
	e->next_tick_ns = e->now_ns + TICK_NS;
}

static void account_flow(struct fc_engine *e, const struct fc_pkt *pkt, uint64_t ts_ns)
{
	fc_stats__count_flow_pkt(&e->st, pkt);
	fc_flowtab__update(e->ft, pkt, ts_ns);
}

static void account_hinted(struct fc_engine *e, const struct fc_pkt *pkt, uint64_t ts_ns,
			   const struct fc_flowtab_hint *hint)
{
	fc_stats__count_flow_pkt(&e->st, pkt);
	fc_flowtab__update_hinted(e->ft, pkt, ts_ns, hint);
}

/* First fragment: remember its flow, then count the later fragments that were
 * waiting for it (they came first, so they go first), then itself. */
static void first_fragment(struct fc_engine *e, struct fc_pkt *pkt, uint64_t ts_ns)
{
	struct fc_frag_pending pend[FC_FRAG_PENDING_MAX];
	uint64_t orphans = 0;
	int n, i;

	e->st.frag_first++;
	n = fc_fragtab__first(e->frag, &pkt->frag, &pkt->key, ts_ns, pend, &orphans);
	e->st.nonflow[FC_NF_FRAG_ORPHAN] += orphans;
	if (n > 0) {
		struct fc_pkt later = *pkt;

		later.flags &= ~(uint32_t)(FC_PKTF_TCP | FC_PKTF_FRAG_FIRST);
		later.tcp_flags = 0;
		later.payload_len = 0;
		for (i = 0; i < n; i++) {
			later.ip_bytes = pend[i].ip_bytes;
			e->st.frag_matched++;
			account_flow(e, &later, pend[i].ts_ns);
		}
	}
	account_flow(e, pkt, ts_ns);
}

static void later_fragment(struct fc_engine *e, struct fc_pkt *pkt, uint64_t ts_ns)
{
	uint64_t orphans = 0;

	e->st.frag_later++;
	if (fc_fragtab__later(e->frag, &pkt->frag, pkt->ip_bytes, ts_ns, &pkt->key, &orphans)) {
		pkt->kind = FC_PKT_FLOW;
		e->st.frag_matched++;
		account_flow(e, pkt, ts_ns);
	}
	e->st.nonflow[FC_NF_FRAG_ORPHAN] += orphans;
}

static void account(struct fc_engine *e, struct pipe_slot *sl)
{
	struct fc_pkt *pkt = &sl->pkt;

	switch (pkt->kind) {
	case FC_PKT_FLOW:
		if (pkt->flags & FC_PKTF_FRAG_FIRST)
			first_fragment(e, pkt, sl->ts_ns);
		else
			account_hinted(e, pkt, sl->ts_ns, &sl->hint);
		break;
	case FC_PKT_FRAG_LATER:
		later_fragment(e, pkt, sl->ts_ns);
		break;
	default:
		e->st.nonflow[pkt->nonflow < FC_NONFLOW__COUNT ? pkt->nonflow : FC_NF_NONIP]++;
		break;
	}
}

static void prefetch_stage(struct fc_engine *e, uint64_t n, int stage)
{
	struct pipe_slot *sl = &e->pipe[n & (PIPE_SLOTS - 1)];

	if (sl->pkt.kind != FC_PKT_FLOW)
		return;
	if (stage == 2)
		fc_flowtab__prefetch_entry(e->ft, &sl->hint);
	else
		fc_flowtab__prefetch_lru(e->ft, &sl->hint);
}

void fc_engine__frame(struct fc_engine *e, const struct fc_frame *f, bool filtered)
{
	struct pipe_slot *sl;
	uint64_t n;

	fc_stats__count_frame(&e->st, f->linktype, f->caplen, f->wirelen, f->ts_ns);
	if (f->ts_ns > e->now_ns) {
		e->now_ns = f->ts_ns;
		if (e->now_ns >= e->next_tick_ns)
			run_timeouts(e);
	}
	if (filtered) {
		e->st.nonflow[FC_NF_FILTERED]++;
		return;
	}
	n = e->pipe_in++;
	sl = &e->pipe[n & (PIPE_SLOTS - 1)];
	fc_decode_frame(f->linktype, f->data, f->caplen, &sl->pkt);
	sl->ts_ns = f->ts_ns;
	if (sl->pkt.kind == FC_PKT_FLOW)
		fc_flowtab__prefetch_bucket(e->ft, &sl->pkt, &sl->hint);
	if (n >= STAGE_GAP)
		prefetch_stage(e, n - STAGE_GAP, 2);
	if (n >= 2 * STAGE_GAP)
		prefetch_stage(e, n - 2 * STAGE_GAP, 3);
	if (e->pipe_in - e->pipe_out > PIPE_DEPTH)
		account(e, &e->pipe[e->pipe_out++ & (PIPE_SLOTS - 1)]);
}

void fc_engine__tick(struct fc_engine *e, uint64_t now_ns)
{
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	run_timeouts(e);
}

void fc_engine__drain(struct fc_engine *e)
{
	drain(e);
}

void fc_engine__finish(struct fc_engine *e, enum fc_end_reason reason)
{
	drain(e);
	e->st.nonflow[FC_NF_FRAG_ORPHAN] += fc_fragtab__flush(e->frag);
	fc_flowtab__flush(e->ft, reason);
}

const struct fc_stats *fc_engine__stats(const struct fc_engine *e)
{
	return &e->st;
}

const struct fc_flowtab_stats *fc_engine__flow_stats(const struct fc_engine *e)
{
	return fc_flowtab__stats(e->ft);
}

struct fc_flowtab *fc_engine__flowtab(struct fc_engine *e)
{
	return e->ft;
}
