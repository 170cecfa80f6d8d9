// SPDX-License-Identifier: BSD-2-Clause
/*
 * metrics.c - the /metrics endpoint (metrics.h). One thread: poll on the
 * listening socket and a stop pipe, accept, read one request line (with a
 * receive timeout, so a silent client cannot hold the server), answer,
 * close. HTTP/1.0, no keep-alive: what a Prometheus scraper or curl needs.
 *
 * Worker counters arrive as copies in per-worker slots, each behind its own
 * mutex that the worker takes about once a second; rendering merges the
 * slots. Text is built in a bounded buffer; a response that does not fit is
 * retried with a bigger one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "flowcut/metrics.h"

struct slot {
	pthread_mutex_t mu;
	struct fc_stats st;
	struct fc_flowtab_stats fs;
	int published;
};

struct fc_metrics {
	int fd;
	int stop_pipe[2];
	uint16_t port;
	pthread_t tid;
	struct fc_export *x;
	unsigned nslots;
	struct slot *slots;
	pthread_mutex_t kmu;
	uint64_t kpackets, kdrops, kfreezes;
	int have_kernel;
};

struct out {
	char *buf;
	size_t cap, len;
	int overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: \, " and newline escaped as the exposition format wants. */
static void label_value(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 3 < cap; in++) {
		if (*in == '\\' || *in == '"') {
			out[n++] = '\\';
			out[n++] = *in;
		} else if (*in == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

static void render_packets(struct out *o, const struct fc_stats *st, const struct fc_flowtab_stats *fs)
{
	unsigned i;

	head(o, "flowcut_packets_read_total", "counter", "Frames handed to flowcut by the source.");
	put(o, "flowcut_packets_read_total %llu\n", (unsigned long long)st->packets_read);
	head(o, "flowcut_bytes_read_total", "counter", "Wire bytes of the frames read.");
	put(o, "flowcut_bytes_read_total %llu\n", (unsigned long long)st->bytes_read);
	head(o, "flowcut_nonflow_packets_total", "counter",
	     "Packets counted outside any flow, by reason.");
	for (i = 1; i < FC_NONFLOW__COUNT; i++)
		put(o, "flowcut_nonflow_packets_total{reason=\"%s\",class=\"%s\"} %llu\n",
		    fc_nonflow_name(i), fc_nonflow_class_name(fc_nonflow_class(i)),
		    (unsigned long long)st->nonflow[i]);
	head(o, "flowcut_decode_errors_total", "counter",
	     "Frames that could not be decoded (truncated or invalid), by reason.");
	for (i = 1; i < FC_NONFLOW__COUNT; i++) {
		enum fc_nonflow_class c = fc_nonflow_class(i);

		if (c == FC_NFC_TRUNCATED || c == FC_NFC_INVALID)
			put(o, "flowcut_decode_errors_total{reason=\"%s\"} %llu\n", fc_nonflow_name(i),
			    (unsigned long long)st->nonflow[i]);
	}
	head(o, "flowcut_flows_active", "gauge", "Flows in the flow tables now.");
	put(o, "flowcut_flows_active %llu\n", (unsigned long long)fs->active);
	head(o, "flowcut_flows_created_total", "counter", "Flows created.");
	put(o, "flowcut_flows_created_total %llu\n", (unsigned long long)fs->flows_created);
	head(o, "flowcut_flows_ended_total", "counter", "Flow records emitted, by end reason.");
	for (i = 0; i < FC_END__COUNT; i++)
		put(o, "flowcut_flows_ended_total{reason=\"%s\"} %llu\n", fc_end_reason_name(i),
		    (unsigned long long)fs->records[i]);
}

static void render_export(struct out *o, struct fc_export *x, uint64_t kdrops, int have_kernel)
{
	static const struct {
		const char *name, *type, *help;
	} sm[] = {
		{ "flowcut_sink_received_total", "counter", "Records offered to the sink." },
		{ "flowcut_sink_queued", "gauge", "Records in the sink's memory queue now." },
		{ "flowcut_sink_sent_total", "counter", "Records the sink delivered." },
		{ "flowcut_sink_failed_total", "counter", "Write attempts that failed (records kept, retried)." },
		{ "flowcut_sink_dropped_total", "counter", "Records lost: spool full, disk full or no spool." },
		{ "flowcut_sink_spooled_total", "counter", "Records written to the sink's disk spool." },
		{ "flowcut_sink_spool_bytes", "gauge", "Size of the sink's disk spool." },
		{ "flowcut_sink_up", "gauge", "1 when the sink's last write succeeded." },
	};
	uint64_t ring_full = 0;
	unsigned i, k, n = x ? fc_export__nsinks(x) : 0;

	if (x)
		for (i = 0; i < fc_export__nproducers(x); i++) {
			struct fc_export_producer_stats ps;

			if (!fc_export__producer_stats(x, i, &ps))
				ring_full += ps.ring_full;
		}
	head(o, "flowcut_drops_total", "counter", "Packets or records lost, by stage and cause.");
	if (have_kernel)
		put(o, "flowcut_drops_total{stage=\"kernel\",cause=\"ring_full\"} %llu\n",
		    (unsigned long long)kdrops);
	put(o, "flowcut_drops_total{stage=\"export\",cause=\"ring_full\"} %llu\n",
	    (unsigned long long)ring_full);
	for (k = 0; k < sizeof(sm) / sizeof(sm[0]) && n; k++) {
		head(o, sm[k].name, sm[k].type, sm[k].help);
		for (i = 0; i < n; i++) {
			struct fc_export_sink_stats st;
			char lv[300];
			uint64_t v;

			if (fc_export__sink_stats(x, i, &st))
				continue;
			label_value(st.name, lv, sizeof(lv));
			v = k == 0 ? st.received : k == 1 ? st.queued : k == 2 ? st.sent :
			    k == 3 ? st.failed : k == 4 ? st.dropped : k == 5 ? st.spooled :
			    k == 6 ? st.spool_bytes : (uint64_t)st.up;
			put(o, "%s{sink=\"%s\"} %llu\n", sm[k].name, lv, (unsigned long long)v);
		}
	}
}

int fc_metrics__render(struct fc_metrics *m, char *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap };
	struct fc_flowtab_stats fs = { 0 };
	struct fc_stats st = { 0 };
	uint64_t kp, kd, kf;
	int have_kernel;
	unsigned i;

	for (i = 0; i < m->nslots; i++) {
		pthread_mutex_lock(&m->slots[i].mu);
		if (m->slots[i].published) {
			fc_stats__merge(&st, &m->slots[i].st);
			fc_stats__merge_flows(&fs, &m->slots[i].fs);
		}
		pthread_mutex_unlock(&m->slots[i].mu);
	}
	pthread_mutex_lock(&m->kmu);
	kp = m->kpackets;
	kd = m->kdrops;
	kf = m->kfreezes;
	have_kernel = m->have_kernel;
	pthread_mutex_unlock(&m->kmu);
	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	render_packets(&o, &st, &fs);
	if (have_kernel) {
		head(&o, "flowcut_kernel_packets_total", "counter",
		     "Packets the kernel passed to the capture sockets.");
		put(&o, "flowcut_kernel_packets_total %llu\n", (unsigned long long)kp);
		head(&o, "flowcut_kernel_freezes_total", "counter",
		     "Times the kernel froze a full capture ring.");
		put(&o, "flowcut_kernel_freezes_total %llu\n", (unsigned long long)kf);
	}
	render_export(&o, m->x, kd, have_kernel);
	return o.overflow ? -ENOSPC : (int)o.len;
}

void fc_metrics__publish(struct fc_metrics *m, unsigned worker, const struct fc_stats *st,
			 const struct fc_flowtab_stats *fs)
{
	struct slot *s;

	if (!m || worker >= m->nslots)
		return;
	s = &m->slots[worker];
	pthread_mutex_lock(&s->mu);
	s->st = *st;
	s->fs = *fs;
	s->published = 1;
	pthread_mutex_unlock(&s->mu);
}

void fc_metrics__publish_kernel(struct fc_metrics *m, uint64_t packets, uint64_t drops,
				uint64_t freezes)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->kmu);
	m->kpackets = packets;
	m->kdrops = drops;
	m->kfreezes = freezes;
	m->have_kernel = 1;
	pthread_mutex_unlock(&m->kmu);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, const char *status, const char *ctype, const char *body, size_t len)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, ctype, len);

	send_all(fd, hdr, (size_t)n);
	send_all(fd, body, len);
}

