// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_bench.c - the SQLite flow store under load: fills a store with N
 * synthetic records through the real sqlite sink (fc_sink__write, batches
 * of --batch), reports inserts/s and CPU, then times top-N queries and
 * filtered lists through the store API `flowcut query` uses.
 *
 * Data: N records spread evenly over the --days before now (so "since 1h"
 * means something); sources from 20,000 internal IPv4 hosts and 2,000
 * IPv6 ones, destinations from 5,000 servers, both skewed (a few hosts
 * carry most flows, as on real networks); 85 % TCP, 12 % UDP, 3 % ICMP;
 * responder ports from 24 common services, 10 % random.
 *
 * build: see BENCHMARKS.md ("SQLite store"); usage:
 *   store_bench [--db PATH] [--records N] [--batch N] [--days D] [--query-only|--insert-only]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "flowcut/store.h"
#include "bench_time.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 0..n-1, skewed towards 0: cube of a uniform number */
static unsigned skewed(unsigned n)
{
	double u = (double)(next_rand() >> 11) / (double)(1ULL << 53);

	return (unsigned)(u * u * u * n);
}

static const uint16_t ports[] = { 443, 80, 53, 22, 25, 123, 993, 587, 3306, 5432, 6379, 8080,
				  8443, 389, 636, 445, 139, 3389, 5060, 1194, 51820, 161, 514, 9092 };

