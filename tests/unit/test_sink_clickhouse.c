// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_sink_clickhouse.c - the clickhouse sink against a fake HTTP server
 * thread on loopback (port 0): what it sends (URL, headers, every RowBinary
 * field, decoded here independently of the encoder), and what it makes of
 * every answer — 200, 500 with a DB::Exception, a closed connection, no
 * answer, malformed or hostile responses. A failed batch must come back as a
 * negative errno (so the exporter keeps and re-offers it), never as success.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "sink_clickhouse.h"
#include "t.h"

/* ---- the fake server ---- */

enum mode {
	M_200,		/* 200, empty body, keep-alive */
	M_200_CLOSE,	/* 200, then the server closes the idle connection */
	M_500,		/* 500 with a ClickHouse exception body (chunked) */
	M_404,
	M_401,
	M_CLOSE,	/* read the request, close without answering */
	M_HANG,		/* read the request, never answer */
	M_RAW,		/* send fake.raw verbatim, then close */
};

#define MAX_REQ 16

struct req {
	char head[4096];
	unsigned char *body;
	size_t body_len;
};

struct fake {
	int lfd, port;
	pthread_t th;
	pthread_mutex_t mu;
	volatile int stop;
	enum mode script[MAX_REQ];
	int nscript;
	enum mode dflt;
	const char *raw;
	int nreq, naccept;
	struct req req[MAX_REQ];
};

static void fake_send(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void fake_sends(int fd, const char *s)
{
	fake_send(fd, s, strlen(s));
}

/* Read until n bytes are in buf or the peer goes away / we are stopped. */
static int fake_recv(struct fake *f, int fd, char *buf, size_t cap, size_t *len,
		     const char *until, size_t want)
{
	while (!f->stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (until && memmem(buf, *len, until, strlen(until)))
			return 0;
		if (!until && *len >= want)
			return 0;
		if (*len == cap)
			return -1;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(fd, buf + *len, cap - *len, 0);
		if (n <= 0)
			return -1;
		*len += (size_t)n;
	}
	return -1;
}

static void serve_conn(struct fake *f, int fd)
{
	static char buf[4 << 20];
	size_t len = 0;

	for (;;) {
		char *eoh, *cl;
		size_t hlen, blen;
		enum mode m;
		struct req *r;
		int idx;

		if (fake_recv(f, fd, buf, sizeof(buf), &len, "\r\n\r\n", 0))
			return;
		eoh = memmem(buf, len, "\r\n\r\n", 4);
		hlen = (size_t)(eoh - buf) + 4;
		cl = memmem(buf, hlen, "Content-Length: ", 16);
		blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
		if (fake_recv(f, fd, buf, sizeof(buf), &len, NULL, hlen + blen))
			return;
		pthread_mutex_lock(&f->mu);
		idx = f->nreq++;
		m = idx < f->nscript ? f->script[idx] : f->dflt;
		if (idx < MAX_REQ) {
			r = &f->req[idx];
			memcpy(r->head, buf, hlen < sizeof(r->head) ? hlen : sizeof(r->head) - 1);
			r->body = malloc(blen + 1);
			memcpy(r->body, buf + hlen, blen);
			r->body_len = blen;
		}
		pthread_mutex_unlock(&f->mu);
		memmove(buf, buf + hlen + blen, len - hlen - blen);
		len -= hlen + blen;
		switch (m) {
		case M_200:
		case M_200_CLOSE:
			fake_sends(fd, "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\n"
				       "Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
			if (m == M_200_CLOSE) {
				usleep(20000);
				return;
			}
			break;
		case M_500:
			fake_sends(fd, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n"
				       "Connection: Keep-Alive\r\n\r\n"
				       "1f\r\nCode: 241, e.displayText() = DB\r\n"
				       "49\r\n::Exception: Memory limit (for query) exceeded, e.what() = DB::Exception\n\r\n"
				       "0\r\n\r\n");
			break;
		case M_404:
			fake_sends(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 72\r\n\r\n"
				       "Code: 60. DB::Exception: Table db1.nope doesn't exist. (UNKNOWN_TABLE)\n\n");
			break;
		case M_401:
			fake_sends(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 47\r\n\r\n"
				       "Code: 193, e.displayText() = Wrong password...\n");
			break;
		case M_CLOSE:
			return;
		case M_HANG:
			while (!f->stop && !fake_recv(f, fd, buf, sizeof(buf), &len, "never", 0))
				;
			return;
		case M_RAW:
			fake_sends(fd, f->raw);
			return;
		}
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&f->mu);
		f->naccept++;
		pthread_mutex_unlock(&f->mu);
		serve_conn(f, fd);
		close(fd);
	}
	return NULL;
}

static struct fake *fake_start(enum mode dflt)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	f->dflt = dflt;
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(f->lfd, 8) ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &alen)) {
		perror("fake server");
		exit(1);
	}
	f->port = ntohs(a.sin_port);
	pthread_create(&f->th, NULL, fake_main, f);
	return f;
}

