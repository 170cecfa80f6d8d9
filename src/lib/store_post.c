// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_post.c - the flow store's address postings (store_post.h): the key
 * of an address, the lookup in a segment's packed entries, the writer's
 * builder for the segment it is filling, and the v3 -> v4 import from the
 * old per-row address indexes.
 *
 * The builder keeps the segment's committed entries sorted; a commit sorts
 * only the batch's entries (a stable radix sort on the key: offsets are
 * staged in increasing order, so equal keys stay in offset order) and
 * merges them in, O(segment) per commit instead of a sort of the segment.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store_le.h"
#include "store_post.h"

struct ent {
	uint32_t key, off;
};

struct vec {
	struct ent *v;
	size_t n, cap;
};

struct fc_post {
	struct vec done[2];	/* committed entries of the segment, sorted */
	struct vec work[2];	/* the open transaction's, when working */
	struct vec batch[2];	/* staged since the last write, by offset */
	struct vec tmp, scratch;
	int working;
	uint8_t *enc;		/* one chunk encoded for SQLite */
	sqlite3_stmt *put;
};

uint32_t fc_post_key(int family, const struct fc_addr *a)
{
	size_t i, n = family == 6 ? 16 : 4;
	uint32_t h = 2166136261u;

	h = (h ^ (uint8_t)(family == 6 ? 6 : 4)) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h;
}

int fc_post_find(const uint8_t *data, size_t len, uint32_t key,
		 int (*fn)(uint32_t off, void *ctx), void *ctx)
{
	size_t lo = 0, hi = len / FC_POST_ENT_SIZE, n = hi, mid;
	int e = 0;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((uint32_t)fc_store_get_le(data + mid * FC_POST_ENT_SIZE, 4) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; !e && lo < n && (uint32_t)fc_store_get_le(data + lo * FC_POST_ENT_SIZE, 4) == key; lo++)
		e = fn((uint32_t)fc_store_get_le(data + lo * FC_POST_ENT_SIZE + 4, 4), ctx);
	return e;
}

/* ---- builder ------------------------------------------------------------ */

static int vec_reserve(struct vec *v, size_t n)
{
	struct ent *nv;
	size_t cap = v->cap ? v->cap : 1024;

	if (n <= v->cap)
		return 0;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*nv))
			return -ENOMEM;
		cap *= 2;
	}
	nv = realloc(v->v, cap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	v->v = nv;
	v->cap = cap;
	return 0;
}

static void vec_swap(struct vec *a, struct vec *b)
{
	struct vec t = *a;

	*a = *b;
	*b = t;
}

struct fc_post *fc_post__new(void)
{
	struct fc_post *p = calloc(1, sizeof(*p));

	if (!p)
		errno = ENOMEM;
	return p;
}

void fc_post__free(struct fc_post *p)
{
	int s;

	if (!p)
		return;
	for (s = 0; s < 2; s++) {
		free(p->done[s].v);
		free(p->work[s].v);
		free(p->batch[s].v);
	}
	free(p->tmp.v);
	free(p->scratch.v);
	free(p->enc);
	sqlite3_finalize(p->put);
	free(p);
}

int fc_post__add(struct fc_post *p, uint32_t off, uint32_t src_key, uint32_t dst_key)
{
	struct vec *s = &p->batch[0], *d = &p->batch[1];

	if (vec_reserve(s, s->n + 1) || vec_reserve(d, d->n + 1))
		return -ENOMEM;
	s->v[s->n].key = src_key;
	s->v[s->n++].off = off;
	d->v[d->n].key = dst_key;
	d->v[d->n++].off = off;
	return 0;
}

/* Stable LSD radix sort of v by key, 8 bits a pass, through scratch. */
static int radix_sort(struct vec *v, struct vec *scratch)
{
	size_t count[256], i, sum;
	int shift;

	if (vec_reserve(scratch, v->n))
		return -ENOMEM;
	for (shift = 0; shift < 32; shift += 8) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < v->n; i++)
			count[(v->v[i].key >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < v->n; i++)
			scratch->v[count[(v->v[i].key >> shift) & 0xff]++] = v->v[i];
		scratch->n = v->n;
		vec_swap(v, scratch);	/* four passes: the result ends in v's buffer */
	}
	return 0;
}

/* out = a and b merged by (key, off); b's offsets all follow a's. */
static int merge(const struct vec *a, const struct vec *b, struct vec *out)
{
	size_t i = 0, j = 0, k = 0;

	if (vec_reserve(out, a->n + b->n))
		return -ENOMEM;
	while (i < a->n && j < b->n)
		out->v[k++] = b->v[j].key < a->v[i].key ? b->v[j++] : a->v[i++];
	while (i < a->n)
		out->v[k++] = a->v[i++];
	while (j < b->n)
		out->v[k++] = b->v[j++];
	out->n = k;
	return 0;
}

