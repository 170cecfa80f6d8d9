/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_rollup.h - internal to libflowcut: the sqlite sink's in-memory sums
 * for the rollup tables (talk_hour, port_hour, talk_day, port_day), how they
 * are folded into the store as one new part of each bucket together with
 * the rollup_upto mark (store_schema.c explains the mark and the parts), and
 * the merge of a closed bucket's parts. Summing in memory and writing once a
 * minute keeps the rollups' pages out of every batch's commit; writing parts
 * instead of upserting keeps each write's pages new ones.
 */
#ifndef FC_STORE_ROLLUP_H
#define FC_STORE_ROLLUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

struct fc_rollup;

/*
 * A rollup table row (bucket, part, seq, data) packs groups into data as
 * FC_ROLLUP_ENT_SIZE-byte entries, little-endian:
 *   0  addr[16]   talk: IPv4 in the first 4 octets, the rest 0; port: 0
 *   16 family     talk: 4 or 6; port: 0
 *   17 side       talk: 0 src, 1 dst, 2 self-flow; port: 0
 *   18 proto
 *   19 0
 *   20 port       u16; port tables (the responder's port); talk: 0
 *   22 0, 0
 *   24 bytes, 32 pkts, 40 flows   u64
 * A group's sums may be spread over several entries (parts, rows): add up.
 */
#define FC_ROLLUP_ENT_SIZE 48
#define FC_ROLLUP_BLOB_ENTS 4096	/* entries per row at most (192 KiB) */

struct fc_rollup_ent {
	struct fc_addr addr;
	uint8_t family, side, proto;
	uint16_t port;
	uint64_t bytes, pkts, flows;
};

/* Decode the entry at p (FC_ROLLUP_ENT_SIZE bytes). */
void fc_rollup_ent__read(const uint8_t *p, struct fc_rollup_ent *e);

/* Returns an empty accumulator or NULL (ENOMEM). Free with fc_rollup__free(). */
struct fc_rollup *fc_rollup__new(void);
void fc_rollup__free(struct fc_rollup *r);

/* Count one record (family 4 or 6; only the family's bytes of src/dst are
 * read). Formats nothing: addresses become text when written. Returns 0 or
 * -ENOMEM. */
int fc_rollup__add(struct fc_rollup *r, uint64_t end_ns, int family, const struct fc_addr *src,
		   const struct fc_addr *dst, int proto, int dport, uint64_t bytes, uint64_t pkts);

/* Groups held. */
size_t fc_rollup__size(const struct fc_rollup *r);

/* Forget every group (after a successful fc_rollup__write() commit). */
void fc_rollup__clear(struct fc_rollup *r);

/* Write every group into the rollup tables as part `upto` of its bucket,
 * count the part in rollup_parts, and set rollup_upto = upto. The caller
 * holds the write transaction. Returns a SQLite code. */
int fc_rollup__write(struct fc_rollup *r, sqlite3 *db, int64_t upto);

/* Convert schema v2's rollup tables (renamed *_v2, one row per group) into
 * part 0 of the v3 tables. The caller holds the write transaction.
 * Returns a SQLite code. */
int fc_rollup__import_v2(sqlite3 *db);

/* Replace every part of bucket in tier's talk and port tables by one part 0
 * of summed entries, and set its rollup_parts count to 1. Costs a read, delete
 * and insert of the bucket's rows, and memory for its groups. The caller
 * holds the write transaction. Returns a SQLite code. */
int fc_rollup__merge(sqlite3 *db, int tier, int64_t bucket);

/* Add the flows rows above rollup_upto (after a crash, or after
 * fc_rollup__add() ran out of memory) to r, after clearing it. *upto gets the
 * highest id read (the mark when there is none). Returns a SQLite code, or
 * SQLITE_NOMEM. */
int fc_rollup__catch_up(struct fc_rollup *r, sqlite3 *db, int64_t *upto);

/* rollup_upto of an open store: >= 0, or a negative SQLite code. */
int64_t fc_rollup_mark(sqlite3 *db);

#endif
