/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the configuration file (flowcut.conf(5)): INI sections, parsed
 * by libinih, kept as sections of key = value lines with their line numbers
 * so every later complaint can name "FILE:LINE". The library only parses and
 * hands out sections and sink specs; which keys a command accepts is the
 * command's business (the CLI maps [capture]/[read] keys onto its options).
 *
 *   [capture]              ; options of `flowcut capture`, '_' for '-'
 *   interface = eth0
 *   [sink main]            ; one section per sink
 *   type = json
 *   target = /var/log/flowcut/flows.json
 *   rotate_size = 100M     ; any other key is a sink (or exporter) option
 */
#ifndef FLOWCUT_CONFIG_H
#define FLOWCUT_CONFIG_H

#include <stddef.h>

#include "flowcut/sink.h"

struct fc_config_kv {
	char *key;
	char *val;
	unsigned line;
};

struct fc_config_section {
	char *name;		/* "capture", "read", "sink" */
	char *arg;		/* "main" in [sink main]; "" when none */
	unsigned line;
	struct fc_config_kv *kv;
	unsigned nkv;
};

struct fc_config {
	char *path;
	struct fc_config_section *sec;
	unsigned nsec;
};

/*
 * Parse path. Returns 0, or a negative errno with "PATH:LINE: what" (or
 * "PATH: what") in err. Syntax errors, a key outside any section, a key
 * twice in a section, an unknown section name and an incomplete [sink]
 * section are errors. Free with fc_config__free().
 */
int fc_config__load(const char *path, struct fc_config **out, char *err, size_t errlen);
void fc_config__free(struct fc_config *c);

/* The first section called name ("capture"), or NULL. */
const struct fc_config_section *fc_config__section(const struct fc_config *c, const char *name);

/* Number of [sink NAME] sections, and the spec of the i-th (type, target, options). */
unsigned fc_config__nsinks(const struct fc_config *c);
int fc_config__sink_spec(const struct fc_config *c, unsigned i, struct fc_sink_spec *spec,
			 char *err, size_t errlen);
/* The [sink] section behind index i (for error messages), or NULL. */
const struct fc_config_section *fc_config__sink_section(const struct fc_config *c, unsigned i);

/*
 * The line to blame for a sink's error message: the line of the option it
 * names ("'rotate_size'" or "rotate_size=") or else the section's line.
 */
unsigned fc_config__blame_line(const struct fc_config_section *s, const char *msg);

#endif
