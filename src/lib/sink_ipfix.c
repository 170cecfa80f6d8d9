// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink_ipfix.c - the "ipfix" (UDP) and "ipfix+tcp" (TCP) sinks: flow records
 * to an IPFIX collector (RFC 7011). This file owns the socket, the target
 * and option parsing, and when templates are refreshed; the bytes come from
 * the pure encoder in ipfix_enc.c.
 *
 *   ipfix://HOST:PORT?domain=N&uniflow=1&template_refresh=600&template_refresh_pkts=1000&mtu=1400
 *   ipfix+tcp://[::1]:4739?domain=N
 *
 * Delivery. write() sends whole messages and reports how many records went
 * out in messages that were written completely; the exporter keeps and
 * re-offers the rest.
 *  - UDP is fire and forget: the only loss we can see is a collector that is
 *    down, which the kernel reports (ICMP port unreachable) as ECONNREFUSED
 *    on a later send of this connected socket. That send fails, we return
 *    -ECONNREFUSED (or the count so far) and re-announce templates once the
 *    collector answers again. The datagram that provoked the ICMP is lost
 *    unseen: use ipfix+tcp when loss matters.
 *  - TCP: connect with a timeout, templates first on every connection,
 *    SO_SNDTIMEO so a stalled collector cannot block us for long,
 *    MSG_NOSIGNAL so a dead one gives EPIPE rather than SIGPIPE. Any error or
 *    timeout closes the connection and returns; reconnecting (with backoff)
 *    is the caller's retry. A message cut by the failure is discarded by the
 *    collector at the end of the stream, and its records count as not
 *    delivered. Records already in the kernel's send buffer when a collector
 *    dies are lost; IPFIX has no acknowledgement to tell.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "ipfix_enc.h"

#define DEFAULT_PORT "4739"
#define DEFAULT_MTU 1400		/* UDP: fits a 1500-byte path with headroom */
#define DEFAULT_REFRESH_S 600
#define DEFAULT_REFRESH_MSGS 1000
#define DEFAULT_TIMEOUT_MS 2000

struct ipfix_priv {
	struct fc_ipfix_enc enc;
	int fd;				/* -1 when not connected */
	int tcp;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t refresh_s;		/* 0 = no time-based refresh / stats */
	uint32_t refresh_msgs;		/* UDP; 0 = no count-based refresh */
	uint32_t timeout_ms;		/* connect and send timeout */
	uint64_t last_refresh_ns;	/* CLOCK_MONOTONIC of the last refresh */
	uint32_t msgs_since_refresh;
	uint8_t *buf;			/* one message, enc.o.max_msg bytes */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void zclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- options and target ------------------------------------------------ */

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long long x;
	char *end;

