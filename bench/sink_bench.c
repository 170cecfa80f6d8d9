// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink_bench.c - records per second and CPU per million records for every
 * registered sink type, through fc_sink__write() in batches of 1024 or the
 * sink's own batch hint (what the exporter's delivery thread does), plus the
 * whole export path
 * (emit -> SPSC ring -> exporter thread -> queue -> delivery thread -> json).
 *
 * Records are synthetic flows shaped like bench/gen_synth's traffic: mixed
 * TCP/UDP, IPv4 with some IPv6, VLANs, history and community id filled in.
 * Targets live in a scratch directory; ipfix goes to a local UDP socket (and
 * ipfix+tcp to a local listener that discards); clickhouse needs a server:
 * set FC_BENCH_CLICKHOUSE=clickhouse://127.0.0.1:8123/db.table to include it.
 *
 * usage: sink_bench [RECORDS] [SCRATCH_DIR] [SINK_TYPE (only that one)]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/export.h"
#include "flowcut/sink.h"
#include "bench_time.h"

#define BATCH 1024

static void make_recs(struct fc_flow_rec *r, size_t n)
{
	static const char *const hist[] = { "ShADadFf", "ShADadfF", "Dd", "ShAdDaFf", "S" };
	size_t i;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		uint32_t h = (uint32_t)(i * 2654435761u);

		r[i].flow_id = i + 1;
		r[i].start_ns = 1763700000000000000ull + i * 1000000ull;
		r[i].end_ns = r[i].start_ns + (h % 5000) * 1000000ull;
		r[i].family = i % 10 == 9 ? 6 : 4;
		r[i].src.b[0] = 10;
		r[i].src.b[1] = (uint8_t)(h >> 8);
		r[i].src.b[2] = (uint8_t)(h >> 16);
		r[i].src.b[3] = (uint8_t)h;
		r[i].dst.b[0] = 192;
		r[i].dst.b[1] = 0;
		r[i].dst.b[2] = 2;
		r[i].dst.b[3] = (uint8_t)(h >> 24);
		if (r[i].family == 6) {
			r[i].src.b[0] = 0xfd;
			r[i].dst.b[0] = 0xfd;
			r[i].dst.b[15] = 1;
		}
		r[i].sport = (uint16_t)(1024 + h % 60000);
		r[i].dport = i % 3 ? 443 : 53;
		r[i].proto = i % 3 ? 6 : 17;
		if (i % 7 == 0) {
			r[i].has_vlan = 1;
			r[i].vlan = 100;
		}
		r[i].end_reason = r[i].proto == 6 ? 0 : 2;
		r[i].pkts = 1 + h % 40;
		r[i].bytes = r[i].pkts * 400;
		r[i].rpkts = r[i].pkts;
		r[i].rbytes = r[i].pkts * 1200;
		if (r[i].proto == 6) {
			r[i].tcp_flags = 0x1b;
			r[i].rtcp_flags = 0x1b;
			r[i].tcp_state = 2;
			snprintf(r[i].history, sizeof(r[i].history), "%s", hist[i % 5]);
		}
		snprintf(r[i].community_id, sizeof(r[i].community_id), "1:%010uabcdefghijklmnopq=", h);
	}
}

