// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_query.c - read side of the SQLite flow store (store.h): top-N
 * summaries and record lists for `flowcut query`.
 *
 * Top-N plan: when the only filter is the time range (and perhaps proto),
 * whole days and hours come from the rollups (talk_*, port_*) and the
 * partial hours at the range's edges from the flows table; with address or
 * port filters everything comes from flows. flows has no index but its
 * rowid (schema v4): a time range is read as the id ranges of the
 * insertion segments whose end times overlap it (flow_segs), and an
 * address as the ids its key has in each such segment's postings
 * (seg_addrs, store_post.h), fetched one by one and compared. Either way
 * SQLite only streams rows: the grouping is done here in a hash table,
 * which is several times faster than SQLite's sorter-based GROUP BY on
 * millions of rows, and the top N is a sort of the groups. docs/store.md
 * has the numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowcut/store.h"
#include "oahash.h"
#include "store_post.h"
#include "store_rollup.h"
#include "store_schema.h"

#define BUSY_MS 2000

struct fc_store {
	sqlite3 *db;
};

static const char *const top_names[FC_STORE_TOP__COUNT] = {
	[FC_STORE_TOP_TALKERS] = "talkers", [FC_STORE_TOP_SRC] = "src",
	[FC_STORE_TOP_DST] = "dst", [FC_STORE_TOP_PORTS] = "ports",
	[FC_STORE_TOP_PROTOCOLS] = "protocols",
};

int fc_store_top_parse(const char *s, enum fc_store_top *out)
{
	int i;

	for (i = 0; i < FC_STORE_TOP__COUNT; i++) {
		if (!strcmp(s, top_names[i])) {
			*out = (enum fc_store_top)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fc_store_top_name(enum fc_store_top t)
{
	return (unsigned)t < FC_STORE_TOP__COUNT ? top_names[t] : "?";
}

void fc_store_filter__init(struct fc_store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->port = -1;
	f->proto = -1;
}

struct fc_store *fc_store__open(const char *path, char *err, size_t errlen)
{
	struct fc_store *st;
	struct stat sb;
	int rc, v;

	if (stat(path, &sb) == -1) {
		rc = errno;
		if (rc == ENOENT)
			snprintf(err, errlen, "no flow store at %s", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(rc));
		errno = rc;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		v = fc_store_errno(st->db, rc);
		goto err_close;
	}
	sqlite3_busy_timeout(st->db, BUSY_MS);
	sqlite3_exec(st->db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
	v = fc_store_version(st->db);
	if (v < 0) {
		snprintf(err, errlen, "%s: not a flow store (%s)", path, sqlite3_errmsg(st->db));
		v = v == -EBUSY ? v : -EBADMSG;
		goto err_close;
	}
	if (v == 0) {
		snprintf(err, errlen, "%s: not a flow store (no schema_version)", path);
		v = -EBADMSG;
		goto err_close;
	}
	if (v != FC_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: store schema version %d, this flowcut reads %d%s", path, v,
			 FC_STORE_SCHEMA_VERSION,
			 v < FC_STORE_SCHEMA_VERSION ? " (open it once with the sqlite sink to migrate)" : "");
		v = -ENOTSUP;
		goto err_close;
	}
	return st;
err_close:
	sqlite3_close_v2(st->db);
	free(st);
	errno = -v;
	return NULL;
}

void fc_store__close(struct fc_store *st)
{
	if (!st)
		return;
	sqlite3_close_v2(st->db);
	free(st);
}

/* ---- grouping ---------------------------------------------------------- */

struct group {
	uint64_t hash;		/* 0 = empty slot */
	struct fc_store_top_row row;
};

struct agg {
	struct group *slots;
	size_t cap;		/* power of two */
	size_t used;
	int neg;		/* subtract what is added (cover()'s complements) */
};

/* FNV-1a over the text and the numbers, then a full 64-bit mix (murmur3's
 * fmix64) so the low bits used for the slot depend on every input bit:
 * port-only keys otherwise fill consecutive slots and linear probing
 * degenerates. */
static uint64_t hash_key(const char *addr, int proto, int port)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *addr; addr++)
		h = (h ^ (unsigned char)*addr) * 1099511628211ULL;
	h ^= (uint64_t)(unsigned)proto << 32 | (uint32_t)port;
	return fc_oa_finish(h);
}

static int agg_grow(struct agg *a)
{
	return fc_oa_grow(&a->slots, &a->cap, sizeof(*a->slots), offsetof(struct group, hash), 1024);
}

static int agg_add(struct agg *a, const char *addr, int proto, int port, uint64_t bytes,
		   uint64_t pkts, uint64_t flows)
{
	uint64_t h = hash_key(addr, proto, port);
	struct group *g;
	size_t j;

	if ((a->used + 1) * 4 > a->cap * 3 && agg_grow(a))
		return -ENOMEM;
	if (a->neg) {	/* unsigned wrap-around: the sums come out exact */
		bytes = -bytes;
		pkts = -pkts;
		flows = -flows;
	}
	for (j = h & (a->cap - 1);; j = (j + 1) & (a->cap - 1)) {
		g = &a->slots[j];
		if (!g->hash)
			break;
		if (g->hash == h && g->row.proto == proto && g->row.port == port &&
		    !strcmp(g->row.addr, addr))
			goto found;
	}
	g->hash = h;
	snprintf(g->row.addr, sizeof(g->row.addr), "%s", addr);
	g->row.proto = proto;
	g->row.port = port;
	a->used++;
found:
	g->row.bytes += bytes;
	g->row.pkts += pkts;
	g->row.flows += flows;
	return 0;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct fc_store_top_row *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->pkts != b->pkts)
		return a->pkts > b->pkts ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return strcmp(a->addr, b->addr);
}

