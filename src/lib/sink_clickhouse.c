// SPDX-License-Identifier: BSD-2-Clause
/*
 * sink_clickhouse.c - the "clickhouse" sink: flow records into a ClickHouse
 * table over its HTTP interface, one INSERT per write() batch.
 *
 *   clickhouse://HOST[:PORT][/DB.TABLE]?user=U&password=P&timeout=5s&batch=10000&create=1
 *
 * Each write() POSTs "INSERT INTO db.table (columns) FORMAT RowBinary" with
 * the rows as a Content-Length body (at most batch= rows per request).
 * ClickHouse commits one inserted block atomically and answers 200 only
 * after it is stored (wait_end_of_query=1), so a batch is either fully
 * acknowledged or reported failed: a non-2xx answer becomes a negative
 * errno with the server's "Code: NNN ... DB::Exception: ..." text in the
 * sink's last error, and a refused or silent server becomes -ECONNREFUSED or
 * -ETIMEDOUT within timeout=. The exporter keeps and retries what failed.
 * (A connection lost after the server committed but before it answered is
 * reported as a failure, so that batch may arrive twice: at least once.)
 *
 * Why RowBinary: it is the cheapest to produce and for the server to parse
 * (see BENCHMARKS.md), and its bytes are the same for FixedString(16) and
 * IPv6, String and LowCardinality(String), so one encoder serves the 18.16
 * schema (share/clickhouse/flows.sql) and the modern one (docs/clickhouse.md).
 * The explicit column list keeps it working when columns are added.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowcut/sink.h"
#include "http_client.h"
#include "sink_clickhouse.h"

#define CH_DEFAULT_PORT "8123"
#define CH_DEFAULT_DB "flowcut"
#define CH_DEFAULT_TABLE "flows"
#define CH_DEFAULT_TIMEOUT_MS 5000
#define CH_DEFAULT_BATCH 10000
#define CH_MAX_BATCH 1000000
#define CH_IDENT_MAX 64
#define CH_SECRET_MAX 256
#define CH_NAME_MAX 15		/* longest state / end reason / tunnel name we send */

/*
 * The columns, in the order rows are encoded. start/end are derived by the
 * server (DEFAULT), so they are in the table but not in the INSERT.
 * Keep in step with share/clickhouse/flows.sql (the e2e test compares them).
 */
#define CH_COLS_HEAD(X)                                                                      \
	X("flow_id", "UInt64")                                                               \
	X("start_ns", "UInt64")                                                              \
	X("end_ns", "UInt64")
#define CH_COLS_DERIVED(X)                                                                   \
	X("start", "DateTime('UTC') DEFAULT toDateTime(intDiv(start_ns, 1000000000))")       \
	X("end", "DateTime('UTC') DEFAULT toDateTime(intDiv(end_ns, 1000000000))")
#define CH_COLS_TAIL(X)                                                                      \
	X("proto", "UInt8")                                                                  \
	X("family", "UInt8")                                                                 \
	X("src", "FixedString(16)")                                                          \
	X("dst", "FixedString(16)")                                                          \
	X("sport", "UInt16")                                                                 \
	X("dport", "UInt16")                                                                 \
	X("icmp_id", "Nullable(UInt32)")                                                     \
	X("vlan", "Nullable(UInt16)")                                                        \
	X("vlan_inner", "Nullable(UInt16)")                                                  \
	X("pkts", "UInt64")                                                                  \
	X("bytes", "UInt64")                                                                 \
	X("rpkts", "UInt64")                                                                 \
	X("rbytes", "UInt64")                                                                \
	X("tcp_flags", "UInt16")                                                             \
	X("rtcp_flags", "UInt16")                                                            \
	X("state", "String")                                                                 \
	X("history", "String")                                                               \
	X("end_reason", "String")                                                            \
	X("community_id", "String")                                                          \
	X("tunnel_type", "String")                                                           \
	X("tunnel_id", "UInt32")                                                             \
	X("tunnel_src", "FixedString(16)")                                                   \
	X("tunnel_dst", "FixedString(16)")                                                   \
	X("tunnel_depth", "UInt8")                                                           \
	X("bypass_pkts", "UInt64")                                                           \
	X("bypass_bytes", "UInt64")                                                          \
	X("bypass_rpkts", "UInt64")                                                          \
	X("bypass_rbytes", "UInt64")                                                         \
	X("bypass_start_ns", "UInt64")

