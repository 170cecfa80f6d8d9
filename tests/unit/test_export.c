// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_export.c - the exporter: SPSC ring (wraparound, full), fan-out to two
 * sinks, retry after failures with nothing lost and order kept, spill to the
 * disk spool while a sink is down, spool replay after a restart, the spool
 * cap and a full disk (a 256 KiB tmpfs, root only) counted as drops.
 *
 * The sinks are a test-only type "fake" registered here: target "a".."d"
 * selects one of four instances whose behaviour the test steers.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/export.h"
#include "flowcut/flowtab.h"
#include "spool.h"
#include "spsc.h"
#include "t.h"

#define MAXREC 20000

struct fake {
	atomic_int down;		/* 1: every write fails with -ECONNREFUSED */
	atomic_int fail_next;		/* fail this many writes, then work */
	atomic_int partial;		/* take at most this many per write (0 = all) */
	size_t hint;			/* batch hint the sink states at open (0 = none) */
	size_t largest;			/* largest batch offered to write() */
	uint64_t ids[MAXREC];
	char cids[8][FC_COMMUNITY_ID_LEN];	/* community_id of the first 8 records */
	size_t n;
	unsigned writes, flushes, reopens;
};

static struct fake fakes[4];
static char logbuf[8192];

static int fake_open(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	if (strlen(spec->target) != 1 || spec->target[0] < 'a' || spec->target[0] > 'd') {
		fc_sink__set_err(s, "target a..d");
		return -EINVAL;
	}
	if (spec->nopts) {
		fc_sink__set_err(s, "unknown option '%s'", spec->opts[0].key);
		return -EINVAL;
	}
	*(struct fake **)fc_sink__priv(s) = &fakes[spec->target[0] - 'a'];
	if (fakes[spec->target[0] - 'a'].hint)
		fc_sink__set_batch_hint(s, fakes[spec->target[0] - 'a'].hint);
	return 0;
}

static int fake_write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	struct fake *f = *(struct fake **)fc_sink__priv(s);
	size_t i;

	f->writes++;
	if (n > f->largest)
		f->largest = n;
	if (atomic_load(&f->down))
		return -ECONNREFUSED;
	if (atomic_load(&f->fail_next) > 0) {
		atomic_fetch_sub(&f->fail_next, 1);
		fc_sink__set_err(s, "collector hiccup");
		return -EIO;
	}
	if (atomic_load(&f->partial) && n > (size_t)atomic_load(&f->partial))
		n = (size_t)atomic_load(&f->partial);
	for (i = 0; i < n && f->n < MAXREC; i++) {
		if (f->n < 8)
			memcpy(f->cids[f->n], recs[i].community_id, FC_COMMUNITY_ID_LEN);
		f->ids[f->n++] = recs[i].flow_id;
	}
	return (int)n;
}

static int fake_flush(struct fc_sink *s)
{
	(*(struct fake **)fc_sink__priv(s))->flushes++;
	return 0;
}

static int fake_reopen(struct fc_sink *s)
{
	(*(struct fake **)fc_sink__priv(s))->reopens++;
	return 0;
}

static const struct fc_sink_ops fake_ops = {
	.type = "fake",
	.help = "test only",
	.priv_size = sizeof(struct fake *),
	.open = fake_open,
	.write = fake_write,
	.flush = fake_flush,
	.reopen = fake_reopen,
};

static void test_log(void *ctx, int level, const char *msg)
{
	size_t len = strlen(logbuf);

	snprintf(logbuf + len, sizeof(logbuf) - len, "%d %s\n", level, msg);
}

static void reset(void)
{
	memset(fakes, 0, sizeof(fakes));
	logbuf[0] = '\0';
}

static void mkrec(struct fc_flow_rec *r, uint64_t id)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = id;
	r->family = 4;
	r->proto = 17;
	r->pkts = id;
}

static void defaults(struct fc_export_opts *o, const char *spool)
{
	memset(o, 0, sizeof(*o));
	o->producers = 1;
	o->batch_wait_ns = 1000000;
	o->retry_min_ns = 1000000;
	o->retry_max_ns = 20000000;
	o->close_timeout_ns = 3000000000ull;
	o->spool_dir = spool;
	o->log = test_log;
}

static struct fc_export *open_x(const struct fc_export_opts *o, const char *const *specs, unsigned n)
{
	struct fc_export *x = fc_export__new(o);
	char err[256];
	unsigned i;

