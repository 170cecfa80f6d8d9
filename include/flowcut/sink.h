/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sink.h - where finished flow records go. One small interface (open, write
 * a batch, flush, close, report health) and a registry by name. Each sink
 * lives in its own file (src/lib/sink_<name>.c) and registers itself with
 * FC_SINK_REGISTER(); the core knows none of them by name.
 *
 * A sink instance is driven by exactly one thread (the exporter gives each
 * sink its own delivery thread), so sink code needs no locking of its own.
 * Sinks never print or exit: errors are negative errnos plus a message in
 * the instance's err buffer (fc_sink__set_err()).
 */
#ifndef FLOWCUT_SINK_H
#define FLOWCUT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

#define FC_SINK_MAX_OPTS 32
#define FC_SINK_ERR_LEN 256

/* One ?key=value option of a sink URL or a config-file line. */
struct fc_sink_opt {
	const char *key;
	const char *val;
};

/*
 * Parsed sink specification: "TYPE:TARGET?k=v&k=v" or "TYPE://TARGET?...".
 * type "json", target "-" or a path; type "ipfix", target "host:port"; ...
 */
struct fc_sink_spec {
	char *type;
	char *target;
	struct fc_sink_opt opts[FC_SINK_MAX_OPTS];
	unsigned nopts;
};

/* Counters every sink reports; the exporter adds its queue/spool numbers. */
struct fc_sink_health {
	uint64_t written;	/* records handed to the sink's destination */
	uint64_t failed;	/* write attempts that failed (records kept, retried) */
	uint64_t bytes;		/* bytes the sink produced (file bytes, datagrams, ...) */
	int up;			/* 1 = destination reachable / file writable */
	char last_error[FC_SINK_ERR_LEN];
};

struct fc_sink;

struct fc_sink_ops {
	const char *type;	/* registry name: "json", "sqlite", "ipfix", ... */
	const char *help;	/* one line: target syntax and options */
	size_t priv_size;	/* bytes of private state, zeroed, at fc_sink__priv() */

	/*
	 * Parse options and connect/open. A destination that is down at start
	 * is not an error for network sinks (they retry); bad options are
	 * (-EINVAL with a message). Returns 0 or a negative errno.
	 */
	int (*open)(struct fc_sink *s, const struct fc_sink_spec *spec);

	/*
	 * Deliver n records, in order. Returns the number delivered (0..n) —
	 * the caller keeps and re-offers the rest later, in order — or a
	 * negative errno when nothing could be delivered now (destination down:
	 * the caller backs off and retries). Must not block for long: use
	 * timeouts on network I/O.
	 */
	int (*write)(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n);

	/* Push out anything buffered (end of a batch, before exit). 0 or -errno. */
	int (*flush)(struct fc_sink *s);

	/* Optional: called on SIGHUP (reopen files for logrotate). */
	int (*reopen)(struct fc_sink *s);

	/* Release everything. Called once, also after a failed open. */
	void (*close)(struct fc_sink *s);
};

/* Register a sink type; done by FC_SINK_REGISTER at program start. */
void fc_sink_register(const struct fc_sink_ops *ops);
const struct fc_sink_ops *fc_sink_lookup(const char *type);
/* Iterate registered types (for --help): returns NULL past the end. */
const struct fc_sink_ops *fc_sink_type_at(unsigned i);

#define FC_SINK_REGISTER(ops_var)                                              \
	__attribute__((constructor)) static void fc_sink_register_##ops_var(void) \
	{                                                                      \
		fc_sink_register(&(ops_var));                                  \
	}

/*
 * Parse "TYPE:TARGET?k=v&k2=v2" (also "TYPE://TARGET?..."). Returns 0, or
 * -EINVAL with a message in err. Free with fc_sink_spec__free().
 */
int fc_sink_spec__parse(const char *text, struct fc_sink_spec *spec, char *err, size_t errlen);
void fc_sink_spec__free(struct fc_sink_spec *spec);
/* Value of option key, or NULL. */
const char *fc_sink_spec__opt(const struct fc_sink_spec *spec, const char *key);

/*
 * A sink instance. Returns NULL with a message in err when the type is
 * unknown, memory runs out or open() fails.
 */
struct fc_sink *fc_sink__open(const struct fc_sink_spec *spec, char *err, size_t errlen);
void fc_sink__close(struct fc_sink *s);
int fc_sink__write(struct fc_sink *s, const struct fc_flow_rec *recs, size_t n);
int fc_sink__flush(struct fc_sink *s);
int fc_sink__reopen(struct fc_sink *s);
const char *fc_sink__name(const struct fc_sink *s);	/* "ipfix://host:port" as given */
const struct fc_sink_ops *fc_sink__ops(const struct fc_sink *s);

/*
 * A sink may state how many records it wants per write() (e.g. ClickHouse
 * prefers large inserts); the exporter sizes that sink's batches to it.
 * 0 (the default) leaves the exporter's own batch size.
 */
void fc_sink__set_batch_hint(struct fc_sink *s, size_t records);
size_t fc_sink__batch_hint(const struct fc_sink *s);

/* For sink implementations. */
void *fc_sink__priv(struct fc_sink *s);
struct fc_sink_health *fc_sink__health(struct fc_sink *s);
void fc_sink__set_err(struct fc_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