/* ---- SQL building ------------------------------------------------------ */

/* Canonical text of an address ("2001:DB8::01" -> "2001:db8::1") and its
 * postings key. 0 or -EINVAL. */
static int canon_addr(const char *in, char *out, size_t cap, uint32_t *key)
{
	struct fc_addr a;
	int family = fc_addr_from_str(in, &a);

	if (family < 0)
		return family;
	fc_addr_to_str(&a, family, out, cap);
	*key = fc_post_key(family, &a);
	return 0;
}

struct cfilter {
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN];
	int has_src, has_dst, has_host;
	uint32_t src_key, dst_key, host_key;	/* fc_post_key() */
	int port, proto;
	int64_t mark;		/* rollup_upto, for the rollup plan's raw parts */
};

static int canon_filter(const struct fc_store_filter *f, struct cfilter *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->port = f->port;
	c->proto = f->proto;
#define CANON(field)                                                                       \
	if (f->field) {                                                                    \
		if (canon_addr(f->field, c->field, sizeof(c->field), &c->field##_key)) {  \
			snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", f->field); \
			return -EINVAL;                                                     \
		}                                                                          \
		c->has_##field = 1;                                                        \
	}
	CANON(src)
	CANON(dst)
	CANON(host)
#undef CANON
	if (f->port > 65535 || f->proto > 255) {
		snprintf(err, errlen, "port or protocol out of range");
		return -EINVAL;
	}
	return 0;
}

/* " AND ..." for the non-time filters on flows; named parameters. */
static void filter_sql(const struct cfilter *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s",
		 c->has_src ? " AND src = :src" : "",
		 c->has_dst ? " AND dst = :dst" : "",
		 c->has_host ? " AND (src = :host OR dst = :host)" : "",
		 c->port >= 0 ? " AND (sport = :port OR dport = :port)" : "",
		 c->proto >= 0 ? " AND proto = :proto" : "");
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void bind_named_i64(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_int64(st, i, v);
}

static void bind_filter(sqlite3_stmt *st, const struct cfilter *c)
{
	bind_named_text(st, ":src", c->src);
	bind_named_text(st, ":dst", c->dst);
	bind_named_text(st, ":host", c->host);
	bind_named_i64(st, ":port", c->port);
	bind_named_i64(st, ":proto", c->proto);
}

static int sql_fail(struct fc_store *st, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(st->db));
	return fc_store_errno(st->db, rc);
}

static int64_t clamp_ns(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* [lo, hi) narrowed to the end times actually stored; empty -> lo >= hi. */
static int data_range(struct fc_store *st, int64_t *lo, int64_t *hi, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	/* min_end may be below the oldest row left by retention: only narrows less */
	rc = sqlite3_prepare_v2(st->db, "SELECT min(min_end), max(max_end) FROM flow_segs", -1, &s,
				NULL);
	if (rc != SQLITE_OK)
		return sql_fail(st, rc, err, errlen);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
			*hi = *lo;
		} else {
			int64_t mn = sqlite3_column_int64(s, 0), mx = sqlite3_column_int64(s, 1);

			if (*lo < mn)
				*lo = mn;
			if (mx < INT64_MAX && *hi > mx + 1)
				*hi = mx + 1;
		}
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sql_fail(st, rc, err, errlen);
}

static int has_addr(const struct cfilter *c)
{
	return c->has_src || c->has_dst || c->has_host;
}

typedef int (*row_fn)(sqlite3_stmt *s, void *ctx);
/* After each segment (or run of segments): next_max_end is the highest end
 * time the ones still to come can hold (INT64_MIN when none). Nonzero
 * stops the scan. */
typedef int (*seg_fn)(void *ctx, int64_t next_max_end);

/* A flow_segs row, or a run of segments whose id ranges overlap. */
struct seg_ent {
	int64_t seg, max_end, first_id, last_id;
};

/* What a scan reads: end times [lo, hi), ids [id_lo, id_hi]. */
struct span {
	int64_t lo, hi, id_lo, id_hi;
};

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* The flow_segs rows that may hold end times in [lo, hi), by seg. *out is
 * malloc'd. Returns 0 or -errno. */
static int list_segs(struct fc_store *st, int64_t lo, int64_t hi, struct seg_ent **out, size_t *n,
		     char *err, size_t errlen)
{
	struct seg_ent *v = NULL, *nv;
	size_t cap = 0;
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	rc = sqlite3_prepare_v2(st->db, "SELECT seg, max_end, first_id, last_id FROM flow_segs"
				" WHERE max_end >= ?1 AND min_end < ?2 AND last_id >= first_id"
				" ORDER BY seg", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(st, rc, err, errlen);
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		v[*n].seg = sqlite3_column_int64(s, 0);
		v[*n].max_end = sqlite3_column_int64(s, 1);
		v[*n].first_id = sqlite3_column_int64(s, 2);
		v[*n].last_id = sqlite3_column_int64(s, 3);
		++*n;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return rc == SQLITE_NOMEM ? oom(err, errlen) : sql_fail(st, rc, err, errlen);
	}
	*out = v;
	return 0;
}

static int cmp_first_id(const void *pa, const void *pb)
{
	const struct seg_ent *a = pa, *b = pb;

	return a->first_id < b->first_id ? -1 : a->first_id > b->first_id;
}

/* newest first: max_end, then seg (or first id for runs) */
static int cmp_max_end_desc(const void *pa, const void *pb)
{
	const struct seg_ent *a = pa, *b = pb;

	if (a->max_end != b->max_end)
		return a->max_end > b->max_end ? -1 : 1;
	if (a->seg != b->seg)
		return a->seg > b->seg ? -1 : 1;
	return a->first_id > b->first_id ? -1 : a->first_id < b->first_id;
}

/*
 * Merge segments whose id ranges overlap into runs, so that no row is read
 * twice (one writer's segments never overlap; a v1 store's hours, or two
 * writers taking turns, may), and clip them to [id_lo, id_hi]. Runs are in
 * id order; *n shrinks.
 */
static void make_runs(struct seg_ent *v, size_t *n, int64_t id_lo, int64_t id_hi)
{
	size_t i, k = 0;

	qsort(v, *n, sizeof(*v), cmp_first_id);
	for (i = 0; i < *n; i++) {
		if (k && v[i].first_id <= v[k - 1].last_id) {
			if (v[i].last_id > v[k - 1].last_id)
				v[k - 1].last_id = v[i].last_id;
			if (v[i].max_end > v[k - 1].max_end)
				v[k - 1].max_end = v[i].max_end;
			continue;
		}
		v[k] = v[i];
		v[k++].seg = -1;
	}
	*n = 0;
	for (i = 0; i < k; i++) {
		if (v[i].first_id < id_lo)
			v[i].first_id = id_lo;
		if (v[i].last_id > id_hi)
			v[i].last_id = id_hi;
		if (v[i].first_id <= v[i].last_id)
			v[(*n)++] = v[i];
	}
}

struct ids {
	int64_t *v;
	size_t n, cap;
	int64_t base, id_lo, id_hi;	/* fc_post_find()'s offsets are from base */
};

static int ids_add(uint32_t off, void *ctx)
{
	struct ids *d = ctx;
	int64_t id = d->base + off, *nv;

	if (id < d->id_lo || id > d->id_hi)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;

		nv = realloc(d->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n++] = id;
	return 0;
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Add to d the ids of seg's side-side rows whose address has key. 0 or
 * -errno (-ENOMEM, or a SQLite failure). */
static int post_ids(struct fc_store *st, sqlite3_stmt *ps, int64_t seg, int side, uint32_t key,
		    struct ids *d, char *err, size_t errlen)
{
	int rc, e = 0;

	sqlite3_bind_int64(ps, 1, seg);
	sqlite3_bind_int(ps, 2, side);
	sqlite3_bind_int64(ps, 3, key);
	while (!e && (rc = sqlite3_step(ps)) == SQLITE_ROW) {
		const uint8_t *data = sqlite3_column_blob(ps, 1);
		size_t len = (size_t)sqlite3_column_bytes(ps, 1);

		d->base = sqlite3_column_int64(ps, 0);
		if (data)
			e = fc_post_find(data, len, key, ids_add, d);
	}
	if (e)
		oom(err, errlen);
	else if (rc != SQLITE_DONE)
		e = sql_fail(st, rc, err, errlen);
	sqlite3_reset(ps);
	return e;
}

/*
 * The ids of segment seg that an address filter may match, ascending and
 * each once, into d: through the postings of the most selective address
 * (src or dst: one side; host: both). Rows are compared by the caller's
 * SQL, so a key shared by another address only costs a fetch.
 */
static int seg_ids(struct fc_store *st, sqlite3_stmt *ps, const struct cfilter *c, int64_t seg,
		   struct ids *d, char *err, size_t errlen)
{
	size_t i, k;
	int e;

	d->n = 0;
	if (c->has_src)
		return post_ids(st, ps, seg, 0, c->src_key, d, err, errlen);
	if (c->has_dst)
		return post_ids(st, ps, seg, 1, c->dst_key, d, err, errlen);
	e = post_ids(st, ps, seg, 0, c->host_key, d, err, errlen);
	if (!e)
		e = post_ids(st, ps, seg, 1, c->host_key, d, err, errlen);
	if (e)
		return e;
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_i64);
	for (i = 0, k = 0; i < d->n; i++)	/* a host talking to itself: once */
		if (!k || d->v[k - 1] != d->v[i])
			d->v[k++] = d->v[i];
	d->n = k;
	return 0;
}

static int step_rows(struct fc_store *st, sqlite3_stmt *s, row_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	int rc, e = 0;

	while (!e && (rc = sqlite3_step(s)) == SQLITE_ROW)
		e = fn(s, ctx);
	if (!e && rc != SQLITE_DONE && rc != SQLITE_ROW)
		e = sql_fail(st, rc, err, errlen);
	sqlite3_reset(s);
	return e;
}

/* The address path of scan_flows(): segments in v[0..n), each through its
 * postings, rows fetched by id. */
static int scan_addr(struct fc_store *st, const char *cols, const struct cfilter *c,
		     const struct span *sp, struct seg_ent *v, size_t n, row_fn fn, seg_fn done,
		     void *ctx, char *err, size_t errlen)
{
	struct ids d = { NULL, 0, 0, 0, sp->id_lo, sp->id_hi };
	sqlite3_stmt *s = NULL, *ps = NULL;
	char sql[2048], filt[512];
	size_t i, j;
	int rc, e = 0;

	filter_sql(c, filt, sizeof(filt));
	snprintf(sql, sizeof(sql), "SELECT %s FROM flows WHERE id = :id AND end_ns >= :lo"
		 " AND end_ns < :hi%s", cols, filt);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "SELECT first_id, data FROM seg_addrs WHERE seg = ?1"
					" AND side = ?2 AND first_key <= ?3 AND last_key >= ?3"
					" ORDER BY chunk", -1, &ps, NULL);
	if (rc != SQLITE_OK) {
		e = sql_fail(st, rc, err, errlen);
		goto out;
	}
	bind_filter(s, c);
	bind_named_i64(s, ":lo", sp->lo);
	bind_named_i64(s, ":hi", sp->hi);
	for (i = 0; !e && i < n; i++) {
		e = seg_ids(st, ps, c, v[i].seg, &d, err, errlen);
		for (j = 0; !e && j < d.n; j++) {
			bind_named_i64(s, ":id", d.v[j]);
			e = step_rows(st, s, fn, ctx, err, errlen);
		}
		if (!e && done)
			e = done(ctx, i + 1 < n ? v[i + 1].max_end : INT64_MIN);
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(ps);
	free(d.v);
	return e;
}

/*
 * Run "SELECT cols FROM flows WHERE <end_ns in [lo, hi)> <filters> tail"
 * over the rows with ids in [id_lo, id_hi], and hand each row to fn. The
 * rows are those of the segments whose end times overlap the range: read
 * by id range per run of segments, or with an address filter through each
 * segment's postings (tail unused). Segments or runs go by max_end,
 * highest first, when backwards, and done, when not NULL, is asked after
 * each whether to go on. Returns 0, fn's or done's nonzero value, or a
 * negative errno.
 */
static int scan_flows(struct fc_store *st, const char *cols, const char *tail,
		      const struct cfilter *c, const struct span *sp, int backwards,
		      row_fn fn, seg_fn done, void *ctx, char *err, size_t errlen)
{
	char sql[2048], filt[512];
	struct seg_ent *v = NULL;
	size_t i, n;
	sqlite3_stmt *s;
	int rc, e;

	e = list_segs(st, sp->lo, sp->hi, &v, &n, err, errlen);
	if (e || !n) {
		free(v);
		return e;
	}
	if (has_addr(c)) {
		if (backwards)
			qsort(v, n, sizeof(*v), cmp_max_end_desc);
		e = scan_addr(st, cols, c, sp, v, n, fn, done, ctx, err, errlen);
		free(v);
		return e;
	}
	make_runs(v, &n, sp->id_lo, sp->id_hi);
	if (backwards)
		qsort(v, n, sizeof(*v), cmp_max_end_desc);
	filter_sql(c, filt, sizeof(filt));
	snprintf(sql, sizeof(sql), "SELECT %s FROM flows WHERE id >= :a AND id <= :b AND end_ns >= :lo"
		 " AND end_ns < :hi%s %s", cols, filt, tail);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		free(v);
		return sql_fail(st, rc, err, errlen);
	}
	bind_filter(s, c);
	bind_named_i64(s, ":lo", sp->lo);
	bind_named_i64(s, ":hi", sp->hi);
	for (i = 0; !e && i < n; i++) {
		bind_named_i64(s, ":a", v[i].first_id);
		bind_named_i64(s, ":b", v[i].last_id);
		e = step_rows(st, s, fn, ctx, err, errlen);
		if (!e && done)
			e = done(ctx, i + 1 < n ? v[i + 1].max_end : INT64_MIN);
	}
	sqlite3_finalize(s);
	free(v);
	return e;
}

struct raw_ctx {
	enum fc_store_top by;
	struct agg *a;
};

static int raw_row(sqlite3_stmt *s, void *ctx)
{
	struct raw_ctx *r = ctx;
	struct agg *a = r->a;
	const char *src = (const char *)sqlite3_column_text(s, 0);
	const char *dst = (const char *)sqlite3_column_text(s, 1);
	int proto = sqlite3_column_int(s, 2), dport = sqlite3_column_int(s, 3), e;
	uint64_t bytes = (uint64_t)sqlite3_column_int64(s, 4);
	uint64_t pkts = (uint64_t)sqlite3_column_int64(s, 5);

	src = src ? src : "";
	dst = dst ? dst : "";
	switch (r->by) {
	case FC_STORE_TOP_TALKERS:
		e = agg_add(a, src, -1, -1, bytes, pkts, 1);
		/* a flow from a host to itself counts once */
		if (!e && strcmp(src, dst))
			e = agg_add(a, dst, -1, -1, bytes, pkts, 1);
		return e;
	case FC_STORE_TOP_SRC:
		return agg_add(a, src, -1, -1, bytes, pkts, 1);
	case FC_STORE_TOP_DST:
		return agg_add(a, dst, -1, -1, bytes, pkts, 1);
	case FC_STORE_TOP_PORTS:
		return agg_add(a, "", proto, dport, bytes, pkts, 1);
	default:
		return agg_add(a, "", proto, -1, bytes, pkts, 1);
	}
}

/* Raw flows with end_ns in [lo, hi) and ids in [id_lo, id_hi] into the groups. */
static int agg_raw(struct fc_store *st, enum fc_store_top by, const struct cfilter *c,
		   int64_t id_lo, int64_t id_hi, int64_t lo, int64_t hi, struct agg *a, char *err,
		   size_t errlen)
{
	struct raw_ctx r = { by, a };
	struct span sp = { lo, hi, id_lo, id_hi };
	int e;

	e = scan_flows(st, "src, dst, proto, dport, bytes + rbytes, pkts + rpkts", "", c, &sp, 0,
		       raw_row, NULL, &r, err, errlen);
	if (e == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return e;
}

/* Rollup buckets [blo, bhi) into the groups: every entry of every part
 * (store_rollup.h), filtered by proto and side here. */
static int agg_rollup(struct fc_store *st, enum fc_store_top by, const struct cfilter *c,
		      int tier, int64_t blo, int64_t bhi, struct agg *a, char *err, size_t errlen)
{
	int ports = by == FC_STORE_TOP_PORTS || by == FC_STORE_TOP_PROTOCOLS;
	char sql[256], addr[INET6_ADDRSTRLEN];
	struct fc_rollup_ent ent;
	sqlite3_stmt *s;
	int rc, e = 0;

	snprintf(sql, sizeof(sql), "SELECT data FROM %s WHERE bucket >= ?1 AND bucket < ?2",
		 ports ? fc_store_tiers[tier].port : fc_store_tiers[tier].talk);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(st, rc, err, errlen);
	sqlite3_bind_int64(s, 1, blo);
	sqlite3_bind_int64(s, 2, bhi);
	while (!e && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const uint8_t *p = sqlite3_column_blob(s, 0);
		int i, n = sqlite3_column_bytes(s, 0) / FC_ROLLUP_ENT_SIZE;

		for (i = 0; i < n && !e; i++) {
			fc_rollup_ent__read(p + (size_t)i * FC_ROLLUP_ENT_SIZE, &ent);
			if (c->proto >= 0 && ent.proto != c->proto)
				continue;
			if (by == FC_STORE_TOP_PORTS) {
				e = agg_add(a, "", ent.proto, ent.port, ent.bytes, ent.pkts, ent.flows);
				continue;
			}
			if (by == FC_STORE_TOP_PROTOCOLS) {
				e = agg_add(a, "", ent.proto, -1, ent.bytes, ent.pkts, ent.flows);
				continue;
			}
			if ((by == FC_STORE_TOP_SRC && ent.side != 0) ||
			    (by == FC_STORE_TOP_DST && ent.side != 1))
				continue;
			fc_addr_to_str(&ent.addr, ent.family, addr, sizeof(addr));
			if (ent.side == 2)	/* self-flow seen as src and dst: count it once */
				e = agg_add(a, addr, -1, -1, -ent.bytes, -ent.pkts, -ent.flows);
			else
				e = agg_add(a, addr, -1, -1, ent.bytes, ent.pkts, ent.flows);
		}
	}
	if (!e && rc != SQLITE_DONE && rc != SQLITE_ROW)
		e = sql_fail(st, rc, err, errlen);
	else if (e)
		snprintf(err, errlen, "out of memory");
	sqlite3_finalize(s);
	return e;
}

/* Subtract [lo, hi) at tier: the complement of an edge inside one bucket. */
static int cover(struct fc_store *st, enum fc_store_top by, const struct cfilter *c, int tier,
		 int64_t lo, int64_t hi, struct agg *a, char *err, size_t errlen);

static int uncover(struct fc_store *st, enum fc_store_top by, const struct cfilter *c, int tier,
		   int64_t lo, int64_t hi, struct agg *a, char *err, size_t errlen)
{
	int rc;

	a->neg = !a->neg;
	rc = cover(st, by, c, tier, lo, hi, a, err, errlen);
	a->neg = !a->neg;
	return rc;
}

/*
 * [lo, hi) from the coarsest tier's whole buckets, the edges from finer
 * tiers, and what no bucket covers from flows (rows up to the rollup mark).
 * An edge that is more than half of its bucket is read as the whole bucket
 * minus the rest, so an edge never costs more than half a bucket of finer
 * groups (a week from mid-morning: 7 days + at most 12 hours + 30 minutes
 * of rows, not 23 hours + 59 minutes).
 */
static int cover(struct fc_store *st, enum fc_store_top by, const struct cfilter *c, int tier,
		 int64_t lo, int64_t hi, struct agg *a, char *err, size_t errlen)
{
	int64_t u, blo, bhi;
	int rc = 0;

	if (lo >= hi)
		return 0;
	if (tier < 0)
		return agg_raw(st, by, c, INT64_MIN, c->mark, lo, hi, a, err, errlen);
	u = (int64_t)fc_store_tiers[tier].ns;
	blo = lo / u + (lo % u != 0);
	bhi = hi == INT64_MAX ? INT64_MAX / u + 1 : hi / u;
	/* widen to a whole bucket where the edge is most of it */
	if (lo % u && blo * u - lo > u / 2 && (blo <= bhi || hi - (blo - 1) * u > u / 2)) {
		rc = uncover(st, by, c, tier - 1, (blo - 1) * u, lo, a, err, errlen);
		blo--;
		lo = blo * u;
	}
	if (!rc && hi != INT64_MAX && hi % u && hi - bhi * u > u / 2 && bhi >= blo &&
	    bhi < INT64_MAX / u) {
		rc = uncover(st, by, c, tier - 1, hi, (bhi + 1) * u, a, err, errlen);
		bhi++;
		hi = bhi * u;
	}
	if (rc)
		return rc;
	if (blo >= bhi)
		return cover(st, by, c, tier - 1, lo, hi, a, err, errlen);
	rc = agg_rollup(st, by, c, tier, blo, bhi, a, err, errlen);
	if (!rc)
		rc = cover(st, by, c, tier - 1, lo, blo * u, a, err, errlen);
	if (!rc && bhi <= INT64_MAX / u)
		rc = cover(st, by, c, tier - 1, bhi * u, hi, a, err, errlen);
	return rc;
}

int fc_store__top(struct fc_store *st, enum fc_store_top by, const struct fc_store_filter *f,
		  unsigned limit, fc_store_top_cb cb, void *ctx, char *err, size_t errlen)
{
	int64_t lo = clamp_ns(f->since_ns), hi = f->until_ns ? clamp_ns(f->until_ns) : INT64_MAX;
	struct agg a = { 0 };
	struct fc_store_top_row *rows = NULL;
	struct cfilter c;
	size_t i, n = 0;
	int rc;

	if ((unsigned)by >= FC_STORE_TOP__COUNT) {
		snprintf(err, errlen, "unknown summary");
		return -EINVAL;
	}
	rc = canon_filter(f, &c, err, errlen);
	if (rc)
		return rc;
	rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);	/* one snapshot for all parts */
	if (rc != SQLITE_OK)
		return sql_fail(st, rc, err, errlen);
	if (lo >= hi) {
		rc = 0;
	} else if (c.has_src || c.has_dst || c.has_host || c.port >= 0) {
		rc = agg_raw(st, by, &c, INT64_MIN, INT64_MAX, lo, hi, &a, err, errlen);
	} else {
		/* rollups hold the rows up to rollup_upto; newer ones from flows */
		c.mark = fc_rollup_mark(st->db);
		if (c.mark < 0)
			rc = sql_fail(st, (int)-c.mark, err, errlen);
		else	/* "since 1h" must not widen to the whole (future) day */
			rc = data_range(st, &lo, &hi, err, errlen);
		if (!rc)
			rc = cover(st, by, &c, FC_STORE_NTIERS - 1, lo, hi, &a, err, errlen);
		if (!rc)
			rc = agg_raw(st, by, &c, c.mark + 1, INT64_MAX, lo, hi, &a, err, errlen);
	}
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc)
		goto out;
	rows = malloc((a.used ? a.used : 1) * sizeof(*rows));
	if (!rows) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < a.cap; i++)
		if (a.slots[i].hash && a.slots[i].row.flows)	/* self-flow corrections only */
			rows[n++] = a.slots[i].row;
	qsort(rows, n, sizeof(*rows), cmp_rows);
	for (i = 0; i < n && i < limit && !rc; i++)
		rc = cb(&rows[i], ctx);
