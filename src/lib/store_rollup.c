// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_rollup.c - the flow store's rollups on the writer's side
 * (store_rollup.h): in-memory sums per (tier, bucket, side, address, proto)
 * and (tier, bucket, proto, port), keyed by binary address so counting a
 * record formats nothing; writing them as one new part of each bucket,
 * packed FC_ROLLUP_BLOB_ENTS groups to a row (store_rollup.h has the
 * entry format); merging the parts of a bucket once it has closed; the
 * conversion of schema v2's one-row-per-group tables; and the catch-up
 * that rebuilds the sums from flows rows above rollup_upto.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oahash.h"
#include "store_rollup.h"
#include "store_le.h"
#include "store_schema.h"

#define MIN_CAP 4096

enum { KIND_TALK = 1, KIND_PORT = 2 };	/* 0 = empty slot */

struct group {
	uint64_t hash;
	int64_t bucket;
	uint8_t kind;
	uint8_t tier;		/* index into fc_store_tiers */
	uint8_t side;		/* talk: 0 src, 1 dst, 2 self-flow */
	uint8_t family;		/* talk: 4 or 6 */
	int16_t proto;
	int32_t port;		/* port groups */
	struct fc_addr addr;	/* talk groups; zero for port groups */
	uint64_t bytes, pkts, flows;	/* wrap like the uint64 record counters */
};

struct fc_rollup {
	struct group *g;
	size_t cap, used;
};

struct fc_rollup *fc_rollup__new(void)
{
	struct fc_rollup *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->g = calloc(MIN_CAP, sizeof(*r->g));
	if (!r->g) {
		free(r);
		return NULL;
	}
	r->cap = MIN_CAP;
	return r;
}

void fc_rollup__free(struct fc_rollup *r)
{
	if (!r)
		return;
	free(r->g);
	free(r);
}

size_t fc_rollup__size(const struct fc_rollup *r)
{
	return r->used;
}

void fc_rollup__clear(struct fc_rollup *r)
{
	memset(r->g, 0, r->cap * sizeof(*r->g));
	r->used = 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
}

static uint64_t hash_group(const struct group *k)
{
	uint64_t a0, a1, h = 1469598103934665603ULL;

	memcpy(&a0, k->addr.b, 8);
	memcpy(&a1, k->addr.b + 8, 8);
	h = mix(h, (uint64_t)k->bucket);
	h = mix(h, (uint64_t)k->tier << 48 | (uint64_t)k->kind << 40 | (uint64_t)k->side << 32 |
		       (uint64_t)(uint16_t)k->proto << 16 | k->family);
	h = mix(h, (uint32_t)k->port);
	h = mix(h, a0);
	h = mix(h, a1);
	return fc_oa_finish(h);	/* the slot bits must depend on every field */
}

/* Every used slot has a hash (never 0), so the shared grow finds them. */
static int grow(struct fc_rollup *r)
{
	return fc_oa_grow(&r->g, &r->cap, sizeof(*r->g), offsetof(struct group, hash), r->cap);
}

/* Add to k's group, whose hash is h; the caller made room. */
static void add_hashed(struct fc_rollup *r, const struct group *k, uint64_t h, uint64_t bytes,
		       uint64_t pkts, uint64_t flows)
{
	struct group *g;
	size_t j;

	for (j = h & (r->cap - 1);; j = (j + 1) & (r->cap - 1)) {
		g = &r->g[j];
		if (!g->kind) {
			*g = *k;
			g->hash = h;
			r->used++;
			break;
		}
		if (g->hash == h && g->bucket == k->bucket && g->kind == k->kind && g->tier == k->tier &&
		    g->side == k->side && g->proto == k->proto && g->port == k->port &&
		    g->family == k->family && !memcmp(&g->addr, &k->addr, sizeof(k->addr)))
			break;
	}
	g->bytes += bytes;
	g->pkts += pkts;
	g->flows += flows;
}

/* Room for n more groups at most 3/4 full. 0 or -ENOMEM. */
static int make_room(struct fc_rollup *r, size_t n)
{
	while ((r->used + n) * 4 > r->cap * 3)
		if (grow(r))
			return -ENOMEM;
	return 0;
}

static int add_group(struct fc_rollup *r, const struct group *k, uint64_t bytes, uint64_t pkts,
		     uint64_t flows)
{
	if (make_room(r, 1))
		return -ENOMEM;
	add_hashed(r, k, hash_group(k), bytes, pkts, flows);
	return 0;
}

