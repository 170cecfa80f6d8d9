// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the sqlite sink through the public sink API: exact round
 * trip of every record field, retention, schema migrations (with a test-only
 * next version; v1 -> v2 -> v3 with the merge of rollup parts, v3 -> v4),
 * address postings across segments, retention by segment, refusing
 * foreign and newer stores, unwritable paths, a locked store
 * reported as -EBUSY without losing or duplicating the batch, bad options. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "flowcut/store.h"
#include "store_post.h"
#include "store_rollup.h"
#include "store_schema.h"
#include "t.h"
#include "t_sqlite.h"

static char dir[64];

static const char *db_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static struct fc_sink *open_sink(const char *spec_text, char *err, size_t errlen)
{
	struct fc_sink_spec spec;
	struct fc_sink *s;

	if (fc_sink_spec__parse(spec_text, &spec, err, errlen))
		return NULL;
	s = fc_sink__open(&spec, err, errlen);
	fc_sink_spec__free(&spec);
	return s;
}

static struct fc_sink *open_db(const char *name, const char *opts)
{
	char spec[256], err[256];
	struct fc_sink *s;

	snprintf(spec, sizeof(spec), "sqlite:%s%s", db_path(name), opts ? opts : "");
	s = open_sink(spec, err, sizeof(err));
	if (!s)
		fprintf(stderr, "  open %s: %s\n", spec, err);
	return s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void rec_v4(struct fc_flow_rec *r, uint64_t end_ns)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = 7;
	r->start_ns = end_ns - 1500000000ULL;
	r->end_ns = end_ns;
	r->family = 4;
	r->proto = 17;
	inet_pton(AF_INET, "10.0.0.1", r->src.b);
	inet_pton(AF_INET, "192.168.200.254", r->dst.b);
	r->sport = 5353;
	r->dport = 53;
	r->pkts = 3;
	r->bytes = 300;
	r->rpkts = 1;
	r->rbytes = 120;
	r->end_reason = FC_END_IDLE;
	strcpy(r->community_id, "1:abc=");
}

/* Every optional part present, and values at their type's extremes. */
static void rec_v6_full(struct fc_flow_rec *r, uint64_t end_ns)
{
	memset(r, 0, sizeof(*r));
	r->flow_id = UINT64_MAX;	/* beyond int64: stored as the same bits */
	r->start_ns = end_ns - 1;
	r->end_ns = end_ns;
	r->family = 6;
	r->proto = 6;
	inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", r->src.b);
	inet_pton(AF_INET6, "fe80::1", r->dst.b);
	r->sport = 65535;
	r->dport = 443;
	r->has_vlan = 2;
	r->vlan = 4094;
	r->vlan_inner = 100;
	r->has_tunnel = 1;
	r->tunnel_id = 0xffffffffu;
	r->tunnel.type = FC_TUN_VXLAN;
	r->tunnel.family = 6;
	r->tunnel.depth = 2;
	inet_pton(AF_INET6, "2001:db8::a", r->tunnel.src.b);
	inet_pton(AF_INET6, "2001:db8::b", r->tunnel.dst.b);
	r->pkts = 1ULL << 40;
	r->bytes = (1ULL << 62) + 5;
	r->rpkts = 9;
	r->rbytes = 900;
	r->tcp_flags = 0x1ff;
	r->rtcp_flags = 0x12;
	r->tcp_state = FC_TCP_RSTRH;
	strcpy(r->history, "ShADadFfRrIQ^ShADadFfRrI");	/* FC_HISTORY_MAX letters */
	r->end_reason = FC_END_EVICTED;
	strcpy(r->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	r->bypass.pkts = 1;
	r->bypass.bytes = 2;
	r->bypass.rpkts = 3;
	r->bypass.rbytes = 4;
	r->bypass.start_ns = end_ns - 5;
}

static void rec_icmp_tunnel_v4(struct fc_flow_rec *r, uint64_t end_ns)
{
	rec_v4(r, end_ns);
	r->proto = 1;
	r->sport = 8;
	r->dport = 0;
	r->has_icmp_id = 1;
	r->icmp_id = 4242;
	r->has_vlan = 1;
	r->vlan = 7;
	r->has_tunnel = 1;
	r->tunnel.type = FC_TUN_GRE;
	r->tunnel.family = 4;
	r->tunnel.depth = 1;
	inet_pton(AF_INET, "192.0.2.1", r->tunnel.src.b);
	inet_pton(AF_INET, "192.0.2.2", r->tunnel.dst.b);
}

struct collect {
	struct fc_flow_rec recs[64];
	unsigned n;
};

static int collect_cb(const struct fc_flow_rec *r, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < 64)
		c->recs[c->n] = *r;
	c->n++;
	return 0;
}

static unsigned list_all(const char *name, struct collect *c)
{
	struct fc_store_filter f;
	struct fc_store *st;
	char err[256];

	memset(c, 0, sizeof(*c));
	st = fc_store__open(db_path(name), err, sizeof(err));
	CHECK(st != NULL);
	if (!st) {
		fprintf(stderr, "  %s\n", err);
		return 0;
	}
	fc_store_filter__init(&f);
	CHECK_EQ_U(fc_store__list(st, &f, 1000, collect_cb, c, err, sizeof(err)), 0);
	fc_store__close(st);
	return c->n;
}

static void test_round_trip(void)
{
	uint64_t t = 1763600000000000000ULL;
	struct fc_flow_rec in[3];
	struct collect c;
	struct fc_sink *s;
	unsigned i;

	rec_v4(&in[0], t);
	rec_v6_full(&in[1], t + 1);
	rec_icmp_tunnel_v4(&in[2], t + 2);
	s = open_db("rt.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, in, 2), 2);
	CHECK_EQ_U(fc_sink__write(s, in + 2, 1), 1);
	CHECK_EQ_U(fc_sink__health(s)->written, 3);
	CHECK_EQ_U(fc_sink__flush(s), 0);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("rt.db", &c), 3);
	for (i = 0; i < 3 && i < c.n; i++) {
		char a[1024], b[1024];

		CHECK(memcmp(&in[i], &c.recs[i], sizeof(in[i])) == 0);
		/* and the user-visible form, which names the field that differs */
		fc_record_to_json(&in[i], a, sizeof(a));
		fc_record_to_json(&c.recs[i], b, sizeof(b));
		CHECK_STR(b, a);
	}
}

