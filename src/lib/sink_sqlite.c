// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink_sqlite.c - the "sqlite" sink: flow records into the embedded SQLite
 * flow store that `flowcut query` reads (schema: store_schema.c,
 * docs/store.md).
 *
 * Target: "sqlite:PATH", or "sqlite:" for the default path
 * (fc_store_default_path()); missing directories are created. Options:
 *   retain=DUR        delete records whose end is older than now - DUR
 *                     (7d, 12h, ...; 0 = keep everything, the default)
 *   busy_timeout=DUR  how long a write waits for another writer's lock
 *                     (default 1s)
 *
 * The store runs in WAL mode with synchronous=NORMAL: a commit is one
 * sequential append, readers never block the writer, and a power cut can
 * lose at most the last commits, never corrupt the file. Each write() batch
 * is one transaction through one reused prepared statement; a failed batch
 * is rolled back whole and reported as -errno (ENOSPC, EROFS, EBUSY, ...) so
 * the exporter keeps the records - nothing is half-written or silently
 * dropped. The hourly and daily rollups are summed in memory
 * (store_rollup.c) and written once a minute, at flush and at close, as a
 * new part of each bucket together with the rollup_upto mark; rows above
 * the mark (a crash) are summed again at the next open. After a write of
 * the sums, up to MERGE_MAX buckets that have closed (ended MERGE_LAG_NS
 * before the newest stored record) or gathered more than MERGE_OPEN_PARTS
 * parts have their parts merged into one, each in its own transaction.
 *
 * Each row costs one B-tree entry (flows has no index but its rowid):
 * the writer records each insertion segment's end-time and id span in
 * flow_segs and rewrites the segment's address postings (seg_addrs,
 * store_post.h) from memory at each commit, in the batch's transaction.
 *
 * Retention runs at open (for up to RETAIN_OPEN_NS), then at most once a
 * minute or while a backlog remains, each time deleting at most RETAIN_CHUNK
 * rows (and the oldest expired bucket of each rollup table) in its own
 * transaction after a write, so a write never waits behind a large delete;
 * a backlog is worked off one chunk per write. Rows are found by the id
 * ranges of the oldest segments whose min_end is before the cutoff; a
 * segment left without rows loses its flow_segs and seg_addrs rows, any
 * other gets min_end = cutoff.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "flowcut/sink.h"
#include "flowcut/store.h"
#include "store_post.h"
#include "store_rollup.h"
#include "store_schema.h"

#define RETAIN_CHUNK 5000
#define RETAIN_SEGS 8			/* segments looked at per retention chunk */
#define INS_ROWS 32			/* rows per multi-row INSERT */
#define RETAIN_EVERY_NS 60000000000ULL
#define RETAIN_OPEN_NS 2000000000ULL	/* retention work allowed at open */
#define DEFAULT_BUSY_MS 1000
#define ROLLUP_EVERY_NS 60000000000ULL
#define ROLLUP_MAX_GROUPS 200000	/* ~20 MB of sums before an early write */
#define BATCH_HINT 16384		/* records per write() we ask the exporter for */
#define MERGE_LAG_NS 600000000000ULL	/* a bucket is closed this long after its end */
#define MERGE_MAX 8			/* buckets merged after one rollup write */
#define MERGE_OPEN_PARTS 32		/* an open bucket is merged with more parts */