static void serve_one(struct fc_metrics *m, int fd)
{
	struct timeval tv = { 1, 0 };
	char req[2048], *body;
	size_t len = 0, cap;
	int n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the request line is enough; stop at the end of the headers or when full */
	while (len < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + len, sizeof(req) - 1 - len, 0);

		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	if (strncmp(req, "GET ", 4)) {
		respond(fd, "405 Method Not Allowed", "text/plain", "only GET\n", 9);
		return;
	}
	if (strncmp(req + 4, "/metrics", 8) ||
	    (req[12] != ' ' && req[12] != '?' && req[12] != '\r' && req[12] != '\n')) {
		respond(fd, "404 Not Found", "text/plain", "try /metrics\n", 13);
		return;
	}
	for (cap = 64 * 1024; cap <= 16 * 1024 * 1024; cap *= 4) {
		body = malloc(cap);
		if (!body)
			break;
		n = fc_metrics__render(m, body, cap);
		if (n >= 0) {
			respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body,
				(size_t)n);
			free(body);
			return;
		}
		free(body);
	}
	respond(fd, "500 Internal Server Error", "text/plain", "no memory\n", 10);
}

static void *server_main(void *arg)
{
	struct fc_metrics *m = arg;
	struct pollfd pfd[2] = {
		{ .fd = m->fd, .events = POLLIN },
		{ .fd = m->stop_pipe[0], .events = POLLIN },
	};

	for (;;) {
		int n = poll(pfd, 2, -1), c;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_one(m, c);
		close(c);
	}
	return NULL;
}

