// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the flow store's query API (store.h) on a small known
 * dataset: top talkers order and sums by hand, every summary and many time
 * ranges against a brute-force sum over the records (so the rollup plan -
 * days, hours, raw edges, rows above the rollup mark - always agrees with
 * the raw rows), since/until edges, address/port/proto filters, IPv6 in
 * any spelling, list order and limit, and errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "flowcut/store.h"
#include "store_schema.h"
#include "t.h"
#include "t_sqlite.h"

#define H 3600000000000ULL
#define M 60000000000ULL
#define D (24 * H)
#define T0 1763596800000000000ULL	/* 2025-11-20 00:00:00 UTC, a day boundary */
#define NREC 9

static char dir[64], path[128];
static struct fc_flow_rec recs[NREC];

static void mk(struct fc_flow_rec *r, uint64_t id, uint64_t end, const char *src, const char *dst,
	       int proto, int dport, uint64_t bytes, uint64_t rbytes)
{
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(r, 0, sizeof(*r));
	r->flow_id = id;
	r->start_ns = end - 1000;
	r->end_ns = end;
	r->family = af == AF_INET6 ? 6 : 4;
	r->proto = (uint8_t)proto;
	inet_pton(af, src, r->src.b);
	inet_pton(af, dst, r->dst.b);
	r->sport = 40000;
	r->dport = (uint16_t)dport;
	r->bytes = bytes;
	r->rbytes = rbytes;
	r->pkts = bytes / 100 + 1;
	r->rpkts = rbytes / 100;
	strcpy(r->community_id, "1:x");
}

static void dataset(void)
{
	mk(&recs[0], 1, T0 + H + 10 * M, "10.0.0.1", "10.0.0.2", 6, 443, 1000, 500);
	mk(&recs[1], 2, T0 + 2 * H, "10.0.0.1", "10.0.0.3", 17, 53, 100, 100);
	mk(&recs[2], 3, T0 + D + 30 * M, "10.0.0.4", "10.0.0.2", 6, 80, 5000, 0);
	mk(&recs[3], 4, T0 + D + H, "10.0.0.2", "10.0.0.1", 1, 0, 64, 64);
	mk(&recs[4], 5, T0 + 2 * D + 5 * H, "2001:db8::1", "2001:db8::2", 6, 22, 300, 300);
	mk(&recs[5], 6, T0 + 2 * D + 6 * H, "10.0.0.9", "10.0.0.9", 17, 9999, 50, 0);
	/* written after the flush below: above the rollup mark */
	mk(&recs[6], 7, T0 + 2 * D + 6 * H + 1, "10.0.0.1", "10.0.0.4", 6, 443, 20, 20);
	mk(&recs[7], 8, T0 + 3 * D, "10.0.0.4", "10.0.0.1", 6, 443, 7, 0);	/* on a day edge */
	mk(&recs[8], 9, T0 + 3 * D + 59 * M, "10.0.0.9", "10.0.0.9", 17, 9999, 3, 0);
}

static struct fc_sink *sink;	/* kept open: the last records are only in its memory sums */

static int setup(void)
{
	struct fc_sink_spec spec;
	char text[160], err[256];

	snprintf(dir, sizeof(dir), "/tmp/fc-test-query-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/q.db", dir);
	snprintf(text, sizeof(text), "sqlite:%s", path);
	dataset();
	if (fc_sink_spec__parse(text, &spec, err, sizeof(err)))
		return -1;
	sink = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	if (!sink) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	/* Four folds of the sums, so buckets hold several parts: day 0 gets
	 * parts from the first two and is merged at the second flush (it has
	 * closed: the newest record is a day later); day 2 and its hours keep
	 * two parts each (still open). */
	if (fc_sink__write(sink, recs, 1) != 1 || fc_sink__flush(sink) ||
	    fc_sink__write(sink, recs + 1, 3) != 3 || fc_sink__flush(sink) ||
	    fc_sink__write(sink, recs + 4, 1) != 1 || fc_sink__flush(sink) ||
	    fc_sink__write(sink, recs + 5, 1) != 1 || fc_sink__flush(sink))
		return -1;
	/* rollups now hold records 1..6; these are above the mark */
	if (fc_sink__write(sink, recs + 6, 3) != 3)
		return -1;
	return 0;
}