out:
	free(rows);
	free(a.slots);
	return rc;
}

struct list_rec {
	struct fc_flow_rec rec;
	int64_t id;
};

struct list_ctx {
	struct list_rec *recs;
	size_t n, cap, limit;
};

static int list_row(sqlite3_stmt *s, void *ctx)
{
	struct list_ctx *l = ctx;

	if (l->n == l->cap) {
		size_t ncap = l->cap * 2;
		struct list_rec *n = realloc(l->recs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->recs = n;
		l->cap = ncap;
	}
	fc_store_read_rec(s, 0, &l->recs[l->n].rec);
	l->recs[l->n++].id = sqlite3_column_int64(s, FC_STORE_REC_NCOLS);
	return 0;
}

/* newest first: end time, then insertion order */
static int cmp_newest(const void *pa, const void *pb)
{
	const struct list_rec *a = pa, *b = pb;

	if (a->rec.end_ns != b->rec.end_ns)
		return a->rec.end_ns > b->rec.end_ns ? -1 : 1;
	return a->id > b->id ? -1 : a->id < b->id;
}

/* Keep the newest limit; stop once no later segment can hold a newer one. */
static int list_seg_done(void *ctx, int64_t next_max_end)
{
	struct list_ctx *l = ctx;

	qsort(l->recs, l->n, sizeof(*l->recs), cmp_newest);
	if (l->n > l->limit)
		l->n = l->limit;
	return l->n == l->limit && next_max_end < (int64_t)l->recs[l->n - 1].rec.end_ns ? 1 : 0;
}

int fc_store__list(struct fc_store *st, const struct fc_store_filter *f, unsigned limit,
		   fc_store_rec_cb cb, void *ctx, char *err, size_t errlen)
{
	int64_t lo = clamp_ns(f->since_ns), hi = f->until_ns ? clamp_ns(f->until_ns) : INT64_MAX;
	struct span sp = { 0, 0, INT64_MIN, INT64_MAX };
	struct list_ctx l = { 0 };
	struct cfilter c;
	char cols[1024], tail[96];
	size_t i;
	int rc;

	rc = canon_filter(f, &c, err, errlen);
	if (rc || !limit || lo >= hi)
		return rc;
	l.limit = limit;
	l.cap = limit < 1024 ? 2 * (size_t)limit : 2048;
	l.recs = malloc(l.cap * sizeof(*l.recs));
	if (!l.recs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* newest first, `limit` of them per segment, merged, then handed out
	 * oldest first */
	rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		free(l.recs);
		return sql_fail(st, rc, err, errlen);
	}
	snprintf(cols, sizeof(cols), "%s, id", fc_store_rec_columns);
	snprintf(tail, sizeof(tail), "ORDER BY end_ns DESC, id DESC LIMIT %u", limit);
	sp.lo = lo;
	sp.hi = hi;
	rc = scan_flows(st, cols, tail, &c, &sp, 1, list_row, list_seg_done, &l, err, errlen);
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc == 1)	/* list_seg_done: the rest is older */
		rc = 0;
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	for (i = l.n; !rc && i > 0; i--)
		rc = cb(&l.recs[i - 1].rec, ctx);
	free(l.recs);
	return rc;
}
