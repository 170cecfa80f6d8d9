/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * export.h - the exporter: takes finished flow records off the workers and
 * delivers them to every configured sink without ever blocking a worker or
 * losing a record silently.
 *
 *   worker i --emit--> SPSC ring i --+                  +--> queue A -> thread A -> sink A
 *   worker j --emit--> SPSC ring j --+-> exporter thread +--> queue B -> thread B -> sink B
 *                                                             |  (full: disk spool, in order)
 *
 * Each worker (producer) has its own lock-free ring; one exporter thread
 * drains the rings and copies each record to every sink's bounded memory
 * queue; each sink has a delivery thread that writes batches, retries with
 * exponential backoff while the destination is down, and spills to a per-sink
 * disk spool when its memory queue is full. Spooled records are delivered,
 * in order, before newer ones, also after a restart. Past the spool's size
 * cap (or a full disk) records are dropped, counted per sink and logged.
 *
 * The library never prints: diagnostics go to opts.log.
 */
#ifndef FLOWCUT_EXPORT_H
#define FLOWCUT_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "flowcut/record.h"
#include "flowcut/sink.h"

/* Log levels, syslog's numbers. */
#define FC_LOG_ERR 3
#define FC_LOG_WARN 4
#define FC_LOG_INFO 6

typedef void (*fc_log_fn)(void *ctx, int level, const char *msg);

#define FC_EXPORT_DEFAULT_RING 16384		/* records per producer ring */
#define FC_EXPORT_DEFAULT_QUEUE 65536		/* records per sink memory queue */
#define FC_EXPORT_DEFAULT_BATCH 1024		/* records per fc_sink__write() at most */
#define FC_EXPORT_DEFAULT_SPOOL_MAX (1ull << 30)
#define FC_EXPORT_DEFAULT_CLOSE_TIMEOUT_NS (10ull * 1000000000)

struct fc_export_opts {
	unsigned producers;		/* threads that call emit, each with its own index; >= 1 */
	uint32_t ring_size;		/* power of two; 0 = FC_EXPORT_DEFAULT_RING */
	uint32_t queue_max;		/* default per-sink memory queue; 0 = default */
	uint32_t batch_max;		/* 0 = FC_EXPORT_DEFAULT_BATCH */
	uint64_t batch_wait_ns;		/* write a part batch after this long; 0 = 1 s */
	uint64_t retry_min_ns;		/* first backoff; 0 = 100 ms */
	uint64_t retry_max_ns;		/* backoff cap; 0 = 10 s */
	const char *spool_dir;		/* base directory, one subdirectory per sink; NULL = no spool */
	uint64_t spool_max;		/* default per-sink spool cap in bytes; 0 = 1 GiB */
	uint64_t close_timeout_ns;	/* fc_export__close() delivers for this long, then spools; 0 = 10 s */
	/*
	 * Offline input (a file): emit waits for room in a full ring instead of
	 * dropping, and a healthy sink's full queue makes the exporter wait
	 * rather than spill. A sink that is failing still spills to its spool.
	 */
	bool lossless;
	fc_log_fn log;			/* may be NULL: no diagnostics */
	void *log_ctx;
};

struct fc_export;

/* Returns a new exporter (no threads yet), or NULL with errno set. */
struct fc_export *fc_export__new(const struct fc_export_opts *opts);

/*
 * Open a sink and attach it. The spec options "spool=DIR", "spool_max=SIZE"
 * and "queue_max=N" are the exporter's (they are not passed to the sink);
 * the rest go to the sink's open(). Existing spool segments in the sink's
 * spool directory are picked up to be delivered first. Only before
 * fc_export__start(). Returns 0, or a negative errno with a message in err.
 */
int fc_export__add_sink(struct fc_export *x, const struct fc_sink_spec *spec, char *err,
			size_t errlen);

/* Start the exporter thread and one delivery thread per sink. 0 or -errno. */
int fc_export__start(struct fc_export *x);

/*
 * Hand one finished record to the exporter from producer `producer` (its own
 * index, < opts.producers; one thread per index). Copies the record into the
 * producer's ring; never allocates, never takes a lock. When the ring is full
 * the record is counted as dropped for that producer (or, with
 * opts.lossless, emit waits for room).
 */
void fc_export__emit(struct fc_export *x, unsigned producer, const struct fc_flow_rec *rec);

/*
 * The same as an fc_emit_fn for the flow table: pass
 * fc_export__producer(x, i) as emit_ctx and fc_export__emit_cb as emit.
 */
void *fc_export__producer(struct fc_export *x, unsigned producer);
void fc_export__emit_cb(void *producer, const struct fc_flow_rec *rec);

/* Ask every sink to reopen its output (SIGHUP, logrotate). Any thread. */
void fc_export__reopen(struct fc_export *x);

/*
 * Flush everything and stop (SIGTERM path). The caller must have stopped
 * every producer. Drains the rings, lets each sink deliver its queue and
 * spool for up to opts.close_timeout_ns, then spools what is still
 * undelivered, flushes and closes the sinks. Counters stay readable until
 * fc_export__free(). Returns 0, or -EIO when records had to be dropped
 * (counted and logged) at any time during the run.
 */
int fc_export__close(struct fc_export *x);
void fc_export__free(struct fc_export *x);	/* closes first if needed; NULL ok */

struct fc_export_sink_stats {
	char name[128];			/* "json:-", as given */
	uint64_t received;		/* records offered to this sink */
	uint64_t queued;		/* in memory now: queue + batch being written */
	uint64_t sent;			/* written by the sink */
	uint64_t failed;		/* write attempts that failed (records kept) */
	uint64_t dropped;		/* lost: spool full, disk full, no spool */
	uint64_t spooled;		/* records ever written to the spool */
	uint64_t spool_records;		/* in the spool now */
	uint64_t spool_bytes;		/* spool size on disk now */
	int up;				/* last write succeeded (1) or is failing (0) */
	char last_error[FC_SINK_ERR_LEN];
};

struct fc_export_producer_stats {
	uint64_t emitted;		/* records handed over */
	uint64_t ring_full;		/* dropped (or waited for, lossless) because the ring was full */
};

unsigned fc_export__nsinks(const struct fc_export *x);
unsigned fc_export__nproducers(const struct fc_export *x);
/* Snapshot of sink i's counters; any thread, any time before free. 0 or -ENOENT. */
int fc_export__sink_stats(struct fc_export *x, unsigned i, struct fc_export_sink_stats *st);
int fc_export__producer_stats(struct fc_export *x, unsigned i, struct fc_export_producer_stats *st);

/*
 * The default spool base directory: /var/lib/flowcut/spool for root, else
 * $XDG_DATA_HOME/flowcut/spool (~/.local/share/flowcut/spool). 0 or -ENAMETOOLONG.
 */
int fc_export_default_spool_dir(char *buf, size_t cap);

#endif