struct rows {
	struct fc_store_top_row r[32];
	unsigned n;
};

static int rows_cb(const struct fc_store_top_row *row, void *ctx)
{
	struct rows *rs = ctx;

	if (rs->n < 32)
		rs->r[rs->n++] = *row;
	return 0;
}

static int top(enum fc_store_top by, const struct fc_store_filter *f, unsigned limit, struct rows *rs)
{
	struct fc_store *st;
	char err[256];
	int rc;

	memset(rs, 0, sizeof(*rs));
	st = fc_store__open(path, err, sizeof(err));
	if (!st)
		return -errno;
	rc = fc_store__top(st, by, f, limit, rows_cb, rs, err, sizeof(err));
	fc_store__close(st);
	return rc;
}

static int64_t query_i64(const char *sql)
{
	return t_sql_i64(path, sql);
}

/* The dataset's rollups are in the shapes the brute-force tests must cover:
 * a merged bucket, buckets of several parts, rows above the mark. */
static void test_rollup_shapes(void)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM port_day WHERE bucket = %llu", T0 / D);
	CHECK_EQ_U(query_i64(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT max(part) FROM talk_day WHERE bucket = %llu", T0 / D);
	CHECK_EQ_U(query_i64(sql), 0);
	snprintf(sql, sizeof(sql), "SELECT parts FROM rollup_parts WHERE tier = 1 AND bucket = %llu",
		 T0 / D);
	CHECK_EQ_U(query_i64(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT part) FROM talk_day WHERE bucket = %llu",
		 T0 / D + 2);
	CHECK_EQ_U(query_i64(sql), 2);
	CHECK_EQ_U(query_i64("SELECT value FROM store_meta WHERE key = 'rollup_upto'"), 6);
}

static void test_top_talkers_by_hand(void)
{
	struct fc_store_filter f;
	struct rows rs;

	fc_store_filter__init(&f);
	f.until_ns = T0 + 2 * D + 6 * H + 1;	/* records 1..6 */
	CHECK_EQ_U(top(FC_STORE_TOP_TALKERS, &f, 10, &rs), 0);
	CHECK_EQ_U(rs.n, 7);
	if (rs.n < 7)
		return;
	CHECK_STR(rs.r[0].addr, "10.0.0.2");
	CHECK_EQ_U(rs.r[0].bytes, 1500 + 5000 + 128);
	CHECK_EQ_U(rs.r[0].flows, 3);
	CHECK_STR(rs.r[1].addr, "10.0.0.4");
	CHECK_EQ_U(rs.r[1].bytes, 5000);
	CHECK_STR(rs.r[2].addr, "10.0.0.1");
	CHECK_EQ_U(rs.r[2].bytes, 1500 + 200 + 128);
	/* equal bytes and packets: by address text */
	CHECK_STR(rs.r[3].addr, "2001:db8::1");
	CHECK_STR(rs.r[4].addr, "2001:db8::2");
	CHECK_EQ_U(rs.r[4].bytes, 600);
	CHECK_STR(rs.r[5].addr, "10.0.0.3");
	/* a host talking to itself counts once */
	CHECK_STR(rs.r[6].addr, "10.0.0.9");
	CHECK_EQ_U(rs.r[6].bytes, 50);
	CHECK_EQ_U(rs.r[6].flows, 1);
	CHECK_EQ_U(top(FC_STORE_TOP_TALKERS, &f, 2, &rs), 0);
	CHECK_EQ_U(rs.n, 2);
}

/* The brute-force answer: the same grouping over recs[] in C. */
static int matches(const struct fc_flow_rec *r, const struct fc_store_filter *f)
{
	char s[64], d[64], want[64];
	struct fc_addr a;

	if (r->end_ns < f->since_ns || (f->until_ns && r->end_ns >= f->until_ns))
		return 0;
	fc_addr_to_str(&r->src, r->family, s, sizeof(s));
	fc_addr_to_str(&r->dst, r->family, d, sizeof(d));
#define CANON(x) (memset(&a, 0, sizeof(a)),                                                   \
		  inet_pton(strchr(x, ':') ? AF_INET6 : AF_INET, x, a.b),                      \
		  fc_addr_to_str(&a, strchr(x, ':') ? 6 : 4, want, sizeof(want)), want)
	if (f->src && strcmp(s, CANON(f->src)))
		return 0;
	if (f->dst && strcmp(d, CANON(f->dst)))
		return 0;
	if (f->host && strcmp(s, CANON(f->host)) && strcmp(d, want))
		return 0;
#undef CANON
	if (f->port >= 0 && r->sport != f->port && r->dport != f->port)
		return 0;
	if (f->proto >= 0 && r->proto != f->proto)
		return 0;
	return 1;
}

