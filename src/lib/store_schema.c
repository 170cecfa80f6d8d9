// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_schema.c - the SQLite flow store's schema: the DDL of each version,
 * the migration runner, the record <-> row mapping shared by the sqlite sink
 * and the query code, SQLite codes as errnos, and the default store path.
 *
 * Schema v4 (docs/store.md has the reasoning; v1 -> v2 -> v3 -> v4 below):
 *   flows       one row per record; every field; times integer ns since the
 *               epoch; addresses as RFC 5952 / dotted-quad text (what users
 *               type and see, and what equality filters compare); optional
 *               fields NULL when absent; seg = insertion segment (the writer
 *               starts a new one every FC_STORE_SEG_ROWS rows and at open).
 *               No index but the rowid: a record costs one B-tree entry.
 *   flow_segs   per segment: the lowest and highest end_ns in it (a v1
 *               store's segments are its hours) and its first and last
 *               flows.id, so a time range becomes id ranges of the
 *               segments that overlap it. Retention raises min_end past
 *               what it deleted.
 *   seg_addrs   per (segment, side 0 src / 1 dst): the segment's rows as
 *               sorted (address key, id - first_id) entries, in chunks of
 *               1024 with their key range (store_post.h): an address
 *               lookup reads one chunk per segment and binary-searches it.
 *   talk_hour   per hour of end time, per (side, address, proto):
 *               bytes+rbytes, pkts+rpkts, records (side 0 source, 1
 *               destination, 2 both: a host talking to itself), packed
 *               into rows (bucket, part, seq, data) - store_rollup.h has
 *               the entry format. A group's sums may be spread over parts
 *               (one per fold of the writer's sums, 0 = merged) and rows:
 *               add them up. See store_meta.
 *   port_hour   per hour, per (proto, responder port): the same sums.
 *   talk_day, port_day  the same per UTC day (bucket = end_ns / 1 d), so a
 *               week-long query reads 7 days of groups, not 168 hours.
 *   store_meta  rollup_upto: the rollups hold exactly the flows rows with
 *               id <= this. The writer sums rows in memory and folds them
 *               in every minute in one transaction with this mark; after a
 *               crash it re-reads rows above the mark, and readers add them
 *               from flows, so rollups and rows never disagree.
 *   rollup_parts  per (tier, bucket): parts written since the last merge.
 *   schema_version  one row: the version.
 * 64-bit unsigned values are stored as the same bit pattern in SQLite's
 * signed 64-bit integers (exact round trip; sums stay right below 2^63).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowcut/store.h"
#include "store_post.h"
#include "store_rollup.h"
#include "store_schema.h"

static const char schema_v1[] =
	"CREATE TABLE flows ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" flow_id INTEGER NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,"
	" family INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" src TEXT NOT NULL, sport INTEGER NOT NULL, dst TEXT NOT NULL, dport INTEGER NOT NULL,"
	" icmp_id INTEGER, vlan INTEGER, vlan_inner INTEGER,"
	" tunnel_type INTEGER, tunnel_id INTEGER, tunnel_family INTEGER,"
	" tunnel_src TEXT, tunnel_dst TEXT, tunnel_depth INTEGER,"
	" pkts INTEGER NOT NULL, bytes INTEGER NOT NULL, rpkts INTEGER NOT NULL, rbytes INTEGER NOT NULL,"
	" tcp_flags INTEGER NOT NULL, rtcp_flags INTEGER NOT NULL, tcp_state INTEGER NOT NULL,"
	" history TEXT NOT NULL, end_reason INTEGER NOT NULL, community_id TEXT NOT NULL,"
	" bypass_pkts INTEGER, bypass_bytes INTEGER, bypass_rpkts INTEGER, bypass_rbytes INTEGER,"
	" bypass_start_ns INTEGER, hour INTEGER NOT NULL);"
	"CREATE INDEX flows_end ON flows(end_ns);"
	"CREATE INDEX flows_src ON flows(hour, src);"
	"CREATE INDEX flows_dst ON flows(hour, dst);"
	"CREATE TABLE talk_hour (bucket INTEGER NOT NULL, side INTEGER NOT NULL,"
	" addr TEXT NOT NULL, proto INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" pkts INTEGER NOT NULL, flows INTEGER NOT NULL,"
	" PRIMARY KEY (bucket, side, addr, proto)) WITHOUT ROWID;"
	"CREATE TABLE port_hour (bucket INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" port INTEGER NOT NULL, bytes INTEGER NOT NULL, pkts INTEGER NOT NULL,"
	" flows INTEGER NOT NULL, PRIMARY KEY (bucket, proto, port)) WITHOUT ROWID;"
	"CREATE TABLE talk_day (bucket INTEGER NOT NULL, side INTEGER NOT NULL,"
	" addr TEXT NOT NULL, proto INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" pkts INTEGER NOT NULL, flows INTEGER NOT NULL,"
	" PRIMARY KEY (bucket, side, addr, proto)) WITHOUT ROWID;"
	"CREATE TABLE port_day (bucket INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" port INTEGER NOT NULL, bytes INTEGER NOT NULL, pkts INTEGER NOT NULL,"
	" flows INTEGER NOT NULL, PRIMARY KEY (bucket, proto, port)) WITHOUT ROWID;"
	"CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO store_meta VALUES ('rollup_upto', 0);";

/*
 * v2: the address indexes are keyed by insertion segment instead of hour.
 * With (hour, src) every insert went to a random page of the current hour's
 * part of the index, which at 200k records/s is gigabytes; with (seg, src),
 * seg counting FC_STORE_SEG_ROWS inserted rows, inserts stay in the last few
 * hundred pages. flow_segs says which end times each segment holds, so an
 * address lookup seeks once per segment that overlaps its range. A v1 row's
 * hour is a valid segment number (its segment bounds are the hour's), so
 * renaming the column keeps both indexes as they are: the migration is O(1)
 * apart from one pass over the index for the segment list. The rename
 * also rewrites the index definitions; `hour` is gone from flows
 * (end_ns / 3600e9 in SQL).
 */
static const char schema_v2[] =
	"ALTER TABLE flows RENAME COLUMN hour TO seg;"
	"CREATE TABLE flow_segs (seg INTEGER PRIMARY KEY, min_end INTEGER NOT NULL,"
	" max_end INTEGER NOT NULL);"
	"INSERT INTO flow_segs SELECT seg, seg * 3600000000000, seg * 3600000000000 + 3599999999999"
	" FROM (SELECT DISTINCT seg FROM flows);";

/*
 * v3: rollups are written in packed parts. A writer's fold of its in-memory
 * sums used to upsert one row per group into (bucket, side, addr, proto):
 * with many groups every fold dirtied most of the tables' pages (random key
 * order), and even as plain appends each group was a SQLite row, ~2 us of
 * CPU - with a new address per record the rollups cost more than the rows.
 * Now a fold writes, per table and bucket, rows (bucket, part, seq, data)
 * with data = up to FC_ROLLUP_BLOB_ENTS groups packed as fixed 48-byte
 * entries (store_rollup.h), part = the fold's rollup_upto mark; readers
 * decode and add up entries in C (they already summed rows). rollup_parts
 * counts each bucket's parts since its last merge; once a bucket has closed
 * (its end is behind the newest stored record) the writer merges its parts
 * into part 0. v2's rows become part 0 (fc_rollup__import_v2()), and their
 * buckets count one part.
 */
#define V3_TABLE(t)                                                                         \
	"ALTER TABLE " t " RENAME TO " t "_v2;"                                            \
	"CREATE TABLE " t " (bucket INTEGER NOT NULL, part INTEGER NOT NULL,"              \
	" seq INTEGER NOT NULL, data BLOB NOT NULL,"                                       \
	" PRIMARY KEY (bucket, part, seq)) WITHOUT ROWID;"
static const char schema_v3[] =
	V3_TABLE("talk_hour") V3_TABLE("port_hour") V3_TABLE("talk_day") V3_TABLE("port_day")
	"CREATE TABLE rollup_parts (tier INTEGER NOT NULL, bucket INTEGER NOT NULL,"
	" parts INTEGER NOT NULL, PRIMARY KEY (tier, bucket)) WITHOUT ROWID;"
	"INSERT INTO rollup_parts SELECT DISTINCT 0, bucket, 1 FROM port_hour_v2;"
	"INSERT INTO rollup_parts SELECT DISTINCT 1, bucket, 1 FROM port_day_v2;";
#undef V3_TABLE

static int schema_v3_fn(sqlite3 *db)
{
	int rc = fc_rollup__import_v2(db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "DROP TABLE talk_hour_v2; DROP TABLE port_hour_v2;"
				  " DROP TABLE talk_day_v2; DROP TABLE port_day_v2;", NULL, NULL, NULL);
	return rc;
}

/*
 * v4: no B-tree entry per record but the row's own. The three per-row
 * indexes (end_ns, (seg, src), (seg, dst)) cost more CPU per record than
 * the 5 us budget of 200k records/s (BENCHMARKS.md, "SQLite store"). A
 * segment's rows are consecutive ids, so flow_segs gets the segment's
 * first and last id (a time range becomes id ranges, read in rowid
 * order), and seg_addrs per (segment, side) the segment's rows packed as
 * sorted (address key, id offset) entries in chunks of 1024 that carry
 * their key range, written by the writer at each commit (store_post.h). The migration builds them from the
 * old indexes, then drops those; flows itself is not rewritten.
 */
static const char schema_v4[] =
	"ALTER TABLE flow_segs ADD COLUMN first_id INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE flow_segs ADD COLUMN last_id INTEGER NOT NULL DEFAULT -1;"
	"CREATE TABLE seg_addrs (seg INTEGER NOT NULL, side INTEGER NOT NULL, chunk INTEGER NOT NULL,"
	" first_key INTEGER NOT NULL, last_key INTEGER NOT NULL, first_id INTEGER NOT NULL,"
	" data BLOB NOT NULL, PRIMARY KEY (seg, side, chunk)) WITHOUT ROWID;";

static int schema_v4_fn(sqlite3 *db)
{
	int rc = fc_post__import_v3(db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "DROP INDEX flows_end; DROP INDEX flows_src; DROP INDEX flows_dst;",
				  NULL, NULL, NULL);
	return rc;
}

const struct fc_store_migration fc_store_migrations[] = {
	{ 1, schema_v1, NULL },
	{ 2, schema_v2, NULL },
	{ 3, schema_v3, schema_v3_fn },
	{ 4, schema_v4, schema_v4_fn },
};
const size_t fc_store_nmigrations = sizeof(fc_store_migrations) / sizeof(fc_store_migrations[0]);

_Static_assert(sizeof(fc_store_migrations) / sizeof(fc_store_migrations[0]) ==
		       FC_STORE_SCHEMA_VERSION, "one migration per schema version");

const struct fc_store_tier fc_store_tiers[FC_STORE_NTIERS] = {
	{ FC_STORE_BUCKET_NS, "talk_hour", "port_hour" },
	{ FC_STORE_DAY_NS, "talk_day", "port_day" },
};

const char fc_store_rec_columns[] =
	"flow_id, start_ns, end_ns, family, proto, src, sport, dst, dport,"
	" icmp_id, vlan, vlan_inner,"
	" tunnel_type, tunnel_id, tunnel_family, tunnel_src, tunnel_dst, tunnel_depth,"
	" pkts, bytes, rpkts, rbytes, tcp_flags, rtcp_flags, tcp_state, history,"
	" end_reason, community_id,"
	" bypass_pkts, bypass_bytes, bypass_rpkts, bypass_rbytes, bypass_start_ns";

int fc_store_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return sys > 0 ? -sys : -ENOENT;
	case SQLITE_IOERR:
		return sys > 0 ? -sys : -EIO;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int fc_store_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
				"name='schema_version'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fc_store_errno(db, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return fc_store_errno(db, rc);
	rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fc_store_errno(db, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? v : fc_store_errno(db, rc);
}

/* Tables in a file that has no schema_version: a foreign database. */
static int count_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table'", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return fc_store_errno(db, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? n : fc_store_errno(db, rc);
}

static int set_version(sqlite3 *db, int v)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DELETE FROM schema_version; "
				   "INSERT INTO schema_version(version) VALUES (%d);", v);
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int fc_store_migrate(sqlite3 *db, const struct fc_store_migration *m, size_t n,
		     char *err, size_t errlen)
{
	int rc, cur, latest = n ? m[n - 1].to_version : 0;
	size_t i;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot lock the store: %s", sqlite3_errmsg(db));
		return fc_store_errno(db, rc);
	}
	cur = fc_store_version(db);
	if (cur < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
		goto err_rollback;
	}
	if (cur == 0 && count_tables(db) != 0) {
		snprintf(err, errlen, "not a flowcut flow store (has tables but no schema_version)");
		cur = -EBADMSG;
		goto err_rollback;
	}
	if (cur > latest) {
		snprintf(err, errlen, "store schema version %d is newer than this flowcut knows (%d)",
			 cur, latest);
		cur = -ENOTSUP;
		goto err_rollback;
	}
	if (cur == latest) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return 0;
	}
	rc = sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
			  NULL, NULL, NULL);
	for (i = 0; rc == SQLITE_OK && i < n; i++) {
		if (m[i].to_version <= cur)
			continue;
		if (m[i].sql)
			rc = sqlite3_exec(db, m[i].sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && m[i].fn)
			rc = m[i].fn(db);
		if (rc == SQLITE_OK)
			rc = set_version(db, m[i].to_version);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "schema migration to version %d failed: %s",
				 m[i].to_version, sqlite3_errmsg(db));
			cur = fc_store_errno(db, rc);
			goto err_rollback;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "schema migration failed: %s", sqlite3_errmsg(db));
		cur = fc_store_errno(db, rc);
		goto err_rollback;
	}
	return 0;
