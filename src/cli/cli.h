/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - shared pieces of the flowcut command: subcommand entry points and
 * option-value parsers that print their own one-line errors.
 */
#ifndef FC_CLI_H
#define FC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define FC_EXIT_OK 0
#define FC_EXIT_FAIL 1		/* runtime failure (unreadable input, write error) */
#define FC_EXIT_USAGE 2		/* bad command line */

int fc_cmd_read(int argc, char **argv);
int fc_cmd_capture(int argc, char **argv);
int fc_cmd_bypass(int argc, char **argv);
int fc_cmd_block(int argc, char **argv);
int fc_cmd_query(int argc, char **argv);

extern const char fc_cli_version[];
extern const char fc_cli_gitrev[];

/* "90", "1.5s", "500ms", "5m", "2h", "1d" -> ns. Returns 0 or -1 (message printed). */
int fc_cli_parse_duration(const char *opt, const char *s, uint64_t *ns);
/* "65536", "64k", "1M", "2G" (powers of 1024 for sizes), at most max. Returns 0 or -1. */
int fc_cli_parse_size(const char *opt, const char *s, uint64_t max, uint64_t *out);
/* "1000", "64k", "1M", "2G" (powers of 1000 for counts). Returns 0 or -1. */
int fc_cli_parse_count(const char *opt, const char *s, uint64_t *v);

void fc_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fc_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in ns. */
uint64_t fc_cli_now_ns(void);

#endif
