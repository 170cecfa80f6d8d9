/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - reading the SQLite flow store that the "sqlite" sink writes:
 * top-N summaries (talkers, ports, protocols, sources, destinations) and
 * lists of flow records over a time range with address/port/protocol
 * filters. This is what `flowcut query` is built on; the store is opened
 * read-only, so queries run while a capture keeps writing (WAL).
 *
 * Like the rest of libflowcut: no printing, no exiting; functions return 0
 * or a negative errno with a one-line message in the caller's err buffer.
 * Schema and design: docs/store.md.
 */
#ifndef FLOWCUT_STORE_H
#define FLOWCUT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

struct fc_store;

/*
 * The default store path: /var/lib/flowcut/flows.db when running as root,
 * else $XDG_DATA_HOME/flowcut/flows.db or ~/.local/share/flowcut/flows.db.
 * Returns 0, -ENAMETOOLONG, or -ENOENT when neither XDG_DATA_HOME nor HOME
 * is set.
 */
int fc_store_default_path(char *buf, size_t cap);

/*
 * Open the store at path read-only. Returns a handle (free with
 * fc_store__close()) or NULL with errno set and a message in err:
 * ENOENT when there is no file, ENOTSUP for a schema this build does not
 * know, EBADMSG for a file that is not a flow store.
 */
struct fc_store *fc_store__open(const char *path, char *err, size_t errlen);
void fc_store__close(struct fc_store *st);

/* What --top groups by. Every summary sums bytes+rbytes, pkts+rpkts and
 * counts records. */
enum fc_store_top {
	FC_STORE_TOP_TALKERS = 0,	/* address on either side of a flow */
	FC_STORE_TOP_SRC,		/* initiator address */
	FC_STORE_TOP_DST,		/* responder address */
	FC_STORE_TOP_PORTS,		/* (proto, responder port) */
	FC_STORE_TOP_PROTOCOLS,		/* proto */
	FC_STORE_TOP__COUNT
};

/* Parse "talkers", "src", ... Returns 0 or -EINVAL. */
int fc_store_top_parse(const char *s, enum fc_store_top *out);
const char *fc_store_top_name(enum fc_store_top t);

/*
 * Which records a query looks at. A record is in the time range when its
 * end (last packet, end_ns) is in [since_ns, until_ns); until_ns 0 means
 * no upper bound. Address filters are IPv4 or IPv6 text in any form
 * inet_pton() accepts (NULL = any); host matches either side. port matches
 * either port; -1 = any. proto -1 = any.
 */
struct fc_store_filter {
	uint64_t since_ns;
	uint64_t until_ns;
	const char *src;
	const char *dst;
	const char *host;
	int port;
	int proto;
};

/* A filter matching everything. */
void fc_store_filter__init(struct fc_store_filter *f);

/* One line of a top-N summary. */
struct fc_store_top_row {
	char addr[64];		/* talkers/src/dst: RFC 5952 / dotted quad text */
	int proto;		/* ports/protocols; -1 otherwise */
	int port;		/* ports; -1 otherwise */
	uint64_t bytes;		/* bytes + rbytes */
	uint64_t pkts;		/* pkts + rpkts */
	uint64_t flows;		/* records */
};

/* Per-row callbacks: return 0 to go on, anything else stops the query and is
 * returned by it. */
typedef int (*fc_store_top_cb)(const struct fc_store_top_row *row, void *ctx);
typedef int (*fc_store_rec_cb)(const struct fc_flow_rec *rec, void *ctx);

/*
 * The limit largest groups by bytes (ties: more packets first, then key),
 * largest first. Unfiltered and proto-only queries read the hourly rollup
 * tables for whole hours and the flows table for the partial hours at the
 * edges of the range, so their cost grows with hours x groups, not records.
 * Returns 0, the callback's nonzero value, or a negative errno.
 */
int fc_store__top(struct fc_store *st, enum fc_store_top by, const struct fc_store_filter *f,
		  unsigned limit, fc_store_top_cb cb, void *ctx, char *err, size_t errlen);

/*
 * The newest limit matching records, oldest first (like tail(1)), ordered
 * by end_ns then insertion order. Returns 0, the callback's nonzero value,
 * or a negative errno.
 */
int fc_store__list(struct fc_store *st, const struct fc_store_filter *f, unsigned limit,
		   fc_store_rec_cb cb, void *ctx, char *err, size_t errlen);

#endif
