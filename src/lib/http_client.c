// SPDX-License-Identifier: BSD-2-Clause
/*
 * http_client.c - the tiny HTTP/1.1 client behind http_client.h: connect
 * with a deadline, send one POST with Content-Length, read one response.
 *
 * Everything the server sends is untrusted input. It is read through one
 * bounded buffer (struct rd): lines longer than the buffer, a header block
 * over FC_HTTP_HEAD_MAX, chunk sizes over 8 hex digits and bodies over
 * FC_HTTP_BODY_MAX are protocol errors, never allocations. Only the first
 * FC_HTTP_BODY_KEEP body bytes are kept; the rest is read and dropped so the
 * connection stays usable.
 *
 * Time: one deadline covers the whole exchange (connect, send, response);
 * the socket is non-blocking and every wait is a poll() bounded by what is
 * left of it, so a dead peer costs at most timeout_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#define RD_BUF 4096		/* also the longest status/header/chunk line */
#define MAX_IOV 8

struct rd {
	int fd;
	uint64_t deadline_ms;
	size_t pos, len;
	size_t got;		/* bytes received in this exchange */
	char buf[RD_BUF];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for ev or the deadline passes. 0 or -errno. */
static int wait_fd(int fd, short ev, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd p = { .fd = fd, .events = ev };
		int r;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now));
		if (r > 0)
			return 0;	/* ready, or an error the next call reports */
		if (r == -1 && errno != EINTR)
			return -errno;
	}
}

int fc_http_conn__init(struct fc_http_conn *c, const char *host, const char *port,
		       int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(host) >= sizeof(c->host) || strlen(port) >= sizeof(c->port) || !host[0] ||
	    timeout_ms <= 0)
		return -EINVAL;
	strcpy(c->host, host);
	strcpy(c->port, port);
	c->timeout_ms = timeout_ms;
	return 0;
}

void fc_http_conn__fini(struct fc_http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline_ms, int *fdp)
{
	int fd, err, one = 1;
	socklen_t len = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		err = -errno;
		if (err != -EINPROGRESS)
			goto err_close;
		err = wait_fd(fd, POLLOUT, deadline_ms);
		if (err)
			goto err_close;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
			err = -errno;
			goto err_close;
		}
		if (err) {
			err = -err;
			goto err_close;
		}
	}
	/* Requests are written in one sendmsg; do not let Nagle hold the tail. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
err_close:
	close(fd);
	return err;
}

static int do_connect(struct fc_http_conn *c, uint64_t deadline_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int rc, err = -EHOSTUNREACH;

	rc = getaddrinfo(c->host, c->port, &hints, &res);
	if (rc)
		return rc == EAI_AGAIN ? -EAGAIN : rc == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		err = connect_one(ai, deadline_ms, &c->fd);
		if (!err || err == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (!err)
		c->connects++;
	return err;
}

/* An idle keep-alive connection that is readable was closed (or is confused). */
static int conn_is_stale(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static int send_all(int fd, struct iovec *iov, int niov, uint64_t deadline_ms)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)niov };

	while (m.msg_iovlen) {
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		int err;

		if (n == -1) {
			err = -errno;
			if (err == -EINTR)
				continue;
			if (err != -EAGAIN && err != -EWOULDBLOCK)
				return err;
			err = wait_fd(fd, POLLOUT, deadline_ms);
			if (err)
				return err;
			continue;
		}
		while (m.msg_iovlen && (size_t)n >= m.msg_iov->iov_len) {
			n -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + n;
			m.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Read more bytes into r->buf (compacting it first). 0 or -errno; EOF is -ECONNRESET. */
static int rd_fill(struct rd *r)
{
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == sizeof(r->buf))
		return -EPROTO;
	for (;;) {
		ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		int err;

		if (n > 0) {
			r->len += (size_t)n;
			r->got += (size_t)n;
			return 0;
		}
		if (n == 0)
			return -ECONNRESET;
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err != -EAGAIN && err != -EWOULDBLOCK)
			return err;
		err = wait_fd(r->fd, POLLIN, r->deadline_ms);
		if (err)
			return err;
	}
}

