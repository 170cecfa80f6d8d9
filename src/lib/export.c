// SPDX-License-Identifier: BSD-2-Clause
/*
 * export.c - the exporter (export.h): producer rings, the exporter thread
 * that fans records out, and one delivery thread per sink with its memory
 * queue, batching, retry with backoff and disk spool.
 *
 * Order per sink: everything in the memory queue is older than everything
 * in the spool. While the spool holds anything, new records go to the spool
 * too (never past it into memory); the delivery thread takes the memory
 * queue first and reads the spool only when the queue is empty. At close,
 * what is still in memory (the batch being written, then the queue) is put
 * *in front of* the spool (fc_spool__prepend), so a restart replays it in
 * the original order.
 *
 * Locks: the producer path has none (SPSC rings). Each sink has one mutex
 * shared by the exporter thread (push) and its delivery thread (pop, spool);
 * fc_sink__write() runs outside it.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/export.h"
#include "flowcut/flowtab.h"
#include "spool.h"
#include "spsc.h"
#include "units.h"

#define FANOUT_CHUNK 256
#define DROP_LOG_EVERY_NS (10ull * 1000000000)
#define DOWN_LOG_EVERY_NS (60ull * 1000000000)
#define IDLE_SLEEP_MIN_NS 50000ull
#define IDLE_SLEEP_MAX_NS 50000000ull
#define PACE_RING_DIV 8		/* exporter wakes when a ring is about 1/8 full */
#define WAKE_RING_DIV 2		/* a producer wakes it when its ring is half full */

struct producer {
	struct fc_export *x;
	unsigned idx;
	struct fc_spsc ring;
	_Alignas(64) _Atomic uint64_t emitted;
	_Atomic uint64_t ring_full;
	uint64_t logged_full;		/* exporter thread: ring_full at the last log line */
};

struct xsink {
	struct fc_export *x;
	struct fc_sink *sink;
	char name[128];
	pthread_t tid;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t wake;		/* delivery thread: records, stop, reopen */
	pthread_cond_t room;		/* exporter (lossless): queue has room */
	struct fc_flow_rec *q;		/* ring of qcap records */
	uint32_t qcap, qhead, qcount;
	uint64_t first_pending_ns;	/* when the queue last went non-empty */
	struct fc_flow_rec *batch;	/* being written (delivery thread) */
	uint32_t batch_max;		/* the sink's batch hint, else the exporter's */
	size_t nbatch;
	bool batch_from_spool;
	struct fc_spool *sp;		/* NULL: no spool, overflow is dropped */
	uint64_t spool_max;
	bool stop, reopen, down;
	uint64_t deadline_ns;

	/* counters, written under mu (read by stats under mu) */
	uint64_t received, sent, failed, dropped, spooled;
	uint64_t drops_unlogged, last_drop_log_ns, last_down_log_ns, fails_in_row;
	char last_error[FC_SINK_ERR_LEN];
};