static void test_empty_write_and_reopen(void)
{
	struct fc_flow_rec r;
	struct collect c;
	struct fc_sink *s;

	s = open_db("re.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, NULL, 0), 0);
	rec_v4(&r, 1763600000000000000ULL);
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	fc_sink__close(s);
	/* a second open finds the current schema and appends */
	s = open_db("re.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("re.db", &c), 2);
}

static int sum_flows_cb(const struct fc_store_top_row *row, void *ctx)
{
	*(uint64_t *)ctx += row->flows;
	return 0;
}

/* What cb adds up over a top-100 summary of the whole store; fail is
 * returned (and the test fails) when the store cannot be opened. */
static uint64_t top_sum(const char *name, enum fc_store_top what,
			int (*cb)(const struct fc_store_top_row *, void *), uint64_t fail)
{
	struct fc_store_filter f;
	struct fc_store *st;
	char err[256];
	uint64_t sum = 0;

	st = fc_store__open(db_path(name), err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return fail;
	fc_store_filter__init(&f);
	CHECK_EQ_U(fc_store__top(st, what, &f, 100, cb, &sum, err, sizeof(err)), 0);
	fc_store__close(st);
	return sum;
}

static uint64_t protocol_flows(const char *name)
{
	return top_sum(name, FC_STORE_TOP_PROTOCOLS, sum_flows_cb, 9999);
}

static void test_retention(void)
{
	const uint64_t day = 86400000000000ULL, now = now_ns();
	struct fc_flow_rec r[6];
	struct collect c;
	struct fc_sink *s;
	unsigned i;

	for (i = 0; i < 3; i++)
		rec_v4(&r[i], now - 8 * day + i);		/* older than 7d */
	rec_v4(&r[3], now - 7 * day + 60000000000ULL);	/* a minute inside */
	rec_v4(&r[4], now - 6 * day);
	rec_v4(&r[5], now);
	for (i = 0; i < 6; i++)
		r[i].flow_id = i;
	s = open_db("ret.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r, 6), 6);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("ret.db", &c), 6);
	CHECK_EQ_U(protocol_flows("ret.db"), 6);

	s = open_db("ret.db", "?retain=7d");	/* retention runs at open */
	CHECK(s != NULL);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("ret.db", &c), 3);
	for (i = 0; i < c.n && i < 3; i++)
		CHECK_EQ_U(c.recs[i].flow_id, i + 3);
	/* whole expired hours and days leave the rollups too */
	CHECK_EQ_U(protocol_flows("ret.db"), 3);
}

/* `flowcut read old.pcap --sink sqlite:DB?retain=7d`: retention counts back
 * from the newest stored record when that is older than now, so an old
 * capture keeps its last 7 days instead of being deleted as it is written. */
static void test_retention_of_an_old_capture(void)
{
	const uint64_t day = 86400000000000ULL, t = 1700000000000000000ULL;	/* 2023 */
	struct fc_flow_rec r[5];
	struct collect c;
	struct fc_sink *s;
	unsigned i;

	rec_v4(&r[0], t - 9 * day);
	rec_v4(&r[1], t - 8 * day);	/* older than the newest - 7d */
	rec_v4(&r[2], t - 6 * day);
	rec_v4(&r[3], t - 1);
	rec_v4(&r[4], t);		/* the newest */
	for (i = 0; i < 5; i++)
		r[i].flow_id = i;
	s = open_db("old.db", "?retain=7d");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r, 5), 5);	/* retention runs after a write */
	fc_sink__close(s);
	s = open_db("old.db", "?retain=7d");	/* and at open */
	CHECK(s != NULL);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("old.db", &c), 3);
	for (i = 0; i < c.n && i < 3; i++)
		CHECK_EQ_U(c.recs[i].flow_id, i + 2);
}

