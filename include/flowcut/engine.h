/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.h - one worker's packet path: frame -> decode -> fragment table ->
 * flow table, with every frame counted exactly once in the run's stats.
 * Sources (file reader, AF_PACKET ring) feed it; it owns its flow table, so
 * one engine per thread and no locks.
 */
#ifndef FLOWCUT_ENGINE_H
#define FLOWCUT_ENGINE_H

#include <stdbool.h>

#include "flowcut/flowtab.h"
#include "flowcut/source.h"
#include "flowcut/stats.h"

struct fc_engine_opts {
	struct fc_flowtab_opts flow;	/* emit callback and timeouts */
	uint32_t frag_max;		/* fragment table entries; 0 = default */
	uint64_t frag_timeout_ns;	/* 0 = default */
};

/* Returns a new engine, or NULL with errno set. Free with fc_engine__free(). */
struct fc_engine *fc_engine__new(const struct fc_engine_opts *opts);
void fc_engine__free(struct fc_engine *e);

/* Account one frame. `filtered` frames are counted and go no further. */
void fc_engine__frame(struct fc_engine *e, const struct fc_frame *f, bool filtered);

/*
 * Frames are decoded at once but accounted up to a dozen frames later (a
 * prefetch pipeline); drain() accounts everything entered so far. tick() and
 * finish() drain first, so callers only need drain() before reading flow
 * counters mid-run.
 */
void fc_engine__drain(struct fc_engine *e);

/* Drain, then run timeouts up to now_ns (for live sources with no traffic). */
void fc_engine__tick(struct fc_engine *e, uint64_t now_ns);

/* End of input: orphan pending fragments, end every flow with `reason`. */
void fc_engine__finish(struct fc_engine *e, enum fc_end_reason reason);

const struct fc_stats *fc_engine__stats(const struct fc_engine *e);
const struct fc_flowtab_stats *fc_engine__flow_stats(const struct fc_engine *e);
struct fc_flowtab *fc_engine__flowtab(struct fc_engine *e);

#endif