	CHECK(x != NULL);
	if (!x)
		return NULL;
	for (i = 0; i < n; i++) {
		struct fc_sink_spec spec;
		int rc;

		CHECK(fc_sink_spec__parse(specs[i], &spec, err, sizeof(err)) == 0);
		rc = fc_export__add_sink(x, &spec, err, sizeof(err));
		if (rc)
			fprintf(stderr, "  add_sink %s: %s\n", specs[i], err);
		CHECK(rc == 0);
		fc_sink_spec__free(&spec);
	}
	CHECK(fc_export__start(x) == 0);
	return x;
}

static void emit_range(struct fc_export *x, uint64_t from, uint64_t to)
{
	struct fc_flow_rec r;
	uint64_t i;

	for (i = from; i < to; i++) {
		mkrec(&r, i);
		fc_export__emit(x, 0, &r);
	}
}

static int in_order(const struct fake *f, uint64_t from, uint64_t to)
{
	size_t i;

	if (f->n != to - from) {
		fprintf(stderr, "  got %zu records, want %llu\n", f->n, (unsigned long long)(to - from));
		return 0;
	}
	for (i = 0; i < f->n; i++)
		if (f->ids[i] != from + i) {
			fprintf(stderr, "  record %zu is %llu, want %llu\n", i,
				(unsigned long long)f->ids[i], (unsigned long long)(from + i));
			return 0;
		}
	return 1;
}

static void wait_for(struct fc_export *x, unsigned sink, uint64_t spooled_at_least)
{
	struct fc_export_sink_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		fc_export__sink_stats(x, sink, &st);
		if (st.spooled >= spooled_at_least)
			return;
		usleep(10000);
	}
}

/* Wait (up to 5 s) until sink has failed a write: its delivery thread may
 * not have tried one yet when the exporter has already spooled. */
static void wait_failed(struct fc_export *x, unsigned sink)
{
	struct fc_export_sink_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		fc_export__sink_stats(x, sink, &st);
		if (st.failed > 0 && !st.up)
			return;
		usleep(10000);
	}
}

static char tmpdir[] = "/tmp/fc_test_export.XXXXXX";

static void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  cannot remove %s\n", dir);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_spsc_wraparound(void)
{
	struct fc_spsc r;
	struct fc_flow_rec rec, out[16];
	uint64_t next_in = 0, next_out = 0;
	int round;
	size_t n, i;

	CHECK(fc_spsc__init(&r, 6) == -EINVAL);
	CHECK(fc_spsc__init(&r, 8) == 0);
	for (round = 0; round < 100; round++) {	/* 100 * 5 > 2^8: indexes wrap many times */
		for (i = 0; i < 5; i++) {
			mkrec(&rec, next_in);
			if (fc_spsc__push(&r, &rec))
				next_in++;
		}
		n = fc_spsc__pop(&r, out, 3);
		for (i = 0; i < n; i++)
			CHECK_EQ_U(out[i].flow_id, next_out++);
	}
	while ((n = fc_spsc__pop(&r, out, 16)))
		for (i = 0; i < n; i++)
			CHECK_EQ_U(out[i].flow_id, next_out++);
	CHECK_EQ_U(next_out, next_in);
	/* full: exactly cap records fit */
	for (i = 0; i < 9; i++) {
		mkrec(&rec, i);
		CHECK(fc_spsc__push(&r, &rec) == (i < 8));
	}
	CHECK_EQ_U(fc_spsc__count(&r), 8);
	fc_spsc__fini(&r);
}

static void test_ring_full_counted(void)
{
	struct fc_export_opts o;
	struct fc_export_producer_stats ps;
	struct fc_export *x;

	defaults(&o, NULL);
	o.ring_size = 4;
	x = fc_export__new(&o);	/* not started: nobody drains the ring */
	CHECK(x != NULL);
	if (!x)
		return;
	emit_range(x, 0, 10);
	CHECK(fc_export__producer_stats(x, 0, &ps) == 0);
	CHECK_EQ_U(ps.emitted, 10);
	CHECK_EQ_U(ps.ring_full, 6);
	fc_export__free(x);
}