static void expect_add(struct rows *rs, const char *addr, int proto, int port,
		       const struct fc_flow_rec *r)
{
	unsigned i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].addr, addr) && rs->r[i].proto == proto && rs->r[i].port == port)
			break;
	if (i == rs->n) {
		memset(&rs->r[i], 0, sizeof(rs->r[i]));
		snprintf(rs->r[i].addr, sizeof(rs->r[i].addr), "%s", addr);
		rs->r[i].proto = proto;
		rs->r[i].port = port;
		rs->n++;
	}
	rs->r[i].bytes += r->bytes + r->rbytes;
	rs->r[i].pkts += r->pkts + r->rpkts;
	rs->r[i].flows++;
}

static void brute(enum fc_store_top by, const struct fc_store_filter *f, struct rows *rs)
{
	char s[64], d[64];
	unsigned i;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; i < NREC; i++) {
		const struct fc_flow_rec *r = &recs[i];

		if (!matches(r, f))
			continue;
		fc_addr_to_str(&r->src, r->family, s, sizeof(s));
		fc_addr_to_str(&r->dst, r->family, d, sizeof(d));
		switch (by) {
		case FC_STORE_TOP_TALKERS:
			expect_add(rs, s, -1, -1, r);
			if (strcmp(s, d))
				expect_add(rs, d, -1, -1, r);
			break;
		case FC_STORE_TOP_SRC: expect_add(rs, s, -1, -1, r); break;
		case FC_STORE_TOP_DST: expect_add(rs, d, -1, -1, r); break;
		case FC_STORE_TOP_PORTS: expect_add(rs, "", r->proto, r->dport, r); break;
		default: expect_add(rs, "", r->proto, -1, r); break;
		}
	}
}

static int same_sets(const struct rows *got, const struct rows *want)
{
	unsigned i, j;

	if (got->n != want->n)
		return 0;
	for (i = 0; i < want->n; i++) {
		for (j = 0; j < got->n; j++)
			if (!strcmp(got->r[j].addr, want->r[i].addr) &&
			    got->r[j].proto == want->r[i].proto && got->r[j].port == want->r[i].port)
				break;
		if (j == got->n || got->r[j].bytes != want->r[i].bytes ||
		    got->r[j].pkts != want->r[i].pkts || got->r[j].flows != want->r[i].flows)
			return 0;
	}
	/* and in order: bytes descending */
	for (i = 1; i < got->n; i++)
		if (got->r[i].bytes > got->r[i - 1].bytes)
			return 0;
	return 1;
}

static void test_every_summary_matches_brute_force(void)
{
	/* edges on, just off, and between day/hour boundaries and records */
	static const uint64_t times[] = {
		0, T0, T0 + 1, T0 + H, T0 + H + 10 * M, T0 + H + 10 * M + 1, T0 + 2 * H,
		T0 + D - 1, T0 + D, T0 + D + 30 * M, T0 + D + H, T0 + 2 * D,
		T0 + 2 * D + 6 * H, T0 + 2 * D + 6 * H + 1, T0 + 2 * D + 6 * H + 2, T0 + 3 * D,
		T0 + 3 * D + 1, T0 + 10 * D,
	};
	const unsigned nt = sizeof(times) / sizeof(times[0]);
	struct fc_store_filter f;
	struct rows got, want;
	unsigned a, b, by, bad = 0, runs = 0;
	int proto;

	for (by = 0; by < FC_STORE_TOP__COUNT; by++) {
		for (a = 0; a < nt; a++) {
			for (b = a + 1; b <= nt; b++) {
				for (proto = -1; proto <= 17; proto += 18) {
					fc_store_filter__init(&f);
					f.since_ns = times[a];
					f.until_ns = b < nt ? times[b] : 0;
					f.proto = proto;
					brute((enum fc_store_top)by, &f, &want);
					if (top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want)) {
						if (!bad++)
							fprintf(stderr, "  first mismatch: %s since %llu until "
								"%llu proto %d: got %u rows, want %u\n",
								fc_store_top_name((enum fc_store_top)by),
								(unsigned long long)f.since_ns,
								(unsigned long long)f.until_ns, proto, got.n,
								want.n);
					}
					runs++;
				}
			}
		}
	}
	CHECK_EQ_U(bad, 0);
	CHECK(runs > 800);
}