struct sqlite_sink {
	sqlite3 *db;
	sqlite3_stmt *ins;		/* one flows row */
	struct fc_store_binds binds;	/* what ins has bound */
	sqlite3_stmt *ins_many;		/* INS_ROWS flows rows */
	struct fc_store_binds binds_many[INS_ROWS];	/* ... per row */
	sqlite3_stmt *seg_span;		/* widen one flow_segs row */
	sqlite3_stmt *old_segs;		/* segments that may hold expired rows */
	sqlite3_stmt *del_flows;	/* expired rows in an id range, bounded */
	sqlite3_stmt *raise_seg;	/* a segment has no rows before the cutoff */
	sqlite3_stmt *del_seg;		/* ... no rows at all: its flow_segs row */
	sqlite3_stmt *del_post;		/* ... and its seg_addrs rows */
	sqlite3_stmt *del_talk[FC_STORE_NTIERS];	/* oldest expired bucket of talk_* */
	sqlite3_stmt *del_port[FC_STORE_NTIERS];	/* ... of port_* */
	sqlite3_stmt *del_parts[FC_STORE_NTIERS];	/* rollup_parts of deleted buckets */
	sqlite3_stmt *closed;		/* buckets whose parts can be merged */
	uint64_t retain_ns;		/* 0 = keep everything */
	uint64_t newest_end_ns;		/* highest end_ns stored: retention's "now" if older */
	int64_t seg;			/* flows.seg of the next row */
	unsigned seg_rows;		/* rows already in seg */
	int64_t seg_first_id;		/* flows.id of seg's first row */
	struct fc_post *post;		/* seg's address postings */
	uint64_t retained_mono_ns;	/* CLOCK_MONOTONIC of the last retention run */
	int retain_backlog;		/* last run hit a chunk limit */
	int busy_ms;
	struct fc_rollup *roll;		/* sums of committed rows above rollup_upto */
	int64_t last_id;		/* highest flows.id committed */
	int roll_lost;			/* roll missed rows (ENOMEM): rebuild from flows */
	uint64_t rolled_mono_ns;	/* CLOCK_MONOTONIC of the last rollup write */
	char path[PATH_MAX];
	char where[PATH_MAX + 2];	/* "PATH: " in messages when not in the sink's name */
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* "7d", "12h", "30m", "45s", "500ms"; a bare number is seconds. 0 or -EINVAL. */
static int parse_dur(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "", 1000000000ULL }, { "s", 1000000000ULL }, { "ms", 1000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL }, { "d", 86400000000000ULL },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return -EINVAL;
		*ns = v * units[i].mul;
		return 0;
	}
	return -EINVAL;
}

/* mkdir -p of path's directory. 0 or -errno. */
static int make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Record a SQLite failure on the sink: message, health, errno. */
static int fail(struct fc_sink *s, struct sqlite_sink *q, int rc, const char *what)
{
	int err = fc_store_errno(q->db, rc), prim = rc & 0xff, sys = 0;

	/* the OS error only where SQLite's text hides it ("unable to open") */
	if (q->db && (prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR || prim == SQLITE_FULL))
		sys = sqlite3_system_errno(q->db);

	fc_sink__set_err(s, "%s%s: %s%s%s%s", q->where, what,
			 q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc),
			 sys > 0 ? " (" : "", sys > 0 ? strerror(sys) : "", sys > 0 ? ")" : "");
	fc_sink__health(s)->up = 0;
	return err ? err : -EIO;
}

static int prepare(struct sqlite_sink *q, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

/*
 * INSERT of `rows` rows of FC_STORE_REC_NCOLS + 1 parameters each (the
 * record, then seg) into *st. Each INSERT statement on flows also reads and
 * rewrites its sqlite_sequence row (AUTOINCREMENT) and runs SQLite's
 * statement setup and teardown: one statement per INS_ROWS rows pays that
 * once (BENCHMARKS.md, "SQLite store"). Returns a SQLite code.
 */
static int prepare_rows(struct sqlite_sink *q, int rows, sqlite3_stmt **st)
{
	char sql[8192];
	size_t len;
	int i, j, n;

	n = snprintf(sql, sizeof(sql), "INSERT INTO flows (%s, seg) VALUES ", fc_store_rec_columns);
	for (i = 0; i < rows && n > 0 && (size_t)n < sizeof(sql); i++) {
		len = (size_t)n;
		n += snprintf(sql + len, sizeof(sql) - len, "%s(?", i ? ", " : "");
		for (j = 1; j <= FC_STORE_REC_NCOLS && n > 0 && (size_t)n < sizeof(sql); j++)
			n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", ?");
		if (n > 0 && (size_t)n < sizeof(sql))
			n += snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
	}
	if (n <= 0 || (size_t)n >= sizeof(sql))
		return SQLITE_TOOBIG;
	return prepare(q, sql, st);
}

