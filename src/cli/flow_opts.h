/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow_opts.h - the flow-table and fragment options that `read` and
 * `capture` share (timeouts, table sizes, VLAN keying): one option table and
 * one parser, so the two commands cannot drift apart.
 */
#ifndef FC_CLI_FLOW_OPTS_H
#define FC_CLI_FLOW_OPTS_H

#include <getopt.h>

#include "flowcut/engine.h"

enum {
	FC_FLOWOPT_IDLE = 2048, FC_FLOWOPT_IDLE_TCP, FC_FLOWOPT_IDLE_UDP, FC_FLOWOPT_IDLE_OTHER,
	FC_FLOWOPT_ACTIVE, FC_FLOWOPT_CLOSE, FC_FLOWOPT_MAX_FLOWS, FC_FLOWOPT_NO_VLAN,
	FC_FLOWOPT_FRAG_TIMEOUT, FC_FLOWOPT_MAX_FRAGS,
};

/* Entries for a command's struct option table. */
#define FC_CLI_FLOW_LONGOPTS                                                             \
	{ "idle-timeout", required_argument, NULL, FC_FLOWOPT_IDLE },                     \
	{ "tcp-idle-timeout", required_argument, NULL, FC_FLOWOPT_IDLE_TCP },             \
	{ "udp-idle-timeout", required_argument, NULL, FC_FLOWOPT_IDLE_UDP },             \
	{ "other-idle-timeout", required_argument, NULL, FC_FLOWOPT_IDLE_OTHER },         \
	{ "active-timeout", required_argument, NULL, FC_FLOWOPT_ACTIVE },                 \
	{ "tcp-close-grace", required_argument, NULL, FC_FLOWOPT_CLOSE },                 \
	{ "max-flows", required_argument, NULL, FC_FLOWOPT_MAX_FLOWS },                   \
	{ "no-vlan-key", no_argument, NULL, FC_FLOWOPT_NO_VLAN },                         \
	{ "frag-timeout", required_argument, NULL, FC_FLOWOPT_FRAG_TIMEOUT },             \
	{ "max-frags", required_argument, NULL, FC_FLOWOPT_MAX_FRAGS }

/*
 * Apply option c (from getopt_long) with argument arg to eng. Returns 1 when
 * c is one of these options and was applied, 0 when it is not one of them,
 * -1 when its value is bad (a one-line error was printed).
 */
int fc_cli_flow_opt(int c, const char *arg, struct fc_engine_opts *eng);

#endif