#define COL_NAME(n, t) "," n
#define COL_DEF(n, t) ",\n    " n " " t

static const char insert_cols[] = CH_COLS_HEAD(COL_NAME) CH_COLS_TAIL(COL_NAME);
const char *const fc_ch_columns = insert_cols + 1;

static const char table_cols[] =
	CH_COLS_HEAD(COL_DEF) CH_COLS_DERIVED(COL_DEF) CH_COLS_TAIL(COL_DEF);

int fc_ch_create_table_sql(const char *db, const char *table, char *buf, size_t cap)
{
	int n = snprintf(buf, cap,
			 "CREATE TABLE IF NOT EXISTS %s.%s\n(%s\n)\nENGINE = MergeTree\n"
			 "PARTITION BY toYYYYMMDD(start)\n"
			 "ORDER BY (toStartOfHour(start), src, dst, start_ns)\n"
			 "SETTINGS index_granularity = 8192",
			 db, table, table_cols + 1);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* ---- RowBinary: little-endian integers, varint-length strings ---- */

static inline uint8_t *put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static inline uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static inline uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

/* Strings are clamped to maxlen (< 128), so the varint length is one byte. */
static inline uint8_t *put_str(uint8_t *p, const char *s, size_t maxlen)
{
	size_t n = strnlen(s, maxlen);

	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

/* 16 bytes, network order; IPv4 as ::ffff:a.b.c.d (what IPv6 columns hold). */
static inline uint8_t *put_addr(uint8_t *p, const struct fc_addr *a, int family)
{
	if (family == 6) {
		memcpy(p, a->b, 16);
	} else {
		memset(p, 0, 10);
		p[10] = 0xff;
		p[11] = 0xff;
		memcpy(p + 12, a->b, 4);
	}
	return p + 16;
}

static inline uint8_t *put_opt_u16(uint8_t *p, int present, uint16_t v)
{
	*p++ = !present;	/* Nullable: 1 = NULL, else 0 and the value */
	return present ? put_u16(p, v) : p;
}

/* Worst case of one row, field by field, in encode order. */
#define ROW_BOUND                                                                            \
	(3 * 8 + 2 + 2 * 16 + 2 * 2 + 5 + 3 + 3 + 4 * 8 + 2 * 2 + (1 + CH_NAME_MAX) +       \
	 (1 + FC_HISTORY_MAX) + (1 + CH_NAME_MAX) + (1 + FC_COMMUNITY_ID_LEN - 1) +          \
	 (1 + CH_NAME_MAX) + 4 + 2 * 16 + 1 + 5 * 8)
_Static_assert(ROW_BOUND <= FC_CH_ROW_MAX, "FC_CH_ROW_MAX too small for a row");
_Static_assert(FC_HISTORY_MAX < 128 && FC_COMMUNITY_ID_LEN < 128, "one-byte string lengths");

static uint8_t *encode_row(uint8_t *p, const struct fc_flow_rec *r)
{
	static const struct fc_addr zero;
	int tcp = r->proto == 6;

	p = put_u64(p, r->flow_id);
	p = put_u64(p, r->start_ns);
	p = put_u64(p, r->end_ns);
	p = put_u8(p, r->proto);
	p = put_u8(p, r->family);
	p = put_addr(p, &r->src, r->family);
	p = put_addr(p, &r->dst, r->family);
	p = put_u16(p, r->sport);
	p = put_u16(p, r->dport);
	*p++ = !r->has_icmp_id;
	if (r->has_icmp_id)
		p = put_u32(p, r->icmp_id);
	p = put_opt_u16(p, r->has_vlan > 0, r->vlan);
	p = put_opt_u16(p, r->has_vlan > 1, r->vlan_inner);
	p = put_u64(p, r->pkts);
	p = put_u64(p, r->bytes);
	p = put_u64(p, r->rpkts);
	p = put_u64(p, r->rbytes);
	/* TCP-only fields are empty for other protocols, as in the JSON record. */
	p = put_u16(p, tcp ? r->tcp_flags : 0);
	p = put_u16(p, tcp ? r->rtcp_flags : 0);
	if (tcp) {
		p = put_str(p, fc_tcp_state_name(r->tcp_state), CH_NAME_MAX);
		p = put_str(p, r->history, FC_HISTORY_MAX);
	} else {
		p = put_u8(p, 0);	/* two empty strings */
		p = put_u8(p, 0);
	}
	p = put_str(p, fc_end_reason_name(r->end_reason), CH_NAME_MAX);
	p = put_str(p, r->community_id, FC_COMMUNITY_ID_LEN - 1);
	if (r->has_tunnel) {
		p = put_str(p, fc_tunnel_type_name(r->tunnel.type), CH_NAME_MAX);
		p = put_u32(p, r->tunnel_id);
		p = put_addr(p, &r->tunnel.src, r->tunnel.family);
		p = put_addr(p, &r->tunnel.dst, r->tunnel.family);
		p = put_u8(p, r->tunnel.depth);
	} else {
		p = put_u8(p, 0);	/* empty tunnel_type */
		p = put_u32(p, 0);
		p = put_addr(p, &zero, 6);
		p = put_addr(p, &zero, 6);
		p = put_u8(p, 0);
	}
	if (r->bypass.start_ns) {
		p = put_u64(p, r->bypass.pkts);
		p = put_u64(p, r->bypass.bytes);
		p = put_u64(p, r->bypass.rpkts);
		p = put_u64(p, r->bypass.rbytes);
		p = put_u64(p, r->bypass.start_ns);
	} else {
		memset(p, 0, 5 * 8);
		p += 5 * 8;
	}
	return p;
}

size_t fc_ch_encode_rows(const struct fc_flow_rec *recs, size_t n, uint8_t *out)
{
	uint8_t *p = out;
	size_t i;

	for (i = 0; i < n; i++)
		p = encode_row(p, &recs[i]);
	return (size_t)(p - out);
}

/* ---- the sink ---- */

struct ch_priv {
	struct fc_http_conn conn;
	char db[CH_IDENT_MAX], table[CH_IDENT_MAX];
	char *insert_path;	/* "/?query=INSERT...&wait_end_of_query=1" */
	char headers[2 * CH_SECRET_MAX + 64];	/* auth header lines, or "" */
	size_t batch;		/* rows per request at most */
	int create_pending;	/* create=1 and the schema is not known to exist yet */
	uint8_t *buf;		/* encoded rows of one request */
	size_t buf_cap;
};

/* ClickHouse identifiers we accept unquoted: [A-Za-z_][A-Za-z0-9_]*. */
static int valid_ident(const char *s, size_t n)
{
	size_t i;

	if (!n || n >= CH_IDENT_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A header value must not be able to end the header (no CR, LF or controls). */
static int valid_header_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* "HOST[:PORT][/DB.TABLE]", HOST may be "[v6]". */
static int parse_target(struct fc_sink *s, struct ch_priv *p, const char *target, int timeout_ms)
{
	char host[FC_HTTP_HOST_MAX], port[8] = CH_DEFAULT_PORT;
	const char *h = target, *hend, *rest, *slash, *dot;
	size_t hlen;

	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend)
			goto bad;
		h++;
		rest = hend + 1;
	} else {
		hend = h + strcspn(h, ":/");
		rest = hend;
	}
	hlen = (size_t)(hend - h);
	if (!hlen || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (*rest == ':') {
		size_t plen = strcspn(rest + 1, "/");
		char *end;
		long v = strtol(rest + 1, &end, 10);

		if (!plen || plen >= sizeof(port) || end != rest + 1 + plen || v < 1 || v > 65535)
			goto bad;
		snprintf(port, sizeof(port), "%ld", v);
		rest += 1 + plen;
	}
	if (!*rest || !strcmp(rest, "/")) {
		strcpy(p->db, CH_DEFAULT_DB);
		strcpy(p->table, CH_DEFAULT_TABLE);
	} else {
		slash = rest;
		if (*slash != '/')
			goto bad;
		dot = strchr(slash + 1, '.');
		if (!dot || !valid_ident(slash + 1, (size_t)(dot - slash - 1)) ||
		    !valid_ident(dot + 1, strlen(dot + 1)))
			goto bad;
		memcpy(p->db, slash + 1, (size_t)(dot - slash - 1));
		p->db[dot - slash - 1] = '\0';
		strcpy(p->table, dot + 1);
	}
	return fc_http_conn__init(&p->conn, host, port, timeout_ms);
bad:
	fc_sink__set_err(s, "target '%s' is not HOST[:PORT][/DB.TABLE] (names: letters, digits, _)",
			 target);
	return -EINVAL;
}

/* Duration: a number with ms, s (default), m or h. Returns ms or -1. */
static long parse_timeout_ms(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	long mul;

	if (end == v || n < 0 || n > 86400000)
		return -1;
	if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	if (n > 86400000 / mul)
		return -1;
	return n * mul;
}

/* The whole of a small secret file, minus one trailing newline. */
static int read_secret(struct fc_sink *s, const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;
	size_t len = 0;

	if (fd == -1) {
		err = -errno;
		fc_sink__set_err(s, "password_file %s: %s", path, strerror(-err));
		return err;
	}
	while ((n = read(fd, out + len, cap - len)) > 0)
		len += (size_t)n;
	err = n == -1 ? -errno : 0;
	close(fd);
	if (err || len == cap) {
		fc_sink__set_err(s, "password_file %s: %s", path,
				 err ? strerror(-err) : "longer than 255 bytes");
		return err ? err : -EINVAL;
	}
	out[len] = '\0';
	if (len && out[len - 1] == '\n')
		out[--len] = '\0';
	if (len && out[len - 1] == '\r')
		out[--len] = '\0';
	return 0;
}

/* Percent-encode everything but unreserved characters (RFC 3986). */
static char *url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static int ch_open(struct fc_sink *s, const struct fc_sink_spec *spec)
{
	struct ch_priv *p = fc_sink__priv(s);
	const char *user = NULL, *password = NULL, *password_file = NULL;
	char secret[CH_SECRET_MAX], query[2048], *enc;
	long timeout_ms = CH_DEFAULT_TIMEOUT_MS;
	unsigned i;
	int rc;

	p->conn.fd = -1;
	p->batch = CH_DEFAULT_BATCH;
	fc_sink__set_batch_hint(s, p->batch);
	for (i = 0; i < spec->nopts; i++) {
		const char *k = spec->opts[i].key, *v = spec->opts[i].val;

		if (!strcmp(k, "user")) {
			user = v;
		} else if (!strcmp(k, "password")) {
			password = v;
		} else if (!strcmp(k, "password_file")) {
			password_file = v;
		} else if (!strcmp(k, "timeout")) {
			timeout_ms = parse_timeout_ms(v);
			if (timeout_ms <= 0) {
				fc_sink__set_err(s, "timeout=%s: want a duration like 500ms or 5s", v);
				return -EINVAL;
			}
		} else if (!strcmp(k, "batch")) {
			char *end;
			long long b = strtoll(v, &end, 10);

			if (end == v || *end || b < 1 || b > CH_MAX_BATCH) {
				fc_sink__set_err(s, "batch=%s: want 1 .. %d rows", v, CH_MAX_BATCH);
				return -EINVAL;
			}
			p->batch = (size_t)b;
			fc_sink__set_batch_hint(s, p->batch);
		} else if (!strcmp(k, "create")) {
			if (strcmp(v, "0") && strcmp(v, "1")) {
				fc_sink__set_err(s, "create=%s: want 0 or 1", v);
				return -EINVAL;
			}
			p->create_pending = v[0] == '1';
		} else {
			fc_sink__set_err(s, "unknown option '%s' (user, password, password_file, "
					    "timeout, batch, create)", k);
			return -EINVAL;
		}
	}
	rc = parse_target(s, p, spec->target, (int)timeout_ms);
	if (rc)
		return rc;
	if (password && password_file) {
		fc_sink__set_err(s, "password= and password_file= both given");
		return -EINVAL;
	}
	if (password_file) {
		rc = read_secret(s, password_file, secret, sizeof(secret));
		if (rc)
			return rc;
		password = secret;
	}
	if (user || password) {
		user = user ? user : "default";
		password = password ? password : "";
		if (!valid_header_value(user) || !valid_header_value(password) ||
		    strlen(user) >= CH_SECRET_MAX || strlen(password) >= CH_SECRET_MAX) {
			fc_sink__set_err(s, "user or password holds control characters or is too long");
			rc = -EINVAL;
			goto out;
		}
		snprintf(p->headers, sizeof(p->headers),
			 "X-ClickHouse-User: %s\r\nX-ClickHouse-Key: %s\r\n", user, password);
	}
	snprintf(query, sizeof(query), "INSERT INTO %s.%s (%s) FORMAT RowBinary", p->db, p->table,
		 fc_ch_columns);
	enc = url_encode(query);
	if (!enc) {
		rc = -ENOMEM;
		goto out;
	}
	p->insert_path = malloc(strlen(enc) + 64);
	if (p->insert_path)
		sprintf(p->insert_path, "/?query=%s&wait_end_of_query=1", enc);
	free(enc);
	rc = p->insert_path ? 0 : -ENOMEM;
out:
	/* No connection yet: a server that is down at start is retried by write(). */
	memset(secret, 0, sizeof(secret));
	return rc;
}

static int status_errno(int status)
{
	switch (status) {
	case 400: return -EINVAL;	/* syntax, bad data */
	case 401:
	case 403: return -EACCES;	/* wrong user/password, readonly */
	case 404: return -ENOENT;	/* unknown database or table */
	case 408: return -ETIMEDOUT;
	case 411:
	case 413: return -EMSGSIZE;
	case 503: return -EAGAIN;
	default: return -EIO;	/* 500: DB::Exception (too many parts, memory, ...) */
	}
}

/*
 * The server's message, made safe for a log line: the first line of the
 * body, printable ASCII only, without 18.16's ", e.what() = ..." tail.
 */
static void server_message(const struct fc_http_resp *r, char *out, size_t cap)
{
	const char *b = r->body, *tail;
	size_t n = strcspn(b, "\r\n"), i, o = 0;

	tail = strstr(b, ", e.what() = ");
	if (tail && (size_t)(tail - b) < n)
		n = (size_t)(tail - b);
	for (i = 0; i < n && o + 1 < cap; i++)
		out[o++] = b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '?';
	if (cap)
		out[o] = '\0';
	if (!o && cap)
		snprintf(out, cap, "(no message)");
}

/*
 * POST one body; 0 when the server acknowledged it with 2xx, else a
 * negative errno with the reason in the sink's last error.
 */
static int post(struct fc_sink *s, const char *path, const void *body, size_t len)
{
	struct ch_priv *p = fc_sink__priv(s);
	struct iovec iov = { (void *)body, len };
	struct fc_http_resp resp;
	char msg[200];
	int rc;

	rc = fc_http__post(&p->conn, path, p->headers, &iov, 1, &resp);
	if (rc) {
		fc_sink__set_err(s, "%s:%s: %s", p->conn.host, p->conn.port, strerror(-rc));
		return rc;
	}
	server_message(&resp, msg, sizeof(msg));
	if (resp.status < 200 || resp.status > 299) {
		fc_sink__set_err(s, "%s:%s: HTTP %d: %s", p->conn.host, p->conn.port, resp.status,
				 msg);
		return status_errno(resp.status);
	}
	/* Belt and braces: an exception after a 200 header must not pass as success. */
	if (strstr(resp.body, "DB::Exception")) {
		fc_sink__set_err(s, "%s:%s: %s", p->conn.host, p->conn.port, msg);
		return -EIO;
	}
	return 0;
}

static int ensure_schema(struct fc_sink *s)
{
	struct ch_priv *p = fc_sink__priv(s);
	char sql[4096];
	int n, rc;

	n = snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS %s", p->db);
	rc = post(s, "/", sql, (size_t)n);
	if (rc)
		return rc;
	n = fc_ch_create_table_sql(p->db, p->table, sql, sizeof(sql));
	if (n < 0)
		return n;
	rc = post(s, "/", sql, (size_t)n);
	if (!rc)
		p->create_pending = 0;
	return rc;
}

static int reserve(struct ch_priv *p, size_t rows)
{
	size_t need = rows * FC_CH_ROW_MAX;
	uint8_t *b;

	if (need <= p->buf_cap)
		return 0;
	b = realloc(p->buf, need);
	if (!b)
		return -ENOMEM;
	p->buf = b;
	p->buf_cap = need;
	return 0;
}

static int ch_write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n)
{
	struct ch_priv *p = fc_sink__priv(s);
	struct fc_sink_health *h = fc_sink__health(s);
	size_t done = 0;
	int rc = 0;

	if (n > INT_MAX)
		n = INT_MAX;	/* the rest is re-offered */
	if (p->create_pending) {
		rc = ensure_schema(s);
		if (rc)
			goto fail;
	}
	rc = reserve(p, n < p->batch ? n : p->batch);
	if (rc) {
		fc_sink__set_err(s, "out of memory for %zu rows", n < p->batch ? n : p->batch);
		goto fail;
	}
	while (done < n) {
		size_t k = n - done < p->batch ? n - done : p->batch;
		size_t len = fc_ch_encode_rows(recs + done, k, p->buf);

		rc = post(s, p->insert_path, p->buf, len);
		if (rc)
			goto fail;
		done += k;
		h->written += k;
		h->bytes += len;
	}
	h->up = 1;
	return (int)n;
fail:
	h->failed++;
	h->up = 0;
	/* Whole requests before the failure are stored: report them delivered. */
	return done ? (int)done : rc;
}

static int ch_flush(struct fc_sink *s)
{
	(void)s;	/* nothing is buffered between writes */
	return 0;
}

/* SIGHUP: drop the connection so the next write resolves and connects afresh. */
static int ch_reopen(struct fc_sink *s)
{
	struct ch_priv *p = fc_sink__priv(s);

	fc_http_conn__fini(&p->conn);
	return 0;
}

static void ch_close(struct fc_sink *s)
{
	struct ch_priv *p = fc_sink__priv(s);

	fc_http_conn__fini(&p->conn);
	free(p->insert_path);
	free(p->buf);
	memset(p->headers, 0, sizeof(p->headers));
	p->insert_path = NULL;
	p->buf = NULL;
}

static const struct fc_sink_ops clickhouse_ops = {
	.type = "clickhouse",
	.help = "clickhouse://HOST[:8123][/DB.TABLE]?user=U&password=P|password_file=F"
		"&timeout=5s&batch=10000&create=1  (HTTP, RowBinary inserts)",
	.priv_size = sizeof(struct ch_priv),
	.open = ch_open,
	.write = ch_write,
	.flush = ch_flush,
	.reopen = ch_reopen,
	.close = ch_close,
};

FC_SINK_REGISTER(clickhouse_ops);