static int prepare_all(struct sqlite_sink *q)
{
	char ins[1024];
	int rc, t;

	rc = prepare_rows(q, 1, &q->ins);
	if (rc == SQLITE_OK)
		rc = prepare_rows(q, INS_ROWS, &q->ins_many);
	if (rc == SQLITE_OK)
		rc = prepare(q, "INSERT INTO flow_segs (seg, min_end, max_end, first_id, last_id)"
			     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (seg) DO UPDATE"
			     " SET min_end = min(min_end, excluded.min_end),"
			     " max_end = max(max_end, excluded.max_end),"
			     " first_id = min(first_id, excluded.first_id),"
			     " last_id = max(last_id, excluded.last_id)", &q->seg_span);
	if (rc == SQLITE_OK)
		rc = prepare(q, "SELECT seg, first_id, last_id, max_end FROM flow_segs"
			     " WHERE min_end < ?1 ORDER BY seg LIMIT ?2", &q->old_segs);
	/* by rowid range: flows has no end_ns index */
	if (rc == SQLITE_OK)
		rc = prepare(q, "DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE id >= ?1"
			     " AND id <= ?2 AND end_ns < ?3 LIMIT ?4)", &q->del_flows);
	if (rc == SQLITE_OK)
		rc = prepare(q, "UPDATE flow_segs SET min_end = ?2 WHERE seg = ?1", &q->raise_seg);
	if (rc == SQLITE_OK)
		rc = prepare(q, "DELETE FROM flow_segs WHERE seg = ?1", &q->del_seg);
	if (rc == SQLITE_OK)
		rc = prepare(q, "DELETE FROM seg_addrs WHERE seg = ?1", &q->del_post);
	/* A rollup bucket goes once all of it is past the cutoff. */
	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		snprintf(ins, sizeof(ins), "DELETE FROM %s WHERE bucket = (SELECT min(bucket) FROM"
			 " %s) AND bucket < ?1", fc_store_tiers[t].talk, fc_store_tiers[t].talk);
		rc = prepare(q, ins, &q->del_talk[t]);
		if (rc != SQLITE_OK)
			break;
		snprintf(ins, sizeof(ins), "DELETE FROM %s WHERE bucket = (SELECT min(bucket) FROM"
			 " %s) AND bucket < ?1", fc_store_tiers[t].port, fc_store_tiers[t].port);
		rc = prepare(q, ins, &q->del_port[t]);
		if (rc != SQLITE_OK)
			break;
		/* every record has a port group: below the lowest one no rows are left */
		snprintf(ins, sizeof(ins), "DELETE FROM rollup_parts WHERE tier = %d AND bucket < ?1"
			 " AND bucket < coalesce((SELECT min(bucket) FROM %s), ?1)", t,
			 fc_store_tiers[t].port);
		rc = prepare(q, ins, &q->del_parts[t]);
	}
	if (rc == SQLITE_OK)
		rc = prepare(q, "SELECT bucket FROM rollup_parts WHERE tier = ?1 AND parts > 1"
			     " AND (bucket < ?2 OR parts > ?4) ORDER BY bucket LIMIT ?3", &q->closed);
	return rc;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * Records ending before this are past retention: retain_ns before the
 * newest stored end time, or before now if that is older. A store filled
 * from an old capture (`flowcut read old.pcap`) keeps the capture's last
 * retain_ns instead of deleting what was just written, and a store whose
 * capture stopped keeps its last retain_ns until newer records come.
 */
static uint64_t retain_cutoff(const struct sqlite_sink *q)
{
	uint64_t ref = clock_ns(CLOCK_REALTIME);

	if (q->newest_end_ns && q->newest_end_ns < ref)
		ref = q->newest_end_ns;
	return ref > q->retain_ns ? ref - q->retain_ns : 0;
}

struct old_seg {
	int64_t seg, first_id, last_id, max_end;
};

/* Up to RETAIN_SEGS segments that may hold rows ending before cutoff,
 * oldest first, into v. *n gets their count. Returns a SQLite code. */
