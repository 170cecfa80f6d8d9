/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - a tiny HTTP/1.0 server on its own thread answering
 * GET /metrics in the Prometheus text exposition format 0.0.4: packets,
 * drops by stage and cause, non-flow packets and decode errors by reason,
 * flows active/created/ended by reason, and per-sink export counters.
 * Labels are low-cardinality only (reason, stage, cause, sink) — never an
 * address.
 *
 * Nothing here touches the packet path: each worker publishes a copy of its
 * counters about once a second (fc_metrics__publish(), one short mutex per
 * worker slot); the exporter's counters are read through its own snapshot
 * call. The server never prints; errors come back as messages.
 */
#ifndef FLOWCUT_METRICS_H
#define FLOWCUT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/export.h"
#include "flowcut/flowtab.h"
#include "flowcut/stats.h"

struct fc_metrics;

/*
 * Listen on addr ("127.0.0.1:9753", "[::1]:9753", port 0 = any free port)
 * and serve from a new thread. nworkers is the number of publish slots.
 * x (may be NULL) supplies the sink counters and must outlive the server.
 * Returns NULL with a message in err (e.g. the address is in use).
 */
struct fc_metrics *fc_metrics__start(const char *addr, unsigned nworkers, struct fc_export *x,
				     char *err, size_t errlen);
/* Stop the thread and close the socket. NULL ok. */
void fc_metrics__stop(struct fc_metrics *m);
/* The bound port (useful after port 0). */
uint16_t fc_metrics__port(const struct fc_metrics *m);

/* Worker `worker`'s owner thread: copy its counters in (~1/s). NULL m ok. */
void fc_metrics__publish(struct fc_metrics *m, unsigned worker, const struct fc_stats *st,
			 const struct fc_flowtab_stats *fs);
/* Kernel socket counters (capture), summed over workers. NULL m ok. */
void fc_metrics__publish_kernel(struct fc_metrics *m, uint64_t packets, uint64_t drops,
				uint64_t freezes);

/* The exposition text as served; returns its length, or -ENOSPC when cap is too small. */
int fc_metrics__render(struct fc_metrics *m, char *buf, size_t cap);

#endif