static int exec_sql(const char *name, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(db_path(name), &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static int db_version(const char *name)
{
	sqlite3 *db;
	int v;

	if (sqlite3_open(db_path(name), &db) != SQLITE_OK)
		return -1;
	v = fc_store_version(db);
	sqlite3_close(db);
	return v;
}

#define TEST_VERSION (FC_STORE_SCHEMA_VERSION + 1)

/* This build's migrations, then a test-only next version. */
static void test_migrations(struct fc_store_migration *m)
{
	memcpy(m, fc_store_migrations, fc_store_nmigrations * sizeof(*m));
	m[fc_store_nmigrations].to_version = TEST_VERSION;
	m[fc_store_nmigrations].sql = "ALTER TABLE flows ADD COLUMN test_col INTEGER NOT NULL DEFAULT 7;"
				      "CREATE INDEX flows_test ON flows(test_col);";
	m[fc_store_nmigrations].fn = NULL;
}

static void test_migrations_apply_in_order(void)
{
	struct fc_store_migration m[FC_STORE_SCHEMA_VERSION + 1];
	struct fc_flow_rec r;
	struct fc_sink *s;
	char err[256];
	sqlite3 *db;
	sqlite3_stmt *st;

	test_migrations(m);
	s = open_db("mig.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	rec_v4(&r, 1763600000000000000ULL);
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	fc_sink__close(s);
	CHECK_EQ_U(db_version("mig.db"), FC_STORE_SCHEMA_VERSION);

	/* the next version keeps the rows and gives them the new column's default */
	CHECK_EQ_U(sqlite3_open(db_path("mig.db"), &db), SQLITE_OK);
	CHECK_EQ_U(fc_store_migrate(db, m, TEST_VERSION, err, sizeof(err)), 0);
	CHECK_EQ_U(fc_store_version(db), TEST_VERSION);
	CHECK_EQ_U(sqlite3_prepare_v2(db, "SELECT count(*), sum(test_col) FROM flows", -1, &st, NULL),
		   SQLITE_OK);
	CHECK_EQ_U(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_U(sqlite3_column_int(st, 0), 1);
	CHECK_EQ_U(sqlite3_column_int(st, 1), 7);
	sqlite3_finalize(st);
	/* running it again is a no-op */
	CHECK_EQ_U(fc_store_migrate(db, m, TEST_VERSION, err, sizeof(err)), 0);
	sqlite3_close(db);

	/* this build does not know the test version: it must not write it */
	{
		char spec[256];

		snprintf(spec, sizeof(spec), "sqlite:%s", db_path("mig.db"));
		s = open_sink(spec, err, sizeof(err));
		CHECK(s == NULL);
		CHECK(strstr(err, "newer") != NULL);
		fc_sink__close(s);
	}
	CHECK(fc_store__open(db_path("mig.db"), err, sizeof(err)) == NULL);
	CHECK_EQ_U(errno, ENOTSUP);
}

static void test_migration_from_v0_and_failure_rolls_back(void)
{
	struct fc_store_migration bad[FC_STORE_SCHEMA_VERSION + 1];
	char err[256], want[32];
	sqlite3 *db;

	/* an empty file is v0: the whole chain runs */
	CHECK_EQ_U(sqlite3_open(db_path("v0.db"), &db), SQLITE_OK);
	CHECK_EQ_U(fc_store_version(db), 0);
	CHECK_EQ_U(fc_store_migrate(db, fc_store_migrations, fc_store_nmigrations, err, sizeof(err)), 0);
	CHECK_EQ_U(fc_store_version(db), FC_STORE_SCHEMA_VERSION);
	/* a failing step leaves the store as it was */
	test_migrations(bad);
	bad[fc_store_nmigrations].sql = "ALTER TABLE flows ADD COLUMN x INTEGER; THIS IS NOT SQL;";
	CHECK(fc_store_migrate(db, bad, TEST_VERSION, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "version %d", TEST_VERSION);
	CHECK(strstr(err, want) != NULL);
	CHECK_EQ_U(fc_store_version(db), FC_STORE_SCHEMA_VERSION);
	CHECK_EQ_U(sqlite3_exec(db, "SELECT x FROM flows", NULL, NULL, NULL), SQLITE_ERROR);
	sqlite3_close(db);
}

/* A v1 store (hour-keyed address indexes) opened by the sink becomes v2:
 * its rows keep their hour as their segment, are still found by address,
 * and new rows go to new segments. */
static void test_migrate_v1_to_v2(void)
{
	const uint64_t t = 1763600000000000000ULL, hour = t / 3600000000000ULL;
	struct fc_store_filter f;
	struct fc_flow_rec r;
	struct fc_store *st;
	struct fc_sink *s;
	struct collect c;
	char err[256], sql[1024];
	sqlite3 *db;
	sqlite3_stmt *q;

	CHECK_EQ_U(sqlite3_open(db_path("v1.db"), &db), SQLITE_OK);
	CHECK_EQ_U(fc_store_migrate(db, fc_store_migrations, 1, err, sizeof(err)), 0);
	CHECK_EQ_U(fc_store_version(db), 1);
	snprintf(sql, sizeof(sql), "INSERT INTO flows (flow_id, start_ns, end_ns, family, proto, src,"
		 " sport, dst, dport, pkts, bytes, rpkts, rbytes, tcp_flags, rtcp_flags, tcp_state,"
		 " history, end_reason, community_id, hour) VALUES (1, %llu, %llu, 4, 17,"
		 " '10.0.0.1', 5353, '192.168.200.254', 53, 3, 300, 1, 120, 0, 0, 0, '', 1, '1:abc=',"
		 " %llu)", (unsigned long long)(t - 1500000000ULL), (unsigned long long)t,
		 (unsigned long long)hour);
	CHECK_EQ_U(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	s = open_db("v1.db", NULL);	/* migrates, and rolls the v1 row up */
	CHECK(s != NULL);
	if (!s)
		return;
	rec_v4(&r, t + 1);
	r.flow_id = 2;
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	fc_sink__close(s);
	CHECK_EQ_U(db_version("v1.db"), FC_STORE_SCHEMA_VERSION);
	CHECK_EQ_U(exec_sql("v1.db", "SELECT hour FROM flows"), SQLITE_ERROR);

	CHECK_EQ_U(sqlite3_open(db_path("v1.db"), &db), SQLITE_OK);
	CHECK_EQ_U(sqlite3_prepare_v2(db, "SELECT count(*), min(seg), max(seg), min(min_end)"
				      " FROM flow_segs", -1, &q, NULL), SQLITE_OK);
	CHECK_EQ_U(sqlite3_step(q), SQLITE_ROW);
	CHECK_EQ_U(sqlite3_column_int(q, 0), 2);
	CHECK_EQ_U(sqlite3_column_int64(q, 1), hour);
	CHECK_EQ_U(sqlite3_column_int64(q, 2), hour + 1);
	CHECK_EQ_U(sqlite3_column_int64(q, 3), hour * 3600000000000ULL);
	sqlite3_finalize(q);
	sqlite3_close(db);

	/* both found through the address indexes, oldest first */
	memset(&c, 0, sizeof(c));
	st = fc_store__open(db_path("v1.db"), err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	fc_store_filter__init(&f);
	f.host = "192.168.200.254";
	CHECK_EQ_U(fc_store__list(st, &f, 10, collect_cb, &c, err, sizeof(err)), 0);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.recs[0].flow_id, 1);
	CHECK_EQ_U(c.recs[1].flow_id, 2);
	fc_store__close(st);
	CHECK_EQ_U(protocol_flows("v1.db"), 2);
}

/* The first column of sql's first row, or -1. */
static int64_t query_i64(const char *name, const char *sql)
{
	return t_sql_i64(db_path(name), sql);
}

/* Entries in the rollup rows sql selects (data only); *src gets bytes * 100
 * + flows of the side-0 entry of 10.0.0.1 (and 0 when there is none, or
 * more than one). */
static unsigned rollup_entries(const char *name, const char *sql, uint64_t *src)
{
	struct fc_rollup_ent e;
	sqlite3_stmt *q;
	unsigned n = 0, found = 0;
	sqlite3 *db;

	*src = 0;
	if (sqlite3_open(db_path(name), &db) != SQLITE_OK)
		return 9999;
	CHECK_EQ_U(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const uint8_t *p = sqlite3_column_blob(q, 0);
		int i, k = sqlite3_column_bytes(q, 0);

		CHECK_EQ_U(k % FC_ROLLUP_ENT_SIZE, 0);
		for (i = 0; i + FC_ROLLUP_ENT_SIZE <= k; i += FC_ROLLUP_ENT_SIZE, n++) {
			fc_rollup_ent__read(p + i, &e);
			if (e.side == 0 && e.family == 4 && !memcmp(e.addr.b, "\x0a\0\0\x01", 4)) {
				*src = e.bytes * 100 + e.flows;
				found++;
			}
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	if (found != 1)
		*src = 0;
	return n;
}

static int top_src_cb(const struct fc_store_top_row *row, void *ctx)
{
	if (!strcmp(row->addr, "10.0.0.1"))
		*(uint64_t *)ctx = row->bytes;
	return 0;
}

/* Bytes of 10.0.0.1 as a source over all time, through the rollups. */
static uint64_t src_bytes(const char *name)
{
	return top_sum(name, FC_STORE_TOP_SRC, top_src_cb, 0);
}

/* A v2 store (one rollup row per group) opened by the sink becomes v3: its
 * rollup rows become part 0 of their buckets, a new fold adds a part that
 * readers add up, and once the bucket has closed its parts are merged back
 * into one row per group. */
static void test_migrate_v2_to_v3(void)
{
	const uint64_t t = 1763600000000000000ULL, hour = t / 3600000000000ULL,
		       day = t / 86400000000000ULL;
	struct fc_flow_rec r;
	struct fc_sink *s;
	char err[256], sql[2048];
	uint64_t src;
	sqlite3 *db;

	/* a v2 store with one record, rolled up */
	CHECK_EQ_U(sqlite3_open(db_path("v2.db"), &db), SQLITE_OK);
	CHECK_EQ_U(fc_store_migrate(db, fc_store_migrations, 2, err, sizeof(err)), 0);
	CHECK_EQ_U(fc_store_version(db), 2);
	snprintf(sql, sizeof(sql), "INSERT INTO flows (flow_id, start_ns, end_ns, family, proto, src,"
		 " sport, dst, dport, pkts, bytes, rpkts, rbytes, tcp_flags, rtcp_flags, tcp_state,"
		 " history, end_reason, community_id, seg) VALUES (1, %llu, %llu, 4, 6,"
		 " '10.0.0.1', 40000, '10.0.0.2', 443, 3, 1000, 1, 500, 0, 0, 0, '', 1, '1:abc=', 0);"
		 "INSERT INTO flow_segs VALUES (0, %llu, %llu);"
		 "INSERT INTO talk_hour VALUES (%llu, 0, '10.0.0.1', 6, 1500, 4, 1),"
		 " (%llu, 1, '10.0.0.2', 6, 1500, 4, 1);"
		 "INSERT INTO talk_day VALUES (%llu, 0, '10.0.0.1', 6, 1500, 4, 1),"
		 " (%llu, 1, '10.0.0.2', 6, 1500, 4, 1);"
		 "INSERT INTO port_hour VALUES (%llu, 6, 443, 1500, 4, 1);"
		 "INSERT INTO port_day VALUES (%llu, 6, 443, 1500, 4, 1);"
		 "UPDATE store_meta SET value = 1 WHERE key = 'rollup_upto';",
		 (unsigned long long)(t - 1000), (unsigned long long)t, (unsigned long long)t,
		 (unsigned long long)t, (unsigned long long)hour, (unsigned long long)hour,
		 (unsigned long long)day, (unsigned long long)day, (unsigned long long)hour,
		 (unsigned long long)day);
	CHECK_EQ_U(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* migrated; a new record of the same source in the same hour is a second part */
	s = open_db("v2.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(db_version("v2.db"), FC_STORE_SCHEMA_VERSION);
	CHECK_EQ_U(query_i64("v2.db", "SELECT count(*) FROM talk_hour WHERE part = 0"), 1);
	CHECK_EQ_U(rollup_entries("v2.db", "SELECT data FROM talk_hour", &src), 2);
	CHECK_EQ_U(src, 1500 * 100 + 1);
	CHECK_EQ_U(rollup_entries("v2.db", "SELECT data FROM port_day", &src), 1);
	CHECK_EQ_U(query_i64("v2.db", "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v2'"), 0);
	CHECK_EQ_U(query_i64("v2.db", "SELECT count(*) FROM rollup_parts WHERE parts = 1"), 2);
	rec_v4(&r, t + 1000);	/* 10.0.0.1 -> 192.168.200.254, TCP 443 like the v2 row */
	r.proto = 6;
	r.dport = 443;
	r.bytes = 100;
	r.rbytes = 20;
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	CHECK_EQ_U(fc_sink__flush(s), 0);
	CHECK_EQ_U(rollup_entries("v2.db", "SELECT data FROM talk_hour", &src), 4);
	CHECK_EQ_U(src, 0);	/* two entries, one per part */
	CHECK_EQ_U(query_i64("v2.db", "SELECT count(DISTINCT part) FROM talk_day"), 2);
	CHECK_EQ_U(query_i64("v2.db", "SELECT min(parts) FROM rollup_parts"), 2);
	CHECK_EQ_U(src_bytes("v2.db"), 1620);

	/* two days later both buckets have closed: one row per group again */
	rec_v4(&r, t + 2 * 86400000000000ULL);
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	CHECK_EQ_U(fc_sink__flush(s), 0);
	fc_sink__close(s);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM talk_hour WHERE bucket = %llu AND part = 0",
		 (unsigned long long)hour);
	CHECK_EQ_U(query_i64("v2.db", sql), 1);
	snprintf(sql, sizeof(sql), "SELECT data FROM talk_hour WHERE bucket = %llu",
		 (unsigned long long)hour);
	CHECK_EQ_U(rollup_entries("v2.db", sql, &src), 3);
	CHECK_EQ_U(src, 1620 * 100 + 2);
	snprintf(sql, sizeof(sql), "SELECT data FROM talk_day WHERE bucket = %llu",
		 (unsigned long long)day);
	CHECK_EQ_U(rollup_entries("v2.db", sql, &src), 3);
	CHECK_EQ_U(src, 1620 * 100 + 2);
	snprintf(sql, sizeof(sql), "SELECT data FROM port_day WHERE bucket = %llu",
		 (unsigned long long)day);
	CHECK_EQ_U(rollup_entries("v2.db", sql, &src), 1);
	snprintf(sql, sizeof(sql), "SELECT parts FROM rollup_parts WHERE tier = 1 AND bucket = %llu",
		 (unsigned long long)day);
	CHECK_EQ_U(query_i64("v2.db", sql), 1);
	CHECK_EQ_U(src_bytes("v2.db"), 1620 + 420);
	CHECK_EQ_U(protocol_flows("v2.db"), 3);
}

/* Records listed by fc_store__list() with these address filters (NULL:
 * none), all of them. */
static unsigned count_matching(const char *name, const char *src, const char *dst,
			       const char *host)
{
	struct fc_store_filter f;
	struct fc_store *st;
	struct collect c;
	char err[256];

	memset(&c, 0, sizeof(c));
	st = fc_store__open(db_path(name), err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return 0;
	fc_store_filter__init(&f);
	f.src = src;
	f.dst = dst;
	f.host = host;
	CHECK_EQ_U(fc_store__list(st, &f, 1000000, collect_cb, &c, err, sizeof(err)), 0);
	fc_store__close(st);
	return c.n;
}

/* Record i of test_postings_across_segments: source 10.1.0.(i % 7), or
 * 2001:db8::(i % 7) for every 5th; destination 10.2.0.(i % 11), and the
 * source itself for every 13th (a host talking to itself). */
static void post_rec(struct fc_flow_rec *r, unsigned i, uint64_t t)
{
	char a[64];

	rec_v4(r, t + i);
	r->flow_id = i;
	if (i % 5 == 0) {
		r->family = 6;
		snprintf(a, sizeof(a), "2001:db8::%u", i % 7);
		inet_pton(AF_INET6, a, r->src.b);
		snprintf(a, sizeof(a), "2001:db8::1:%u", i % 11);
		inet_pton(AF_INET6, a, r->dst.b);
	} else {
		snprintf(a, sizeof(a), "10.1.0.%u", i % 7);
		inet_pton(AF_INET, a, r->src.b);
		snprintf(a, sizeof(a), "10.2.0.%u", i % 11);
		inet_pton(AF_INET, a, r->dst.b);
	}
	if (i % 13 == 0)
		r->dst = r->src;
}

/* Address lookups through the per-segment postings: batches that cross
 * segment boundaries, a failed batch (locked store) offered again, and a
 * reopen (a new segment) - every lookup finds exactly its records. */
static void test_postings_across_segments(void)
{
	const uint64_t t = 1763600000000000000ULL;
	const unsigned n = 2 * FC_STORE_SEG_ROWS + 5000, batch = 7001;
	unsigned i, k, want_src = 0, want_dst = 0, want_host = 0, want_v6 = 0;
	struct fc_flow_rec *r = calloc(n, sizeof(*r));
	struct fc_sink *s;
	sqlite3 *other;

	CHECK(r != NULL);
	if (!r)
		return;
	for (i = 0; i < n; i++) {
		post_rec(&r[i], i, t);
		want_src += i % 5 != 0 && i % 7 == 3;
		want_dst += i % 5 != 0 && i % 13 != 0 && i % 11 == 3;
		want_host += i % 5 != 0 && (i % 7 == 3 || (i % 13 != 0 && i % 11 == 3));
		want_v6 += i % 5 == 0 && i % 7 == 4;
	}
	s = open_db("post.db", "?busy_timeout=10ms");
	CHECK(s != NULL);
	if (!s) {
		free(r);
		return;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < batch ? n - i : batch;
		if (i == 2 * batch) {	/* this one crosses a segment boundary: fails first */
			CHECK_EQ_U(sqlite3_open(db_path("post.db"), &other), SQLITE_OK);
			CHECK_EQ_U(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
			CHECK_EQ_U(fc_sink__write(s, r + i, k), -EBUSY);
			sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
			sqlite3_close(other);
		}
		if (i == 4 * batch) {	/* a reopen starts a new segment */
			fc_sink__close(s);
			s = open_db("post.db", "?busy_timeout=10ms");
			CHECK(s != NULL);
			if (!s)
				break;
		}
		CHECK_EQ_U(fc_sink__write(s, r + i, k), (int)k);
	}
	fc_sink__close(s);
	/* 16384 rows, 11620 up to the reopen, then the rest */
	CHECK_EQ_U(query_i64("post.db", "SELECT count(*) FROM flow_segs"), 3);
	CHECK_EQ_U(query_i64("post.db", "SELECT count(*) FROM (SELECT DISTINCT seg, side FROM seg_addrs)"),
		   6);
	CHECK_EQ_U(query_i64("post.db", "SELECT count(*) FROM seg_addrs"), 2 * (16 + 12 + 10));
	CHECK_EQ_U(query_i64("post.db", "SELECT count(*) FROM seg_addrs WHERE first_key > last_key"), 0);
	CHECK_EQ_U(query_i64("post.db", "SELECT sum(last_id - first_id + 1) FROM flow_segs"), n);
	CHECK_EQ_U(query_i64("post.db", "SELECT sum(length(data)) FROM seg_addrs"), 2 * 8 * n);
	CHECK_EQ_U(count_matching("post.db", "10.1.0.3", NULL, NULL), want_src);
	CHECK_EQ_U(count_matching("post.db", NULL, "10.2.0.3", NULL), want_dst);
	CHECK_EQ_U(count_matching("post.db", NULL, NULL, "10.1.0.3"), want_src);
	CHECK_EQ_U(count_matching("post.db", NULL, NULL, "10.2.0.3"), want_dst);
	CHECK_EQ_U(count_matching("post.db", "10.1.0.3", "10.2.0.3", NULL),
		   want_src + want_dst - want_host);
	CHECK_EQ_U(count_matching("post.db", "2001:DB8:0::4", NULL, NULL), want_v6);
	CHECK_EQ_U(count_matching("post.db", "10.9.9.9", NULL, NULL), 0);
	CHECK_EQ_U(count_matching("post.db", NULL, NULL, NULL), n);
	free(r);
}

/* Two addresses with the same postings key (found by search): a lookup
 * of one fetches the other's rows too, and must drop them. */
static void test_postings_key_collision(void)
{
	const uint64_t t = 1763600000000000000ULL;
	struct fc_flow_rec r[3];
	struct fc_addr a, b;
	struct fc_sink *s;
	unsigned i;

	inet_pton(AF_INET6, "2001:db8::9bda:fce2", a.b);
	inet_pton(AF_INET6, "2001:db8::430c:94ec", b.b);
	CHECK_EQ_U(fc_post_key(6, &a), fc_post_key(6, &b));
	for (i = 0; i < 3; i++) {
		rec_v6_full(&r[i], t + i);
		r[i].src = i ? b : a;
		r[i].dst = i == 2 ? a : b;
	}
	s = open_db("coll.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r, 3), 3);
	fc_sink__close(s);
	CHECK_EQ_U(count_matching("coll.db", "2001:db8::9bda:fce2", NULL, NULL), 1);
	CHECK_EQ_U(count_matching("coll.db", "2001:db8::430c:94ec", NULL, NULL), 2);
	CHECK_EQ_U(count_matching("coll.db", NULL, "2001:db8::9bda:fce2", NULL), 1);
	CHECK_EQ_U(count_matching("coll.db", NULL, NULL, "2001:db8::9bda:fce2"), 2);
	CHECK_EQ_U(count_matching("coll.db", NULL, NULL, "2001:db8::430c:94ec"), 3);
}

/* Retention by segment: a segment wholly past the cutoff loses its rows,
 * its flow_segs row and its postings; one that is partly past it loses
 * those rows and keeps the rest findable by address. */
static void test_retention_drops_segments_and_postings(void)
{
	const uint64_t day = 86400000000000ULL, now = now_ns();
	struct fc_flow_rec r[4];
	struct fc_sink *s;
	unsigned i;

	for (i = 0; i < 4; i++) {
		rec_v4(&r[i], now - 9 * day + i);
		r[i].flow_id = i;
	}
	s = open_db("retseg.db", NULL);	/* segment 0: all expired later */
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r, 2), 2);
	fc_sink__close(s);
	r[3].end_ns = now - day;
	s = open_db("retseg.db", NULL);	/* segment 1: one old, one recent */
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r + 2, 2), 2);
	fc_sink__close(s);
	CHECK_EQ_U(query_i64("retseg.db", "SELECT count(*) FROM seg_addrs"), 4);
	CHECK_EQ_U(count_matching("retseg.db", "10.0.0.1", NULL, NULL), 4);

	s = open_db("retseg.db", "?retain=7d");
	CHECK(s != NULL);
	fc_sink__close(s);
	CHECK_EQ_U(query_i64("retseg.db", "SELECT count(*) FROM flows"), 1);
	CHECK_EQ_U(query_i64("retseg.db", "SELECT count(*) FROM flow_segs"), 1);
	CHECK_EQ_U(query_i64("retseg.db", "SELECT min(seg) FROM seg_addrs"), 1);
	CHECK_EQ_U(query_i64("retseg.db", "SELECT count(*) FROM seg_addrs"), 2);
	/* the survivor's segment no longer claims the deleted row's end time */
	CHECK(query_i64("retseg.db", "SELECT min_end FROM flow_segs") >= (int64_t)(now - 8 * day));
	CHECK_EQ_U(count_matching("retseg.db", "10.0.0.1", NULL, NULL), 1);
	CHECK_EQ_U(count_matching("retseg.db", NULL, NULL, "192.168.200.254"), 1);
}

/* A v3 store (per-row indexes) opened by the sink becomes v4: segments get
 * their id ranges and postings from the old indexes, a segment without
 * rows goes, the indexes are dropped, and old and new rows are found by
 * address and time. */
static void test_migrate_v3_to_v4(void)
{
	const uint64_t t = 1763600000000000000ULL;
	struct fc_flow_rec r;
	struct fc_sink *s;
	char err[256], sql[4096];
	sqlite3 *db;

	CHECK_EQ_U(sqlite3_open(db_path("v3.db"), &db), SQLITE_OK);
	CHECK_EQ_U(fc_store_migrate(db, fc_store_migrations, 3, err, sizeof(err)), 0);
	CHECK_EQ_U(fc_store_version(db), 3);
#define V3_ROW(id, seg, end, fam, src, dst)                                                    \
	"INSERT INTO flows (id, flow_id, start_ns, end_ns, family, proto, src, sport, dst,"    \
	" dport, pkts, bytes, rpkts, rbytes, tcp_flags, rtcp_flags, tcp_state, history,"      \
	" end_reason, community_id, seg) VALUES (" #id ", " #id ", " end " - 1000, " end ", " \
	#fam ", 6, '" src "', 40000, '" dst "', 443, 3, 1000, 1, 500, 0, 0, 0, '', 1, 'c', " \
	#seg ");"
	snprintf(sql, sizeof(sql),
		 V3_ROW(1, 0, "%1$llu", 4, "10.0.0.1", "10.0.0.2")
		 V3_ROW(2, 0, "%1$llu + 1", 6, "2001:db8::1", "2001:db8::2")
		 V3_ROW(3, 0, "%1$llu + 2", 4, "10.0.0.3", "10.0.0.3")
		 V3_ROW(4, 1, "%1$llu + 3", 4, "10.0.0.2", "10.0.0.1")
		 "INSERT INTO flow_segs VALUES (0, %1$llu, %1$llu + 2), (1, %1$llu + 3, %1$llu + 3),"
		 " (2, %1$llu, %1$llu);"
		 "UPDATE store_meta SET value = 4 WHERE key = 'rollup_upto';", (unsigned long long)t);
#undef V3_ROW
	CHECK_EQ_U(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	s = open_db("v3.db", NULL);	/* migrates */
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(db_version("v3.db"), FC_STORE_SCHEMA_VERSION);
	rec_v4(&r, t + 10);	/* 10.0.0.1 -> 192.168.200.254, in a new segment 2 */
	r.flow_id = 5;
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	fc_sink__close(s);
	CHECK_EQ_U(query_i64("v3.db", "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
			     " AND tbl_name = 'flows'"), 0);
	CHECK_EQ_U(query_i64("v3.db", "SELECT group_concat(seg || ':' || first_id || '-' || last_id)"
			     " = '0:1-3,1:4-4,2:5-5' FROM flow_segs"), 1);
	CHECK_EQ_U(query_i64("v3.db", "SELECT count(*) FROM seg_addrs"), 6);
	CHECK_EQ_U(query_i64("v3.db", "SELECT length(data) FROM seg_addrs WHERE seg = 0"), 3 * 8);
	CHECK_EQ_U(count_matching("v3.db", "10.0.0.1", NULL, NULL), 2);
	CHECK_EQ_U(count_matching("v3.db", NULL, NULL, "10.0.0.1"), 3);
	CHECK_EQ_U(count_matching("v3.db", NULL, NULL, "10.0.0.3"), 1);
	CHECK_EQ_U(count_matching("v3.db", NULL, "2001:db8::2", NULL), 1);
	CHECK_EQ_U(count_matching("v3.db", NULL, NULL, NULL), 5);
	CHECK_EQ_U(protocol_flows("v3.db"), 5);
}

/* An open bucket (the current hour and day) is merged once it has more
 * than 32 parts, so today's summaries never read a part per minute. */
static void test_open_bucket_merged_after_many_parts(void)
{
	const uint64_t t = 1763600000000000000ULL;
	uint64_t src;
	struct fc_flow_rec r;
	struct fc_sink *s;
	unsigned i;

	s = open_db("parts.db", NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 32; i++) {
		rec_v4(&r, t + i);
		CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
		CHECK_EQ_U(fc_sink__flush(s), 0);
	}
	CHECK_EQ_U(query_i64("parts.db", "SELECT min(parts) FROM rollup_parts"), 32);
	CHECK_EQ_U(rollup_entries("parts.db", "SELECT data FROM talk_day", &src), 64);
	rec_v4(&r, t + 32);
	CHECK_EQ_U(fc_sink__write(s, &r, 1), 1);
	CHECK_EQ_U(fc_sink__flush(s), 0);	/* the 33rd part: merged */
	fc_sink__close(s);
	CHECK_EQ_U(query_i64("parts.db", "SELECT max(parts) FROM rollup_parts"), 1);
	CHECK_EQ_U(query_i64("parts.db", "SELECT count(*) FROM talk_day"), 1);
	CHECK_EQ_U(rollup_entries("parts.db", "SELECT data FROM talk_day", &src), 2);
	CHECK_EQ_U(src, 420 * 33 * 100 + 33);
	CHECK_EQ_U(rollup_entries("parts.db", "SELECT data FROM talk_hour", &src), 2);
	CHECK_EQ_U(src, 420 * 33 * 100 + 33);
	CHECK_EQ_U(protocol_flows("parts.db"), 33);
}

static void test_foreign_db_refused(void)
{
	struct fc_sink *s;
	char err[256];

	CHECK_EQ_U(exec_sql("foreign.db", "CREATE TABLE customers (id INTEGER);"), SQLITE_OK);
	s = open_db("foreign.db", NULL);
	CHECK(s == NULL);
	CHECK(fc_store__open(db_path("foreign.db"), err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a flow store") != NULL);
	CHECK_EQ_U(exec_sql("foreign.db", "SELECT count(*) FROM flows"), SQLITE_ERROR);
}

static void test_unwritable_paths(void)
{
	char spec[256], err[256];
	struct fc_sink *s;
	FILE *f;

	/* the parent "directory" is a regular file */
	f = fopen(db_path("plainfile"), "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	snprintf(spec, sizeof(spec), "sqlite:%s/flows.db", db_path("plainfile"));
	s = open_sink(spec, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "plainfile") != NULL);
	CHECK(strstr(err, "Not a directory") != NULL);
	/* nothing can be created in /proc, not even by root */
	s = open_sink("sqlite:/proc/flowcut-test/flows.db", err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "/proc/flowcut-test") != NULL);
	/* a directory is not a database */
	snprintf(spec, sizeof(spec), "sqlite:%s", dir);
	s = open_sink(spec, err, sizeof(err));
	CHECK(s == NULL);
}

static void test_locked_store_keeps_batch(void)
{
	struct fc_flow_rec r[4];
	struct collect c;
	struct fc_sink *s;
	sqlite3 *other;
	unsigned i;
	int rc;

	for (i = 0; i < 4; i++) {
		rec_v4(&r[i], 1763600000000000000ULL + i);
		r[i].flow_id = i;
	}
	s = open_db("lock.db", "?busy_timeout=20ms");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(sqlite3_open(db_path("lock.db"), &other), SQLITE_OK);
	CHECK_EQ_U(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	rc = fc_sink__write(s, r, 4);
	CHECK_EQ_U(rc, -EBUSY);
	CHECK_EQ_U(fc_sink__health(s)->failed, 1);
	CHECK_EQ_U(fc_sink__health(s)->written, 0);
	CHECK(strstr(fc_sink__health(s)->last_error, "locked") != NULL);
	CHECK_EQ_U(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	/* the exporter offers the same batch again: all of it, once */
	CHECK_EQ_U(fc_sink__write(s, r, 4), 4);
	fc_sink__close(s);
	CHECK_EQ_U(list_all("lock.db", &c), 4);
	CHECK_EQ_U(protocol_flows("lock.db"), 4);
}

/* A full disk is -ENOSPC with a message, the failed batch is not half
 * stored, and everything written before it is still there. Needs root for
 * a small tmpfs; skipped (passes) otherwise. */
static void test_disk_full(void)
{
	char mnt[96], spec[256], err[256], cmd[512];
	struct fc_flow_rec r[500];
	struct fc_sink *s;
	int rc = 0, ok_batches = 0;
	unsigned i;

	snprintf(mnt, sizeof(mnt), "%s/full", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t tmpfs -o size=1m tmpfs %s 2>/dev/null",
		 mnt, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		fprintf(stderr, "  (skipped: needs root to mount a tmpfs)\n");
		return;
	}
	for (i = 0; i < 500; i++) {
		rec_v6_full(&r[i], 1763600000000000000ULL + i);
		r[i].flow_id = i;
		r[i].bytes = 1000;	/* 1000 records of 2^62 would overflow the sums */
	}
	snprintf(spec, sizeof(spec), "sqlite:%s/flows.db", mnt);
	s = open_sink(spec, err, sizeof(err));
	CHECK(s != NULL);
	while (s && ok_batches < 1000) {
		rc = fc_sink__write(s, r, 500);
		if (rc < 0)
			break;
		ok_batches++;
	}
	CHECK_EQ_U(rc, -ENOSPC);
	CHECK(ok_batches > 0);
	if (s) {
		CHECK(strstr(fc_sink__health(s)->last_error, "full") != NULL);
		CHECK_EQ_U(fc_sink__health(s)->written, (uint64_t)ok_batches * 500);
		CHECK_EQ_U(fc_sink__health(s)->up, 0);
	}
	fc_sink__close(s);
	{
		struct fc_store_filter f;
		struct fc_store *st = fc_store__open(spec + strlen("sqlite:"), err, sizeof(err));
		uint64_t n = 0;

		CHECK(st != NULL);
		fc_store_filter__init(&f);
		if (st)
			CHECK_EQ_U(fc_store__top(st, FC_STORE_TOP_PROTOCOLS, &f, 10, sum_flows_cb, &n,
						 err, sizeof(err)), 0);
		CHECK_EQ_U(n, (uint64_t)ok_batches * 500);
		fc_store__close(st);
	}
	snprintf(cmd, sizeof(cmd), "umount %s", mnt);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not unmount %s\n", mnt);
}

static void test_bad_options(void)
{
	char spec[256], err[256];
	struct fc_sink *s;

	snprintf(spec, sizeof(spec), "sqlite:%s?retain=forever", db_path("opt.db"));
	s = open_sink(spec, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "retain=forever") != NULL);
	snprintf(spec, sizeof(spec), "sqlite:%s?colour=blue", db_path("opt.db"));
	s = open_sink(spec, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "unknown option 'colour'") != NULL);
	snprintf(spec, sizeof(spec), "sqlite:%s?retain=0&busy_timeout=2s", db_path("opt.db"));
	s = open_sink(spec, err, sizeof(err));
	CHECK(s != NULL);
	fc_sink__close(s);
}

static void test_creates_directories_and_default_path(void)
{
	char spec[256], path[4096], err[256];
	struct fc_sink *s;
	struct stat sb;

	snprintf(spec, sizeof(spec), "sqlite:%s/a/b/flows.db", dir);
	s = open_sink(spec, err, sizeof(err));
	CHECK(s != NULL);
	fc_sink__close(s);
	snprintf(path, sizeof(path), "%s/a/b/flows.db", dir);
	CHECK_EQ_U(stat(path, &sb), 0);
	CHECK_EQ_U(fc_store_default_path(path, sizeof(path)), 0);
	if (geteuid() == 0)
		CHECK_STR(path, "/var/lib/flowcut/flows.db");
	else
		CHECK(strstr(path, "/flowcut/flows.db") != NULL);
	CHECK_EQ_U(fc_store_default_path(path, 8), -ENAMETOOLONG);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/fc-test-sqlite-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_round_trip);
	RUN(test_empty_write_and_reopen);
	RUN(test_retention);
	RUN(test_retention_of_an_old_capture);
	RUN(test_migrations_apply_in_order);
	RUN(test_migration_from_v0_and_failure_rolls_back);
	RUN(test_migrate_v1_to_v2);
	RUN(test_migrate_v2_to_v3);
	RUN(test_migrate_v3_to_v4);
	RUN(test_postings_across_segments);
	RUN(test_postings_key_collision);
	RUN(test_retention_drops_segments_and_postings);
	RUN(test_open_bucket_merged_after_many_parts);
	RUN(test_foreign_db_refused);
	RUN(test_unwritable_paths);
	RUN(test_locked_store_keeps_batch);
	RUN(test_disk_full);
	RUN(test_bad_options);
	RUN(test_creates_directories_and_default_path);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return T_DONE();
}