static int old_segs(struct sqlite_sink *q, uint64_t cutoff, struct old_seg *v, int *n)
{
	int rc = SQLITE_DONE;

	*n = 0;
	sqlite3_bind_int64(q->old_segs, 1, (sqlite3_int64)cutoff);
	sqlite3_bind_int(q->old_segs, 2, RETAIN_SEGS);
	while (*n < RETAIN_SEGS && (rc = sqlite3_step(q->old_segs)) == SQLITE_ROW) {
		v[*n].seg = sqlite3_column_int64(q->old_segs, 0);
		v[*n].first_id = sqlite3_column_int64(q->old_segs, 1);
		v[*n].last_id = sqlite3_column_int64(q->old_segs, 2);
		v[*n].max_end = sqlite3_column_int64(q->old_segs, 3);
		++*n;
	}
	sqlite3_reset(q->old_segs);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int step_seg(sqlite3_stmt *st, int64_t seg)
{
	sqlite3_bind_int64(st, 1, seg);
	return step_done(st);
}

/*
 * Delete at most budget rows of segment g that end before cutoff; *deleted
 * gets how many. When none is left, g's bookkeeping follows: a segment
 * wholly past the cutoff loses its flow_segs and seg_addrs rows, any other
 * gets min_end = cutoff so the next run skips it. Returns a SQLite code.
 */
static int retain_seg(struct sqlite_sink *q, const struct old_seg *g, uint64_t cutoff,
		      int budget, int *deleted)
{
	int rc;

	sqlite3_bind_int64(q->del_flows, 1, g->first_id);
	sqlite3_bind_int64(q->del_flows, 2, g->last_id);
	sqlite3_bind_int64(q->del_flows, 3, (sqlite3_int64)cutoff);
	sqlite3_bind_int(q->del_flows, 4, budget);
	rc = step_done(q->del_flows);
	*deleted = rc == SQLITE_OK ? sqlite3_changes(q->db) : 0;
	if (rc != SQLITE_OK || *deleted == budget)
		return rc;	/* maybe more: the next chunk looks again */
	if (g->max_end < (int64_t)cutoff) {
		rc = step_seg(q->del_post, g->seg);
		if (rc == SQLITE_OK)
			rc = step_seg(q->del_seg, g->seg);
		return rc;
	}
	sqlite3_bind_int64(q->raise_seg, 2, (sqlite3_int64)cutoff);
	return step_seg(q->raise_seg, g->seg);
}

/* Expired rows, oldest segments first, at most RETAIN_CHUNK. Sets *more
 * when some may be left. Returns a SQLite code. */
static int retain_rows(struct sqlite_sink *q, uint64_t cutoff, int *more)
{
	struct old_seg v[RETAIN_SEGS];
	int rc, n, i, budget = RETAIN_CHUNK, deleted;

	rc = old_segs(q, cutoff, v, &n);
	for (i = 0; i < n && rc == SQLITE_OK && budget > 0; i++) {
		rc = retain_seg(q, &v[i], cutoff, budget, &deleted);
		budget -= deleted;
	}
	*more = budget == 0 || n == RETAIN_SEGS;
	return rc;
}

/*
 * One bounded retention step in its own transaction. Sets *more when rows
 * remain. Returns a SQLite code.
 */
static int retain_chunk(struct sqlite_sink *q, int *more)
{
	uint64_t cutoff = retain_cutoff(q);
	int rc, t, rows_more = 0, rolled = 0;

	*more = 0;
	rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = retain_rows(q, cutoff, &rows_more);
	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		sqlite3_int64 b = (sqlite3_int64)(cutoff / fc_store_tiers[t].ns);

		sqlite3_bind_int64(q->del_talk[t], 1, b);
		rc = step_done(q->del_talk[t]);
		rolled += sqlite3_changes(q->db);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_int64(q->del_port[t], 1, b);
		rc = step_done(q->del_port[t]);
		rolled += sqlite3_changes(q->db);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_int64(q->del_parts[t], 1, b);
		rc = step_done(q->del_parts[t]);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	*more = rows_more || rolled > 0;
	q->retained_mono_ns = clock_ns(CLOCK_MONOTONIC);
	return SQLITE_OK;
}

/* recs[0..rows) as rows of the current segment, in one statement st
 * (ins or ins_many) whose bindings binds[0..rows) describe. */
static int insert_rows(struct sqlite_sink *q, sqlite3_stmt *st, struct fc_store_binds *binds,
		       const struct fc_flow_rec *recs, int rows)
{
	const int per_row = FC_STORE_REC_NCOLS + 1;
	int rc = SQLITE_OK, i;

	for (i = 0; i < rows && rc == SQLITE_OK; i++) {
		rc = fc_store_bind_rec(st, 1 + i * per_row, &recs[i], &binds[i]);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, (i + 1) * per_row, q->seg);
	}
	if (rc == SQLITE_OK)
		rc = step_done(st);
	return rc;
}

