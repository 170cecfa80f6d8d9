// SPDX-License-Identifier: BSD-2-Clause
/*
 * util.c - option-value parsing and diagnostics for the flowcut command.
 * Errors are one line on stderr, prefixed "flowcut: error:".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

void fc_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("flowcut: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fc_cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("flowcut: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t fc_cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int fc_cli_parse_duration(const char *opt, const char *s, uint64_t *ns)
{
	char *end;
	double v, mul = 1e9;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || isnan(v))
		goto bad;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "m"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else if (!strcmp(end, "d"))
		mul = 86400e9;
	else
		goto bad;
	if (v * mul > 1e19)
		goto bad;
	*ns = (uint64_t)(v * mul);
	return 0;
bad:
	fc_cli_error("%s: '%s' is not a duration (examples: 30, 1.5s, 500ms, 5m, 2h)", opt, s);
	return -1;
}

int fc_cli_parse_count(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (*s == '-')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno)
		goto bad;
	if (!strcmp(end, "k") || !strcmp(end, "K"))
		mul = 1000;
	else if (!strcmp(end, "M"))
		mul = 1000000;
	else if (!strcmp(end, "G"))
		mul = 1000000000;
	else if (*end)
		goto bad;
	if (v > UINT64_MAX / mul)
		goto bad;
	*out = v * mul;
	return 0;
bad:
	fc_cli_error("%s: '%s' is not a count (examples: 1000, 64k, 1M)", opt, s);
	return -1;
}

int fc_cli_parse_size(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || errno)
		goto bad;
	if (!strcasecmp(end, "k"))
		mul = 1024;
	else if (!strcasecmp(end, "m"))
		mul = 1024 * 1024;
	else if (!strcasecmp(end, "g"))
		mul = 1024ull * 1024 * 1024;
	else if (*end)
		goto bad;
	if (v > max / mul)
		goto bad;
	*out = v * mul;
	return 0;
bad:
	fc_cli_error("%s: '%s' is not a size (examples: 65536, 256k, 1M)", opt, s);
	return -1;
}