static void make_rec(struct fc_flow_rec *r, uint64_t i, uint64_t t0, uint64_t step)
{
	unsigned s = skewed(22000), d = skewed(5000), p = (unsigned)(next_rand() % 100);

	memset(r, 0, sizeof(*r));
	r->flow_id = i + 1;
	r->end_ns = t0 + i * step;
	r->start_ns = r->end_ns - next_rand() % 30000000000ULL;
	if (s < 20000) {
		r->family = 4;
		r->src.b[0] = 10; r->src.b[1] = (uint8_t)(s >> 16); r->src.b[2] = (uint8_t)(s >> 8);
		r->src.b[3] = (uint8_t)s;
		r->dst.b[0] = 198; r->dst.b[1] = 51; r->dst.b[2] = (uint8_t)(d >> 8);
		r->dst.b[3] = (uint8_t)d;
	} else {
		r->family = 6;
		inet_pton(AF_INET6, "2001:db8:1::", r->src.b);
		inet_pton(AF_INET6, "2001:db8:2::", r->dst.b);
		r->src.b[14] = (uint8_t)(s >> 8); r->src.b[15] = (uint8_t)s;
		r->dst.b[14] = (uint8_t)(d >> 8); r->dst.b[15] = (uint8_t)d;
	}
	r->proto = p < 85 ? 6 : p < 97 ? 17 : 1;
	r->sport = (uint16_t)(32768 + next_rand() % 28000);
	r->dport = next_rand() % 10 ? ports[skewed(sizeof(ports) / sizeof(ports[0]))]
				    : (uint16_t)(next_rand() % 65536);
	if (r->proto == 1) {
		r->sport = 8;
		r->dport = 0;
		r->has_icmp_id = 1;
		r->icmp_id = (uint32_t)(next_rand() & 0xffff);
	}
	r->pkts = 1 + next_rand() % 40;
	r->rpkts = next_rand() % 40;
	r->bytes = r->pkts * (40 + next_rand() % 1400);
	r->rbytes = r->rpkts * (40 + next_rand() % 1400);
	if (r->proto == 6) {
		r->tcp_flags = 0x1b;
		r->rtcp_flags = 0x1b;
		r->tcp_state = FC_TCP_SF;
		strcpy(r->history, "ShADadFf");
	}
	r->end_reason = r->proto == 6 ? FC_END_FIN : FC_END_IDLE;
	strcpy(r->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

static int fill(const char *db, uint64_t n, unsigned batch, unsigned days)
{
	struct fc_sink_spec spec;
	struct fc_flow_rec *recs;
	struct fc_sink *s;
	char specbuf[4200], err[256];
	uint64_t span = (uint64_t)days * 86400000000000ULL, i = 0;
	uint64_t t0 = (uint64_t)time(NULL) * 1000000000ULL - span, step = span / n;
	double w0, c0, w, c;

	snprintf(specbuf, sizeof(specbuf), "sqlite:%s", db);
	if (fc_sink_spec__parse(specbuf, &spec, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	s = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	recs = calloc(batch, sizeof(*recs));
	if (!recs)
		return 1;
	w0 = bench_now_s();
	c0 = bench_cpu_s();
	while (i < n) {
		unsigned k, m = (unsigned)(n - i < batch ? n - i : batch);
		int rc;

		for (k = 0; k < m; k++)
			make_rec(&recs[k], i + k, t0, step);
		rc = fc_sink__write(s, recs, m);
		if (rc != (int)m) {
			fprintf(stderr, "write: %d: %s\n", rc, fc_sink__health(s)->last_error);
			return 1;
		}
		i += m;
		if (i % 1000000 == 0) {
			w = bench_now_s() - w0;
			fprintf(stderr, "  %llu records, %.0f/s\n", (unsigned long long)i, (double)i / w);
		}
	}
	fc_sink__flush(s);
	fc_sink__close(s);
	w = bench_now_s() - w0;
	c = bench_cpu_s() - c0;
	printf("insert: %llu records in %.2f s wall, %.2f s CPU: %.0f records/s, %.2f CPU s per M "
	       "records (batch %u, record generation included)\n",
	       (unsigned long long)n, w, c, (double)n / w, c * 1e6 / (double)n, batch);
	free(recs);
	return 0;
}

struct count {
	unsigned rows;
	char first[96];
};

static int top_cb(const struct fc_store_top_row *r, void *ctx)
{
	struct count *c = ctx;

	if (!c->rows++)
		snprintf(c->first, sizeof(c->first), "%s %d/%d %llu B", r->addr, r->proto, r->port,
			 (unsigned long long)r->bytes);
	return 0;
}

static int rec_cb(const struct fc_flow_rec *r, void *ctx)
{
	struct count *c = ctx;

	c->rows++;
	return 0;
}

static void time_top(struct fc_store *st, const char *label, enum fc_store_top by,
		     const struct fc_store_filter *f)
{
	double best = 1e9, first = 0;
	struct count c;
	char err[256];
	int k;

	for (k = 0; k < 3; k++) {
		double t = bench_now_s();

		memset(&c, 0, sizeof(c));
		if (fc_store__top(st, by, f, 10, top_cb, &c, err, sizeof(err))) {
			printf("%s: %s\n", label, err);
			return;
		}
		t = bench_now_s() - t;
		if (!k)
			first = t;
		if (t < best)
			best = t;
	}
	printf("| %s | %.3f | %.3f | %s |\n", label, first, best, c.first);
}

static void time_list(struct fc_store *st, const char *label, const struct fc_store_filter *f)
{
	double t = bench_now_s();
	struct count c = { 0 };
	char err[256];

	if (fc_store__list(st, f, 100, rec_cb, &c, err, sizeof(err))) {
		printf("%s: %s\n", label, err);
		return;
	}
	t = bench_now_s() - t;
	printf("| %s | %.3f | - | %u records |\n", label, t, c.rows);
}

static int queries(const char *db)
{
	uint64_t now = (uint64_t)time(NULL) * 1000000000ULL, hour = 3600000000000ULL;
	struct fc_store_filter f;
	struct fc_store *st;
	char err[256];

	st = fc_store__open(db, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("| query | first s | best of 3 s | top row |\n|---|---|---|---|\n");
	fc_store_filter__init(&f);
	time_top(st, "--top talkers (all time)", FC_STORE_TOP_TALKERS, &f);
	time_top(st, "--top src (all time)", FC_STORE_TOP_SRC, &f);
	time_top(st, "--top dst (all time)", FC_STORE_TOP_DST, &f);
	time_top(st, "--top ports (all time)", FC_STORE_TOP_PORTS, &f);
	time_top(st, "--top protocols (all time)", FC_STORE_TOP_PROTOCOLS, &f);
	f.since_ns = now - 7 * 24 * hour;
	time_top(st, "--top talkers --since 7d", FC_STORE_TOP_TALKERS, &f);
	f.since_ns = now - 3 * 24 * hour - 1234567890ULL;
	f.until_ns = now - 24 * hour - 987654321ULL;
	time_top(st, "--top ports --since 3d --until 1d", FC_STORE_TOP_PORTS, &f);
	f.until_ns = 0;
	f.since_ns = now - 24 * hour - 1234567890ULL;
	time_top(st, "--top talkers --since 24h", FC_STORE_TOP_TALKERS, &f);
	f.since_ns = now - hour;
	time_top(st, "--top talkers --since 1h", FC_STORE_TOP_TALKERS, &f);
	fc_store_filter__init(&f);
	f.proto = 17;
	time_top(st, "--top talkers --proto udp (all time)", FC_STORE_TOP_TALKERS, &f);
	fc_store_filter__init(&f);
	f.host = "10.0.0.1";
	time_top(st, "--top ports --host 10.0.0.1 (all time)", FC_STORE_TOP_PORTS, &f);
	fc_store_filter__init(&f);
	f.port = 5432;
	f.since_ns = now - 24 * hour;
	time_top(st, "--top talkers --port 5432 --since 24h", FC_STORE_TOP_TALKERS, &f);
	fc_store_filter__init(&f);
	f.src = "10.0.0.5";
	time_list(st, "list --src 10.0.0.5 (newest 100)", &f);
	fc_store_filter__init(&f);
	time_list(st, "list (newest 100)", &f);
	fc_store__close(st);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' }, { "records", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' }, { "days", required_argument, NULL, 'D' },
		{ "query-only", no_argument, NULL, 'q' }, { "insert-only", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = "/tmp/flowcut-store-bench.db";
	uint64_t n = 10000000;
	unsigned batch = 1000, days = 7;
	int c, query_only = 0, insert_only = 0;
	char wal[4200];

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b': batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': days = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'q': query_only = 1; break;
		case 'i': insert_only = 1; break;
		default: return 2;
		}
	}
	if (!n || !batch || !days)
		return 2;
	if (!query_only) {
		if (!getenv("FC_NOUNLINK"))
			unlink(db);
		snprintf(wal, sizeof(wal), "%s-wal", db);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", db);
		unlink(wal);
		if (fill(db, n, batch, days))
			return 1;
	}
	return insert_only ? 0 : queries(db);
}