/* Widen flow_segs' row for seg to end times [lo, hi] and ids [first, last],
 * and rewrite its postings. Returns a SQLite code. */
static int seg_write(struct sqlite_sink *q, uint64_t lo, uint64_t hi, int64_t last_id)
{
	int rc;

	sqlite3_bind_int64(q->seg_span, 1, q->seg);
	sqlite3_bind_int64(q->seg_span, 2, (sqlite3_int64)lo);
	sqlite3_bind_int64(q->seg_span, 3, (sqlite3_int64)hi);
	sqlite3_bind_int64(q->seg_span, 4, q->seg_first_id);
	sqlite3_bind_int64(q->seg_span, 5, last_id);
	rc = step_done(q->seg_span);
	if (rc == SQLITE_OK)
		rc = fc_post__write(q->post, q->db, q->seg, q->seg_first_id);
	return rc;
}

/* Stage row id of r in the segment's postings. Returns a SQLite code. */
static int post_add(struct sqlite_sink *q, const struct fc_flow_rec *r, int64_t id)
{
	int family = r->family == 6 ? 6 : 4;

	if (q->seg_rows == 0)
		q->seg_first_id = id;
	/* offsets are u32: only another writer's 4G rows in between could
	 * break that, and then this batch fails rather than mis-index */
	if (id < q->seg_first_id || id - q->seg_first_id > (int64_t)UINT32_MAX)
		return SQLITE_TOOBIG;
	if (fc_post__add(q->post, (uint32_t)(id - q->seg_first_id), fc_post_key(family, &r->src),
			 fc_post_key(family, &r->dst)))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

/*
 * Insert recs[0..n) in the open transaction, starting a new segment every
 * FC_STORE_SEG_ROWS rows, and record each segment's end-time and id span
 * and postings. Moves q->seg / q->seg_rows / q->seg_first_id on; the
 * caller puts them back (and rolls q->post back) when it rolls back.
 * *last_id gets the last flows.id inserted. Returns a SQLite code.
 */
static int insert_all(struct sqlite_sink *q, const struct fc_flow_rec *recs, size_t n,
		      int64_t *last_id)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	int rc = SQLITE_OK, any = 0;
	int64_t id = 0;
	size_t i, j, k = 1;

	for (i = 0; i < n && rc == SQLITE_OK; i += k) {
		if (q->seg_rows >= FC_STORE_SEG_ROWS) {
			if (any)
				rc = seg_write(q, lo, hi, id);
			fc_post__next_seg(q->post);
			q->seg++;
			q->seg_rows = 0;
			lo = UINT64_MAX;
			hi = 0;
			any = 0;
			if (rc != SQLITE_OK)
				break;
		}
		/* whole statements of INS_ROWS inside the segment, the rest one by one */
		k = n - i >= INS_ROWS && FC_STORE_SEG_ROWS - q->seg_rows >= INS_ROWS ? INS_ROWS : 1;
		rc = k == 1 ? insert_rows(q, q->ins, &q->binds, &recs[i], 1) :
			      insert_rows(q, q->ins_many, q->binds_many, &recs[i], INS_ROWS);
		if (rc != SQLITE_OK)
			break;
		/* one statement's rows get consecutive ids: ours is the only
		 * write transaction, and AUTOINCREMENT takes max + 1 each */
		id = sqlite3_last_insert_rowid(q->db);
		for (j = 0; j < k && rc == SQLITE_OK; j++) {
			const struct fc_flow_rec *r = &recs[i + j];

			rc = post_add(q, r, id - (int64_t)(k - 1 - j));
			q->seg_rows++;
			any = 1;
			if (r->end_ns < lo)
				lo = r->end_ns;
			if (r->end_ns > hi)
				hi = r->end_ns;
		}
	}
	*last_id = id;
	if (rc == SQLITE_OK && any)
		rc = seg_write(q, lo, hi, id);
	return rc;
}