	if (!v || !*v || *v == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

/* "host:port", "[v6addr]:port" or "host" (port 4739). */
static int parse_target(struct fc_sink *s, struct ipfix_priv *p, const char *target)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[256];
	const char *port = DEFAULT_PORT, *colon;
	size_t hlen;
	int rc;

	if (target[0] == '[') {
		const char *rb = strchr(target, ']');

		if (!rb || (rb[1] && rb[1] != ':'))
			goto bad;
		hlen = (size_t)(rb - target - 1);
		if (rb[1] == ':')
			port = rb + 2;
		target++;
	} else {
		colon = strrchr(target, ':');
		if (colon && strchr(target, ':') != colon)
			goto bad;	/* bare IPv6 needs brackets */
		hlen = colon ? (size_t)(colon - target) : strlen(target);
		if (colon)
			port = colon + 1;
	}
	if (!hlen || hlen >= sizeof(host) || !*port)
		goto bad;
	memcpy(host, target, hlen);
	host[hlen] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = p->tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fc_sink__set_err(s, "cannot resolve '%s' port '%s': %s", host, port, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
	p->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	fc_sink__set_err(s, "target '%s' is not HOST:PORT or [IPv6]:PORT", target);
	return -EINVAL;
}

static int parse_opts(struct fc_sink *s, struct ipfix_priv *p, const struct fc_sink_spec *spec,
		      struct fc_ipfix_enc_opts *eo)
{
	unsigned i;

	for (i = 0; i < spec->nopts; i++) {
		const char *k = spec->opts[i].key, *v = spec->opts[i].val;
		uint32_t x;
		int rc = 0;

		if (!strcmp(k, "domain")) {
			rc = parse_u32(v, 0, UINT32_MAX, &eo->domain);
		} else if (!strcmp(k, "uniflow")) {
			rc = parse_u32(v, 0, 1, &x);
			eo->uniflow = x;
		} else if (!strcmp(k, "template_refresh")) {
			rc = parse_u32(v, 0, 86400, &p->refresh_s);
		} else if (!strcmp(k, "template_refresh_pkts")) {
			rc = parse_u32(v, 0, UINT32_MAX, &p->refresh_msgs);
		} else if (!strcmp(k, "mtu")) {
			rc = parse_u32(v, FC_IPFIX_MSG_MIN, p->tcp ? FC_IPFIX_MSG_MAX : 65507,
				       &eo->max_msg);
		} else if (!strcmp(k, "timestamps")) {
			if (!strcmp(v, "ms") || !strcmp(v, "ns"))
				eo->time_ns = v[0] == 'n';
			else
				rc = -EINVAL;
		} else if (!strcmp(k, "timeout_ms")) {
			rc = parse_u32(v, 1, 60000, &p->timeout_ms);
		} else {
			fc_sink__set_err(s, "unknown option '%s' (domain, uniflow, template_refresh, "
					    "template_refresh_pkts, mtu, timestamps, timeout_ms)", k);
			return -EINVAL;
		}
		if (rc) {
			fc_sink__set_err(s, "option %s: bad value '%s'", k, v);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- socket ------------------------------------------------------------ */

static int set_timeouts(int fd, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -errno;
	return 0;
}

/* Connect (TCP: within timeout_ms). Returns 0 or a negative errno. */
static int sock_connect(struct fc_sink *s, struct ipfix_priv *p)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, err = 0, flags;

	fd = socket(p->addr.ss_family, (p->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC |
					       SOCK_NONBLOCK, 0);
	if (fd == -1) {
		err = -errno;
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&p->addr, p->addrlen) == -1) {
		err = -errno;
		if (err != -EINPROGRESS)
			goto fail_close;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			err = poll(&pfd, 1, (int)p->timeout_ms);
		} while (err == -1 && errno == EINTR);
		if (err == 0) {
			err = -ETIMEDOUT;
			goto fail_close;
		}
		if (err == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1) {
			err = -errno;
			goto fail_close;
		}
		if (err) {
			err = -err;
			goto fail_close;
		}
	}
	/* Blocking from here on, bounded by SO_SNDTIMEO. */
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    (err = set_timeouts(fd, p->timeout_ms))) {
		err = err ? err : -errno;
		goto fail_close;
	}
	if (p->tcp) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	p->fd = fd;
	/* A new connection (or socket) is a new session for the collector. */
	fc_ipfix_enc__resend_templates(&p->enc);
	p->last_refresh_ns = mono_ns();
	p->msgs_since_refresh = 0;
	return 0;
fail_close:
	close(fd);
fail:
	fc_sink__set_err(s, "%s: connect: %s", fc_sink__name(s), strerror(-err));
	return err;
}

/* TCP: the collector closed its end (it never sends us anything). */
static int peer_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP))
		return 1;
	return recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
}

/* Write one message completely. Returns 0 or a negative errno. */
static int send_msg(struct ipfix_priv *p, const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(p->fd, b + off, len - off, MSG_NOSIGNAL);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if (!p->tcp && (size_t)w != len)
			return -EMSGSIZE;
		off += (size_t)w;
	}
	return 0;
}

/* ---- sink ops ---------------------------------------------------------- */

static int ipfix_open_common(struct fc_sink *s, const struct fc_sink_spec *spec, int tcp)
{
	struct ipfix_priv *p = fc_sink__priv(s);
	struct fc_ipfix_enc_opts eo = { .max_msg = tcp ? FC_IPFIX_MSG_MAX : DEFAULT_MTU };
	int rc;

	p->fd = -1;
	p->tcp = tcp;
	p->refresh_s = DEFAULT_REFRESH_S;
	p->refresh_msgs = DEFAULT_REFRESH_MSGS;
	p->timeout_ms = DEFAULT_TIMEOUT_MS;
	rc = parse_opts(s, p, spec, &eo);
	if (rc)
		return rc;
	rc = parse_target(s, p, spec->target);
	if (rc)
		return rc;
	if (fc_ipfix_enc__init(&p->enc, &eo)) {
		fc_sink__set_err(s, "mtu %u out of range", eo.max_msg);
		return -EINVAL;
	}
	p->buf = malloc(eo.max_msg);
	if (!p->buf)
		return -ENOMEM;
	/* A collector that is down now is not an error: write() retries. */
	fc_sink__health(s)->up = sock_connect(s, p) == 0;
	return 0;
}

