// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass_gen.c - the bypass benchmark's elephant-flow traffic, both ends:
 * a few bulk TCP connections (the elephants, ~90 % of the bytes) and many
 * small UDP flows (the mice), as fast as the kernel takes them. The Python
 * sender of tests/e2e/traffic.py reached ~110 MB/s here, which left the
 * monitor nearly idle; this one sends from one preallocated buffer with
 * large socket buffers, one thread per connection, and receives with
 * 1 MB reads and recvmmsg().
 *
 * usage:
 *   bypass_gen sink ADDR TCP_PORT UDP_PORT
 *       accept TCP connections and read them to EOF, drain UDP; prints
 *       "ready" once listening; runs until SIGTERM/SIGINT.
 *   bypass_gen send ADDR TCP_PORT UDP_PORT CONNS BYTES FLOWS DGRAMS SIZE
 *       CONNS connections of BYTES each, in parallel with DGRAMS datagrams
 *       of SIZE payload octets spread round-robin over FLOWS UDP sockets
 *       (one flow each). Prints one line per TCP connection
 *       ("tcp sport=P bytes=B") and a summary
 *       ("send: tcp_bytes=.. udp_dgrams=.. udp_bytes=.. seconds=.. MB/s=..").
 * ADDR is IPv4 or IPv6. Exit status 0 when everything was sent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"

#define CHUNK (1 << 20)
#define MAX_CONNS 64

static struct sockaddr_storage tcp_sa, udp_sa;
static socklen_t sa_len;
static int family;
static volatile sig_atomic_t stop;

static int parse_addr(const char *a, unsigned tport, unsigned uport)
{
	struct sockaddr_in *t4 = (void *)&tcp_sa, *u4 = (void *)&udp_sa;
	struct sockaddr_in6 *t6 = (void *)&tcp_sa, *u6 = (void *)&udp_sa;

	memset(&tcp_sa, 0, sizeof(tcp_sa));
	memset(&udp_sa, 0, sizeof(udp_sa));
	if (inet_pton(AF_INET, a, &t4->sin_addr) == 1) {
		family = AF_INET, sa_len = sizeof(*t4);
		t4->sin_family = AF_INET, t4->sin_port = htons((uint16_t)tport);
		*u4 = *t4, u4->sin_port = htons((uint16_t)uport);
		return 0;
	}
	if (inet_pton(AF_INET6, a, &t6->sin6_addr) == 1) {
		family = AF_INET6, sa_len = sizeof(*t6);
		t6->sin6_family = AF_INET6, t6->sin6_port = htons((uint16_t)tport);
		*u6 = *t6, u6->sin6_port = htons((uint16_t)uport);
		return 0;
	}
	return -1;
}

static void bufs(int fd, int snd, int rcv)
{
	if (snd)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (rcv)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* ---- sink ---- */

static void *tcp_reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *b = malloc(CHUNK);
	ssize_t n;

	while (b && (n = read(fd, b, CHUNK)) > 0)
		;
	free(b);
	close(fd);
	return NULL;
}

static void *udp_drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char b[64][2048];
	struct mmsghdr m[64];
	struct iovec v[64];
	int i;

	for (i = 0; i < 64; i++) {
		v[i].iov_base = b[i], v[i].iov_len = sizeof(b[i]);
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &v[i], m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!stop)
		(void)recvmmsg(fd, m, 64, 0, NULL);
	return NULL;
}

static void on_sig(int s)
{
	stop = 1;
}

static int sink(void)
{
	int one = 1, lfd, ufd;
	pthread_t t;
	struct sigaction sa = { .sa_handler = on_sig };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = socket(family, SOCK_STREAM, 0);
	ufd = socket(family, SOCK_DGRAM, 0);
	if (lfd < 0 || ufd < 0)
		return perror("socket"), 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bufs(ufd, 0, 8 << 20);
	if (bind(lfd, (void *)&tcp_sa, sa_len) || listen(lfd, 64) || bind(ufd, (void *)&udp_sa, sa_len))
		return perror("bind"), 1;
	if (pthread_create(&t, NULL, udp_drain, (void *)(intptr_t)ufd))
		return 1;
	pthread_detach(t);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return perror("accept"), 1;
		}
		bufs(c, 0, 8 << 20);
		if (pthread_create(&t, NULL, tcp_reader, (void *)(intptr_t)c))
			close(c);
		else
			pthread_detach(t);
	}
	return 0;
}

/* ---- send ---- */

static char *payload;

struct conn {
	uint64_t bytes, sent;
	unsigned sport;
	int err;
};