/* Sum committed records for the rollups; on ENOMEM rebuild from flows later. */
static void roll_add(struct sqlite_sink *q, const struct fc_flow_rec *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n && !q->roll_lost; i++) {
		const struct fc_flow_rec *r = &recs[i];

		if (fc_rollup__add(q->roll, r->end_ns, r->family == 6 ? 6 : 4, &r->src, &r->dst,
				   r->proto, r->dport, r->bytes + r->rbytes, r->pkts + r->rpkts))
			q->roll_lost = 1;
	}
}

/*
 * Merge the parts of up to MERGE_MAX closed buckets, each in its own
 * transaction (a day of many groups is the largest: its rows are read,
 * deleted and written once). A bucket is closed MERGE_LAG_NS after its end
 * by the newest stored record; a record that comes later only adds a part,
 * merged in turn. An open bucket is merged once it has more than
 * MERGE_OPEN_PARTS parts, so a query over today never reads a day of
 * one-minute parts (a fold a minute: today is merged every ~half hour).
 * Returns a SQLite code; what is not merged stays correct (readers add
 * parts up) and is tried again after the next rollup write.
 */
static int roll_merge(struct sqlite_sink *q)
{
	int64_t todo[MERGE_MAX];
	int rc = SQLITE_OK, t, n, i;

	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		sqlite3_bind_int(q->closed, 1, t);
		sqlite3_bind_int64(q->closed, 2, q->newest_end_ns < MERGE_LAG_NS ? 0 :
				   (sqlite3_int64)((q->newest_end_ns - MERGE_LAG_NS) /
						   fc_store_tiers[t].ns));
		sqlite3_bind_int(q->closed, 3, MERGE_MAX);
		sqlite3_bind_int(q->closed, 4, MERGE_OPEN_PARTS);
		for (n = 0; n < MERGE_MAX && (rc = sqlite3_step(q->closed)) == SQLITE_ROW; n++)
			todo[n] = sqlite3_column_int64(q->closed, 0);
		sqlite3_reset(q->closed);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
		for (i = 0; i < n && rc == SQLITE_OK; i++) {
			rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
			if (rc != SQLITE_OK)
				break;
			rc = fc_rollup__merge(q->db, t, todo[i]);
			if (rc == SQLITE_OK)
				rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
			if (rc != SQLITE_OK)
				sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
	return rc;
}

/* Fold the in-memory sums into the rollup tables with the new mark, in one
 * transaction. The records are already committed, so a failure only delays
 * this (the sums are kept). Returns a SQLite code. */
static int roll_write(struct sqlite_sink *q)
{
	int64_t upto = q->last_id;
	int rc;

	rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (q->roll_lost)
		rc = fc_rollup__catch_up(q->roll, q->db, &upto);
	if (rc == SQLITE_OK)
		rc = fc_rollup__write(q->roll, q->db, upto);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	fc_rollup__clear(q->roll);
	q->roll_lost = 0;
	q->rolled_mono_ns = clock_ns(CLOCK_MONOTONIC);
	return SQLITE_OK;
}

/* The first column of sql's one row into *v (0 when NULL). Returns a SQLite code. */
static int query_i64(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int parse_opts(struct fc_sink *s, struct sqlite_sink *q, const struct fc_sink_spec *spec)
{
	unsigned i;

	q->busy_ms = DEFAULT_BUSY_MS;
	for (i = 0; i < spec->nopts; i++) {
		const char *k = spec->opts[i].key, *v = spec->opts[i].val;
		uint64_t ns;

		if (!strcmp(k, "retain")) {
			if (parse_dur(v, &q->retain_ns)) {
				fc_sink__set_err(s, "retain=%s: not a duration (e.g. 7d, 12h; 0 = keep "
						 "everything)", v);
				return -EINVAL;
			}
		} else if (!strcmp(k, "busy_timeout")) {
			if (parse_dur(v, &ns) || ns / 1000000 > INT_MAX) {
				fc_sink__set_err(s, "busy_timeout=%s: not a duration (e.g. 500ms, 2s)", v);
				return -EINVAL;
			}
			q->busy_ms = (int)(ns / 1000000);
		} else {
			fc_sink__set_err(s, "unknown option '%s' (sqlite takes retain, busy_timeout)", k);
			return -EINVAL;
		}
	}
	return 0;
}

static int sqlite_open(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	struct sqlite_sink *q = fc_sink__priv(s);
	char err[FC_SINK_ERR_LEN];
	int64_t newest;
	int rc, more;

	rc = parse_opts(s, q, spec);
	if (rc)
		return rc;
	if (spec->target[0]) {
		if (snprintf(q->path, sizeof(q->path), "%s", spec->target) >= (int)sizeof(q->path)) {
			fc_sink__set_err(s, "path too long");
			return -ENAMETOOLONG;
		}
	} else {
		rc = fc_store_default_path(q->path, sizeof(q->path));
		if (rc) {
			fc_sink__set_err(s, "no default store path (HOME is not set); use sqlite:PATH");
			return rc;
		}
		snprintf(q->where, sizeof(q->where), "%s: ", q->path);
	}
	rc = make_parent_dirs(q->path);
	if (rc) {
		fc_sink__set_err(s, "%scannot create the directory: %s", q->where, strerror(-rc));
		return rc;
	}
	rc = sqlite3_open_v2(q->path, &q->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return fail(s, q, rc, "cannot open");
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, q->busy_ms);
	/* WAL: writers append, readers (flowcut query) never block them.
	 * NORMAL: fsync at checkpoints only - safe against corruption, and the
	 * difference between 200k and 2k commits a second. */
	rc = sqlite3_exec(q->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			  " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
			  " PRAGMA wal_autocheckpoint=16384;", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return fail(s, q, rc, "cannot set up");
	rc = fc_store_migrate(q->db, fc_store_migrations, fc_store_nmigrations, err, sizeof(err));
	if (rc) {
		fc_sink__set_err(s, "%s%s", q->where, err);
		return rc;
	}
	rc = prepare_all(q);
	if (rc != SQLITE_OK)
		return fail(s, q, rc, "cannot prepare statements");
	/* rows a crash left above the rollup mark go into the rollups now */
	q->roll = fc_rollup__new();
	q->post = fc_post__new();
	if (!q->roll || !q->post) {
		fc_sink__set_err(s, "out of memory");
		return -ENOMEM;
	}
	q->roll_lost = 1;
	rc = roll_write(q);
	if (rc != SQLITE_OK)
		return fail(s, q, rc, "cannot bring the rollups up to date");
	q->last_id = fc_rollup_mark(q->db);
	/* each open starts a segment, so seg never has to be read back per row */
	rc = query_i64(q->db, "SELECT coalesce(max(seg) + 1, 0) FROM flow_segs", &q->seg);
	if (rc == SQLITE_OK)
		rc = query_i64(q->db, "SELECT max(max_end) FROM flow_segs", &newest);
	if (rc != SQLITE_OK)
		return fail(s, q, rc, "cannot read the store");
	q->newest_end_ns = (uint64_t)newest;
	if (q->retain_ns) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		/* a long backlog (retain shortened, days offline) is left to the
		 * writes, one chunk each, rather than holding up the start */
		do
			rc = retain_chunk(q, &more);
		while (rc == SQLITE_OK && more && clock_ns(CLOCK_MONOTONIC) - t0 < RETAIN_OPEN_NS);
		if (rc != SQLITE_OK)
			return fail(s, q, rc, "retention");
		q->retain_backlog = more;
	}
	/* Larger transactions: each commit writes every page it touched into
	 * the WAL and rewrites the segment's postings, so fewer, larger
	 * commits cost less per record (BENCHMARKS.md, "SQLite store"). */
	fc_sink__set_batch_hint(s, BATCH_HINT);
	fc_sink__health(s)->up = 1;
	return 0;
}

static int sqlite_write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	struct sqlite_sink *q = fc_sink__priv(s);
	struct fc_sink_health *h = fc_sink__health(s);
	int64_t seg = q->seg, seg_first_id = q->seg_first_id, last_id = 0;
	unsigned seg_rows = q->seg_rows;
	size_t i;
	int rc, more;

	if (!n)
		return 0;
	rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto err;
	rc = insert_all(q, recs, n, &last_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int err = fail(s, q, rc, "write");

		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		q->seg = seg;	/* the batch comes again */
		q->seg_rows = seg_rows;
		q->seg_first_id = seg_first_id;
		fc_post__rollback(q->post);
		h->failed++;
		return err;
	}
	fc_post__commit(q->post);
	h->written += n;
	h->up = 1;
	q->last_id = last_id;
	for (i = 0; i < n; i++)
		if (recs[i].end_ns > q->newest_end_ns)
			q->newest_end_ns = recs[i].end_ns;
	roll_add(q, recs, n);
	/* After the commit, failures below only delay work (sums are kept, rows
	 * stay for the next retention run): say why, but the batch is stored. */
	if (q->roll_lost || fc_rollup__size(q->roll) > ROLLUP_MAX_GROUPS ||
	    clock_ns(CLOCK_MONOTONIC) - q->rolled_mono_ns >= ROLLUP_EVERY_NS) {
		rc = roll_write(q);
		if (rc == SQLITE_OK)
			rc = roll_merge(q);
		if (rc != SQLITE_OK) {
			fail(s, q, rc, "rollup (retried later)");
			h->up = 1;
		}
	}
	if (q->retain_ns && (q->retain_backlog ||
			     clock_ns(CLOCK_MONOTONIC) - q->retained_mono_ns >= RETAIN_EVERY_NS)) {
		rc = retain_chunk(q, &more);
		if (rc != SQLITE_OK) {
			fail(s, q, rc, "retention (retried later)");
			h->up = 1;
		}
		q->retain_backlog = rc == SQLITE_OK && more;
	}
	return (int)n;
err:
	h->failed++;
	return fail(s, q, rc, "cannot start a transaction");
}

static int sqlite_flush(struct fc_sink *s)
{
	struct sqlite_sink *q = fc_sink__priv(s);
	int rc;

	if (fc_rollup__size(q->roll) || q->roll_lost) {
		rc = roll_write(q);
		if (rc != SQLITE_OK)
			return fail(s, q, rc, "rollup");
		/* the sums are stored: an unmerged bucket only waits */
		rc = roll_merge(q);
		if (rc != SQLITE_OK) {
			fail(s, q, rc, "rollup merge (retried later)");
			fc_sink__health(s)->up = 1;
		}
	}

	/* Every batch is committed by write(); fold the WAL back into the file
	 * when nobody is reading so it does not grow between auto-checkpoints. */
	sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return 0;
}

static void sqlite_close(struct fc_sink *s)
{
	struct sqlite_sink *q = fc_sink__priv(s);
	int t;

	if (q->db && q->roll && (fc_rollup__size(q->roll) || q->roll_lost))
		roll_write(q);	/* else the next open catches up */
	fc_rollup__free(q->roll);
	sqlite3_finalize(q->ins);
	sqlite3_finalize(q->ins_many);
	sqlite3_finalize(q->seg_span);
	sqlite3_finalize(q->old_segs);
	sqlite3_finalize(q->del_flows);
	sqlite3_finalize(q->raise_seg);
	sqlite3_finalize(q->del_seg);
	sqlite3_finalize(q->del_post);
	fc_post__free(q->post);
	q->post = NULL;
	for (t = 0; t < FC_STORE_NTIERS; t++) {
		sqlite3_finalize(q->del_talk[t]);
		sqlite3_finalize(q->del_port[t]);
		sqlite3_finalize(q->del_parts[t]);
	}
	sqlite3_finalize(q->closed);
	/* keep the planner's statistics fresh, but bounded: plain ANALYZE
	 * would read all of a 10M-row table while the capture is stopping */
	if (q->db)
		sqlite3_exec(q->db, "PRAGMA analysis_limit=400; PRAGMA optimize", NULL, NULL, NULL);
	sqlite3_close_v2(q->db);
	q->db = NULL;
}

static const struct fc_sink_ops sqlite_ops = {
	.type = "sqlite",
	.help = "sqlite:[PATH]  embedded flow store for `flowcut query` (default path when empty);"
		" options retain=DUR, busy_timeout=DUR",
	.priv_size = sizeof(struct sqlite_sink),
	.open = sqlite_open,
	.write = sqlite_write,
	.flush = sqlite_flush,
	.close = sqlite_close,
};

FC_SINK_REGISTER(sqlite_ops);