err_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return cur;
}

/* Optional groups of columns, NULL when the record has no such part. */
enum {
	FC_STORE_NULL_ICMP = 1 << 0,		/* icmp_id */
	FC_STORE_NULL_VLAN = 1 << 1,		/* vlan */
	FC_STORE_NULL_VLAN_INNER = 1 << 2,	/* vlan_inner */
	FC_STORE_NULL_TUNNEL = 1 << 3,		/* tunnel_* */
	FC_STORE_NULL_BYPASS = 1 << 4,		/* bypass_* */
};

_Static_assert(sizeof(((struct fc_store_binds *)0)->src) == INET6_ADDRSTRLEN,
	       "address text buffers hold any address");

static int bind_addr(sqlite3_stmt *s, int i, const struct fc_addr *a, int family, char *buf)
{
	fc_addr_to_str(a, family, buf, INET6_ADDRSTRLEN);
	return sqlite3_bind_text(s, i, buf, -1, SQLITE_STATIC);
}

static inline int bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	return sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

/* Bind columns first..last NULL unless group is bound NULL already. */
static int bind_nulls(sqlite3_stmt *s, int first, int last, unsigned group,
		      struct fc_store_binds *b)
{
	int i, rc = SQLITE_OK;

	if (b->nulls & group)
		return SQLITE_OK;
	for (i = first; i <= last && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_null(s, i);
	if (rc == SQLITE_OK)
		b->nulls |= group;
	return rc;
}

int fc_store_bind_rec(sqlite3_stmt *s, int first, const struct fc_flow_rec *r,
		      struct fc_store_binds *b)
{
	int rc = SQLITE_OK;

#define P(i) (first + (i) - 1)
#define B(expr) do { if (rc == SQLITE_OK) rc = (expr); } while (0)
#define SET(group, expr) do { b->nulls &= ~(unsigned)(group); B(expr); } while (0)
	B(bind_u64(s, P(1), r->flow_id));
	B(bind_u64(s, P(2), r->start_ns));
	B(bind_u64(s, P(3), r->end_ns));
	B(sqlite3_bind_int(s, P(4), r->family));
	B(sqlite3_bind_int(s, P(5), r->proto));
	B(bind_addr(s, P(6), &r->src, r->family, b->src));
	B(sqlite3_bind_int(s, P(7), r->sport));
	B(bind_addr(s, P(8), &r->dst, r->family, b->dst));
	B(sqlite3_bind_int(s, P(9), r->dport));
	if (r->has_icmp_id)
		SET(FC_STORE_NULL_ICMP, bind_u64(s, P(10), r->icmp_id));
	else
		B(bind_nulls(s, P(10), P(10), FC_STORE_NULL_ICMP, b));
	if (r->has_vlan)
		SET(FC_STORE_NULL_VLAN, sqlite3_bind_int(s, P(11), r->vlan));
	else
		B(bind_nulls(s, P(11), P(11), FC_STORE_NULL_VLAN, b));
	if (r->has_vlan > 1)
		SET(FC_STORE_NULL_VLAN_INNER, sqlite3_bind_int(s, P(12), r->vlan_inner));
	else
		B(bind_nulls(s, P(12), P(12), FC_STORE_NULL_VLAN_INNER, b));
	if (r->has_tunnel) {
		SET(FC_STORE_NULL_TUNNEL, sqlite3_bind_int(s, P(13), r->tunnel.type));
		B(bind_u64(s, P(14), r->tunnel_id));
		B(sqlite3_bind_int(s, P(15), r->tunnel.family));
		B(bind_addr(s, P(16), &r->tunnel.src, r->tunnel.family, b->tunnel_src));
		B(bind_addr(s, P(17), &r->tunnel.dst, r->tunnel.family, b->tunnel_dst));
		B(sqlite3_bind_int(s, P(18), r->tunnel.depth));
	} else {
		B(bind_nulls(s, P(13), P(18), FC_STORE_NULL_TUNNEL, b));
	}
	B(bind_u64(s, P(19), r->pkts));
	B(bind_u64(s, P(20), r->bytes));
	B(bind_u64(s, P(21), r->rpkts));
	B(bind_u64(s, P(22), r->rbytes));
	B(sqlite3_bind_int(s, P(23), r->tcp_flags));
	B(sqlite3_bind_int(s, P(24), r->rtcp_flags));
	B(sqlite3_bind_int(s, P(25), r->tcp_state));
	B(sqlite3_bind_text(s, P(26), r->history, (int)strnlen(r->history, sizeof(r->history)),
			    SQLITE_STATIC));
	B(sqlite3_bind_int(s, P(27), r->end_reason));
	B(sqlite3_bind_text(s, P(28), r->community_id,
			    (int)strnlen(r->community_id, sizeof(r->community_id)), SQLITE_STATIC));
	if (r->bypass.start_ns) {
		SET(FC_STORE_NULL_BYPASS, bind_u64(s, P(29), r->bypass.pkts));
		B(bind_u64(s, P(30), r->bypass.bytes));
		B(bind_u64(s, P(31), r->bypass.rpkts));
		B(bind_u64(s, P(32), r->bypass.rbytes));
		B(bind_u64(s, P(33), r->bypass.start_ns));
	} else {
		B(bind_nulls(s, P(29), P(33), FC_STORE_NULL_BYPASS, b));
	}
#undef SET
#undef P
#undef B
	if (rc != SQLITE_OK)
		b->nulls = 0;	/* not sure what is bound: bind everything next time */
	return rc;
}

static void read_addr(sqlite3_stmt *s, int col, int family, struct fc_addr *a)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	memset(a, 0, sizeof(*a));
	if (t)
		inet_pton(family == 6 ? AF_INET6 : AF_INET, t, a->b);
}

