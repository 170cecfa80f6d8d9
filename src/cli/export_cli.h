/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * export_cli.h - what `read` and `capture` share about export: the --sink,
 * --config, --metrics, --no-metrics, --spool-dir, --flush-timeout and --retain
 * options,
 * the config file's [read]/[capture] keys turned into options, building and
 * closing the exporter, its log callback (stderr), and the "sinks" member of
 * the --stats JSON.
 */
#ifndef FC_EXPORT_CLI_H
#define FC_EXPORT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowcut/config.h"
#include "flowcut/export.h"

#define FC_CLI_MAX_SINKS 16
#define FC_CLI_DEFAULT_METRICS "127.0.0.1:9753"

enum {
	FC_CLI_OPT_SINK = 1024, FC_CLI_OPT_CONFIG, FC_CLI_OPT_METRICS, FC_CLI_OPT_NO_METRICS,
	FC_CLI_OPT_SPOOL_DIR, FC_CLI_OPT_FLUSH_TIMEOUT, FC_CLI_OPT_RETAIN,
};

#define FC_CLI_EXPORT_LONGOPTS                                                    \
	{ "sink", required_argument, NULL, FC_CLI_OPT_SINK },                     \
	{ "config", required_argument, NULL, FC_CLI_OPT_CONFIG },                 \
	{ "metrics", required_argument, NULL, FC_CLI_OPT_METRICS },               \
	{ "no-metrics", no_argument, NULL, FC_CLI_OPT_NO_METRICS },               \
	{ "spool-dir", required_argument, NULL, FC_CLI_OPT_SPOOL_DIR },           \
	{ "flush-timeout", required_argument, NULL, FC_CLI_OPT_FLUSH_TIMEOUT },    \
	{ "retain", required_argument, NULL, FC_CLI_OPT_RETAIN }

#define FC_CLI_EXPORT_USAGE                                                                    \
	"      --sink SPEC           send records to a sink (repeatable): json:-, json:PATH,\n"  \
	"                            sqlite:PATH, ipfix://HOST:PORT, clickhouse://HOST:PORT/DB.T\n" \
	"      --config FILE         options and [sink NAME] sections from FILE (flowcut.conf(5))\n" \
	"      --metrics ADDR:PORT   serve Prometheus /metrics here\n"                            \
	"      --no-metrics          no /metrics server\n"                                      \
	"      --spool-dir DIR       where sinks spool records they cannot deliver yet\n"         \
	"      --flush-timeout DUR   at exit, deliver for up to DUR, then spool (default 10s)\n" \
	"      --retain DUR          sqlite sinks keep DUR of records (7d, 12h; = retain=DUR,\n" \
	"                            which wins when a sink sets it)\n"

struct fc_cli_export {
	const char *sinks[FC_CLI_MAX_SINKS];
	unsigned nsinks;
	const char *metrics;		/* NULL: the command's default */
	bool no_metrics;
	const char *spool_dir;
	uint64_t flush_timeout_ns;
	const char *retain;		/* --retain: retain= for sqlite sinks without one */
	struct fc_config *cfg;		/* from --config, or NULL */
	/* the argv built from the config file (owned) */
	char **argv;
	char **strs;
	int nstrs;
};

/*
 * Before getopt: if the command line (*argvp) holds --config FILE, load it
 * and point *argcp and *argvp at a new argv (owned by e) with the keys of [section] as
 * options in front of the command line's (so the command line wins); without
 * --config they are left alone. Returns 0, or -1 with an error printed
 * ("FILE:LINE: unknown key 'foo' in [capture]").
 */
int fc_cli_export__config(struct fc_cli_export *e, const char *section,
			  const struct option *longopts, int *argcp, char ***argvp);

/* In the getopt loop: 1 = an export option (handled), 0 = not one, -1 = bad value (printed). */
int fc_cli_export__opt(struct fc_cli_export *e, int c, const char *arg);

/*
 * Build and start the exporter: the --sink specs, else the config file's
 * [sink] sections, else default_sink (a sink type that is not built in is
 * replaced by json:- with a warning). Returns NULL with an error printed.
 */
struct fc_export *fc_cli_export__open(struct fc_cli_export *e, unsigned producers, bool lossless,
				      const char *default_sink);

/* Close (flush every sink) and report. Returns 0, or -1 when records were dropped or left spooled. */
int fc_cli_export__close(struct fc_export *x);

/* "\"sinks\":{...}" for --stats (malloc'd), or NULL with errno set. */
char *fc_cli_export__stats_members(struct fc_export *x);

void fc_cli_export__fini(struct fc_cli_export *e);

/* The exporter's log callback: "flowcut: warning: sink X: ..." on stderr. */
void fc_cli_log(void *ctx, int level, const char *msg);

#endif