static void *tcp_send(void *arg)
{
	struct conn *c = arg;
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	int fd = socket(family, SOCK_STREAM, 0);
	char b[4096];

	if (fd < 0) {
		c->err = errno;
		return NULL;
	}
	bufs(fd, 8 << 20, 0);
	if (connect(fd, (void *)&tcp_sa, sa_len)) {
		c->err = errno;
		close(fd);
		return NULL;
	}
	getsockname(fd, (void *)&me, &ml);
	c->sport = ntohs(family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
					   : ((struct sockaddr_in6 *)&me)->sin6_port);
	while (c->sent < c->bytes) {
		uint64_t left = c->bytes - c->sent;
		ssize_t n = send(fd, payload, left < CHUNK ? (size_t)left : CHUNK, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->err = errno;
			break;
		}
		c->sent += (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, b, sizeof(b)) > 0)	/* the peer's FIN: everything was delivered */
		;
	close(fd);
	return NULL;
}

struct mice {
	unsigned flows;
	uint64_t dgrams, size, sent;
	int err;
};

static void *udp_send(void *arg)
{
	struct mice *m = arg;
	int *fds = calloc(m->flows, sizeof(int));
	uint64_t i;
	unsigned f;

	if (!fds) {
		m->err = ENOMEM;
		return NULL;
	}
	for (f = 0; f < m->flows; f++) {
		fds[f] = socket(family, SOCK_DGRAM, 0);
		if (fds[f] < 0 || connect(fds[f], (void *)&udp_sa, sa_len)) {
			m->err = errno;
			m->flows = f;
			break;
		}
	}
	for (i = 0; m->flows && !m->err && i < m->dgrams; i++) {
		ssize_t n = send(fds[i % m->flows], payload, (size_t)m->size, 0);

		if (n < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED)) {
			i--;	/* the local queue is full (or an ICMP error was queued): again */
			continue;
		}
		if (n < 0) {
			m->err = errno;
			break;
		}
		m->sent++;
	}
	for (f = 0; f < m->flows; f++)
		close(fds[f]);
	free(fds);
	return NULL;
}

static int sender(char **a)
{
	unsigned nconn = (unsigned)strtoul(a[0], NULL, 10), i;
	static struct conn cs[MAX_CONNS];
	struct mice m = { .flows = (unsigned)strtoul(a[2], NULL, 10), .dgrams = strtoull(a[3], NULL, 10),
			  .size = strtoull(a[4], NULL, 10) };
	pthread_t t[MAX_CONNS], mt;
	uint64_t tcp = 0;
	double t0, dt;
	int rc = 0;

	if (nconn > MAX_CONNS || m.size > 1472)
		return fprintf(stderr, "bypass_gen: at most %d connections, datagrams of 1472\n", MAX_CONNS), 2;
	payload = malloc(CHUNK);
	if (!payload)
		return 1;
	memset(payload, 'e', CHUNK);
	t0 = bench_now_s();
	for (i = 0; i < nconn; i++) {
		cs[i].bytes = strtoull(a[1], NULL, 10);
		pthread_create(&t[i], NULL, tcp_send, &cs[i]);
	}
	if (m.flows && m.dgrams)
		pthread_create(&mt, NULL, udp_send, &m);
	for (i = 0; i < nconn; i++)
		pthread_join(t[i], NULL);
	if (m.flows && m.dgrams)
		pthread_join(mt, NULL);
	dt = bench_now_s() - t0;
	for (i = 0; i < nconn; i++) {
		printf("tcp sport=%u bytes=%llu%s%s\n", cs[i].sport, (unsigned long long)cs[i].sent,
		       cs[i].err ? " error=" : "", cs[i].err ? strerror(cs[i].err) : "");
		tcp += cs[i].sent;
		rc |= cs[i].err || cs[i].sent != cs[i].bytes;
	}
	rc |= m.err || m.sent != m.dgrams;
	printf("send: tcp_bytes=%llu udp_dgrams=%llu udp_bytes=%llu seconds=%.3f MB/s=%.1f%s%s\n",
	       (unsigned long long)tcp, (unsigned long long)m.sent, (unsigned long long)(m.sent * m.size), dt,
	       (double)(tcp + m.sent * m.size) / dt / 1e6, m.err ? " udp_error=" : "",
	       m.err ? strerror(m.err) : "");
	free(payload);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "sink") &&
	    !parse_addr(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4])))
		return sink();
	if (argc >= 10 && !strcmp(argv[1], "send") &&
	    !parse_addr(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4])))
		return sender(argv + 5);
	fprintf(stderr, "usage: bypass_gen sink ADDR TCP_PORT UDP_PORT\n"
			"       bypass_gen send ADDR TCP_PORT UDP_PORT CONNS BYTES FLOWS DGRAMS SIZE\n");
	return 2;
}