static void test_fanout_two_sinks(void)
{
	const char *specs[] = { "fake:a", "fake:b" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	defaults(&o, NULL);
	o.producers = 1;
	x = open_x(&o, specs, 2);
	if (!x)
		return;
	emit_range(x, 0, 5000);
	CHECK(fc_export__close(x) == 0);
	CHECK(in_order(&fakes[0], 0, 5000));
	CHECK(in_order(&fakes[1], 0, 5000));
	CHECK(fakes[0].flushes > 0);
	CHECK(fc_export__sink_stats(x, 1, &st) == 0);
	CHECK_STR(st.name, "fake:b");
	CHECK_EQ_U(st.received, 5000);
	CHECK_EQ_U(st.sent, 5000);
	CHECK_EQ_U(st.dropped, 0);
	CHECK_EQ_U(st.queued, 0);
	fc_export__free(x);
}

/* A sink's batch hint sizes its batches; the other sink keeps the default. */
static void test_batch_hint(void)
{
	const char *specs[] = { "fake:a", "fake:b" };
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	fakes[0].hint = 7;
	defaults(&o, NULL);
	o.batch_wait_ns = 200000000;	/* let batches fill before they go */
	x = open_x(&o, specs, 2);
	if (!x)
		return;
	emit_range(x, 0, 3000);
	CHECK(fc_export__close(x) == 0);
	CHECK(in_order(&fakes[0], 0, 3000));
	CHECK(in_order(&fakes[1], 0, 3000));
	CHECK(fakes[0].largest <= 7);
	CHECK(fakes[0].writes >= 3000 / 7);
	CHECK(fakes[1].largest > 7);
	fc_export__free(x);
}

static void test_retry_then_recover(void)
{
	const char *specs[] = { "fake:a" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	atomic_store(&fakes[0].fail_next, 5);
	atomic_store(&fakes[0].partial, 7);	/* also short writes: the rest is re-offered */
	defaults(&o, NULL);
	x = open_x(&o, specs, 1);
	if (!x)
		return;
	emit_range(x, 0, 3000);
	CHECK(fc_export__close(x) == 0);
	CHECK(in_order(&fakes[0], 0, 3000));
	fc_export__sink_stats(x, 0, &st);
	CHECK_EQ_U(st.failed, 5);
	CHECK_EQ_U(st.sent, 3000);
	CHECK_EQ_U(st.dropped, 0);
	CHECK(st.up == 1);
	CHECK(strstr(logbuf, "collector hiccup") != NULL);
	CHECK(strstr(logbuf, "delivering again") != NULL);
	fc_export__free(x);
}

static void test_spool_while_down(void)
{
	const char *specs[] = { "fake:a?queue_max=64", "fake:b" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	atomic_store(&fakes[0].down, 1);
	defaults(&o, tmpdir);
	x = open_x(&o, specs, 2);
	if (!x)
		return;
	emit_range(x, 0, 3000);
	wait_for(x, 0, 3000 - 64 - 1024);
	wait_failed(x, 0);
	fc_export__sink_stats(x, 0, &st);
	CHECK(st.spooled > 0);
	CHECK(st.spool_bytes > 0);
	CHECK(st.up == 0);
	CHECK(st.failed > 0);
	emit_range(x, 3000, 3500);	/* more while down: behind the spool */
	atomic_store(&fakes[0].down, 0);
	emit_range(x, 3500, 4000);	/* and after recovery */
	CHECK(fc_export__close(x) == 0);
	CHECK(in_order(&fakes[0], 0, 4000));
	CHECK(in_order(&fakes[1], 0, 4000));	/* the healthy sink never waited */
	fc_export__sink_stats(x, 0, &st);
	CHECK_EQ_U(st.dropped, 0);
	CHECK_EQ_U(st.spool_records, 0);
	fc_export__free(x);
}

static void test_spool_survives_restart(void)
{
	const char *specs[] = { "fake:c?queue_max=128" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	atomic_store(&fakes[2].down, 1);
	defaults(&o, tmpdir);
	o.close_timeout_ns = 100000000;
	x = open_x(&o, specs, 1);
	if (!x)
		return;
	emit_range(x, 0, 2000);
	CHECK(fc_export__close(x) == 0);	/* nothing dropped: it is all in the spool */
	fc_export__sink_stats(x, 0, &st);
	CHECK_EQ_U(st.spool_records, 2000);
	CHECK_EQ_U(st.sent, 0);
	CHECK(strstr(logbuf, "kept in the spool") != NULL);
	fc_export__free(x);

	/* "restart": a new exporter over the same directory, sink back up */
	reset();
	x = open_x(&o, specs, 1);
	if (!x)
		return;
	CHECK(strstr(logbuf, "2000 records spooled by an earlier run") != NULL);
	emit_range(x, 2000, 2300);
	CHECK(fc_export__close(x) == 0);
	CHECK(in_order(&fakes[2], 0, 2300));
	fc_export__sink_stats(x, 0, &st);
	CHECK_EQ_U(st.spool_records, 0);
	fc_export__free(x);
}

static void test_spool_restart_keeps_partly_delivered(void)
{
	struct fc_flow_rec recs[300], out[300];
	struct fc_spool *sp;
	char note[256], dir[300];
	int i, n;

	snprintf(dir, sizeof(dir), "%s/direct", tmpdir);
	sp = fc_spool__open(dir, 1 << 20, note, sizeof(note));
	CHECK(sp != NULL);
	if (!sp)
		return;
	for (i = 0; i < 300; i++)
		mkrec(&recs[i], (uint64_t)i + 100);
	CHECK(fc_spool__append(sp, recs + 100, 200) == 200);	/* ids 200..399 */
	CHECK(fc_spool__peek(sp, out, 50) == 50);
	CHECK_EQ_U(out[0].flow_id, 200);
	CHECK(fc_spool__consume(sp, 50) == 0);	/* 250.. left */
	CHECK(fc_spool__prepend(sp, recs, 100) == 100);	/* ids 100..199 go first */
	CHECK_EQ_U(fc_spool__records(sp), 250);
	fc_spool__close(sp);
	sp = fc_spool__open(dir, 1 << 20, note, sizeof(note));
	CHECK(sp != NULL);
	if (!sp)
		return;
	CHECK_EQ_U(fc_spool__records(sp), 250);
	n = fc_spool__peek(sp, out, 300);
	CHECK(n > 0);
	for (i = 0; i < n; i++)
		CHECK_EQ_U(out[i].flow_id, i < 100 ? 100 + i : 150 + i);
	CHECK(fc_spool__consume(sp, (size_t)n) == 0);
	fc_spool__close(sp);
}

/* A damaged spool must not smuggle quotes or control bytes into the sinks' text. */
static void test_spool_sanitizes_text(void)
{
	struct fc_flow_rec r, out;
	struct fc_spool *sp;
	char note[256], dir[300];

	snprintf(dir, sizeof(dir), "%s/hostile", tmpdir);
	sp = fc_spool__open(dir, 1 << 20, note, sizeof(note));
	CHECK(sp != NULL);
	if (!sp)
		return;
	mkrec(&r, 7);
	memset(r.history, 'S', sizeof(r.history));	/* no NUL at all */
	r.history[3] = '"';
	r.history[4] = '\x01';
	memcpy(r.community_id, "1:ab\\c=", 8);
	CHECK(fc_spool__append(sp, &r, 1) == 1);
	CHECK(fc_spool__peek(sp, &out, 1) == 1);
	CHECK_EQ_U(strlen(out.history), sizeof(out.history) - 1);
	CHECK(out.history[3] == '?' && out.history[4] == '?');
	CHECK_STR(out.community_id, "1:ab?c=");
	fc_spool__close(sp);
}

static void test_spool_cap_drops_counted(void)
{
	const char *specs[] = { "fake:d?queue_max=16&spool_max=64k" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;

	reset();
	atomic_store(&fakes[3].down, 1);
	defaults(&o, tmpdir);
	o.close_timeout_ns = 50000000;
	x = open_x(&o, specs, 1);
	if (!x)
		return;
	emit_range(x, 0, 3000);
	CHECK(fc_export__close(x) == -EIO);
	fc_export__sink_stats(x, 0, &st);
	CHECK(st.dropped > 0);
	CHECK(st.spool_bytes <= 64 * 1024);
	CHECK_EQ_U(st.dropped + st.spool_records, 3000);
	CHECK(strstr(logbuf, "size cap") != NULL);
	fc_export__free(x);
}

static void test_spool_disk_full(void)
{
	const char *specs[] = { "fake:a?queue_max=16" };
	struct fc_export_sink_stats st;
	struct fc_export_opts o;
	struct fc_export *x;
	char mnt[300];

	snprintf(mnt, sizeof(mnt), "%s/tiny", tmpdir);
	mkdir(mnt, 0700);
	if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
		printf("SKIP test_spool_disk_full (needs root to mount a tmpfs)\n");
		return;
	}
	reset();
	atomic_store(&fakes[0].down, 1);
	defaults(&o, mnt);
	o.close_timeout_ns = 50000000;
	x = open_x(&o, specs, 1);
	if (x) {
		emit_range(x, 0, 3000);
		CHECK(fc_export__close(x) == -EIO);
		fc_export__sink_stats(x, 0, &st);
		CHECK(st.dropped > 0);
		CHECK(st.spool_records > 0);
		CHECK_EQ_U(st.dropped + st.spool_records, 3000);
		CHECK(strstr(logbuf, "disk is full") != NULL);
		fc_export__free(x);
	}
	umount2(mnt, MNT_DETACH);
}

static void test_bad_options(void)
{
	struct fc_export_opts o;
	struct fc_export *x;
	struct fc_sink_spec spec;
	char err[256];

	defaults(&o, NULL);
	x = fc_export__new(&o);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK(fc_sink_spec__parse("fake:a?spool_max=lots", &spec, err, sizeof(err)) == 0);
	CHECK(fc_export__add_sink(x, &spec, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "spool_max") != NULL);
	fc_sink_spec__free(&spec);
	CHECK(fc_sink_spec__parse("nosuch:x", &spec, err, sizeof(err)) == 0);
	CHECK(fc_export__add_sink(x, &spec, err, sizeof(err)) < 0);
	CHECK(strstr(err, "unknown sink type") != NULL);
	fc_sink_spec__free(&spec);
	CHECK_EQ_U(fc_export__nsinks(x), 0);
	fc_export__free(x);
}

/* Tables that defer the Community ID leave it empty; the exporter fills it
 * once for every sink, and leaves one that is set alone. */
static void test_community_id_filled(void)
{
	const char *specs[] = { "fake:a", "fake:b" };
	struct fc_flow_rec r[2];
	char want[FC_COMMUNITY_ID_LEN];
	struct fc_export_opts o;
	struct fc_export *x;
	unsigned i;

	reset();
	defaults(&o, tmpdir);
	x = open_x(&o, specs, 2);
	if (!x)
		return;
	mkrec(&r[0], 1);
	r[0].proto = 6;
	r[0].src.b[0] = 10, r[0].src.b[3] = 1;
	r[0].dst.b[0] = 10, r[0].dst.b[3] = 2;
	r[0].sport = 40000, r[0].dport = 443;
	mkrec(&r[1], 2);
	strcpy(r[1].community_id, "1:kept=");
	fc_export__emit(x, 0, &r[0]);
	fc_export__emit(x, 0, &r[1]);
	CHECK(fc_export__close(x) == 0);
	fc_export__free(x);
	fc_community_id(4, 6, &r[0].src, &r[0].dst, 40000, 443, want);
	CHECK(want[0] == '1');
	for (i = 0; i < 2; i++) {
		CHECK_EQ_U(fakes[i].n, 2);
		CHECK_STR(fakes[i].cids[0], want);
		CHECK_STR(fakes[i].cids[1], "1:kept=");
	}
}

static void test_reopen_reaches_sink(void)
{
	const char *specs[] = { "fake:b" };
	struct fc_export_opts o;
	struct fc_export *x;
	int i;

	reset();
	defaults(&o, NULL);
	x = open_x(&o, specs, 1);
	if (!x)
		return;
	fc_export__reopen(x);
	for (i = 0; i < 100 && !fakes[1].reopens; i++)
		usleep(10000);
	CHECK(fc_export__close(x) == 0);
	CHECK_EQ_U(fakes[1].reopens, 1);
	fc_export__free(x);
}

int main(void)
{
	fc_sink_register(&fake_ops);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_spsc_wraparound);
	RUN(test_ring_full_counted);
	RUN(test_fanout_two_sinks);
	RUN(test_batch_hint);
	RUN(test_retry_then_recover);
	RUN(test_spool_while_down);
	RUN(test_spool_survives_restart);
	RUN(test_spool_restart_keeps_partly_delivered);
	RUN(test_spool_sanitizes_text);
	RUN(test_spool_cap_drops_counted);
	RUN(test_spool_disk_full);
	RUN(test_bad_options);
	RUN(test_reopen_reaches_sink);
	RUN(test_community_id_filled);
	rm_rf(tmpdir);
	return T_DONE();
}
