// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_rollup.c - the flow store's rollups on the writer's side
 * (store_rollup.h): in-memory sums per (tier, bucket, side, address, proto)
 * and (tier, bucket, proto, port), keyed by binary address so counting a
 * record formats nothing; writing them as one new part of each bucket
 * (plain inserts after the bucket's older parts, not upserts spread over
 * the whole table); merging the parts of a bucket once it has closed; and
 * the catch-up that rebuilds the sums from flows rows above rollup_upto.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_rollup.h"
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
	/* murmur3 fmix64: the slot bits must depend on every field */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static int grow(struct fc_rollup *r)
{
	size_t ncap = r->cap * 2, i, j;
	struct group *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < r->cap; i++) {
		if (!r->g[i].kind)
			continue;
		for (j = r->g[i].hash & (ncap - 1); n[j].kind; j = (j + 1) & (ncap - 1))
			;
		n[j] = r->g[i];
	}
	free(r->g);
	r->g = n;
	r->cap = ncap;
	return 0;
}

static int add_group(struct fc_rollup *r, const struct group *k, uint64_t bytes, uint64_t pkts,
		     uint64_t flows)
{
	uint64_t h = hash_group(k);
	struct group *g;
	size_t j;

	if ((r->used + 1) * 4 > r->cap * 3 && grow(r))
		return -ENOMEM;
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
	return 0;
}

/* The part of an address that its family uses; the rest is zeroed so equal
 * addresses hash and compare equal. */
static void key_addr(struct fc_addr *out, const struct fc_addr *a, int family)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->b, a->b, family == 6 ? 16 : 4);
}

static int add_tier(struct fc_rollup *r, int tier, uint64_t end_ns, int family,
		    const struct fc_addr *src, const struct fc_addr *dst, int proto, int dport,
		    uint64_t bytes, uint64_t pkts)
{
	struct group k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.bucket = (int64_t)(end_ns / fc_store_tiers[tier].ns);
	k.tier = (uint8_t)tier;
	k.kind = KIND_TALK;
	k.family = (uint8_t)family;
	k.proto = (int16_t)proto;
	key_addr(&k.addr, src, family);
	rc = add_group(r, &k, bytes, pkts, 1);
	/* a flow from a host to itself is also counted on side 2 so "talkers"
	 * (side 0 + side 1 - side 2) counts it once */
	if (!rc && !memcmp(src->b, dst->b, family == 6 ? 16 : 4)) {
		k.side = 2;
		rc = add_group(r, &k, bytes, pkts, 1);
	}
	if (!rc) {
		k.side = 1;
		key_addr(&k.addr, dst, family);
		rc = add_group(r, &k, bytes, pkts, 1);
	}
	if (!rc) {
		k.kind = KIND_PORT;
		k.side = 0;
		k.family = 0;
		memset(&k.addr, 0, sizeof(k.addr));
		k.port = dport;
		rc = add_group(r, &k, bytes, pkts, 1);
	}
	return rc;
}

int fc_rollup__add(struct fc_rollup *r, uint64_t end_ns, int family, const struct fc_addr *src,
		   const struct fc_addr *dst, int proto, int dport, uint64_t bytes, uint64_t pkts)
{
	int t, rc = 0;

	for (t = 0; t < FC_STORE_NTIERS && !rc; t++)
		rc = add_tier(r, t, end_ns, family, src, dst, proto, dport, bytes, pkts);
	return rc;
}

static int step_reset(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The distinct (tier, bucket) pairs of r's groups, for rollup_parts. */
struct bucket_set {
	struct { int64_t bucket; int tier; } *v;
	size_t n, cap;
};

static int bucket_set_add(struct bucket_set *s, int tier, int64_t bucket)
{
	size_t i;

	/* few buckets per write (hours of the last minute): a scan is enough,
	 * newest first since that is where the next group usually lands */
	for (i = s->n; i > 0; i--)
		if (s->v[i - 1].bucket == bucket && s->v[i - 1].tier == tier)
			return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		void *nv = realloc(s->v, ncap * sizeof(*s->v));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].bucket = bucket;
	s->v[s->n++].tier = tier;
	return 0;
}

/* A group to write, with its address as stored. */
struct wrow {
	const struct group *g;
	char addr[INET6_ADDRSTRLEN];
};

