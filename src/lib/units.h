/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * units.h - option values with units, shared by the exporter, the sinks and
 * the config file: sizes ("64k", "100M", "1G": powers of 1024) and
 * durations ("500ms", "30s", "5m", "1h", "7d"; a bare number is seconds).
 */
#ifndef FC_UNITS_H
#define FC_UNITS_H

#include <stdint.h>

/* Returns 0, or -EINVAL when s is not a size / -ERANGE when it overflows. */
int fc_parse_size(const char *s, uint64_t *bytes);
/* Returns 0, or -EINVAL / -ERANGE. */
int fc_parse_duration_ns(const char *s, uint64_t *ns);
/* Same for counts without unit ("1024"); -EINVAL on anything else. */
int fc_parse_u64(const char *s, uint64_t *v);

#endif