/* "HOST:PORT" or "[V6]:PORT" -> sockaddr. 0 or -EINVAL. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon, *h = addr;
	size_t hl;
	unsigned long port;
	char *end;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - addr);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!hl || !strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			*len = sizeof(*s4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*s6);
			return 0;
		}
	}
	return -EINVAL;
}

struct fc_metrics *fc_metrics__start(const char *addr, unsigned nworkers, struct fc_export *x,
				     char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct fc_metrics *m;
	unsigned i;
	int one = 1, rc;

	if (parse_addr(addr, &ss, &sl)) {
		snprintf(err, errlen, "metrics address '%s' is not ADDR:PORT (e.g. 127.0.0.1:9753)",
			 addr);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->slots = calloc(nworkers ? nworkers : 1, sizeof(*m->slots)))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->nslots = nworkers;
	m->x = x;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	for (i = 0; i < nworkers; i++)
		pthread_mutex_init(&m->slots[i].mu, NULL);
	pthread_mutex_init(&m->kmu, NULL);
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto err_sys;
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, (struct sockaddr *)&ss, sl) == -1 || listen(m->fd, 16) == -1)
		goto err_sys;
	sl = sizeof(ss);
	if (getsockname(m->fd, (struct sockaddr *)&ss, &sl) == -1)
		goto err_sys;
	m->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
						 ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (pipe2(m->stop_pipe, O_CLOEXEC) == -1)
		goto err_sys;
	rc = pthread_create(&m->tid, NULL, server_main, m);
	if (rc) {
		errno = rc;
		goto err_sys;
	}
	return m;
err_sys:
	snprintf(err, errlen, "metrics %s: %s", addr, strerror(errno));
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->stop_pipe[0] >= 0) {
		close(m->stop_pipe[0]);
		close(m->stop_pipe[1]);
	}
	for (i = 0; i < nworkers; i++)
		pthread_mutex_destroy(&m->slots[i].mu);
	pthread_mutex_destroy(&m->kmu);
	free(m->slots);
	free(m);
	return NULL;
}

uint16_t fc_metrics__port(const struct fc_metrics *m)
{
	return m->port;
}

void fc_metrics__stop(struct fc_metrics *m)
{
	unsigned i;

	if (!m)
		return;
	if (write(m->stop_pipe[1], "x", 1) == 1)
		pthread_join(m->tid, NULL);
	close(m->stop_pipe[0]);
	close(m->stop_pipe[1]);
	close(m->fd);
	for (i = 0; i < m->nslots; i++)
		pthread_mutex_destroy(&m->slots[i].mu);
	pthread_mutex_destroy(&m->kmu);
	free(m->slots);
	free(m);
}