/* The tables' key order (tier and kind pick the table; part is the same for
 * all): each row then lands right after the previous one, on the page
 * SQLite just filled, instead of splitting pages all over the part. */
static int cmp_wrow(const void *pa, const void *pb)
{
	const struct wrow *a = pa, *b = pb;
	const struct group *x = a->g, *y = b->g;
	int c;

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	if (x->kind == KIND_TALK) {
		if (x->side != y->side)
			return x->side < y->side ? -1 : 1;
		c = strcmp(a->addr, b->addr);	/* SQLite's BINARY collation */
		if (c)
			return c;
		return x->proto < y->proto ? -1 : x->proto > y->proto;
	}
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/*
 * Insert every group of r as rows of part `part`; with count_parts, count
 * one more part for each bucket written in rollup_parts. Returns a SQLite
 * code.
 */
static int write_part(struct fc_rollup *r, sqlite3 *db, int64_t part, int count_parts)
{
	sqlite3_stmt *talk[FC_STORE_NTIERS] = { 0 }, *port[FC_STORE_NTIERS] = { 0 }, *parts = NULL;
	struct bucket_set bs = { 0 };
	struct wrow *rows;
	char sql[512];
	size_t i, n = 0;
	int rc = SQLITE_OK, t;

	rows = malloc((r->used ? r->used : 1) * sizeof(*rows));
	if (!rows)
		return SQLITE_NOMEM;
	for (i = 0; i < r->cap; i++) {
		if (!r->g[i].kind)
			continue;
		rows[n].g = &r->g[i];
		if (r->g[i].kind == KIND_TALK)
			fc_addr_to_str(&r->g[i].addr, r->g[i].family, rows[n].addr,
				       sizeof(rows[n].addr));
		else
			rows[n].addr[0] = '\0';
		n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_wrow);

	/* a part is new rows, but upserts keep a repeated part (a write that
	 * added no rows reuses the mark) from failing on the key */
	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s (bucket, part, side, addr, proto, bytes,"
			 " pkts, flows) VALUES (?1, ?8, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE"
			 " SET bytes = bytes + excluded.bytes, pkts = pkts + excluded.pkts,"
			 " flows = flows + excluded.flows", fc_store_tiers[t].talk);
		rc = sqlite3_prepare_v2(db, sql, -1, &talk[t], NULL);
		if (rc != SQLITE_OK)
			break;
		snprintf(sql, sizeof(sql), "INSERT INTO %s (bucket, part, proto, port, bytes, pkts,"
			 " flows) VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"
			 " bytes = bytes + excluded.bytes, pkts = pkts + excluded.pkts,"
			 " flows = flows + excluded.flows", fc_store_tiers[t].port);
		rc = sqlite3_prepare_v2(db, sql, -1, &port[t], NULL);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_int64(talk[t], 8, part);
		sqlite3_bind_int64(port[t], 7, part);
	}
	if (rc == SQLITE_OK && count_parts)
		rc = sqlite3_prepare_v2(db, "INSERT INTO rollup_parts (tier, bucket, parts) VALUES"
					" (?1, ?2, 1) ON CONFLICT DO UPDATE SET parts = parts + 1",
					-1, &parts, NULL);
	for (i = 0; rc == SQLITE_OK && i < n; i++) {
		const struct group *g = rows[i].g;
		sqlite3_stmt *s;

		if (g->kind == KIND_TALK) {
			s = talk[g->tier];
			sqlite3_bind_int64(s, 1, g->bucket);
			sqlite3_bind_int(s, 2, g->side);
			sqlite3_bind_text(s, 3, rows[i].addr, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 4, g->proto);
			sqlite3_bind_int64(s, 5, (sqlite3_int64)g->bytes);
			sqlite3_bind_int64(s, 6, (sqlite3_int64)g->pkts);
			sqlite3_bind_int64(s, 7, (sqlite3_int64)g->flows);
			rc = step_reset(s);
		} else if (g->kind == KIND_PORT) {
			s = port[g->tier];
			sqlite3_bind_int64(s, 1, g->bucket);
			sqlite3_bind_int(s, 2, g->proto);
			sqlite3_bind_int(s, 3, g->port);
			sqlite3_bind_int64(s, 4, (sqlite3_int64)g->bytes);
			sqlite3_bind_int64(s, 5, (sqlite3_int64)g->pkts);
			sqlite3_bind_int64(s, 6, (sqlite3_int64)g->flows);
			rc = step_reset(s);
			if (rc == SQLITE_OK && count_parts && bucket_set_add(&bs, g->tier, g->bucket))
				rc = SQLITE_NOMEM;
		}
	}
	/* every record adds a port group to each tier, so the port groups
	 * name every bucket written */
	for (i = 0; rc == SQLITE_OK && i < bs.n; i++) {
		sqlite3_bind_int(parts, 1, bs.v[i].tier);
		sqlite3_bind_int64(parts, 2, bs.v[i].bucket);
		rc = step_reset(parts);
	}
	for (t = 0; t < FC_STORE_NTIERS; t++) {
		sqlite3_finalize(talk[t]);
		sqlite3_finalize(port[t]);
	}
	sqlite3_finalize(parts);
	free(bs.v);
	free(rows);
	return rc;
}