/* Prepare p->put for db (the builder may outlive a handle in tests). */
static int put_prepare(struct fc_post *p, sqlite3 *db)
{
	if (p->put && sqlite3_db_handle(p->put) == db)
		return SQLITE_OK;
	sqlite3_finalize(p->put);
	p->put = NULL;
	return sqlite3_prepare_v3(db, "INSERT OR REPLACE INTO seg_addrs (seg, side, chunk, first_key,"
				  " last_key, first_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
				  SQLITE_PREPARE_PERSISTENT, &p->put, NULL);
}

/* Write v[0..n) as chunk `chunk` of (seg, side). Returns a SQLite code. */
static int put_chunk(struct fc_post *p, int64_t seg, int side, int chunk, int64_t first_id,
		     const struct ent *v, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		fc_store_put_le(p->enc + i * FC_POST_ENT_SIZE, v[i].key, 4);
		fc_store_put_le(p->enc + i * FC_POST_ENT_SIZE + 4, v[i].off, 4);
	}
	sqlite3_bind_int64(p->put, 1, seg);
	sqlite3_bind_int(p->put, 2, side);
	sqlite3_bind_int(p->put, 3, chunk);
	sqlite3_bind_int64(p->put, 4, n ? v[0].key : 0);
	sqlite3_bind_int64(p->put, 5, n ? v[n - 1].key : 0);
	sqlite3_bind_int64(p->put, 6, first_id);
	/* zero-length data is a blob, not NULL: the column is NOT NULL */
	sqlite3_bind_blob(p->put, 7, n ? (const void *)p->enc : "", (int)(n * FC_POST_ENT_SIZE),
			  SQLITE_STATIC);
	rc = sqlite3_step(p->put);
	sqlite3_reset(p->put);
	sqlite3_clear_bindings(p->put);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Write one side's entries as chunks 0, 1, ... Returns a SQLite code. */
static int put_side(struct fc_post *p, sqlite3 *db, int64_t seg, int side, int64_t first_id,
		    const struct vec *v)
{
	size_t i = 0, m;
	int rc, chunk = 0;

	if (!p->enc) {
		p->enc = malloc(FC_POST_CHUNK_ENTS * FC_POST_ENT_SIZE);
		if (!p->enc)
			return SQLITE_NOMEM;
	}
	rc = put_prepare(p, db);
	do {	/* an empty side still gets its (empty) chunk 0 */
		m = v->n - i < FC_POST_CHUNK_ENTS ? v->n - i : FC_POST_CHUNK_ENTS;
		if (chunk == INT_MAX)
			return SQLITE_TOOBIG;
		if (rc == SQLITE_OK)
			rc = put_chunk(p, seg, side, chunk++, first_id, v->v + i, m);
		i += m;
	} while (rc == SQLITE_OK && i < v->n);
	return rc;
}