static void read_text(sqlite3_stmt *s, int col, char *buf, size_t cap)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	snprintf(buf, cap, "%s", t ? t : "");
}

void fc_store_read_rec(sqlite3_stmt *s, int c, struct fc_flow_rec *r)
{
#define U64(i) ((uint64_t)sqlite3_column_int64(s, c + (i) - 1))
#define NUL(i) (sqlite3_column_type(s, c + (i) - 1) == SQLITE_NULL)
	memset(r, 0, sizeof(*r));
	r->flow_id = U64(1);
	r->start_ns = U64(2);
	r->end_ns = U64(3);
	r->family = (uint8_t)U64(4);
	r->proto = (uint8_t)U64(5);
	read_addr(s, c + 5, r->family, &r->src);
	r->sport = (uint16_t)U64(7);
	read_addr(s, c + 7, r->family, &r->dst);
	r->dport = (uint16_t)U64(9);
	if (!NUL(10)) {
		r->has_icmp_id = 1;
		r->icmp_id = (uint32_t)U64(10);
	}
	if (!NUL(11)) {
		r->has_vlan = 1;
		r->vlan = (uint16_t)U64(11);
	}
	if (!NUL(12)) {
		r->has_vlan = 2;
		r->vlan_inner = (uint16_t)U64(12);
	}
	if (!NUL(13)) {
		r->has_tunnel = 1;
		r->tunnel.type = (uint8_t)U64(13);
		r->tunnel_id = (uint32_t)U64(14);
		r->tunnel.family = (uint8_t)U64(15);
		read_addr(s, c + 15, r->tunnel.family, &r->tunnel.src);
		read_addr(s, c + 16, r->tunnel.family, &r->tunnel.dst);
		r->tunnel.depth = (uint8_t)U64(18);
	}
	r->pkts = U64(19);
	r->bytes = U64(20);
	r->rpkts = U64(21);
	r->rbytes = U64(22);
	r->tcp_flags = (uint16_t)U64(23);
	r->rtcp_flags = (uint16_t)U64(24);
	r->tcp_state = (uint8_t)U64(25);
	read_text(s, c + 25, r->history, sizeof(r->history));
	r->end_reason = (uint8_t)U64(27);
	read_text(s, c + 27, r->community_id, sizeof(r->community_id));
	if (!NUL(33)) {
		r->bypass.pkts = U64(29);
		r->bypass.bytes = U64(30);
		r->bypass.rpkts = U64(31);
		r->bypass.rbytes = U64(32);
		r->bypass.start_ns = U64(33);
	}
#undef U64
#undef NUL
}

int fc_store_default_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, cap, "/var/lib/flowcut/flows.db");
	else if (xdg && xdg[0] == '/')	/* the XDG spec ignores relative values */
		n = snprintf(buf, cap, "%s/flowcut/flows.db", xdg);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.local/share/flowcut/flows.db", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}
