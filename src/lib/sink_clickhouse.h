/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sink_clickhouse.h - internals of the clickhouse sink that tests and the
 * benchmark use directly: the RowBinary row encoder and the column list it
 * writes. The sink itself is reached through the registry ("clickhouse").
 *
 * The wire format is RowBinary with an explicit column list, so the same
 * bytes load into the 18.16 schema (FixedString(16), String) and the modern
 * one (IPv6, LowCardinality(String)): those types share their binary form.
 */
#ifndef FLOWCUT_SINK_CLICKHOUSE_H
#define FLOWCUT_SINK_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

/* Upper bound of one encoded row (the encoder clamps every string). */
#define FC_CH_ROW_MAX 512

/* "flow_id,start_ns,..." in the order fc_ch_encode_rows() writes them. */
extern const char *const fc_ch_columns;

/*
 * Encode n records as RowBinary rows into out, which must hold
 * n * FC_CH_ROW_MAX bytes. Returns the bytes written. Pure, no allocation.
 */
size_t fc_ch_encode_rows(const struct fc_flow_rec *recs, size_t n, uint8_t *out);

/*
 * "CREATE TABLE IF NOT EXISTS db.table (...) ENGINE = ..." for the 18.16
 * schema of share/clickhouse/flows.sql, into buf. Returns the length or
 * -ENOSPC.
 */
int fc_ch_create_table_sql(const char *db, const char *table, char *buf, size_t cap);

#endif
