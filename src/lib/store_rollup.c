// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_rollup.c - in-memory sums for the flow store's hourly rollups
 * (store_rollup.h): an open-addressing hash of (hour, side, address, proto)
 * and (hour, proto, port) groups, written to talk_hour / port_hour with
 * upserts, and the catch-up that rebuilds them from flows rows above the
 * rollup_upto mark.
 */
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
	int16_t proto;
	int32_t port;		/* port groups */
	uint64_t bytes, pkts, flows;	/* wrap like the uint64 record counters */
	char addr[46];		/* talk groups; INET6_ADDRSTRLEN */
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

static uint64_t hash_group(const struct group *k)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	h = (h ^ (uint64_t)k->bucket) * 1099511628211ULL;
	h = (h ^ ((uint64_t)k->tier << 48 | (uint64_t)k->kind << 40 | (uint64_t)k->side << 32 | (uint64_t)(uint16_t)k->proto << 16)) *
	    1099511628211ULL;
	h = (h ^ (uint32_t)k->port) * 1099511628211ULL;
	for (p = k->addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
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

static int add_group(struct fc_rollup *r, const struct group *k, uint64_t bytes, uint64_t pkts)
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
		    !strcmp(g->addr, k->addr))
			break;
	}
	g->bytes += bytes;
	g->pkts += pkts;
	g->flows++;
	return 0;
}

static int add_tier(struct fc_rollup *r, int tier, uint64_t end_ns, const char *src,
		    const char *dst, int proto, int dport, uint64_t bytes, uint64_t pkts)
{
	struct group k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.bucket = (int64_t)(end_ns / fc_store_tiers[tier].ns);
	k.tier = (uint8_t)tier;
	k.kind = KIND_TALK;
	k.proto = (int16_t)proto;
	snprintf(k.addr, sizeof(k.addr), "%s", src);
	rc = add_group(r, &k, bytes, pkts);
	/* a flow from a host to itself is also counted on side 2 so "talkers"
	 * (side 0 + side 1 - side 2) counts it once */
	if (!rc && !strcmp(src, dst)) {
		k.side = 2;
		rc = add_group(r, &k, bytes, pkts);
	}
	if (!rc) {
		k.side = 1;
		snprintf(k.addr, sizeof(k.addr), "%s", dst);
		rc = add_group(r, &k, bytes, pkts);
	}
	if (!rc) {
		k.kind = KIND_PORT;
		k.side = 0;
		k.addr[0] = '\0';
		k.port = dport;
		rc = add_group(r, &k, bytes, pkts);
	}
	return rc;
}

int fc_rollup__add(struct fc_rollup *r, uint64_t end_ns, const char *src, const char *dst,
		   int proto, int dport, uint64_t bytes, uint64_t pkts)
{
	int t, rc = 0;

	for (t = 0; t < FC_STORE_NTIERS && !rc; t++)
		rc = add_tier(r, t, end_ns, src, dst, proto, dport, bytes, pkts);
	return rc;
}

static int step_reset(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int fc_rollup__write(struct fc_rollup *r, sqlite3 *db, int64_t upto)
{
	sqlite3_stmt *talk[FC_STORE_NTIERS] = { 0 }, *port[FC_STORE_NTIERS] = { 0 }, *mark = NULL;
	char sql[512];
	size_t i;
	int rc = SQLITE_OK, t;

	for (t = 0; t < FC_STORE_NTIERS && rc == SQLITE_OK; t++) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s (bucket, side, addr, proto, bytes, pkts,"
			 " flows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET"
			 " bytes = bytes + excluded.bytes, pkts = pkts + excluded.pkts,"
			 " flows = flows + excluded.flows", fc_store_tiers[t].talk);
		rc = sqlite3_prepare_v2(db, sql, -1, &talk[t], NULL);
		if (rc != SQLITE_OK)
			break;
		snprintf(sql, sizeof(sql), "INSERT INTO %s (bucket, proto, port, bytes, pkts, flows)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"
			 " bytes = bytes + excluded.bytes, pkts = pkts + excluded.pkts,"
			 " flows = flows + excluded.flows", fc_store_tiers[t].port);
		rc = sqlite3_prepare_v2(db, sql, -1, &port[t], NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "UPDATE store_meta SET value = ?1 WHERE key = 'rollup_upto'",
					-1, &mark, NULL);
	for (i = 0; rc == SQLITE_OK && i < r->cap; i++) {
		const struct group *g = &r->g[i];
		sqlite3_stmt *s;

		if (g->kind == KIND_TALK) {
			s = talk[g->tier];
			sqlite3_bind_int64(s, 1, g->bucket);
			sqlite3_bind_int(s, 2, g->side);
			sqlite3_bind_text(s, 3, g->addr, -1, SQLITE_STATIC);
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
		}
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(mark, 1, upto);
		rc = step_reset(mark);
	}
	for (t = 0; t < FC_STORE_NTIERS; t++) {
		sqlite3_finalize(talk[t]);
		sqlite3_finalize(port[t]);
	}
	sqlite3_finalize(mark);
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
	rc = sqlite3_prepare_v2(db, "SELECT id, end_ns, src, dst, proto, dport, bytes + rbytes,"
				" pkts + rpkts FROM flows WHERE id > ?1 ORDER BY id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, mark);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(s, 2);
		const char *dst;

		src = src ? src : "";
		dst = (const char *)sqlite3_column_text(s, 3);
		if (fc_rollup__add(r, (uint64_t)sqlite3_column_int64(s, 1), src, dst ? dst : "",
				   sqlite3_column_int(s, 4), sqlite3_column_int(s, 5),
				   (uint64_t)sqlite3_column_int64(s, 6),
				   (uint64_t)sqlite3_column_int64(s, 7))) {
			rc = SQLITE_NOMEM;
			break;
		}
		*upto = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