/*
 * Next line without its CRLF (or bare LF), NUL-terminated, in out[cap].
 * Adds its length to *total and fails with -EPROTO past FC_HTTP_HEAD_MAX.
 */
static int rd_line(struct rd *r, char *out, size_t cap, size_t *total)
{
	for (;;) {
		int err;
		char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);

		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->pos));

			*total += n + 1;
			if (*total > FC_HTTP_HEAD_MAX)
				return -EPROTO;
			if (n && nl[-1] == '\r')
				n--;
			if (n >= cap)
				return -EPROTO;
			memcpy(out, r->buf + r->pos, n);
			out[n] = '\0';
			r->pos = (size_t)(nl + 1 - r->buf);
			return 0;
		}
		if (r->len - r->pos >= cap || *total + (r->len - r->pos) > FC_HTTP_HEAD_MAX)
			return -EPROTO;
		err = rd_fill(r);
		if (err)
			return err;
	}
}

/* Consume n body bytes, keeping the first FC_HTTP_BODY_KEEP in resp. */
static int rd_body(struct rd *r, size_t n, struct fc_http_resp *resp)
{
	if (n > FC_HTTP_BODY_MAX - resp->body_total)
		return -EPROTO;
	while (n) {
		size_t avail = r->len - r->pos, take, keep;
		int err;

		if (!avail) {
			err = rd_fill(r);
			if (err)
				return err;
			continue;
		}
		take = avail < n ? avail : n;
		keep = FC_HTTP_BODY_KEEP - resp->body_len;
		if (keep > take)
			keep = take;
		memcpy(resp->body + resp->body_len, r->buf + r->pos, keep);
		resp->body_len += keep;
		resp->body_total += take;
		r->pos += take;
		n -= take;
	}
	return 0;
}

/* Body until the server closes (no length given). */
static int rd_body_eof(struct rd *r, struct fc_http_resp *resp)
{
	for (;;) {
		int err = rd_body(r, r->len - r->pos, resp);

		if (err)
			return err;
		err = rd_fill(r);
		if (err == -ECONNRESET)
			return 0;
		if (err)
			return err;
	}
}

/* Strict unsigned decimal or hex of at most maxdig digits; -1 on anything else. */
static long long parse_uint(const char *s, int base, int maxdig)
{
	long long v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (n == maxdig)
			return -1;
		v = v * base + d;
	}
	return n ? v : -1;
}

static int rd_chunked(struct rd *r, struct fc_http_resp *resp)
{
	char line[128];
	size_t total = 0;
	int err;

	for (;;) {
		long long size;

		total = 0;	/* each chunk line is bounded by itself */
		err = rd_line(r, line, sizeof(line), &total);
		if (err)
			return err;
		size = parse_uint(line, 16, 8);
		if (size < 0 || (line[strspn(line, "0123456789abcdefABCDEF")] != '\0' &&
				 line[strspn(line, "0123456789abcdefABCDEF")] != ';'))
			return -EPROTO;
		if (!size)
			break;
		err = rd_body(r, (size_t)size, resp);
		if (err)
			return err;
		err = rd_line(r, line, sizeof(line), &total);
		if (err)
			return err;
		if (line[0])
			return -EPROTO;
	}
	total = 0;
	do {		/* trailers, up to the empty line */
		err = rd_line(r, line, sizeof(line), &total);
		if (err)
			return err;
	} while (line[0]);
	return 0;
}