static void fake_stop(struct fake *f)
{
	int i;

	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	for (i = 0; i < MAX_REQ; i++)
		free(f->req[i].body);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static int fake_nreq(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->nreq;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* ---- helpers ---- */

static struct fc_sink *open_sink(const char *url, char *err, size_t errlen)
{
	struct fc_sink_spec spec;
	struct fc_sink *s;

	err[0] = '\0';
	if (fc_sink_spec__parse(url, &spec, err, errlen))
		return NULL;
	s = fc_sink__open(&spec, err, errlen);
	fc_sink_spec__free(&spec);
	return s;
}

static struct fc_sink *open_fake(struct fake *f, const char *path_opts)
{
	char url[512], err[512];
	struct fc_sink *s;

	snprintf(url, sizeof(url), "clickhouse://127.0.0.1:%d%s", f->port, path_opts);
	s = open_sink(url, err, sizeof(err));
	if (!s)
		fprintf(stderr, "  open %s: %s\n", url, err);
	return s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 1 < cap; i++) {
		if (s[i] == '%' && i + 2 < n) {
			char h[3] = { s[i + 1], s[i + 2], 0 };

			out[o++] = (char)strtol(h, NULL, 16);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static void set_v4(struct fc_addr *a, uint8_t x0, uint8_t x1, uint8_t x2, uint8_t x3)
{
	memset(a, 0, sizeof(*a));
	a->b[0] = x0;
	a->b[1] = x1;
	a->b[2] = x2;
	a->b[3] = x3;
}

static void set_v6(struct fc_addr *a, const char *txt)
{
	inet_pton(AF_INET6, txt, a->b);
}

/* Four records covering every field and every optional one present/absent. */
static void make_records(struct fc_flow_rec r[4])
{
	memset(r, 0, 4 * sizeof(r[0]));
	/* IPv4 TCP, no options */
	r[0].flow_id = 1;
	r[0].start_ns = 1362692526869344000ull;
	r[0].end_ns = 1362692527080972000ull;
	r[0].family = 4;
	r[0].proto = 6;
	set_v4(&r[0].src, 10, 0, 0, 1);
	set_v4(&r[0].dst, 192, 168, 1, 2);
	r[0].sport = 59856;
	r[0].dport = 80;
	r[0].pkts = 7;
	r[0].bytes = 512;
	r[0].rpkts = 7;
	r[0].rbytes = 5379;
	r[0].tcp_flags = 27;
	r[0].rtcp_flags = 0x1ff;
	r[0].tcp_state = FC_TCP_SF;
	strcpy(r[0].history, "ShADadFf");
	r[0].end_reason = FC_END_FIN;
	strcpy(r[0].community_id, "1:yvyB8h+3dnggTZW0UEITWCst97w=");
	/* IPv6 UDP, QinQ, VXLAN over IPv4, bypass share; TCP-only fields must not leak */
	r[1].flow_id = 2;
	r[1].start_ns = 1;
	r[1].end_ns = 2;
	r[1].family = 6;
	r[1].proto = 17;
	set_v6(&r[1].src, "2001:db8::1");
	set_v6(&r[1].dst, "ff02::fb");
	r[1].sport = 5353;
	r[1].dport = 5353;
	r[1].has_vlan = 2;
	r[1].vlan = 100;
	r[1].vlan_inner = 200;
	r[1].has_tunnel = 1;
	r[1].tunnel_id = 42;
	r[1].tunnel.type = FC_TUN_VXLAN;
	r[1].tunnel.family = 4;
	set_v4(&r[1].tunnel.src, 172, 16, 0, 1);
	set_v4(&r[1].tunnel.dst, 172, 16, 0, 2);
	r[1].tunnel.depth = 1;
	r[1].pkts = 3;
	r[1].bytes = 300;
	r[1].tcp_flags = 2;
	strcpy(r[1].history, "X");
	r[1].end_reason = FC_END_IDLE;
	r[1].bypass.pkts = 10;
	r[1].bypass.bytes = 1000;
	r[1].bypass.rpkts = 11;
	r[1].bypass.rbytes = 1100;
	r[1].bypass.start_ns = 1500;
	strcpy(r[1].community_id, "1:abc");
	/* ICMP with echo id 0 (present, not NULL) and a priority tag (VLAN 0) */
	r[2].flow_id = 3;
	r[2].family = 4;
	r[2].proto = 1;
	set_v4(&r[2].src, 255, 255, 255, 255);
	set_v4(&r[2].dst, 0, 0, 0, 0);
	r[2].sport = 8;
	r[2].has_icmp_id = 1;
	r[2].icmp_id = 0;
	r[2].has_vlan = 1;
	r[2].vlan = 0;
	r[2].end_reason = FC_END_EOF;
	/* Worst case: full history with bytes that text formats must escape, huge counters */
	r[3].flow_id = UINT64_MAX;
	r[3].start_ns = UINT64_MAX - 1;
	r[3].end_ns = UINT64_MAX;
	r[3].family = 6;
	r[3].proto = 6;
	set_v6(&r[3].src, "::ffff:1.2.3.4");
	set_v6(&r[3].dst, "fe80::1:2:3:4");
	r[3].pkts = r[3].bytes = r[3].rpkts = r[3].rbytes = UINT64_MAX;
	r[3].tcp_state = FC_TCP_RSTOS0;
	memcpy(r[3].history, "a\"b\\c\td\ne'f,g\x01hijklmnopqrstu", FC_HISTORY_MAX);
	r[3].history[FC_HISTORY_MAX] = '\0';
	memset(r[3].community_id, 'Z', FC_COMMUNITY_ID_LEN - 1);
	r[3].end_reason = FC_END_EVICTED;
	r[3].has_icmp_id = 1;
	r[3].icmp_id = 0xdeadbeef;
}

/* ---- an independent RowBinary reader ---- */

struct rb {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t rb_uint(struct rb *c, int n)
{
	uint64_t v = 0;
	int i;

	if (c->end - c->p < n) {
		c->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static void rb_str(struct rb *c, char *out, size_t cap)
{
	uint64_t n = rb_uint(c, 1);

	if (n >= 128 || n >= cap || c->end - c->p < (long)n) {
		c->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, c->p, n);
	out[n] = '\0';
	c->p += n;
}

static void rb_addr(struct rb *c, char *out, size_t cap)
{
	if (c->end - c->p < 16) {
		c->bad = 1;
		out[0] = '\0';
		return;
	}
	inet_ntop(AF_INET6, c->p, out, (socklen_t)cap);
	c->p += 16;
}

/* Nullable: returns -1 for NULL, else the value. */
static long long rb_opt(struct rb *c, int n)
{
	if (rb_uint(c, 1))
		return -1;
	return (long long)rb_uint(c, n);
}

struct row {
	uint64_t flow_id, start_ns, end_ns;
	unsigned proto, family;
	char src[64], dst[64];
	unsigned sport, dport;
	long long icmp_id, vlan, vlan_inner;
	uint64_t pkts, bytes, rpkts, rbytes;
	unsigned tcp_flags, rtcp_flags;
	char state[32], history[64], end_reason[32], community_id[64], tunnel_type[32];
	uint32_t tunnel_id;
	char tunnel_src[64], tunnel_dst[64];
	unsigned tunnel_depth;
	uint64_t bp, bb, brp, brb, bstart;
};

static void rb_row(struct rb *c, struct row *r)
{
	r->flow_id = rb_uint(c, 8);
	r->start_ns = rb_uint(c, 8);
	r->end_ns = rb_uint(c, 8);
	r->proto = (unsigned)rb_uint(c, 1);
	r->family = (unsigned)rb_uint(c, 1);
	rb_addr(c, r->src, sizeof(r->src));
	rb_addr(c, r->dst, sizeof(r->dst));
	r->sport = (unsigned)rb_uint(c, 2);
	r->dport = (unsigned)rb_uint(c, 2);
	r->icmp_id = rb_opt(c, 4);
	r->vlan = rb_opt(c, 2);
	r->vlan_inner = rb_opt(c, 2);
	r->pkts = rb_uint(c, 8);
	r->bytes = rb_uint(c, 8);
	r->rpkts = rb_uint(c, 8);
	r->rbytes = rb_uint(c, 8);
	r->tcp_flags = (unsigned)rb_uint(c, 2);
	r->rtcp_flags = (unsigned)rb_uint(c, 2);
	rb_str(c, r->state, sizeof(r->state));
	rb_str(c, r->history, sizeof(r->history));
	rb_str(c, r->end_reason, sizeof(r->end_reason));
	rb_str(c, r->community_id, sizeof(r->community_id));
	rb_str(c, r->tunnel_type, sizeof(r->tunnel_type));
	r->tunnel_id = (uint32_t)rb_uint(c, 4);
	rb_addr(c, r->tunnel_src, sizeof(r->tunnel_src));
	rb_addr(c, r->tunnel_dst, sizeof(r->tunnel_dst));
	r->tunnel_depth = (unsigned)rb_uint(c, 1);
	r->bp = rb_uint(c, 8);
	r->bb = rb_uint(c, 8);
	r->brp = rb_uint(c, 8);
	r->brb = rb_uint(c, 8);
	r->bstart = rb_uint(c, 8);
}

static int count_rows(const struct req *q)
{
	struct rb c = { q->body, q->body + q->body_len, 0 };
	struct row r;
	int n = 0;

	while (c.p < c.end && !c.bad) {
		rb_row(&c, &r);
		n++;
	}
	return c.bad ? -1 : n;
}

/* ---- tests ---- */

static void test_every_field(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	struct row r[4];
	struct rb c;
	char want[2048], got[2048], clen[64];
	const char *q, *sp;
	int i;

	make_records(recs);
	s = open_fake(f, "/db1.tbl_2?user=u1&password=p%26w=d");
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK_EQ_U(fc_sink__write(s, recs, 4), 4);
	CHECK_EQ_U(fake_nreq(f), 1);
	/* URL: the query, percent-encoded, with the explicit column list */
	q = f->req[0].head;
	CHECK(!strncmp(q, "POST /?query=", 13));
	sp = strchr(q + 13, '&');
	CHECK(sp != NULL);
	if (sp) {
		url_decode(q + 13, (size_t)(sp - q - 13), got, sizeof(got));
		snprintf(want, sizeof(want), "INSERT INTO db1.tbl_2 (%s) FORMAT RowBinary",
			 fc_ch_columns);
		CHECK_STR(got, want);
		CHECK(!strncmp(sp, "&wait_end_of_query=1 HTTP/1.1\r\n", 31));
	}
	CHECK(strstr(q, "\r\nX-ClickHouse-User: u1\r\n") != NULL);
	CHECK(strstr(q, "\r\nX-ClickHouse-Key: p%26w=d\r\n") != NULL);
	snprintf(clen, sizeof(clen), "\r\nContent-Length: %zu\r\n", f->req[0].body_len);
	CHECK(strstr(q, clen) != NULL);
	/* Every field of every row, decoded independently */
	c = (struct rb){ f->req[0].body, f->req[0].body + f->req[0].body_len, 0 };
	for (i = 0; i < 4; i++)
		rb_row(&c, &r[i]);
	CHECK(!c.bad);
	CHECK(c.p == c.end);

	CHECK_EQ_U(r[0].flow_id, 1);
	CHECK_EQ_U(r[0].start_ns, 1362692526869344000ull);
	CHECK_EQ_U(r[0].end_ns, 1362692527080972000ull);
	CHECK_EQ_U(r[0].proto, 6);
	CHECK_EQ_U(r[0].family, 4);
	CHECK_STR(r[0].src, "::ffff:10.0.0.1");
	CHECK_STR(r[0].dst, "::ffff:192.168.1.2");
	CHECK_EQ_U(r[0].sport, 59856);
	CHECK_EQ_U(r[0].dport, 80);
	CHECK(r[0].icmp_id == -1 && r[0].vlan == -1 && r[0].vlan_inner == -1);
	CHECK_EQ_U(r[0].pkts, 7);
	CHECK_EQ_U(r[0].bytes, 512);
	CHECK_EQ_U(r[0].rpkts, 7);
	CHECK_EQ_U(r[0].rbytes, 5379);
	CHECK_EQ_U(r[0].tcp_flags, 27);
	CHECK_EQ_U(r[0].rtcp_flags, 0x1ff);
	CHECK_STR(r[0].state, "SF");
	CHECK_STR(r[0].history, "ShADadFf");
	CHECK_STR(r[0].end_reason, "fin");
	CHECK_STR(r[0].community_id, "1:yvyB8h+3dnggTZW0UEITWCst97w=");
	CHECK_STR(r[0].tunnel_type, "");
	CHECK_EQ_U(r[0].tunnel_id, 0);
	CHECK_STR(r[0].tunnel_src, "::");
	CHECK_EQ_U(r[0].tunnel_depth, 0);
	CHECK(!r[0].bp && !r[0].bb && !r[0].brp && !r[0].brb && !r[0].bstart);

	CHECK_STR(r[1].src, "2001:db8::1");
	CHECK_STR(r[1].dst, "ff02::fb");
	CHECK_EQ_U(r[1].family, 6);
	CHECK_EQ_U(r[1].proto, 17);
	CHECK(r[1].vlan == 100 && r[1].vlan_inner == 200 && r[1].icmp_id == -1);
	CHECK_EQ_U(r[1].tcp_flags, 0);	/* UDP: TCP fields empty */
	CHECK_STR(r[1].state, "");
	CHECK_STR(r[1].history, "");
	CHECK_STR(r[1].end_reason, "idle");
	CHECK_STR(r[1].tunnel_type, "vxlan");
	CHECK_EQ_U(r[1].tunnel_id, 42);
	CHECK_STR(r[1].tunnel_src, "::ffff:172.16.0.1");
	CHECK_STR(r[1].tunnel_dst, "::ffff:172.16.0.2");
	CHECK_EQ_U(r[1].tunnel_depth, 1);
	CHECK(r[1].bp == 10 && r[1].bb == 1000 && r[1].brp == 11 && r[1].brb == 1100);
	CHECK_EQ_U(r[1].bstart, 1500);
	CHECK_STR(r[1].community_id, "1:abc");

	CHECK_STR(r[2].src, "::ffff:255.255.255.255");
	CHECK_STR(r[2].dst, "::ffff:0.0.0.0");
	CHECK(r[2].icmp_id == 0);	/* present and 0 is not NULL */
	CHECK(r[2].vlan == 0 && r[2].vlan_inner == -1);
	CHECK_EQ_U(r[2].sport, 8);
	CHECK_STR(r[2].end_reason, "eof");
	CHECK_STR(r[2].community_id, "");

	CHECK_EQ_U(r[3].flow_id, UINT64_MAX);
	CHECK_EQ_U(r[3].start_ns, UINT64_MAX - 1);
	CHECK_EQ_U(r[3].rbytes, UINT64_MAX);
	CHECK_STR(r[3].src, "::ffff:1.2.3.4");
	CHECK_STR(r[3].dst, "fe80::1:2:3:4");
	CHECK(r[3].icmp_id == 0xdeadbeef);
	CHECK_STR(r[3].state, "RSTOS0");
	CHECK_EQ_U(strlen(r[3].history), FC_HISTORY_MAX);
	CHECK(!memcmp(r[3].history, "a\"b\\c\td\ne'f,g\x01hijklmnopqrstu", FC_HISTORY_MAX));
	CHECK_EQ_U(strlen(r[3].community_id), FC_COMMUNITY_ID_LEN - 1);
	CHECK_STR(r[3].end_reason, "evicted");

	CHECK_EQ_U(fc_sink__health(s)->written, 4);
	CHECK_EQ_U(fc_sink__health(s)->bytes, f->req[0].body_len);
	CHECK_EQ_U(fc_sink__health(s)->up, 1);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_row_bound(void)
{
	struct fc_flow_rec recs[4];
	static uint8_t buf[4 * FC_CH_ROW_MAX];
	int i;

	make_records(recs);
	for (i = 0; i < 4; i++) {
		recs[i].has_tunnel = 1;
		recs[i].tunnel.type = FC_TUN_MPLS_UDP;
		recs[i].bypass.start_ns = 1;
		recs[i].has_vlan = 2;
		recs[i].has_icmp_id = 1;
		CHECK(fc_ch_encode_rows(&recs[i], 1, buf) <= FC_CH_ROW_MAX);
	}
	/* Unknown enum values encode as "unknown", still within the bound */
	recs[0].end_reason = 200;
	recs[0].tcp_state = 200;
	recs[0].tunnel.type = 200;
	CHECK(fc_ch_encode_rows(recs, 1, buf) <= FC_CH_ROW_MAX);
}

static void test_server_error_kept(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	const char *e;
	int rc;

	make_records(recs);
	f->script[0] = M_500;
	f->nscript = 1;
	s = open_fake(f, "/db1.t");
	CHECK(s != NULL);
	if (!s)
		goto out;
	rc = fc_sink__write(s, recs, 3);
	CHECK(rc == -EIO);
	e = fc_sink__health(s)->last_error;
	CHECK(strstr(e, "HTTP 500") != NULL);
	CHECK(strstr(e, "Code: 241, e.displayText() = DB::Exception: Memory limit") != NULL);
	CHECK(strstr(e, "e.what()") == NULL);
	CHECK_EQ_U(fc_sink__health(s)->failed, 1);
	CHECK_EQ_U(fc_sink__health(s)->written, 0);
	CHECK_EQ_U(fc_sink__health(s)->up, 0);
	/* The exporter re-offers the same batch: the same rows arrive, whole */
	CHECK_EQ_U(fc_sink__write(s, recs, 3), 3);
	CHECK_EQ_U(fake_nreq(f), 2);
	CHECK_EQ_U(f->req[1].body_len, f->req[0].body_len);
	CHECK(!memcmp(f->req[1].body, f->req[0].body, f->req[0].body_len));
	CHECK_EQ_U(count_rows(&f->req[1]), 3);
	CHECK_EQ_U(fc_sink__health(s)->written, 3);
	CHECK_EQ_U(fc_sink__health(s)->up, 1);
	CHECK_EQ_U(f->naccept, 1);	/* the 500 kept the connection */
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_status_mapping(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;

	make_records(recs);
	f->script[0] = M_404;
	f->script[1] = M_401;
	f->nscript = 2;
	s = open_fake(f, "/db1.nope");
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK(fc_sink__write(s, recs, 1) == -ENOENT);
	CHECK(strstr(fc_sink__health(s)->last_error,
		     "HTTP 404: Code: 60. DB::Exception: Table db1.nope doesn't exist.") != NULL);
	CHECK(fc_sink__write(s, recs, 1) == -EACCES);
	CHECK(strstr(fc_sink__health(s)->last_error, "HTTP 401: Code: 193") != NULL);
	CHECK_EQ_U(fc_sink__health(s)->failed, 2);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_closed_connection(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	int rc;

	make_records(recs);
	f->script[0] = M_CLOSE;
	f->nscript = 1;
	s = open_fake(f, "/db1.t?timeout=2s");
	CHECK(s != NULL);
	if (!s)
		goto out;
	rc = fc_sink__write(s, recs, 2);
	CHECK(rc == -ECONNRESET);
	CHECK_EQ_U(fake_nreq(f), 1);	/* a fresh connection is not silently retried */
	CHECK(strstr(fc_sink__health(s)->last_error, "Connection reset") != NULL);
	CHECK_EQ_U(fc_sink__write(s, recs, 2), 2);
	CHECK_EQ_U(fake_nreq(f), 2);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_keepalive(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;

	make_records(recs);
	s = open_fake(f, "/db1.t");
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	CHECK_EQ_U(f->naccept, 1);
	/* The server closes the idle connection: the next write reconnects */
	f->dflt = M_200_CLOSE;
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	usleep(100000);
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	CHECK_EQ_U(f->naccept, 2);
	CHECK_EQ_U(fake_nreq(f), 4);
	/* reopen() (SIGHUP) drops the connection */
	f->dflt = M_200;
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	CHECK(fc_sink__reopen(s) == 0);
	CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
	CHECK_EQ_U(f->naccept, 4);
	CHECK(fc_sink__flush(s) == 0);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_refused(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	char url[128], err[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;

	/* A port that was free a moment ago and has no listener */
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	make_records(recs);
	snprintf(url, sizeof(url), "clickhouse://127.0.0.1:%d/db.t?create=1", ntohs(a.sin_port));
	s = open_sink(url, err, sizeof(err));
	CHECK(s != NULL);	/* down at start is not an error: write() retries */
	if (!s)
		return;
	t0 = now_s();
	CHECK(fc_sink__write(s, recs, 4) == -ECONNREFUSED);
	CHECK(now_s() - t0 < 1.0);
	CHECK(strstr(fc_sink__health(s)->last_error, "Connection refused") != NULL);
	CHECK_EQ_U(fc_sink__health(s)->up, 0);
	CHECK_EQ_U(fc_sink__health(s)->failed, 1);
	fc_sink__close(s);
}

static void test_timeout(void)
{
	struct fake *f = fake_start(M_HANG);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	double t0, dt;

	make_records(recs);
	s = open_fake(f, "/db1.t?timeout=300ms");
	CHECK(s != NULL);
	if (!s)
		goto out;
	t0 = now_s();
	CHECK(fc_sink__write(s, recs, 4) == -ETIMEDOUT);
	dt = now_s() - t0;
	CHECK(dt >= 0.25 && dt < 1.5);
	CHECK(strstr(fc_sink__health(s)->last_error, "timed out") != NULL);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_batches(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[7], four[4];
	struct fc_sink *s;
	int i;

	make_records(four);
	for (i = 0; i < 7; i++) {
		recs[i] = four[i % 4];
		recs[i].flow_id = (uint64_t)i;
	}
	f->script[4] = M_500;	/* second write: first request ok, second fails */
	f->nscript = 5;
	s = open_fake(f, "/db1.t?batch=3");
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK_EQ_U(fc_sink__write(s, recs, 7), 7);
	CHECK_EQ_U(fake_nreq(f), 3);
	CHECK_EQ_U(count_rows(&f->req[0]), 3);
	CHECK_EQ_U(count_rows(&f->req[1]), 3);
	CHECK_EQ_U(count_rows(&f->req[2]), 1);
	/* Partial: whole requests before the failure count as delivered */
	CHECK_EQ_U(fc_sink__write(s, recs, 7), 3);
	CHECK_EQ_U(fc_sink__health(s)->failed, 1);
	CHECK_EQ_U(fc_sink__write(s, recs + 3, 4), 4);
	CHECK_EQ_U(fake_nreq(f), 7);
	CHECK_EQ_U(count_rows(&f->req[5]), 3);
	CHECK_EQ_U(count_rows(&f->req[6]), 1);
	CHECK_EQ_U(fc_sink__health(s)->written, 7 + 3 + 4);
	fc_sink__close(s);
out:
	fake_stop(f);
}

static void test_create(void)
{
	struct fake *f = fake_start(M_200);
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	char sql[4096];

	make_records(recs);
	f->script[0] = M_500;	/* CREATE DATABASE fails once */
	f->nscript = 1;
	s = open_fake(f, "/mydb.myflows?create=1");
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK_EQ_U(fake_nreq(f), 0);	/* open does no I/O */
	CHECK(fc_sink__write(s, recs, 2) == -EIO);
	CHECK_EQ_U(fake_nreq(f), 1);	/* no INSERT without the schema */
	CHECK_EQ_U(fc_sink__write(s, recs, 2), 2);
	CHECK_EQ_U(fake_nreq(f), 4);
	CHECK(!strncmp(f->req[1].head, "POST / HTTP/1.1\r\n", 17));
	CHECK_EQ_U(f->req[1].body_len, strlen("CREATE DATABASE IF NOT EXISTS mydb"));
	CHECK(!memcmp(f->req[1].body, "CREATE DATABASE IF NOT EXISTS mydb", f->req[1].body_len));
	CHECK(fc_ch_create_table_sql("mydb", "myflows", sql, sizeof(sql)) > 0);
	CHECK_EQ_U(f->req[2].body_len, strlen(sql));
	CHECK(!memcmp(f->req[2].body, sql, f->req[2].body_len));
	CHECK(strstr(sql, "CREATE TABLE IF NOT EXISTS mydb.myflows\n(\n    flow_id UInt64,") != NULL);
	CHECK(strstr(sql, "PARTITION BY toYYYYMMDD(start)") != NULL);
	CHECK(!strncmp(f->req[3].head, "POST /?query=INSERT", 19));
	/* Once created, writes are plain INSERTs */
	CHECK_EQ_U(fc_sink__write(s, recs, 2), 2);
	CHECK_EQ_U(fake_nreq(f), 5);
	CHECK(fc_ch_create_table_sql("mydb", "myflows", sql, 100) == -ENOSPC);
	fc_sink__close(s);
out:
	fake_stop(f);
}

/* Hostile or broken answers: each must fail cleanly (or pass when valid). */
static void test_responses(void)
{
	static char big_header[12000], big_body[3000 + 200];
	static const struct {
		const char *raw;
		int want;
	} cases[] = {
		{ "garbage\r\n\r\n", -EPROTO },
		{ "HTTP/2 200 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffff\r\nab", -EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", -ECONNRESET },
		{ "HTTP/1.1 200 OK\r\nContent-Le", -ECONNRESET },
		{ "", -ECONNRESET },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2c\r\nCode: 62, e.displayText() = DB::Exception: x\r\n0\r\n\r\n", -EIO },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0 },
		{ "HTTP/1.0 200 OK\r\n\r\nOk.\n", 0 },
		{ "HTTP/1.1 204 No Content\r\n\r\n", 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3;ext=1\r\nOk.\r\n0\r\nX-Trailer: 1\r\n\r\n", 0 },
		{ "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", -EAGAIN },
		{ big_header, -EPROTO },
		{ big_body, -EIO },
	};
	struct fc_flow_rec recs[4];
	unsigned i;
	int n;

	n = snprintf(big_header, sizeof(big_header), "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(big_header + n, 'a', sizeof(big_header) - (size_t)n - 5);
	memcpy(big_header + sizeof(big_header) - 5, "\r\n\r\n", 5);
	n = snprintf(big_body, sizeof(big_body), "HTTP/1.1 500 Oops\r\nContent-Length: 3000\r\n\r\n");
	memset(big_body + n, '\x01', 3000);
	big_body[n + 3000] = '\0';
	make_records(recs);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f = fake_start(M_RAW);
		struct fc_sink *s;
		int rc;

		f->raw = cases[i].raw;
		s = open_fake(f, "/db1.t?timeout=2s");
		CHECK(s != NULL);
		if (!s) {
			fake_stop(f);
			continue;
		}
		rc = fc_sink__write(s, recs, 2);
		if ((cases[i].want == 0 && rc != 2) || (cases[i].want && rc != cases[i].want)) {
			fprintf(stderr, "  case %u: rc %d, want %d (%s)\n", i, rc, cases[i].want,
				fc_sink__health(s)->last_error);
			t_failed_checks++;
		}
		/* The kept message is bounded and printable */
		CHECK(strlen(fc_sink__health(s)->last_error) < FC_SINK_ERR_LEN);
		if (cases[i].raw == big_body)
			CHECK(strstr(fc_sink__health(s)->last_error, "????") != NULL);
		fc_sink__close(s);
		fake_stop(f);
	}
}

static void test_options(void)
{
	static const char *const bad[] = {
		"clickhouse://",
		"clickhouse://h:0/db.t",
		"clickhouse://h:99999/db.t",
		"clickhouse://h:80x/db.t",
		"clickhouse://h/db",
		"clickhouse://h/1db.t",
		"clickhouse://h/db.t;drop",
		"clickhouse://h/db.t.x",
		"clickhouse://h/db.t%20",
		"clickhouse://[::1/db.t",
		"clickhouse://h/db.t?nope=1",
		"clickhouse://h/db.t?batch=0",
		"clickhouse://h/db.t?batch=abc",
		"clickhouse://h/db.t?timeout=0",
		"clickhouse://h/db.t?timeout=5x",
		"clickhouse://h/db.t?create=yes",
		"clickhouse://h/db.t?password=a&password_file=/nonexistent",
		"clickhouse://h/db.t?password_file=/nonexistent/pw",
		"clickhouse://h/db.t?user=a\r\nX-Evil:%201",
	};
	char err[512], path[] = "/tmp/fc_ch_pw_XXXXXX", url[256];
	struct fake *f;
	struct fc_flow_rec recs[4];
	struct fc_sink *s;
	unsigned i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = open_sink(bad[i], err, sizeof(err));
		if (s) {
			fprintf(stderr, "  accepted bad sink '%s'\n", bad[i]);
			t_failed_checks++;
			fc_sink__close(s);
		} else {
			CHECK(err[0] != '\0');
		}
	}
	s = open_sink("clickhouse://h/db.t?nope=1", err, sizeof(err));
	CHECK(strstr(err, "unknown option 'nope'") != NULL);
	/* Good ones: defaults, IPv6 literal, all options */
	s = open_sink("clickhouse://localhost", err, sizeof(err));
	CHECK(s != NULL);
	fc_sink__close(s);
	s = open_sink("clickhouse://[::1]:8124/a.b?timeout=250ms&batch=1000000&create=0", err,
		      sizeof(err));
	CHECK(s != NULL);
	fc_sink__close(s);
	fc_sink__close(NULL);
	/* password_file: trailing newline stripped, sent as the key */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "s3cret pw\n", 10) == 10);
	close(fd);
	f = fake_start(M_200);
	make_records(recs);
	snprintf(url, sizeof(url), "/x.y?password_file=%s", path);
	s = open_fake(f, url);
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
		CHECK(strstr(f->req[0].head, "\r\nX-ClickHouse-User: default\r\n") != NULL);
		CHECK(strstr(f->req[0].head, "\r\nX-ClickHouse-Key: s3cret pw\r\n") != NULL);
		CHECK(strstr(f->req[0].head, "INSERT%20INTO%20x.y%20") != NULL);
		fc_sink__close(s);
	}
	fake_stop(f);
	unlink(path);
	/* Default target table: flowcut.flows, no auth headers */
	f = fake_start(M_200);
	s = open_fake(f, "");
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_U(fc_sink__write(s, recs, 1), 1);
		CHECK(strstr(f->req[0].head, "INSERT%20INTO%20flowcut.flows%20") != NULL);
		CHECK(strstr(f->req[0].head, "X-ClickHouse") == NULL);
		CHECK(strstr(f->req[0].head, "\r\nHost: 127.0.0.1:") != NULL);
		fc_sink__close(s);
	}
	fake_stop(f);
	CHECK(fc_sink_lookup("clickhouse") != NULL);
}

int main(void)
{
	RUN(test_every_field);
	RUN(test_row_bound);
	RUN(test_server_error_kept);
	RUN(test_status_mapping);
	RUN(test_closed_connection);
	RUN(test_keepalive);
	RUN(test_refused);
	RUN(test_timeout);
	RUN(test_batches);
	RUN(test_create);
	RUN(test_responses);
	RUN(test_options);
	return T_DONE();
}