int fc_post__write(struct fc_post *p, sqlite3 *db, int64_t seg, int64_t first_id)
{
	int s, rc;

	for (s = 0; s < 2; s++) {
		const struct vec *base = p->working ? &p->work[s] : &p->done[s];

		if (radix_sort(&p->batch[s], &p->scratch) || merge(base, &p->batch[s], &p->tmp))
			return SQLITE_NOMEM;
		vec_swap(&p->tmp, &p->work[s]);
		p->batch[s].n = 0;
	}
	p->working = 1;
	for (s = 0; s < 2; s++) {
		rc = put_side(p, db, seg, s, first_id, &p->work[s]);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

void fc_post__next_seg(struct fc_post *p)
{
	p->working = 1;
	p->work[0].n = 0;
	p->work[1].n = 0;
	p->batch[0].n = 0;
	p->batch[1].n = 0;
}

void fc_post__commit(struct fc_post *p)
{
	int s;

	for (s = 0; s < 2 && p->working; s++)
		vec_swap(&p->done[s], &p->work[s]);
	p->working = 0;
	p->batch[0].n = 0;
	p->batch[1].n = 0;
}

void fc_post__rollback(struct fc_post *p)
{
	p->working = 0;
	p->batch[0].n = 0;
	p->batch[1].n = 0;
}

/* ---- v3 -> v4 ----------------------------------------------------------- */

static uint32_t text_key(const char *t)
{
	struct fc_addr a;
	int family = fc_addr_from_str(t, &a);

	/* not an address: the key of 0.0.0.0, and never a lookup's row */
	return fc_post_key(family == 6 ? 6 : 4, &a);
}

static int cmp_ent(const void *pa, const void *pb)
{
	const struct ent *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* One side of seg from its covering index into v as (key, id - 0): ids are
 * made offsets once both sides' lowest id is known. */
static int read_side(sqlite3_stmt *st, int64_t seg, struct vec *v, int64_t *ids, size_t cap,
		     int64_t *lo, int64_t *hi)
{
	int rc;

	v->n = 0;
	sqlite3_bind_int64(st, 1, seg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (v->n == cap || vec_reserve(v, v->n + 1)) {
			sqlite3_reset(st);
			return SQLITE_NOMEM;
		}
		ids[v->n] = id;
		v->v[v->n].key = text_key((const char *)sqlite3_column_text(st, 1));
		v->v[v->n++].off = 0;
		if (id < *lo)
			*lo = id;
		if (id > *hi)
			*hi = id;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int count_seg(sqlite3 *db, int64_t seg, int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM flows INDEXED BY flows_src WHERE seg = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, seg);
	rc = sqlite3_step(st);
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int import_seg(struct fc_post *p, sqlite3 *db, sqlite3_stmt *side_st[2], sqlite3_stmt *upd,
		      sqlite3_stmt *del, int64_t seg)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, n, *ids[2] = { NULL, NULL };
	size_t i;
	int rc, s;

	rc = count_seg(db, seg, &n);
	if (rc != SQLITE_OK)
		return rc;
	if (n == 0) {	/* a segment whose rows are gone */
		sqlite3_bind_int64(del, 1, seg);
		rc = sqlite3_step(del);
		sqlite3_reset(del);
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	for (s = 0; s < 2; s++) {
		ids[s] = malloc((size_t)n * sizeof(int64_t));
		if (!ids[s]) {
			rc = SQLITE_NOMEM;
			goto out;
		}
		rc = read_side(side_st[s], seg, &p->work[s], ids[s], (size_t)n, &lo, &hi);
		if (rc != SQLITE_OK)
			goto out;
	}
	if (hi - lo > (int64_t)UINT32_MAX) {	/* offsets are u32 */
		rc = SQLITE_TOOBIG;
		goto out;
	}
	for (s = 0; s < 2; s++) {
		for (i = 0; i < p->work[s].n; i++)
			p->work[s].v[i].off = (uint32_t)(ids[s][i] - lo);
		qsort(p->work[s].v, p->work[s].n, sizeof(struct ent), cmp_ent);
		rc = put_side(p, db, seg, s, lo, &p->work[s]);
		if (rc != SQLITE_OK)
			goto out;
	}
	sqlite3_bind_int64(upd, 1, lo);
	sqlite3_bind_int64(upd, 2, hi);
	sqlite3_bind_int64(upd, 3, seg);
	rc = sqlite3_step(upd);
	sqlite3_reset(upd);
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
out:
	free(ids[0]);
	free(ids[1]);
	return rc;
}

int fc_post__import_v3(sqlite3 *db)
{
	sqlite3_stmt *segs = NULL, *side_st[2] = { NULL, NULL }, *upd = NULL, *del = NULL;
	struct fc_post *p = fc_post__new();
	int64_t *todo = NULL, *nt;
	size_t n = 0, cap = 0, i;
	int rc;

	if (!p)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, "SELECT seg FROM flow_segs ORDER BY seg", -1, &segs, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(segs)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nt = realloc(todo, cap * sizeof(*todo));
			if (!nt) {
				rc = SQLITE_NOMEM;
				break;
			}
			todo = nt;
		}
		todo[n++] = sqlite3_column_int64(segs, 0);
		rc = SQLITE_OK;
	}
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT id, src FROM flows INDEXED BY flows_src WHERE seg = ?1",
					-1, &side_st[0], NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT id, dst FROM flows INDEXED BY flows_dst WHERE seg = ?1",
					-1, &side_st[1], NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "UPDATE flow_segs SET first_id = ?1, last_id = ?2 WHERE seg = ?3",
					-1, &upd, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "DELETE FROM flow_segs WHERE seg = ?1", -1, &del, NULL);
	for (i = 0; rc == SQLITE_OK && i < n; i++)
		rc = import_seg(p, db, side_st, upd, del, todo[i]);
	sqlite3_finalize(segs);
	sqlite3_finalize(side_st[0]);
	sqlite3_finalize(side_st[1]);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	free(todo);
	fc_post__free(p);
	return rc;
}