static void test_filters_match_brute_force(void)
{
	static const char *const addrs[] = { "10.0.0.1", "10.0.0.9", "2001:DB8:0::1", "10.9.9.9" };
	struct fc_store_filter f;
	struct rows got, want;
	unsigned i, by;
	int bad = 0;

	for (by = 0; by < FC_STORE_TOP__COUNT; by++) {
		for (i = 0; i < 4; i++) {
			fc_store_filter__init(&f);
			f.src = addrs[i];
			brute((enum fc_store_top)by, &f, &want);
			bad += top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want);
			fc_store_filter__init(&f);
			f.dst = addrs[i];
			f.since_ns = T0 + H + 10 * M + 1;
			brute((enum fc_store_top)by, &f, &want);
			bad += top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want);
			fc_store_filter__init(&f);
			f.host = addrs[i];
			f.until_ns = T0 + 3 * D;
			brute((enum fc_store_top)by, &f, &want);
			bad += top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want);
		}
		fc_store_filter__init(&f);
		f.port = 443;
		brute((enum fc_store_top)by, &f, &want);
		bad += top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want);
		fc_store_filter__init(&f);
		f.port = 40000;	/* matches the source port of every record */
		f.proto = 6;
		brute((enum fc_store_top)by, &f, &want);
		bad += top((enum fc_store_top)by, &f, 100, &got) || !same_sets(&got, &want);
		CHECK_EQ_U(want.n > 0, 1);
	}
	CHECK_EQ_U(bad, 0);
}

struct ids {
	uint64_t id[16];
	unsigned n;
};

static int ids_cb(const struct fc_flow_rec *r, void *ctx)
{
	struct ids *x = ctx;

	if (x->n < 16)
		x->id[x->n++] = r->flow_id;
	return 0;
}

static int list(const struct fc_store_filter *f, unsigned limit, struct ids *x)
{
	struct fc_store *st;
	char err[256];
	int rc;

	memset(x, 0, sizeof(*x));
	st = fc_store__open(path, err, sizeof(err));
	if (!st)
		return -errno;
	rc = fc_store__list(st, f, limit, ids_cb, x, err, sizeof(err));
	fc_store__close(st);
	return rc;
}

static void test_list_edges_order_limit(void)
{
	struct fc_store_filter f;
	struct ids x;

	fc_store_filter__init(&f);
	CHECK_EQ_U(list(&f, 100, &x), 0);
	CHECK_EQ_U(x.n, NREC);
	CHECK_EQ_U(x.id[0], 1);
	CHECK_EQ_U(x.id[NREC - 1], NREC);
	/* the newest 3, oldest first */
	CHECK_EQ_U(list(&f, 3, &x), 0);
	CHECK_EQ_U(x.n, 3);
	CHECK_EQ_U(x.id[0], 7);
	CHECK_EQ_U(x.id[2], 9);
	/* since is inclusive, until exclusive */
	f.since_ns = T0 + D + 30 * M;
	f.until_ns = T0 + 2 * D + 5 * H;
	CHECK_EQ_U(list(&f, 100, &x), 0);
	CHECK_EQ_U(x.n, 2);
	CHECK_EQ_U(x.id[0], 3);
	CHECK_EQ_U(x.id[1], 4);
	/* address filters go hour by hour, newest first, and still come out in order */
	fc_store_filter__init(&f);
	f.host = "10.0.0.1";
	CHECK_EQ_U(list(&f, 100, &x), 0);
	CHECK_EQ_U(x.n, 5);
	CHECK_EQ_U(x.id[0], 1);
	CHECK_EQ_U(x.id[4], 8);
	CHECK_EQ_U(list(&f, 2, &x), 0);
	CHECK_EQ_U(x.n, 2);
	CHECK_EQ_U(x.id[0], 7);
	CHECK_EQ_U(x.id[1], 8);
	fc_store_filter__init(&f);
	f.src = "2001:db8:0:0:0:0:0:1";
	CHECK_EQ_U(list(&f, 100, &x), 0);
	CHECK_EQ_U(x.n, 1);
	CHECK_EQ_U(x.id[0], 5);
	fc_store_filter__init(&f);
	f.proto = 1;
	CHECK_EQ_U(list(&f, 100, &x), 0);
	CHECK_EQ_U(x.n, 1);
	CHECK_EQ_U(x.id[0], 4);
}

