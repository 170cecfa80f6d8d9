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

struct unit {
	const char *suffix;
	uint64_t mul;
};

#define NS_PER_S 1000000000ull

/* Sizes: binary multiples, any case ("64k", "1MiB", "2G"). */
static const struct unit size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ull << 10 }, { "kb", 1ull << 10 }, { "kib", 1ull << 10 },
	{ "m", 1ull << 20 }, { "mb", 1ull << 20 }, { "mib", 1ull << 20 },
	{ "g", 1ull << 30 }, { "gb", 1ull << 30 }, { "gib", 1ull << 30 },
	{ "t", 1ull << 40 }, { "tb", 1ull << 40 }, { "tib", 1ull << 40 },
};

/* Durations in ns, exact case ("m" is minutes, "ms" milliseconds); none = seconds. */
static const struct unit duration_units[] = {
	{ "", NS_PER_S }, { "s", NS_PER_S }, { "ms", 1000000ull },
	{ "m", 60 * NS_PER_S }, { "h", 3600 * NS_PER_S }, { "d", 86400 * NS_PER_S },
};

/* A number followed by one of n units (compared with cmp), scaled, overflow refused. */
static int parse_scaled(const char *s, const struct unit *units, size_t n,
			int (*cmp)(const char *, const char *), uint64_t *out)
{
	unsigned long long v;
	char *end;
	size_t i;
	int rc = parse_num(s, &v, &end);

	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (!cmp(end, units[i].suffix))
			break;
	if (i == n)
		return -EINVAL;
	if (v > UINT64_MAX / units[i].mul)
		return -ERANGE;
	*out = v * units[i].mul;
	return 0;
}

int fc_parse_size(const char *s, uint64_t *out)
{
	return parse_scaled(s, size_units, sizeof(size_units) / sizeof(size_units[0]), strcasecmp, out);
}

int fc_parse_duration_ns(const char *s, uint64_t *out)
{
	return parse_scaled(s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]),
			    strcmp, out);
}
