/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_sqlite.h - what the SQLite store's unit tests share: read one integer
 * straight from a database file, behind the store's back.
 */
#ifndef T_SQLITE_H
#define T_SQLITE_H

#include <sqlite3.h>
#include <stdint.h>

/* The first column of the first row of sql run on the file at path, or -1. */
static inline int64_t t_sql_i64(const char *path, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

#endif
