/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_rollup.h - internal to libflowcut: the sqlite sink's in-memory sums
 * for the hourly rollup tables (talk_hour, port_hour) and how they are
 * folded into the store together with the rollup_upto mark (store_schema.c
 * explains the mark). Summing in memory and writing once a minute keeps the
 * rollups' pages out of every batch's commit.
 */
#ifndef FC_STORE_ROLLUP_H
#define FC_STORE_ROLLUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct fc_rollup;

/* Returns an empty accumulator or NULL (ENOMEM). Free with fc_rollup__free(). */
struct fc_rollup *fc_rollup__new(void);
void fc_rollup__free(struct fc_rollup *r);

/* Count one record. src/dst are the address texts stored in flows.
 * Returns 0 or -ENOMEM. */
int fc_rollup__add(struct fc_rollup *r, uint64_t end_ns, const char *src, const char *dst,
		   int proto, int dport, uint64_t bytes, uint64_t pkts);

/* Groups held. */
size_t fc_rollup__size(const struct fc_rollup *r);

/* Forget every group (after a successful fc_rollup__write() commit). */
void fc_rollup__clear(struct fc_rollup *r);

/* Upsert every group into the rollup tables and set rollup_upto = upto.
 * The caller holds the write transaction. Returns a SQLite code. */
int fc_rollup__write(struct fc_rollup *r, sqlite3 *db, int64_t upto);

/* Add the flows rows above rollup_upto (after a crash, or after
 * fc_rollup__add() ran out of memory) to r, after clearing it. *upto gets the
 * highest id read (the mark when there is none). Returns a SQLite code, or
 * SQLITE_NOMEM. */
int fc_rollup__catch_up(struct fc_rollup *r, sqlite3 *db, int64_t *upto);

/* rollup_upto of an open store: >= 0, or a negative SQLite code. */
int64_t fc_rollup_mark(sqlite3 *db);

#endif