static void *tcp_sinkhole(void *arg)
{
	int lfd = *(int *)arg, c;
	char buf[65536];

	while ((c = accept(lfd, NULL, NULL)) >= 0) {
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	return NULL;
}

static int listen_local(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type, 0), big = 8 << 20;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (type == SOCK_STREAM && listen(fd, 4))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void report(const char *name, size_t n, double wall, double cpu)
{
	printf("%-14s %10zu %9.2f %12.0f %14.2f\n", name, n, wall, (double)n / wall,
	       cpu * 1e6 / (double)n);
	fflush(stdout);
}

static void bench_direct(const char *type, const char *target, const struct fc_flow_rec *recs,
			 size_t n)
{
	struct fc_sink_spec spec;
	struct fc_sink *s;
	char err[512];
	double t0, c0;
	size_t done = 0, batch;
	int rc, stalls = 0;

	if (fc_sink_spec__parse(target, &spec, err, sizeof(err))) {
		printf("%-14s skipped: %s\n", type, err);
		return;
	}
	s = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	if (!s) {
		printf("%-14s skipped: %s\n", type, err);
		return;
	}
	batch = fc_sink__batch_hint(s) ? fc_sink__batch_hint(s) : BATCH;
	t0 = bench_now_s();
	c0 = bench_cpu_s();
	while (done < n) {
		size_t k = n - done < batch ? n - done : batch;

		rc = fc_sink__write(s, recs + done, k);
		if (rc <= 0) {
			if (++stalls > 50) {
				printf("%-14s failed after %zu records: %s\n", type, done,
				       fc_sink__health(s)->last_error);
				fc_sink__close(s);
				return;
			}
			usleep(10000);
			continue;
		}
		done += (size_t)rc;
		if (!(done % (64 * BATCH)))
			fc_sink__flush(s);
	}
	fc_sink__flush(s);
	fc_sink__close(s);
	report(type, n, bench_now_s() - t0, bench_cpu_s() - c0);
}

static void bench_export(const char *target, const struct fc_flow_rec *recs, size_t n)
{
	struct fc_export_opts o = { .producers = 1, .lossless = true };
	struct fc_sink_spec spec;
	struct fc_export *x;
	char err[512];
	double t0, c0;
	size_t i;

	x = fc_export__new(&o);
	if (!x || fc_sink_spec__parse(target, &spec, err, sizeof(err)))
		return;
	if (fc_export__add_sink(x, &spec, err, sizeof(err)) || fc_export__start(x)) {
		printf("export+json    skipped: %s\n", err);
		fc_sink_spec__free(&spec);
		fc_export__free(x);
		return;
	}
	fc_sink_spec__free(&spec);
	t0 = bench_now_s();
	c0 = bench_cpu_s();
	for (i = 0; i < n; i++)
		fc_export__emit(x, 0, &recs[i]);
	fc_export__close(x);
	report("export+json", n, bench_now_s() - t0, bench_cpu_s() - c0);
	fc_export__free(x);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	const char *only = argc > 3 ? argv[3] : NULL;	/* one sink type, no export run */
	const struct fc_sink_ops *ops;
	struct fc_flow_rec *recs;
	char target[1024];
	pthread_t tid;
	uint16_t uport = 0, tport = 0;
	int ufd, tfd;
	unsigned i;

	if (!n || !(recs = malloc(n * sizeof(*recs))))
		return 1;
	make_recs(recs, n);
	ufd = listen_local(SOCK_DGRAM, &uport);
	tfd = listen_local(SOCK_STREAM, &tport);
	if (tfd >= 0)
		pthread_create(&tid, NULL, tcp_sinkhole, &tfd);
	printf("%-14s %10s %9s %12s %14s\n", "sink", "records", "wall_s", "records/s",
	       "cpu_s/M_rec");
	for (i = 0; (ops = fc_sink_type_at(i)); i++) {
		const char *t = ops->type;

		if (only && strcmp(t, only))
			continue;

		if (!strcmp(t, "json"))
			snprintf(target, sizeof(target), "json:%s/sink_bench.json", dir);
		else if (!strcmp(t, "sqlite"))
			snprintf(target, sizeof(target), "sqlite:%s/sink_bench.db", dir);
		else if (!strcmp(t, "ipfix") && ufd >= 0)
			snprintf(target, sizeof(target), "ipfix://127.0.0.1:%u", uport);
		else if (!strcmp(t, "ipfix+tcp") && tfd >= 0)
			snprintf(target, sizeof(target), "ipfix+tcp://127.0.0.1:%u", tport);
		else if (!strcmp(t, "clickhouse") && getenv("FC_BENCH_CLICKHOUSE"))
			snprintf(target, sizeof(target), "%s", getenv("FC_BENCH_CLICKHOUSE"));
		else {
			printf("%-14s skipped (no local target; clickhouse: set FC_BENCH_CLICKHOUSE)\n",
			       t);
			continue;
		}
		bench_direct(t, target, recs, n);
	}
	snprintf(target, sizeof(target), "json:%s/sink_bench_export.json", dir);
	if (!only)
		bench_export(target, recs, n);
	free(recs);
	return 0;
}
