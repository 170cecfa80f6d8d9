// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_metrics.c - the /metrics server: start on 127.0.0.1:0, publish
 * worker counters, GET /metrics over a real socket and parse the exposition
 * text (HELP/TYPE before samples, published values summed over workers,
 * per-sink series labelled by sink name), 404 for other paths, 405 for
 * other methods, and a bad address refused with a message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flowcut/metrics.h"
#include "t.h"

static char *http(uint16_t port, const char *request)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0, cap = 1 << 20;
	char *buf = calloc(1, cap);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t r;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	if (write(fd, request, strlen(request)) < 0)
		len = 0;
	while (len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	return buf;
}

/* The value of the sample line starting with `series ` (exact), or -1. */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

static void test_scrape(void)
{
	struct fc_export_opts xo = { .producers = 2 };
	struct fc_flowtab_stats fs = { 0 };
	struct fc_stats st = { 0 };
	struct fc_sink_spec spec;
	struct fc_metrics *m;
	struct fc_export *x;
	char err[256], *resp, *body;
	const char *help, *samp;

	x = fc_export__new(&xo);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK(fc_sink_spec__parse("json:/dev/null", &spec, err, sizeof(err)) == 0);
	CHECK(fc_export__add_sink(x, &spec, err, sizeof(err)) == 0);
	fc_sink_spec__free(&spec);
	m = fc_metrics__start("127.0.0.1:0", 2, x, err, sizeof(err));
	CHECK(m != NULL);
	if (!m) {
		fprintf(stderr, "  %s\n", err);
		fc_export__free(x);
		return;
	}
	CHECK(fc_metrics__port(m) != 0);
	st.packets_read = 100;
	st.nonflow[FC_NF_ARP] = 3;
	st.nonflow[FC_NF_TRUNC_TCP] = 2;
	fs.flows_created = 10;
	fs.active = 4;
	fs.records[FC_END_IDLE] = 6;
	fc_metrics__publish(m, 0, &st, &fs);
	fc_metrics__publish(m, 1, &st, &fs);
	fc_metrics__publish_kernel(m, 250, 5, 1);

	resp = http(fc_metrics__port(m), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(resp != NULL);
	if (resp) {
		CHECK(!strncmp(resp, "HTTP/1.0 200 OK\r\n", 17));
		CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL);
		body = strstr(resp, "\r\n\r\n");
		CHECK(body != NULL);
		body = body ? body + 4 : resp;
		CHECK_EQ_U(sample(body, "flowcut_packets_read_total"), 200);
		CHECK_EQ_U(sample(body, "flowcut_nonflow_packets_total{reason=\"arp\",class=\"not_ip\"}"), 6);
		CHECK_EQ_U(sample(body, "flowcut_decode_errors_total{reason=\"tcp_truncated\"}"), 4);
		CHECK_EQ_U(sample(body, "flowcut_flows_active"), 8);
		CHECK_EQ_U(sample(body, "flowcut_flows_created_total"), 20);
		CHECK_EQ_U(sample(body, "flowcut_flows_ended_total{reason=\"idle\"}"), 12);
		CHECK_EQ_U(sample(body, "flowcut_kernel_packets_total"), 250);
		CHECK_EQ_U(sample(body, "flowcut_drops_total{stage=\"kernel\",cause=\"ring_full\"}"), 5);
		CHECK_EQ_U(sample(body, "flowcut_drops_total{stage=\"export\",cause=\"ring_full\"}"), 0);
		CHECK_EQ_U(sample(body, "flowcut_sink_sent_total{sink=\"json:/dev/null\"}"), 0);
		CHECK_EQ_U(sample(body, "flowcut_sink_up{sink=\"json:/dev/null\"}"), 1);
		help = strstr(body, "# HELP flowcut_sink_dropped_total ");
		samp = strstr(body, "flowcut_sink_dropped_total{");
		CHECK(help && samp && help < samp);
		CHECK(strstr(body, "# TYPE flowcut_flows_active gauge\n") != NULL);
		CHECK(strstr(body, "# TYPE flowcut_packets_read_total counter\n") != NULL);
		CHECK(strstr(body, "10.") == NULL);	/* no per-address series */
		free(resp);
	}
	resp = http(fc_metrics__port(m), "GET / HTTP/1.0\r\n\r\n");
	CHECK(resp && !strncmp(resp, "HTTP/1.0 404", 12));
	free(resp);
	resp = http(fc_metrics__port(m), "GET /metricsfoo HTTP/1.0\r\n\r\n");
	CHECK(resp && !strncmp(resp, "HTTP/1.0 404", 12));
	free(resp);
	resp = http(fc_metrics__port(m), "POST /metrics HTTP/1.0\r\n\r\n");
	CHECK(resp && !strncmp(resp, "HTTP/1.0 405", 12));
	free(resp);
	fc_metrics__stop(m);
	fc_export__free(x);
}

static void test_bad_address(void)
{
	char err[256];

	CHECK(fc_metrics__start("nonsense", 1, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not ADDR:PORT") != NULL);
	CHECK(fc_metrics__start("127.0.0.1:99999", 1, NULL, err, sizeof(err)) == NULL);
	CHECK(fc_metrics__start("192.0.2.1:9753", 1, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "Cannot assign") != NULL);
}

int main(void)
{
	RUN(test_scrape);
	RUN(test_bad_address);
	return T_DONE();
}