static const char *header_value(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* Read one response into resp. *keep = 1 if the connection may be reused. */
static int read_response(struct rd *r, struct fc_http_resp *resp, int *keep)
{
	char line[RD_BUF];
	size_t total;
	int err;

	for (;;) {
		long long clen = -1;
		int chunked = 0, http10, status;
		const char *v;

		memset(resp, 0, sizeof(*resp));
		total = 0;
		err = rd_line(r, line, sizeof(line), &total);
		if (err)
			return err;
		/* "HTTP/1.1 200 OK" */
		if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') ||
		    line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' ||
		    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
		    (line[12] != ' ' && line[12] != '\0'))
			return -EPROTO;
		http10 = line[7] == '0';
		status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
		*keep = !http10;
		for (;;) {
			err = rd_line(r, line, sizeof(line), &total);
			if (err)
				return err;
			if (!line[0])
				break;
			if ((v = header_value(line, "Content-Length"))) {
				clen = parse_uint(v, 10, 10);
				if (clen < 0 || v[strspn(v, "0123456789")] != '\0')
					return -EPROTO;
			} else if ((v = header_value(line, "Transfer-Encoding"))) {
				chunked = strcasestr(v, "chunked") != NULL;
			} else if ((v = header_value(line, "Connection"))) {
				if (strcasestr(v, "close"))
					*keep = 0;
				else if (strcasestr(v, "keep-alive"))
					*keep = 1;
			}
		}
		resp->status = status;
		if (status < 200)
			continue;	/* 100 Continue and friends: the real answer follows */
		if (status == 204 || status == 304)
			return 0;
		if (chunked)
			return rd_chunked(r, resp);
		if (clen >= 0)
			return clen > FC_HTTP_BODY_MAX ? -EPROTO : rd_body(r, (size_t)clen, resp);
		*keep = 0;
		return rd_body_eof(r, resp);
	}
}

static int exchange(struct fc_http_conn *c, const char *path, const char *extra_headers,
		    const struct iovec *body, int niov, struct fc_http_resp *resp,
		    struct rd *r)
{
	struct iovec iov[MAX_IOV + 1];
	char head[2048];
	size_t blen = 0;
	int i, n, keep = 0, err;
	const char *lb = strchr(c->host, ':') ? "[" : "", *rb = *lb ? "]" : "";

	for (i = 0; i < niov; i++)
		blen += body[i].iov_len;
	n = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Length: %zu\r\n"
		     "Connection: keep-alive\r\n%s\r\n",
		     path, lb, c->host, rb, c->port, blen, extra_headers ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	iov[0] = (struct iovec){ head, (size_t)n };
	for (i = 0; i < niov; i++)
		iov[i + 1] = body[i];
	err = send_all(c->fd, iov, niov + 1, r->deadline_ms);
	/* A server that rejects early may close while we send; its answer may still be there. */
	if (err && err != -EPIPE && err != -ECONNRESET)
		return err;
	{
		int rerr = read_response(r, resp, &keep);

		if (rerr)
			return err ? err : rerr;
	}
	c->requests++;
	if (!keep || err)
		fc_http_conn__fini(c);
	return 0;
}

int fc_http__post(struct fc_http_conn *c, const char *path, const char *extra_headers,
		  const struct iovec *body, int niov, struct fc_http_resp *resp)
{
	uint64_t deadline_ms = now_ms() + (uint64_t)c->timeout_ms;
	int attempt, err;

	if (niov < 0 || niov > MAX_IOV)
		return -EINVAL;
	for (attempt = 0;; attempt++) {
		struct rd r = { .deadline_ms = deadline_ms };
		int reused = 0;

		if (c->fd >= 0 && conn_is_stale(c->fd))
			fc_http_conn__fini(c);
		if (c->fd >= 0) {
			reused = 1;
		} else {
			err = do_connect(c, deadline_ms);
			if (err)
				return err;
		}
		r.fd = c->fd;
		err = exchange(c, path, extra_headers, body, niov, resp, &r);
		if (!err)
			return 0;
		fc_http_conn__fini(c);
		/*
		 * The server may close an idle keep-alive connection just as we
		 * reuse it; it then never saw the request. Retry that once on a
		 * fresh connection — only when not one response byte came back.
		 */
		if (reused && !attempt && !r.got && (err == -ECONNRESET || err == -EPIPE))
			continue;
		return err;
	}
}