static int ipfix_open_udp(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	return ipfix_open_common(s, spec, 0);
}

static int ipfix_open_tcp(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	return ipfix_open_common(s, spec, 1);
}

/* Time- and count-based template refresh (UDP) and periodic statistics (both). */
static void maybe_refresh(struct ipfix_priv *p)
{
	uint64_t now = mono_ns();
	bool by_time = p->refresh_s &&
		       now - p->last_refresh_ns >= (uint64_t)p->refresh_s * 1000000000ULL;
	bool by_count = !p->tcp && p->refresh_msgs && p->msgs_since_refresh >= p->refresh_msgs;

	if (!by_time && !by_count)
		return;
	if (p->tcp)
		fc_ipfix_enc__stats_due(&p->enc);	/* TCP templates hold for the connection */
	else
		fc_ipfix_enc__resend_templates(&p->enc);
	p->last_refresh_ns = now;
	p->msgs_since_refresh = 0;
}

static int ipfix_fail(struct fc_sink *s, struct ipfix_priv *p, int err)
{
	struct fc_sink_health *h = fc_sink__health(s);

	h->failed++;
	h->up = 0;
	fc_sink__set_err(s, "%s: send: %s", fc_sink__name(s), strerror(-err));
	if (p->tcp)
		zclose(&p->fd);		/* the stream may hold a cut message */
	else
		fc_ipfix_enc__resend_templates(&p->enc);	/* collector may have restarted */
	return err;
}

static int ipfix_write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	struct ipfix_priv *p = fc_sink__priv(s);
	struct fc_sink_health *h = fc_sink__health(s);
	size_t done = 0, used;
	int len, rc = 0;

	if (p->fd >= 0 && p->tcp && peer_gone(p->fd))
		zclose(&p->fd);
	if (p->fd < 0) {
		rc = sock_connect(s, p);
		if (rc) {
			h->failed++;
			h->up = 0;
			return rc;
		}
	}
	for (;;) {
		maybe_refresh(p);
		len = fc_ipfix_enc__build(&p->enc, recs + done, n - done, (uint32_t)time(NULL),
					  p->buf, p->enc.o.max_msg, &used);
		if (len <= 0) {
			rc = len;
			break;
		}
		rc = send_msg(p, p->buf, (size_t)len);
		if (rc) {
			ipfix_fail(s, p, rc);
			break;
		}
		fc_ipfix_enc__commit(&p->enc);
		p->msgs_since_refresh++;
		h->bytes += (uint64_t)len;
		h->up = 1;
		done += used;
	}
	h->written += done;
	if (rc < 0 && !done)
		return rc;
	return (int)done;
}

static int ipfix_flush(struct fc_sink *s)
{
	return 0;	/* every write() sends whole messages; nothing is held back */
}

static void ipfix_close(struct fc_sink *s)
{
	struct ipfix_priv *p = fc_sink__priv(s);

	if (p->buf)	/* open() got far enough to own a socket */
		zclose(&p->fd);
	free(p->buf);
	p->buf = NULL;
}

#define IPFIX_OPTS "?domain=N&uniflow=0|1&template_refresh=S&template_refresh_pkts=N&mtu=N" \
		   "&timestamps=ms|ns&timeout_ms=N"

static const struct fc_sink_ops ipfix_udp_ops = {
	.type = "ipfix",
	.help = "ipfix://HOST:PORT" IPFIX_OPTS " - IPFIX (RFC 7011) over UDP",
	.priv_size = sizeof(struct ipfix_priv),
	.open = ipfix_open_udp,
	.write = ipfix_write,
	.flush = ipfix_flush,
	.close = ipfix_close,
};

static const struct fc_sink_ops ipfix_tcp_ops = {
	.type = "ipfix+tcp",
	.help = "ipfix+tcp://HOST:PORT" IPFIX_OPTS " - IPFIX over TCP (reliable transport)",
	.priv_size = sizeof(struct ipfix_priv),
	.open = ipfix_open_tcp,
	.write = ipfix_write,
	.flush = ipfix_flush,
	.close = ipfix_close,
};

FC_SINK_REGISTER(ipfix_udp_ops)
FC_SINK_REGISTER(ipfix_tcp_ops)
