// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipfix_bench.c - records/s of the ipfix sinks, encoding and sending, over
 * loopback to a local socket that a second thread drains. Records are
 * synthetic (90 % IPv4, 10 % IPv6, TCP/UDP, some VLAN), written in batches
 * like the exporter does. Prints records/s by wall clock and by the sending
 * thread's CPU time.
 *
 * usage: ipfix_bench [udp|tcp] [RECORDS] [BATCH]   (built by bench/ipfix_bench.sh)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"

static volatile int stop;
static unsigned long long drained;

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	static char buf[65536];
	ssize_t n;

	while (!stop && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		drained += (unsigned long long)n;
	return NULL;
}

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int tcp = argc > 1 && !strcmp(argv[1], "tcp");
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000, batch = argc > 3 ?
		strtoul(argv[3], NULL, 10) : 256, i, done = 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct fc_flow_rec *recs = calloc(n, sizeof(*recs));
	struct fc_sink_spec spec;
	struct fc_sink *s;
	pthread_t th;
	char url[128], err[256];
	double w0, c0, w1, c1;
	int lfd, fd, rcv = 4 << 20;

	if (!recs || !batch)
		return 1;
	for (i = 0; i < n; i++) {
		struct fc_flow_rec *r = &recs[i];

		r->flow_id = i + 1;
		r->start_ns = 1700000000000000000ULL + i * 1000;
		r->end_ns = r->start_ns + 5000000;
		r->family = i % 10 ? 4 : 6;
		r->proto = i % 3 ? 6 : 17;
		r->src.b[0] = 10;
		memcpy(r->src.b + 1, &i, 3);
		r->dst.b[0] = 192;
		r->dst.b[15] = (uint8_t)i;
		r->sport = (uint16_t)(1024 + i);
		r->dport = i % 2 ? 443 : 53;
		r->has_vlan = i % 7 == 0;
		r->vlan = 100;
		r->pkts = 10 + i % 50;
		r->bytes = r->pkts * 700;
		r->rpkts = 8;
		r->rbytes = 4000;
		r->end_reason = FC_END_IDLE;
	}
	lfd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || getsockname(lfd, (struct sockaddr *)&a, &al) ||
	    (tcp && listen(lfd, 1)))
		return 1;
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", tcp ? "ipfix+tcp" : "ipfix",
		 ntohs(a.sin_port));
	if (fc_sink_spec__parse(url, &spec, err, sizeof(err)))
		return 1;
	s = fc_sink__open(&spec, err, sizeof(err));
	fc_sink_spec__free(&spec);
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fd = tcp ? accept(lfd, NULL, NULL) : lfd;
	pthread_create(&th, NULL, drain, &fd);
	w0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	while (done < n) {
		int rc = fc_sink__write(s, recs + done, n - done < batch ? n - done : batch);

		if (rc < 0) {
			fprintf(stderr, "write: %s\n", fc_sink__health(s)->last_error);
			return 1;
		}
		done += (size_t)rc;
	}
	c1 = now(CLOCK_THREAD_CPUTIME_ID);
	w1 = now(CLOCK_MONOTONIC);
	printf("%s: %zu records, %llu bytes sent, %.2f s wall, %.2f s CPU: %.0f records/s wall, "
	       "%.0f records/s per CPU-second\n", tcp ? "ipfix+tcp" : "ipfix", n,
	       (unsigned long long)fc_sink__health(s)->bytes, w1 - w0, c1 - c0,
	       (double)n / (w1 - w0), (double)n / (c1 - c0));
	fc_sink__close(s);
	stop = 1;
	shutdown(fd, SHUT_RDWR);
	if (!tcp) {
		int u = socket(AF_INET, SOCK_DGRAM, 0);	/* wake the drain thread */

		sendto(u, "", 1, 0, (struct sockaddr *)&a, sizeof(a));
		close(u);
	}
	pthread_join(th, NULL);
	free(recs);
	return 0;
}
