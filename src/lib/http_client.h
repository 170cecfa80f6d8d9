/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http_client.h - a tiny blocking HTTP/1.1 client for sinks that talk to
 * HTTP APIs (ClickHouse today): one keep-alive connection, one request at a
 * time, a whole-request deadline, and a response reader that treats every
 * byte from the server as untrusted (bounded header block, bounded chunk
 * sizes, only the first FC_HTTP_BODY_KEEP body bytes kept).
 *
 * Not a general client: no TLS, no redirects, no proxies, no pipelining.
 * One thread drives a connection (like the sink that owns it).
 */
#ifndef FLOWCUT_HTTP_CLIENT_H
#define FLOWCUT_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FC_HTTP_HOST_MAX 256
#define FC_HTTP_HEAD_MAX 8192		/* status line + headers of a response */
#define FC_HTTP_BODY_KEEP 1024		/* body bytes kept for error messages */
#define FC_HTTP_BODY_MAX (4u << 20)	/* a longer response body is a protocol error */

struct fc_http_conn {
	char host[FC_HTTP_HOST_MAX];	/* name or address, no brackets */
	char port[8];
	int timeout_ms;			/* whole request: connect + send + response */
	int fd;				/* -1 when not connected */
	uint64_t requests;		/* completed request/response exchanges */
	uint64_t connects;		/* TCP connections made */
};

struct fc_http_resp {
	int status;			/* 100..599 */
	size_t body_len;		/* body bytes kept in body[] (<= FC_HTTP_BODY_KEEP) */
	size_t body_total;		/* body bytes the server sent */
	char body[FC_HTTP_BODY_KEEP + 1];	/* NUL-terminated prefix of the body */
};

/* Set up c (no I/O). host and port are copied; returns 0 or -EINVAL if too long. */
int fc_http_conn__init(struct fc_http_conn *c, const char *host, const char *port,
		       int timeout_ms);
/* Close the connection, if any. Safe to call twice. */
void fc_http_conn__fini(struct fc_http_conn *c);

/*
 * POST body (niov pieces) to path ("/?query=..."), with extra_headers
 * (complete "Name: value\r\n" lines, or NULL). Connects or reuses the
 * keep-alive connection; a reused connection the server closed while idle
 * is reopened once. Returns 0 when a complete response was read (*resp
 * holds it, whatever the status) or a negative errno: -ECONNREFUSED,
 * -ETIMEDOUT (nothing within timeout_ms), -ECONNRESET (closed before a full
 * response), -EPROTO (malformed response), -EHOSTUNREACH (name did not
 * resolve), ... The connection is closed after any error.
 */
int fc_http__post(struct fc_http_conn *c, const char *path, const char *extra_headers,
		  const struct iovec *body, int niov, struct fc_http_resp *resp);

#endif