/* The part of an address that its family uses; the rest is zeroed so equal
 * addresses hash and compare equal. */
static void key_addr(struct fc_addr *out, const struct fc_addr *a, int family)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->b, a->b, family == 6 ? 16 : 4);
}

/* A record's groups in tier: source, self-flow (when src == dst),
 * destination, port; into k[0..3]. Returns how many. */
static int tier_keys(struct group *k, int tier, uint64_t end_ns, int family,
		     const struct fc_addr *src, const struct fc_addr *dst, int proto, int dport)
{
	int n = 0;

	memset(k, 0, 4 * sizeof(*k));
	k[0].bucket = (int64_t)(end_ns / fc_store_tiers[tier].ns);
	k[0].tier = (uint8_t)tier;
	k[0].kind = KIND_TALK;
	k[0].family = (uint8_t)family;
	k[0].proto = (int16_t)proto;
	key_addr(&k[0].addr, src, family);
	n++;
	/* a flow from a host to itself is also counted on side 2 so "talkers"
	 * (side 0 + side 1 - side 2) counts it once */
	if (!memcmp(src->b, dst->b, family == 6 ? 16 : 4)) {
		k[n] = k[0];
		k[n++].side = 2;
	}
	k[n] = k[0];
	k[n].side = 1;
	key_addr(&k[n++].addr, dst, family);
	k[n] = k[0];
	k[n].kind = KIND_PORT;
	k[n].family = 0;
	memset(&k[n].addr, 0, sizeof(k[n].addr));
	k[n++].port = dport;
	return n;
}

int fc_rollup__add(struct fc_rollup *r, uint64_t end_ns, int family, const struct fc_addr *src,
		   const struct fc_addr *dst, int proto, int dport, uint64_t bytes, uint64_t pkts)
{
	struct group k[FC_STORE_NTIERS * 4];
	uint64_t h[FC_STORE_NTIERS * 4];
	int t, i, n = 0;

	for (t = 0; t < FC_STORE_NTIERS; t++)
		n += tier_keys(k + n, t, end_ns, family, src, dst, proto, dport);
	if (make_room(r, (size_t)n))
		return -ENOMEM;
	/* Each group is a random slot of a table larger than the caches: ask
	 * for all of them before touching any, so the misses overlap. */
	for (i = 0; i < n; i++) {
		h[i] = hash_group(&k[i]);
		__builtin_prefetch(&r->g[h[i] & (r->cap - 1)], 1);
	}
	for (i = 0; i < n; i++)
		add_hashed(r, &k[i], h[i], bytes, pkts, 1);
	return 0;
}

