// SPDX-License-Identifier: BSD-2-Clause
/*
 * units.c - sizes and durations in option values (units.h). Strict: no sign,
 * no spaces, no trailing garbage, overflow refused.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

static int parse_num(const char *s, unsigned long long *v, char **end)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -ERANGE : 0;
}

int fc_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int rc = parse_num(s, &v, &end);

	if (rc)
		return rc;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int fc_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul;
	char *end;
	int rc = parse_num(s, &v, &end);

	if (rc)
		return rc;
	if (!*end || !strcasecmp(end, "b"))
		mul = 1;
	else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
		mul = 1ull << 10;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
		mul = 1ull << 20;
	else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
		mul = 1ull << 30;
	else if (!strcasecmp(end, "t") || !strcasecmp(end, "tb") || !strcasecmp(end, "tib"))
		mul = 1ull << 40;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int fc_parse_duration_ns(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul;
	char *end;
	int rc = parse_num(s, &v, &end);

	if (rc)
		return rc;
	if (!*end || !strcmp(end, "s"))
		mul = 1000000000ull;
	else if (!strcmp(end, "ms"))
		mul = 1000000ull;
	else if (!strcmp(end, "m"))
		mul = 60 * 1000000000ull;
	else if (!strcmp(end, "h"))
		mul = 3600 * 1000000000ull;
	else if (!strcmp(end, "d"))
		mul = 86400 * 1000000000ull;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}