int fc_rollup__write(struct fc_rollup *r, sqlite3 *db, int64_t upto)
{
	sqlite3_stmt *mark;
	int rc;

	rc = write_part(r, db, upto, 1);
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

int fc_rollup__merge(sqlite3 *db, int tier, int64_t bucket)
{
	struct fc_rollup *r;
	sqlite3_stmt *s = NULL;
	char sql[256];
	struct group k;
	int rc, e = 0;

	r = fc_rollup__new();
	if (!r)
		return SQLITE_NOMEM;
	memset(&k, 0, sizeof(k));
	k.bucket = bucket;
	k.tier = (uint8_t)tier;
	k.kind = KIND_TALK;
	snprintf(sql, sizeof(sql), "SELECT side, addr, proto, bytes, pkts, flows FROM %s"
		 " WHERE bucket = ?1", fc_store_tiers[tier].talk);
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, bucket);
		while (!e && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *a = (const char *)sqlite3_column_text(s, 1);

			k.side = (uint8_t)sqlite3_column_int(s, 0);
			k.family = a && strchr(a, ':') ? 6 : 4;
			k.proto = (int16_t)sqlite3_column_int(s, 2);
			e = parse_addr(a, k.family, &k.addr);
			if (!e)
				e = add_group(r, &k, (uint64_t)sqlite3_column_int64(s, 3),
					      (uint64_t)sqlite3_column_int64(s, 4),
					      (uint64_t)sqlite3_column_int64(s, 5));
		}
		sqlite3_finalize(s);
		rc = e == -ENOMEM ? SQLITE_NOMEM : e ? SQLITE_MISMATCH : rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK) {
		memset(&k, 0, sizeof(k));
		k.bucket = bucket;
		k.tier = (uint8_t)tier;
		k.kind = KIND_PORT;
		snprintf(sql, sizeof(sql), "SELECT proto, port, bytes, pkts, flows FROM %s"
			 " WHERE bucket = ?1", fc_store_tiers[tier].port);
		rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, bucket);
		while (!e && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			k.proto = (int16_t)sqlite3_column_int(s, 0);
			k.port = sqlite3_column_int(s, 1);
			e = add_group(r, &k, (uint64_t)sqlite3_column_int64(s, 2),
				      (uint64_t)sqlite3_column_int64(s, 3),
				      (uint64_t)sqlite3_column_int64(s, 4));
		}
		sqlite3_finalize(s);
		rc = e ? SQLITE_NOMEM : rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	/* the bucket's rows go, and come back summed as part 0 */
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bucket = ?1", fc_store_tiers[tier].talk);
		rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, bucket);
			rc = step_reset(s);
			sqlite3_finalize(s);
		}
	}
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bucket = ?1", fc_store_tiers[tier].port);
		rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, bucket);
			rc = step_reset(s);
			sqlite3_finalize(s);
		}
	}
	if (rc == SQLITE_OK)
		rc = write_part(r, db, 0, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "UPDATE rollup_parts SET parts = 1 WHERE tier = ?1"
					" AND bucket = ?2", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int(s, 1, tier);
		sqlite3_bind_int64(s, 2, bucket);
		rc = step_reset(s);
		sqlite3_finalize(s);
	}
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