static int step_reset(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void fc_rollup_ent__read(const uint8_t *p, struct fc_rollup_ent *e)
{
	memcpy(e->addr.b, p, 16);
	e->family = p[16];
	e->side = p[17];
	e->proto = p[18];
	e->port = (uint16_t)fc_store_get_le(p + 20, 2);
	e->bytes = fc_store_get_le(p + 24, 8);
	e->pkts = fc_store_get_le(p + 32, 8);
	e->flows = fc_store_get_le(p + 40, 8);
}

static void ent_write(uint8_t *p, const struct group *g)
{
	memset(p, 0, FC_ROLLUP_ENT_SIZE);
	if (g->kind == KIND_TALK) {
		memcpy(p, g->addr.b, 16);
		p[16] = g->family;
		p[17] = g->side;
	}
	p[18] = (uint8_t)g->proto;
	if (g->kind == KIND_PORT)
		fc_store_put_le(p + 20, (uint16_t)g->port, 2);
	fc_store_put_le(p + 24, g->bytes, 8);
	fc_store_put_le(p + 32, g->pkts, 8);
	fc_store_put_le(p + 40, g->flows, 8);
}

/* Add one stored entry of tier's talk or port table to r. 0 or -ENOMEM. */
static int add_ent(struct fc_rollup *r, int tier, int kind, int64_t bucket,
		   const struct fc_rollup_ent *e)
{
	struct group k;

	memset(&k, 0, sizeof(k));
	k.bucket = bucket;
	k.tier = (uint8_t)tier;
	k.kind = (uint8_t)kind;
	k.proto = e->proto;
	if (kind == KIND_TALK) {
		k.side = e->side;
		k.family = e->family;
		key_addr(&k.addr, &e->addr, e->family);
	} else {
		k.port = e->port;
	}
	return add_group(r, &k, e->bytes, e->pkts, e->flows);
}

/* table, then bucket: the order rows are written in (0: same row) */
static int cmp_gptr(const void *pa, const void *pb)
{
	const struct group *x = *(const struct group *const *)pa, *y = *(const struct group *const *)pb;

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* A (table, bucket) that groups are written to, and where its groups go. */
struct part_key {
	int64_t bucket;
	uint8_t tier, kind;
	size_t at;		/* count, then next position in the output */
};

static int cmp_part_key(const struct part_key *k, const struct group *g)
{
	if (k->tier != g->tier)
		return k->tier < g->tier ? -1 : 1;
	if (k->kind != g->kind)
		return k->kind < g->kind ? -1 : 1;
	return k->bucket < g->bucket ? -1 : k->bucket > g->bucket;
}

/* Index of g's (table, bucket) in keys[0..n), sorted, or where it belongs. */
static size_t find_key(const struct part_key *keys, size_t n, const struct group *g)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp_part_key(&keys[mid], g) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * v[0..n) = r's groups ordered by (tier, kind, bucket): a counting sort
 * over the few distinct (table, bucket) pairs, in place of a comparison
 * sort of every group (7 % of the sink's CPU on bench-sinks). 0 or -ENOMEM.
 */
static int order_groups(struct fc_rollup *r, const struct group **v)
{
	struct part_key *keys = NULL, *nk;
	size_t i, j, nkeys = 0, cap = 0, sum, c;

	for (i = 0; i < r->cap; i++) {
		const struct group *g = &r->g[i];

		if (!g->kind)
			continue;
		j = find_key(keys, nkeys, g);
		if (j < nkeys && !cmp_part_key(&keys[j], g)) {
			keys[j].at++;
			continue;
		}
		if (nkeys == cap) {
			cap = cap ? cap * 2 : 64;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		memmove(keys + j + 1, keys + j, (nkeys - j) * sizeof(*keys));
		keys[j].bucket = g->bucket;
		keys[j].tier = g->tier;
		keys[j].kind = g->kind;
		keys[j].at = 1;
		nkeys++;
	}
	for (j = 0, sum = 0; j < nkeys; j++) {
		c = keys[j].at;
		keys[j].at = sum;
		sum += c;
	}
	for (i = 0; i < r->cap; i++)
		if (r->g[i].kind)
			v[keys[find_key(keys, nkeys, &r->g[i])].at++] = &r->g[i];
	free(keys);
	return 0;
}

/*
 * Write every group of r into the rollup tables as part `part` of its
 * bucket: one row per FC_ROLLUP_BLOB_ENTS groups of a (table, bucket), seq
 * numbered from *seq on (the caller keeps (bucket, part, seq) unique). With
 * count_parts, count one more part for each bucket in rollup_parts.
 * Returns a SQLite code.
 */
static int write_part(struct fc_rollup *r, sqlite3 *db, int64_t part, int64_t *seq,
		      int count_parts)
{
	sqlite3_stmt *ins[FC_STORE_NTIERS][2] = { { 0 } }, *parts = NULL, *s;
	const struct group **v;
	uint8_t *blob = NULL;
	char sql[256];
	size_t i, j, n = 0;
	int rc = SQLITE_OK, t, k;

	if (!r->used)
		return SQLITE_OK;
	v = malloc(r->used * sizeof(*v));
	blob = malloc(FC_ROLLUP_BLOB_ENTS * FC_ROLLUP_ENT_SIZE);
	if (!v || !blob) {
		free(v);
		free(blob);
		return SQLITE_NOMEM;
	}
	n = r->used;
	if (order_groups(r, v)) {
		free(v);
		free(blob);
		return SQLITE_NOMEM;
	}
	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		for (k = 0; k < 2 && rc == SQLITE_OK; k++) {
			snprintf(sql, sizeof(sql), "INSERT INTO %s (bucket, part, seq, data) VALUES"
				 " (?1, ?2, ?3, ?4)", k ? fc_store_tiers[t].port : fc_store_tiers[t].talk);
			rc = sqlite3_prepare_v2(db, sql, -1, &ins[t][k], NULL);
		}
	}
	if (rc == SQLITE_OK && count_parts)
		rc = sqlite3_prepare_v2(db, "INSERT INTO rollup_parts (tier, bucket, parts) VALUES"
					" (?1, ?2, 1) ON CONFLICT DO UPDATE SET parts = parts + 1",
					-1, &parts, NULL);
	for (i = 0; rc == SQLITE_OK && i < n; i = j) {
		const struct group *g = v[i];
		size_t m = 0;

		for (j = i; j < n && m < FC_ROLLUP_BLOB_ENTS && !cmp_gptr(&v[i], &v[j]); j++)
			ent_write(blob + FC_ROLLUP_ENT_SIZE * m++, v[j]);
		s = ins[g->tier][g->kind == KIND_PORT];
		sqlite3_bind_int64(s, 1, g->bucket);
		sqlite3_bind_int64(s, 2, part);
		sqlite3_bind_int64(s, 3, (*seq)++);
		sqlite3_bind_blob(s, 4, blob, (int)(m * FC_ROLLUP_ENT_SIZE), SQLITE_STATIC);
		rc = step_reset(s);
		/* every record adds a port group to each tier, so the port rows
		 * name every bucket written; count a part once per bucket */
		if (rc == SQLITE_OK && count_parts && g->kind == KIND_PORT &&
		    (i == 0 || cmp_gptr(&v[i - 1], &v[i]))) {
			sqlite3_bind_int(parts, 1, g->tier);
			sqlite3_bind_int64(parts, 2, g->bucket);
			rc = step_reset(parts);
		}
	}
	for (t = 0; t < FC_STORE_NTIERS; t++)
		for (k = 0; k < 2; k++)
			sqlite3_finalize(ins[t][k]);
	sqlite3_finalize(parts);
	free(blob);
	free(v);
	return rc;
}

int fc_rollup__write(struct fc_rollup *r, sqlite3 *db, int64_t upto)
{
	sqlite3_stmt *mark;
	int64_t seq = 0;
	int rc;

	/* upto is above every earlier fold's mark whenever r holds groups (they
	 * come from rows with id > the last mark), so (bucket, upto) is new */
	rc = write_part(r, db, upto, &seq, 1);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_prepare_v2(db, "UPDATE store_meta SET value = ?1 WHERE key = 'rollup_upto'", -1,
				&mark, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(mark, 1, upto);
	rc = step_reset(mark);
	sqlite3_finalize(mark);
	return rc;
}

/* Text address from the store back into a key; 0 or -EINVAL. */
static int parse_addr(const char *s, int family, struct fc_addr *a)
{
	memset(a, 0, sizeof(*a));
	return s && inet_pton(family == 6 ? AF_INET6 : AF_INET, s, a->b) == 1 ? 0 : -EINVAL;
}

/* Add the entries of sql's rows (bucket, data) to r as tier/kind groups. */
static int load_parts(struct fc_rollup *r, sqlite3 *db, const char *sql, int64_t bucket, int tier,
		      int kind)
{
	struct fc_rollup_ent e;
	sqlite3_stmt *s;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, bucket);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const uint8_t *p = sqlite3_column_blob(s, 1);
		int i, n = sqlite3_column_bytes(s, 1) / FC_ROLLUP_ENT_SIZE;

		for (i = 0; i < n && !err; i++) {
			fc_rollup_ent__read(p + (size_t)i * FC_ROLLUP_ENT_SIZE, &e);
			err = add_ent(r, tier, kind, sqlite3_column_int64(s, 0), &e);
		}
	}
	sqlite3_finalize(s);
	return err ? SQLITE_NOMEM : rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int exec_bucket(sqlite3 *db, const char *sql, int tier, int64_t bucket)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, bucket);
	sqlite3_bind_int(s, 2, tier);
	rc = step_reset(s);
	sqlite3_finalize(s);
	return rc;
}

int fc_rollup__merge(sqlite3 *db, int tier, int64_t bucket)
{
	struct fc_rollup *r;
	int64_t seq = 0;
	char sql[256];
	int rc, k;

	r = fc_rollup__new();
	if (!r)
		return SQLITE_NOMEM;
	for (k = 0, rc = SQLITE_OK; k < 2 && rc == SQLITE_OK; k++) {
		const char *table = k ? fc_store_tiers[tier].port : fc_store_tiers[tier].talk;

		snprintf(sql, sizeof(sql), "SELECT bucket, data FROM %s WHERE bucket = ?1", table);
		rc = load_parts(r, db, sql, bucket, tier, k ? KIND_PORT : KIND_TALK);
		/* the bucket's rows go, and come back summed as part 0 */
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bucket = ?1", table);
		if (rc == SQLITE_OK)
			rc = exec_bucket(db, sql, tier, bucket);
	}
	if (rc == SQLITE_OK)
		rc = write_part(r, db, 0, &seq, 0);
	if (rc == SQLITE_OK)
		rc = exec_bucket(db, "UPDATE rollup_parts SET parts = 1 WHERE bucket = ?1 AND tier = ?2",
				 tier, bucket);
	fc_rollup__free(r);
	return rc;
}

int fc_rollup__import_v2(sqlite3 *db)
{
	struct fc_rollup *r;
	int64_t seq = 0;
	char sql[256];
	int rc = SQLITE_OK, t, k;

	r = fc_rollup__new();
	if (!r)
		return SQLITE_NOMEM;
	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		for (k = 0; k < 2 && rc == SQLITE_OK; k++) {
			const char *table = k ? fc_store_tiers[t].port : fc_store_tiers[t].talk;
			sqlite3_stmt *s;

			snprintf(sql, sizeof(sql), k ?
				 "SELECT bucket, 0, '', proto, bytes, pkts, flows, port FROM %s_v2" :
				 "SELECT bucket, side, addr, proto, bytes, pkts, flows, 0 FROM %s_v2",
				 table);
			rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
			if (rc != SQLITE_OK)
				break;
			while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
				const char *a = (const char *)sqlite3_column_text(s, 2);
				struct fc_rollup_ent e;

				memset(&e, 0, sizeof(e));
				e.side = (uint8_t)sqlite3_column_int(s, 1);
				e.family = a && strchr(a, ':') ? 6 : 4;
				if (!k && parse_addr(a, e.family, &e.addr)) {
					rc = SQLITE_MISMATCH;	/* not what a flowcut wrote */
					break;
				}
				e.proto = (uint8_t)sqlite3_column_int(s, 3);
				e.bytes = (uint64_t)sqlite3_column_int64(s, 4);
				e.pkts = (uint64_t)sqlite3_column_int64(s, 5);
				e.flows = (uint64_t)sqlite3_column_int64(s, 6);
				e.port = (uint16_t)sqlite3_column_int(s, 7);
				if (add_ent(r, t, k ? KIND_PORT : KIND_TALK, sqlite3_column_int64(s, 0), &e)) {
					rc = SQLITE_NOMEM;
					break;
				}
				/* bounded memory: a bucket may span two writes (same part
				 * 0, later seq); readers add both */
				if (r->used >= 200000) {
					rc = write_part(r, db, 0, &seq, 0);
					fc_rollup__clear(r);
					if (rc != SQLITE_OK)
						break;
				}
			}
			sqlite3_finalize(s);
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
	}
	if (rc == SQLITE_OK)
		rc = write_part(r, db, 0, &seq, 0);
	fc_rollup__free(r);
	return rc;
}

