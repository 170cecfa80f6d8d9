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

struct fc_engine {
	struct fc_flowtab *ft;
	struct fc_fragtab *frag;
	struct fc_stats st;
	uint64_t now_ns;
	uint64_t next_tick_ns;
	struct fc_pkt pkt;		/* scratch, reused for every frame */
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

static void run_timeouts(struct fc_engine *e)
{
	fc_flowtab__expire(e->ft, e->now_ns);
	e->st.nonflow[FC_NF_FRAG_ORPHAN] += fc_fragtab__expire(e->frag, e->now_ns);
	e->next_tick_ns = e->now_ns + TICK_NS;
}

static void account_flow(struct fc_engine *e, const struct fc_pkt *pkt, uint64_t ts_ns)
{
	fc_stats__count_flow_pkt(&e->st, pkt);
	fc_flowtab__update(e->ft, pkt, ts_ns);
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

void fc_engine__frame(struct fc_engine *e, const struct fc_frame *f, bool filtered)
{
	struct fc_pkt *pkt = &e->pkt;

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
	fc_decode_frame(f->linktype, f->data, f->caplen, pkt);
	switch (pkt->kind) {
	case FC_PKT_FLOW:
		if (pkt->flags & FC_PKTF_FRAG_FIRST)
			first_fragment(e, pkt, f->ts_ns);
		else
			account_flow(e, pkt, f->ts_ns);
		break;
	case FC_PKT_FRAG_LATER:
		later_fragment(e, pkt, f->ts_ns);
		break;
	default:
		e->st.nonflow[pkt->nonflow < FC_NONFLOW__COUNT ? pkt->nonflow : FC_NF_NONIP]++;
		break;
	}
}

void fc_engine__tick(struct fc_engine *e, uint64_t now_ns)
{
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	run_timeouts(e);
}

void fc_engine__finish(struct fc_engine *e, enum fc_end_reason reason)
{
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
