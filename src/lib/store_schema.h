/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_schema.h - internal to libflowcut: the SQLite flow store's schema,
 * its migrations, and the one mapping between struct fc_flow_rec and a row
 * of the flows table. Shared by the sqlite sink (writer) and store_query.c
 * (reader) so both always agree on columns. docs/store.md describes the
 * schema for people.
 */
#ifndef FC_STORE_SCHEMA_H
#define FC_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

/* Schema version this build writes and reads. */
#define FC_STORE_SCHEMA_VERSION 4

/* Rollup tables sum flows per hour / day of their end time (bucket = end_ns /
 * this). */
#define FC_STORE_BUCKET_NS 3600000000000ULL
#define FC_STORE_DAY_NS 86400000000000ULL
#define FC_STORE_NTIERS 2

/* Rows per insertion segment (flows.seg, flow_segs, seg_addrs): small
 * enough that a time range's edges read few rows beyond it and a segment's
 * postings (2 x 8 bytes a row) are rewritten cheaply at each commit, large
 * enough that a lookup over N rows reads only N / FC_STORE_SEG_ROWS
 * postings rows. */
#define FC_STORE_SEG_ROWS 16384

/* Rollup tiers, finest first. */
struct fc_store_tier {
	uint64_t ns;
	const char *talk;	/* table names */
	const char *port;
};
extern const struct fc_store_tier fc_store_tiers[FC_STORE_NTIERS];

/*
 * One step of the schema: brings a store from to_version - 1 to to_version.
 * sql runs first (may be NULL), then fn (may be NULL; 0 or a SQLite code).
 */
struct fc_store_migration {
	int to_version;
	const char *sql;
	int (*fn)(sqlite3 *db);
};

/*
 * Apply, in one IMMEDIATE transaction, every migration in m[0..n) whose
 * to_version is above the store's current version (0 for a new file), in
 * order, and record the new version. A store newer than m's last version is
 * refused (-ENOTSUP) so an old flowcut never writes a schema it does not
 * know. On failure nothing changes. Returns 0 or a negative errno with a
 * message in err.
 */
int fc_store_migrate(sqlite3 *db, const struct fc_store_migration *m, size_t n,
		     char *err, size_t errlen);

/* The migrations of this build (FC_STORE_SCHEMA_VERSION entries). */
extern const struct fc_store_migration fc_store_migrations[];
extern const size_t fc_store_nmigrations;

/* Current schema version of an open store: >= 0, or a negative errno. */
int fc_store_version(sqlite3 *db);

/* Columns of the flows table in the order fc_store_bind_rec() binds (?1..)
 * and fc_store_read_rec() reads (from column 0). */
extern const char fc_store_rec_columns[];
#define FC_STORE_REC_NCOLS 33

/*
 * What fc_store_bind_rec() leaves bound in a statement it is called on
 * again and again: the address texts (bound SQLITE_STATIC from here, so
 * SQLite does not copy them) and which optional groups are bound NULL
 * (SQLite keeps bindings across sqlite3_reset(), so a NULL is not bound
 * again). Zero it for each new statement; it must outlive the statement's
 * use of these bindings.
 */
struct fc_store_binds {
	char src[46], dst[46], tunnel_src[46], tunnel_dst[46];	/* INET6_ADDRSTRLEN */
	unsigned nulls;		/* FC_STORE_NULL_* groups bound NULL */
};

/* Bind rec to stmt's parameters first..first+FC_STORE_REC_NCOLS-1 (first is
 * 1 for a one-row INSERT). Returns a SQLite code. */
int fc_store_bind_rec(sqlite3_stmt *stmt, int first, const struct fc_flow_rec *rec,
		      struct fc_store_binds *b);
/* Fill rec from columns first..first+FC_STORE_REC_NCOLS-1 of the current row. */
void fc_store_read_rec(sqlite3_stmt *stmt, int first, struct fc_flow_rec *rec);

/* A SQLite result code (with the handle's extended code and system errno) as
 * a negative errno: FULL -ENOSPC, READONLY -EROFS, BUSY/LOCKED -EBUSY, ... */
int fc_store_errno(sqlite3 *db, int rc);

#endif