int64_t fc_rollup_mark(sqlite3 *db)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE key = 'rollup_upto'", -1,
				&s, NULL);
	if (rc != SQLITE_OK)
		return -rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? v : -rc;
}

int fc_rollup__catch_up(struct fc_rollup *r, sqlite3 *db, int64_t *upto)
{
	int64_t mark = fc_rollup_mark(db);
	sqlite3_stmt *s;
	int rc;

	if (mark < 0)
		return (int)-mark;
	fc_rollup__clear(r);
	*upto = mark;
	rc = sqlite3_prepare_v2(db, "SELECT id, end_ns, family, src, dst, proto, dport,"
				" bytes + rbytes, pkts + rpkts FROM flows WHERE id > ?1 ORDER BY id",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, mark);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int family = sqlite3_column_int(s, 2) == 6 ? 6 : 4;
		struct fc_addr src, dst;

		/* an unparsable address (someone's own SQL) sums as 0.0.0.0 / ::
		 * rather than stopping the rollups for good */
		parse_addr((const char *)sqlite3_column_text(s, 3), family, &src);
		parse_addr((const char *)sqlite3_column_text(s, 4), family, &dst);
		if (fc_rollup__add(r, (uint64_t)sqlite3_column_int64(s, 1), family, &src, &dst,
				   sqlite3_column_int(s, 5), sqlite3_column_int(s, 6),
				   (uint64_t)sqlite3_column_int64(s, 7),
				   (uint64_t)sqlite3_column_int64(s, 8))) {
			rc = SQLITE_NOMEM;
			break;
		}
		*upto = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