struct fc_export {
	struct fc_export_opts o;
	struct producer *prod;
	struct xsink **sinks;
	unsigned nsinks;
	pthread_t tid;
	bool started, closed;
	_Atomic bool closing;
	bool any_drop;
	/*
	 * The exporter naps on a futex; a producer whose ring passes half full
	 * (or close) bumps the word and wakes it, so the nap can be long while
	 * records trickle and still short when they pour.
	 */
	_Alignas(64) _Atomic uint32_t nap_seq;
	_Atomic bool napping;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

/* Records waiting in p's ring, as far as its producer can tell. */
static uint64_t ring_fill(struct producer *p)
{
	return atomic_load_explicit(&p->ring.tail, memory_order_relaxed) -
	       atomic_load_explicit(&p->ring.head, memory_order_relaxed);
}

static void wake_exporter(struct fc_export *x)
{
	atomic_fetch_add_explicit(&x->nap_seq, 1, memory_order_seq_cst);
	syscall(SYS_futex, &x->nap_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * Exporter: sleep up to ns, or until a producer's ring passes the wake mark
 * or close begins. napping is set before the rings are looked at and a
 * producer looks at napping after its push (both seq_cst), so either the
 * producer wakes us or we see its records and do not sleep.
 */
static void exporter_nap(struct fc_export *x, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	uint32_t seq = atomic_load_explicit(&x->nap_seq, memory_order_seq_cst);
	uint64_t mark = x->o.ring_size / WAKE_RING_DIV;
	unsigned i;

	atomic_store_explicit(&x->napping, true, memory_order_seq_cst);
	for (i = 0; i < x->o.producers; i++)
		if (ring_fill(&x->prod[i]) >= mark)
			goto out;
	if (!atomic_load_explicit(&x->closing, memory_order_seq_cst))
		syscall(SYS_futex, &x->nap_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
out:
	atomic_store_explicit(&x->napping, false, memory_order_relaxed);
}

/* Condition variables run on CLOCK_MONOTONIC (see init_sink). */
static void timed_wait(pthread_cond_t *c, pthread_mutex_t *mu, uint64_t until_ns)
{
	struct timespec ts = { (time_t)(until_ns / 1000000000ull), (long)(until_ns % 1000000000ull) };

	pthread_cond_timedwait(c, mu, &ts);
}

static void xlog(const struct fc_export *x, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void xlog(const struct fc_export *x, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!x->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->o.log(x->o.log_ctx, level, msg);
}

int fc_export_default_spool_dir(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, cap, "/var/lib/flowcut/spool");
	else if (xdg && *xdg == '/')
		n = snprintf(buf, cap, "%s/flowcut/spool", xdg);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.local/share/flowcut/spool", home);
	else
		n = snprintf(buf, cap, "/tmp/flowcut-%u/spool", (unsigned)geteuid());
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

struct fc_export *fc_export__new(const struct fc_export_opts *opts)
{
	struct fc_export *x;
	unsigned i;
	int rc;

	if (!opts || opts->producers < 1 || opts->producers > 1024) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->o = *opts;
	x->o.spool_dir = NULL;	/* copied below */
	if (!x->o.ring_size)
		x->o.ring_size = FC_EXPORT_DEFAULT_RING;
	if (!x->o.queue_max)
		x->o.queue_max = FC_EXPORT_DEFAULT_QUEUE;
	if (!x->o.batch_max)
		x->o.batch_max = FC_EXPORT_DEFAULT_BATCH;
	if (!x->o.batch_wait_ns)
		x->o.batch_wait_ns = 1000000000ull;
	if (!x->o.retry_min_ns)
		x->o.retry_min_ns = 100000000ull;
	if (!x->o.retry_max_ns)
		x->o.retry_max_ns = 10000000000ull;
	if (!x->o.spool_max)
		x->o.spool_max = FC_EXPORT_DEFAULT_SPOOL_MAX;
	if (!x->o.close_timeout_ns)
		x->o.close_timeout_ns = FC_EXPORT_DEFAULT_CLOSE_TIMEOUT_NS;
	if (opts->spool_dir && !(x->o.spool_dir = strdup(opts->spool_dir)))
		goto err_free;
	x->prod = calloc(opts->producers, sizeof(*x->prod));
	if (!x->prod)
		goto err_free;
	for (i = 0; i < opts->producers; i++) {
		x->prod[i].x = x;
		x->prod[i].idx = i;
		rc = fc_spsc__init(&x->prod[i].ring, x->o.ring_size);
		if (rc) {
			errno = -rc;
			goto err_free;
		}
	}
	return x;
err_free:
	fc_export__free(x);
	return NULL;
}

/* A directory name from a sink name: "ipfix:host:4739" -> "ipfix_host_4739". */
static void dir_name(const char *name, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; name[i] && n + 1 < cap; i++) {
		char c = name[i];

		out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
					   c == '.' || c == '-' ? c : '_';
	}
	out[n] = '\0';
}

static void free_sink(struct xsink *s)
{
	if (!s)
		return;
	fc_sink__close(s->sink);
	fc_spool__close(s->sp);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->room);
	free(s->q);
	free(s->batch);
	free(s);
}

/* Split the exporter's own options off spec. Returns 0 or -EINVAL (message in err). */
static int take_opts(struct fc_export *x, struct xsink *s, const struct fc_sink_spec *spec,
		     struct fc_sink_spec *rest, const char **spool_dir, char *err, size_t errlen)
{
	uint64_t v;
	unsigned i;

	*rest = *spec;
	rest->nopts = 0;
	for (i = 0; i < spec->nopts; i++) {
		const char *k = spec->opts[i].key, *val = spec->opts[i].val;

		if (!strcmp(k, "spool")) {
			*spool_dir = val;
		} else if (!strcmp(k, "spool_max")) {
			if (fc_parse_size(val, &v) || v < 64 * 1024) {
				snprintf(err, errlen, "spool_max=%s: not a size of at least 64k (e.g. 1G)",
					 val);
				return -EINVAL;
			}
			s->spool_max = v;
		} else if (!strcmp(k, "queue_max")) {
			if (fc_parse_u64(val, &v) || v < 1 || v > (1u << 24)) {
				snprintf(err, errlen, "queue_max=%s: not a count in 1 .. 16777216", val);
				return -EINVAL;
			}
			s->qcap = (uint32_t)v;
		} else {
			rest->opts[rest->nopts++] = spec->opts[i];
		}
	}
	return 0;
}

static int init_sink(struct xsink *s)
{
	pthread_condattr_t ca;
	int rc;

	rc = pthread_condattr_init(&ca);
	if (rc)
		return -rc;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->room, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

int fc_export__add_sink(struct fc_export *x, const struct fc_sink_spec *spec, char *err,
			size_t errlen)
{
	const char *spool_dir = NULL;
	struct fc_sink_spec rest;
	struct xsink *s, **ns;
	char note[512], dir[4096], sub[128];
	int rc;

	if (x->started) {
		snprintf(err, errlen, "sinks are added before the exporter starts");
		return -EBUSY;
	}
	s = calloc(1, sizeof(*s));
	if (!s || init_sink(s)) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->x = x;
	s->qcap = x->o.queue_max;
	s->spool_max = x->o.spool_max;
	snprintf(s->name, sizeof(s->name), "%s:%s", spec->type, spec->target);
	rc = take_opts(x, s, spec, &rest, &spool_dir, err, errlen);
	if (rc)
		goto err_free;
	s->q = calloc(s->qcap, sizeof(*s->q));
	if (!s->q) {
		snprintf(err, errlen, "out of memory for a queue of %u records", s->qcap);
		rc = -ENOMEM;
		goto err_free;
	}
	if (spool_dir || x->o.spool_dir) {
		dir_name(s->name, sub, sizeof(sub));
		if (spool_dir)
			rc = snprintf(dir, sizeof(dir), "%s", spool_dir);
		else
			rc = snprintf(dir, sizeof(dir), "%s/%s", x->o.spool_dir, sub);
		if (rc < 0 || (size_t)rc >= sizeof(dir)) {
			snprintf(err, errlen, "%s: spool directory name too long", s->name);
			rc = -ENAMETOOLONG;
			goto err_free;
		}
		s->sp = fc_spool__open(dir, s->spool_max, note, sizeof(note));
		if (!s->sp) {
			rc = -errno;
			snprintf(err, errlen, "%s: spool %s: %s", s->name, dir, strerror(errno));
			goto err_free;
		}
		if (note[0])
			xlog(x, FC_LOG_WARN, "sink %s: spool %s", s->name, note);
	}
	s->sink = fc_sink__open(&rest, err, errlen);
	if (!s->sink) {
		rc = -EINVAL;
		goto err_free;
	}
	/* Batches never exceed the queue: the spool replays in the same sizes. */
	s->batch_max = x->o.batch_max;
	if (fc_sink__batch_hint(s->sink))
		s->batch_max = (uint32_t)(fc_sink__batch_hint(s->sink) < s->qcap ?
					  fc_sink__batch_hint(s->sink) : s->qcap);
	s->batch = calloc(s->batch_max, sizeof(*s->batch));
	if (!s->batch) {
		snprintf(err, errlen, "out of memory for a batch of %u records", s->batch_max);
		rc = -ENOMEM;
		goto err_free;
	}
	if (s->sp && fc_spool__records(s->sp))
		xlog(x, FC_LOG_INFO, "sink %s: %llu records spooled by an earlier run in %s go first",
		     s->name, (unsigned long long)fc_spool__records(s->sp), fc_spool__dir(s->sp));
	ns = realloc(x->sinks, (x->nsinks + 1) * sizeof(*ns));
	if (!ns) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err_free;
	}
	x->sinks = ns;
	x->sinks[x->nsinks++] = s;
	return 0;
err_free:
	free_sink(s);
	return rc;
}

/* ---- producers ---------------------------------------------------------- */

void fc_export__emit(struct fc_export *x, unsigned producer, const struct fc_flow_rec *rec)
{
	struct producer *p = &x->prod[producer];

	atomic_fetch_add_explicit(&p->emitted, 1, memory_order_relaxed);
	if (fc_spsc__push(&p->ring, rec)) {
		if (ring_fill(p) < x->o.ring_size / WAKE_RING_DIV)
			return;
		atomic_thread_fence(memory_order_seq_cst);	/* the push before the look */
		if (atomic_load_explicit(&x->napping, memory_order_relaxed))
			wake_exporter(x);
		return;
	}
	atomic_fetch_add_explicit(&p->ring_full, 1, memory_order_relaxed);
	if (!x->o.lossless)
		return;
	while (!fc_spsc__push(&p->ring, rec)) {
		if (atomic_load_explicit(&x->napping, memory_order_relaxed))
			wake_exporter(x);
		sleep_ns(IDLE_SLEEP_MIN_NS);
	}
}

void *fc_export__producer(struct fc_export *x, unsigned producer)
{
	return producer < x->o.producers ? &x->prod[producer] : NULL;
}

void fc_export__emit_cb(void *producer, const struct fc_flow_rec *rec)
{
	struct producer *p = producer;

	fc_export__emit(p->x, p->idx, rec);
}

/* ---- exporter thread: rings -> sink queues -------------------------------- */

/* Under s->mu: count and (rate-limited) log records that could not be kept. */
static void drop_locked(struct xsink *s, uint64_t n, int why)
{
	uint64_t now = now_ns();

	s->dropped += n;
	s->drops_unlogged += n;
	s->x->any_drop = true;
	if (s->last_drop_log_ns && now - s->last_drop_log_ns < DROP_LOG_EVERY_NS)
		return;
	xlog(s->x, FC_LOG_WARN, "sink %s: dropped %llu records (%llu in all): %s", s->name,
	     (unsigned long long)s->drops_unlogged, (unsigned long long)s->dropped,
	     why == -EDQUOT ? "the spool is at its size cap (spool_max)" :
	     why == -ENOSPC ? "the spool's disk is full" :
	     why == -ENODEV ? "the memory queue is full and there is no spool" : strerror(-why));
	s->last_drop_log_ns = now;
	s->drops_unlogged = 0;
}

/* Under s->mu: spill recs to the spool, dropping (counted) what it refuses. */
static void spill_locked(struct xsink *s, const struct fc_flow_rec *recs, size_t n)
{
	while (n) {
		int r = s->sp ? fc_spool__append(s->sp, recs, n) : -ENODEV;

		if (r <= 0) {
			drop_locked(s, n, r ? r : -EIO);
			return;
		}
		s->spooled += (uint64_t)r;
		recs += r;
		n -= (size_t)r;
	}
}

static void offer(struct xsink *s, const struct fc_flow_rec *recs, size_t n)
{
	bool lossless = s->x->o.lossless, wake;

	pthread_mutex_lock(&s->mu);
	s->received += n;
	wake = !s->qcount;
	while (n) {
		bool spooling = s->sp && fc_spool__records(s->sp);
		uint32_t room = s->qcap - s->qcount, k, i;

		if (spooling || !room) {
			if (lossless && !s->down && !spooling && !s->stop) {
				pthread_cond_signal(&s->wake);
				timed_wait(&s->room, &s->mu, now_ns() + 100000000ull);
				continue;
			}
			spill_locked(s, recs, n);
			wake = true;
			break;
		}
		if (!s->qcount)
			s->first_pending_ns = now_ns();
		k = n < room ? (uint32_t)n : room;
		for (i = 0; i < k; i++)
			s->q[(s->qhead + s->qcount + i) % s->qcap] = recs[i];
		s->qcount += k;
		recs += k;
		n -= k;
	}
	/*
	 * A delivery thread holding a part batch sleeps until batch_wait_ns
	 * after its first record anyway; waking it for every offer only sent
	 * it back to sleep (150 wakeups a second in a live capture, each
	 * costing more than the records). Wake it when it may be waiting with
	 * nothing, or has a full batch to write, or the spool grew.
	 */
	if (wake || s->qcount >= s->x->o.batch_max || s->stop)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
}

static void log_ring_full(struct fc_export *x)
{
	unsigned i;

	for (i = 0; i < x->o.producers; i++) {
		struct producer *p = &x->prod[i];
		uint64_t full = atomic_load_explicit(&p->ring_full, memory_order_relaxed);

		if (full == p->logged_full || x->o.lossless)
			continue;
		xlog(x, FC_LOG_WARN, "exporter: worker %u's ring was full, %llu records dropped (%llu "
		     "in all): the sinks' queues cannot keep up", i,
		     (unsigned long long)(full - p->logged_full), (unsigned long long)full);
		p->logged_full = full;
		x->any_drop = true;
	}
}

static void *exporter_main(void *arg)
{
	struct fc_export *x = arg;
	struct fc_flow_rec *buf = malloc(FANOUT_CHUNK * sizeof(*buf));
	uint64_t idle_ns = IDLE_SLEEP_MIN_NS, last_log = now_ns(), last_pass_ns = last_log;
	bool final_pass = false;
	unsigned i, j;

	if (!buf) {
		xlog(x, FC_LOG_ERR, "exporter: out of memory; records will pile up in the rings");
		return NULL;
	}
	for (;;) {
		size_t got = 0;

		for (i = 0; i < x->o.producers; i++) {
			size_t n;

			while ((n = fc_spsc__pop(&x->prod[i].ring, buf, FANOUT_CHUNK))) {
				for (j = 0; j < n; j++)	/* deferred by the workers' tables */
					fc_flow_rec__fill_community_id(&buf[j]);
				for (j = 0; j < x->nsinks; j++)
					offer(x->sinks[j], buf, n);
				got += n;
				if (got > 64 * FANOUT_CHUNK)
					break;	/* be fair to the other rings */
			}
		}
		if (now_ns() - last_log >= DROP_LOG_EVERY_NS) {
			log_ring_full(x);
			last_log = now_ns();
		}
		if (got) {
			uint64_t now = now_ns();

			final_pass = false;
			/*
			 * Records trickle in (a live capture ends a few thousand flows a
			 * second): waking every 50 us for them cost more CPU than moving
			 * them. Sleep about as long as the producers took to fill an
			 * eighth of a ring at the rate just seen, within the usual bounds.
			 */
			idle_ns = (now - last_pass_ns) * (x->o.ring_size / PACE_RING_DIV) / got;
			if (idle_ns < IDLE_SLEEP_MIN_NS)
				idle_ns = IDLE_SLEEP_MIN_NS;
			if (idle_ns > IDLE_SLEEP_MAX_NS)
				idle_ns = IDLE_SLEEP_MAX_NS;
			last_pass_ns = now;
			if (got <= 64 * FANOUT_CHUNK &&
			    !atomic_load_explicit(&x->closing, memory_order_acquire))
				exporter_nap(x, idle_ns);
			continue;
		}
		/* Producers stopped before closing was set: one empty pass after it is the end. */
		if (atomic_load_explicit(&x->closing, memory_order_acquire)) {
			if (final_pass)
				break;
			final_pass = true;
			continue;
		}
		exporter_nap(x, idle_ns);
		if (idle_ns < IDLE_SLEEP_MAX_NS)
			idle_ns *= 2;
	}
	log_ring_full(x);
	free(buf);
	return NULL;
}

/* ---- delivery threads: queue/spool -> sink -------------------------------- */

/* Under s->mu: fill s->batch from the queue or, when it is empty, the spool. */
static void take_batch_locked(struct xsink *s)
{
	uint32_t k = s->qcount < s->batch_max ? s->qcount : s->batch_max, i;

	if (k) {
		for (i = 0; i < k; i++)
			s->batch[i] = s->q[(s->qhead + i) % s->qcap];
		s->qhead = (s->qhead + k) % s->qcap;
		s->qcount -= k;
		s->nbatch = k;
		s->batch_from_spool = false;
		pthread_cond_broadcast(&s->room);
		return;
	}
	if (s->sp && fc_spool__records(s->sp)) {
		int r = fc_spool__peek(s->sp, s->batch, s->batch_max);

		if (r > 0) {
			s->nbatch = (size_t)r;
			s->batch_from_spool = true;
		} else if (r < 0) {
			snprintf(s->last_error, sizeof(s->last_error), "spool %s: %s",
				 fc_spool__dir(s->sp), strerror(-r));
		}
	}
}

static void note_failure_locked(struct xsink *s, int rc)
{
	const struct fc_sink_health *h = fc_sink__health(s->sink);
	uint64_t now = now_ns();

	s->failed++;
	s->fails_in_row++;
	snprintf(s->last_error, sizeof(s->last_error), "%s",
		 h->last_error[0] ? h->last_error : strerror(rc < 0 ? -rc : EIO));
	if (!s->down || now - s->last_down_log_ns >= DOWN_LOG_EVERY_NS) {
		xlog(s->x, FC_LOG_WARN, "sink %s: write failed (%s); keeping records, retrying with "
		     "backoff (%u queued, %llu spooled)", s->name, s->last_error, s->qcount + (unsigned)s->nbatch,
		     s->sp ? (unsigned long long)fc_spool__records(s->sp) : 0ull);
		s->last_down_log_ns = now;
	}
	s->down = true;
}

static void note_success_locked(struct xsink *s, size_t n)
{
	s->sent += n;
	if (s->batch_from_spool)
		fc_spool__consume(s->sp, n);
	if (n < s->nbatch)
		memmove(s->batch, s->batch + n, (s->nbatch - n) * sizeof(*s->batch));
	s->nbatch -= n;
	if (s->down) {
		xlog(s->x, FC_LOG_INFO, "sink %s: delivering again after %llu failed attempts",
		     s->name, (unsigned long long)s->fails_in_row);
		s->down = false;
	}
	s->fails_in_row = 0;
}

/*
 * Under s->mu, at the end: what is still in memory goes in front of the
 * spool, batch first, so a restart replays in the original order.
 */
static void spool_leftovers_locked(struct xsink *s)
{
	uint32_t first = s->qcount, wrap = 0;
	uint64_t left = s->qcount + (s->batch_from_spool ? 0 : s->nbatch);
	int r;

	if (!left)
		goto out;
	if (!s->sp) {
		drop_locked(s, left, -ENODEV);
		goto out;
	}
	if (s->qhead + s->qcount > s->qcap) {
		first = s->qcap - s->qhead;
		wrap = s->qcount - first;
	}
	/* prepend in reverse: queue tail, queue head, then the batch in front of all */
	if (wrap) {
		r = fc_spool__prepend(s->sp, s->q, wrap);
		s->spooled += r > 0 ? (uint64_t)r : 0;
		if (r < (int)wrap)
			drop_locked(s, wrap - (r > 0 ? (unsigned)r : 0), r < 0 ? r : -ENOSPC);
	}
	if (first) {
		r = fc_spool__prepend(s->sp, s->q + s->qhead, first);
		s->spooled += r > 0 ? (uint64_t)r : 0;
		if (r < (int)first)
			drop_locked(s, first - (r > 0 ? (unsigned)r : 0), r < 0 ? r : -ENOSPC);
	}
	if (s->nbatch && !s->batch_from_spool) {
		r = fc_spool__prepend(s->sp, s->batch, s->nbatch);
		s->spooled += r > 0 ? (uint64_t)r : 0;
		if (r < (int)s->nbatch)
			drop_locked(s, s->nbatch - (r > 0 ? (size_t)r : 0), r < 0 ? r : -ENOSPC);
	}
out:
	s->qcount = 0;
	s->nbatch = 0;
	if (s->sp && fc_spool__records(s->sp))
		xlog(s->x, FC_LOG_WARN, "sink %s: not delivered before the close timeout; %llu "
		     "records kept in the spool %s for the next run", s->name,
		     (unsigned long long)fc_spool__records(s->sp), fc_spool__dir(s->sp));
}

static void *delivery_main(void *arg)
{
	struct xsink *s = arg;
	const struct fc_export_opts *o = &s->x->o;
	uint64_t backoff = o->retry_min_ns;
	bool need_flush = false;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t now = now_ns();

		if (s->reopen) {
			s->reopen = false;
			pthread_mutex_unlock(&s->mu);
			rc = fc_sink__reopen(s->sink);
			pthread_mutex_lock(&s->mu);
			if (rc < 0)
				xlog(s->x, FC_LOG_WARN, "sink %s: reopen: %s", s->name,
				     fc_sink__health(s->sink)->last_error[0] ?
					     fc_sink__health(s->sink)->last_error : strerror(-rc));
		}
		if (s->stop && now >= s->deadline_ns &&
		    (s->nbatch || s->qcount || (s->sp && fc_spool__records(s->sp))))
			break;
		if (!s->nbatch) {
			if (s->qcount && s->qcount < o->batch_max && !s->stop &&
			    now - s->first_pending_ns < o->batch_wait_ns) {
				timed_wait(&s->wake, &s->mu, s->first_pending_ns + o->batch_wait_ns);
				continue;
			}
			take_batch_locked(s);
		}
		if (!s->nbatch) {
			if (need_flush) {
				pthread_mutex_unlock(&s->mu);
				rc = fc_sink__flush(s->sink);
				pthread_mutex_lock(&s->mu);
				if (rc >= 0) {
					need_flush = false;
					continue;
				}
				/* the sink still holds what it buffered: try again later */
				note_failure_locked(s, rc);
				now = now_ns() + backoff;
				timed_wait(&s->wake, &s->mu,
					   s->stop && s->deadline_ns < now ? s->deadline_ns : now);
				backoff = backoff * 2 > o->retry_max_ns ? o->retry_max_ns : backoff * 2;
				if (s->stop && now_ns() >= s->deadline_ns)
					break;
				continue;
			}
			if (s->stop && !(s->sp && fc_spool__records(s->sp)))
				break;
			if (s->sp && fc_spool__records(s->sp)) {	/* spool read failed: retry */
				timed_wait(&s->wake, &s->mu, now + backoff);
				continue;
			}
			timed_wait(&s->wake, &s->mu, now + o->batch_wait_ns);
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		rc = fc_sink__write(s->sink, s->batch, s->nbatch);
		pthread_mutex_lock(&s->mu);
		if (rc > 0) {
			note_success_locked(s, (size_t)rc > s->nbatch ? s->nbatch : (size_t)rc);
			need_flush = true;
			backoff = o->retry_min_ns;
			continue;
		}
		if (rc < 0)
			note_failure_locked(s, rc);
		/* nothing taken: wait before offering the same records again */
		now = now_ns() + backoff;
		timed_wait(&s->wake, &s->mu, s->stop && s->deadline_ns < now ? s->deadline_ns : now);
		if (rc < 0)
			backoff = backoff * 2 > o->retry_max_ns ? o->retry_max_ns : backoff * 2;
	}
	spool_leftovers_locked(s);
	pthread_mutex_unlock(&s->mu);
	rc = fc_sink__flush(s->sink);
	if (rc < 0)
		xlog(s->x, FC_LOG_WARN, "sink %s: final flush: %s", s->name,
		     fc_sink__health(s->sink)->last_error[0] ? fc_sink__health(s->sink)->last_error :
							       strerror(-rc));
	return NULL;
}

int fc_export__start(struct fc_export *x)
{
	unsigned i;
	int rc;

	if (x->started)
		return -EBUSY;
	for (i = 0; i < x->nsinks; i++) {
		rc = pthread_create(&x->sinks[i]->tid, NULL, delivery_main, x->sinks[i]);
		if (rc)
			goto err;
		x->sinks[i]->started = true;
	}
	rc = pthread_create(&x->tid, NULL, exporter_main, x);
	if (rc)
		goto err;
	x->started = true;
	return 0;
err:
	x->started = true;	/* let close() join what did start */
	atomic_store(&x->closing, true);
	for (i = 0; i < x->nsinks; i++) {
		struct xsink *s = x->sinks[i];

		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
		if (s->started)
			pthread_join(s->tid, NULL);
		s->started = false;
	}
	x->closed = true;
	return -rc;
}

void fc_export__reopen(struct fc_export *x)
{
	unsigned i;

	for (i = 0; i < x->nsinks; i++) {
		struct xsink *s = x->sinks[i];

		pthread_mutex_lock(&s->mu);
		s->reopen = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
	}
}

int fc_export__close(struct fc_export *x)
{
	uint64_t deadline;
	unsigned i;

	if (!x || x->closed)
		return x && x->any_drop ? -EIO : 0;
	x->closed = true;
	atomic_store_explicit(&x->closing, true, memory_order_seq_cst);
	wake_exporter(x);
	if (x->started)
		pthread_join(x->tid, NULL);
	deadline = now_ns() + x->o.close_timeout_ns;
	for (i = 0; i < x->nsinks; i++) {
		struct xsink *s = x->sinks[i];

		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->deadline_ns = deadline;
		pthread_cond_signal(&s->wake);
		pthread_cond_broadcast(&s->room);
		pthread_mutex_unlock(&s->mu);
	}
	for (i = 0; i < x->nsinks; i++) {
		struct xsink *s = x->sinks[i];

		if (s->started)
			pthread_join(s->tid, NULL);
		else
			spool_leftovers_locked(s);	/* never started: nothing else holds it */
		s->started = false;
		fc_sink__close(s->sink);
		s->sink = NULL;
		if (s->dropped)
			xlog(x, FC_LOG_WARN, "sink %s: %llu records dropped in all", s->name,
			     (unsigned long long)s->dropped);
	}
	return x->any_drop ? -EIO : 0;
}

void fc_export__free(struct fc_export *x)
{
	unsigned i;

	if (!x)
		return;
	if (x->started || x->nsinks)
		fc_export__close(x);
	for (i = 0; i < x->nsinks; i++)
		free_sink(x->sinks[i]);
	free(x->sinks);
	if (x->prod)
		for (i = 0; i < x->o.producers; i++)
			fc_spsc__fini(&x->prod[i].ring);
	free(x->prod);
	free((char *)x->o.spool_dir);
	free(x);
}

unsigned fc_export__nsinks(const struct fc_export *x)
{
	return x->nsinks;
}

unsigned fc_export__nproducers(const struct fc_export *x)
{
	return x->o.producers;
}

int fc_export__sink_stats(struct fc_export *x, unsigned i, struct fc_export_sink_stats *st)
{
	struct xsink *s;

	if (i >= x->nsinks)
		return -ENOENT;
	s = x->sinks[i];
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->mu);
	snprintf(st->name, sizeof(st->name), "%s", s->name);
	st->received = s->received;
	st->queued = s->qcount + (s->batch_from_spool ? 0 : s->nbatch);
	st->sent = s->sent;
	st->failed = s->failed;
	st->dropped = s->dropped;
	st->spooled = s->spooled;
	st->spool_records = s->sp ? fc_spool__records(s->sp) : 0;
	st->spool_bytes = s->sp ? fc_spool__bytes(s->sp) : 0;
	st->up = !s->down;
	memcpy(st->last_error, s->last_error, sizeof(st->last_error));
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int fc_export__producer_stats(struct fc_export *x, unsigned i, struct fc_export_producer_stats *st)
{
	if (i >= x->o.producers)
		return -ENOENT;
	st->emitted = atomic_load_explicit(&x->prod[i].emitted, memory_order_relaxed);
	st->ring_full = atomic_load_explicit(&x->prod[i].ring_full, memory_order_relaxed);
	return 0;
}