static void test_errors(void)
{
	struct fc_store_filter f;
	struct fc_store *st;
	struct rows rs;
	char err[256], missing[160];

	snprintf(missing, sizeof(missing), "%s/none.db", dir);
	CHECK(fc_store__open(missing, err, sizeof(err)) == NULL);
	CHECK_EQ_U(errno, ENOENT);
	CHECK(strstr(err, "no flow store at") != NULL);
	fc_store_filter__init(&f);
	f.src = "10.0.0.300";
	st = fc_store__open(path, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_EQ_U(fc_store__top(st, FC_STORE_TOP_SRC, &f, 10, rows_cb, &rs, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "10.0.0.300") != NULL);
	fc_store__close(st);
	enum fc_store_top t;
	CHECK_EQ_U(fc_store_top_parse("talkers", &t), 0);
	CHECK_EQ_U(t, FC_STORE_TOP_TALKERS);
	CHECK_EQ_U(fc_store_top_parse("bogus", &t), -EINVAL);
}

/* Both group tables grow: 6,000 sources in one hour are more groups than the
 * writer's rollup sums (4,096) and the reader's summary (1,024) start with.
 * Every source must come out once with its own bytes. */
#define MANY 6000

struct many {
	unsigned seen[MANY];
	unsigned rows, bad;
};

static int many_cb(const struct fc_store_top_row *row, void *ctx)
{
	struct many *m = ctx;
	unsigned a, b, c, d, i;

	if (sscanf(row->addr, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a != 10 || b != 1) {
		m->bad++;
		return 0;
	}
	i = c << 8 | d;
	if (i >= MANY || row->bytes != 1000 + i || row->flows != 1)
		m->bad++;
	else
		m->seen[i]++;
	m->rows++;
	return 0;
}

static void test_many_groups_grow_tables(void)
{
	static struct fc_flow_rec r[MANY];
	static struct many m;
	struct fc_sink_spec spec;
	struct fc_store_filter f;
	struct fc_store *st;
	struct fc_sink *s;
	char text[200], db[160], src[32], err[256];
	unsigned i, once = 0;

	snprintf(db, sizeof(db), "%s/many.db", dir);
	snprintf(text, sizeof(text), "sqlite:%s", db);
	for (i = 0; i < MANY; i++) {
		snprintf(src, sizeof(src), "10.1.%u.%u", i >> 8, i & 255);
		mk(&r[i], i + 1, T0 + H + i, src, "192.0.2.1", 6, 443, 1000 + i, 0);
	}
	CHECK_EQ_U(fc_sink_spec__parse(text, &spec, err, sizeof(err)), 0);
	s = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U(fc_sink__write(s, r, MANY), MANY);
	CHECK_EQ_U(fc_sink__flush(s), 0);	/* the sums, grown, folded into rollups */
	fc_sink__close(s);
	st = fc_store__open(db, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	fc_store_filter__init(&f);
	CHECK_EQ_U(fc_store__top(st, FC_STORE_TOP_SRC, &f, 2 * MANY, many_cb, &m, err, sizeof(err)), 0);
	fc_store__close(st);
	for (i = 0; i < MANY; i++)
		once += m.seen[i] == 1;
	CHECK_EQ_U(m.rows, MANY);
	CHECK_EQ_U(m.bad, 0);
	CHECK_EQ_U(once, MANY);
}

int main(void)
{
	char cmd[128];

	if (setup()) {
		printf("FAIL setup\n");
		return 1;
	}
	RUN(test_rollup_shapes);
	RUN(test_top_talkers_by_hand);
	RUN(test_every_summary_matches_brute_force);
	RUN(test_filters_match_brute_force);
	RUN(test_list_edges_order_limit);
	RUN(test_errors);
	RUN(test_many_groups_grow_tables);
	fc_sink__close(sink);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return T_DONE();
}
