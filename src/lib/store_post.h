/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_post.h - internal to libflowcut: the flow store's address postings
 * (schema v4, docs/store.md). Instead of a B-tree entry per record and
 * address, each insertion segment has seg_addrs rows per side (0 src,
 * 1 dst): (seg, side, chunk, first_key, last_key, first_id, data) where data
 * is up to FC_POST_CHUNK_ENTS of the segment's rows as FC_POST_ENT_SIZE-byte
 * entries, little-endian, sorted by (key, off) across the chunks:
 *   0 key   u32, fc_post_key() of the address
 *   4 off   u32, flows.id - first_id
 * A lookup reads the chunks whose [first_key, last_key] holds the key (the
 * key columns come before data, so SQLite reads no other chunk's data),
 * binary-searches them and fetches the rows by id; keys are hashes, so the
 * caller compares the address of each row it fetches.
 *
 * The writer (sink_sqlite.c) keeps the entries of the segment it is
 * filling in a struct fc_post and rewrites the segment's rows at each
 * commit, so a segment's postings are always complete; the rows of a batch
 * are staged and become committed only when the transaction does.
 */
#ifndef FC_STORE_POST_H
#define FC_STORE_POST_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

#define FC_POST_ENT_SIZE 8
#define FC_POST_CHUNK_ENTS 1024	/* entries per seg_addrs row: 8 KiB */

/* Key of an address: FNV-1a (32 bit) over the family (4 or 6) and the
 * family's octets (4 or 16). Stored on disk: never change it without a
 * schema version. */
uint32_t fc_post_key(int family, const struct fc_addr *a);

/*
 * Call fn(off, ctx) for each entry of data[0..len) whose key is key, in
 * increasing off; stops at fn's first nonzero return and returns it.
 * len need not be a multiple of the entry size (the tail is ignored).
 * Costs a binary search plus the matches.
 */
int fc_post_find(const uint8_t *data, size_t len, uint32_t key,
		 int (*fn)(uint32_t off, void *ctx), void *ctx);

struct fc_post;

/* An empty builder, or NULL (ENOMEM). Free with fc_post__free(). */
struct fc_post *fc_post__new(void);
void fc_post__free(struct fc_post *p);

/* Stage one row of the segment: its offset from the segment's first id
 * and its source and destination keys. Offsets must increase. 0 or
 * -ENOMEM. */
int fc_post__add(struct fc_post *p, uint32_t off, uint32_t src_key, uint32_t dst_key);

/* Merge the staged rows into the segment's entries and write its
 * seg_addrs rows (replacing them; a segment's chunks only grow) with
 * first_id. The caller holds the write transaction. Returns a SQLite
 * code. */
int fc_post__write(struct fc_post *p, sqlite3 *db, int64_t seg, int64_t first_id);

/* The segment is complete: what follows belongs to a new, empty one. */
void fc_post__next_seg(struct fc_post *p);

/* The transaction committed: its writes become the builder's state. */
void fc_post__commit(struct fc_post *p);

/* The transaction rolled back: forget what it staged and wrote. */
void fc_post__rollback(struct fc_post *p);

/*
 * Schema v3 -> v4: fill flow_segs.first_id / last_id and seg_addrs for
 * every segment from the (seg, src) and (seg, dst) indexes (covering: no
 * row is read), and drop segments without rows. Needs the v3 indexes; the
 * caller drops them afterwards, and holds the write transaction. Returns a
 * SQLite code.
 */
int fc_post__import_v3(sqlite3 *db);

#endif
