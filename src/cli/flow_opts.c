// SPDX-License-Identifier: BSD-2-Clause
/*
 * flow_opts.c - parse the flow-table options shared by read and capture
 * (see flow_opts.h); ranges and messages are documented in flowcut(1).
 */
#include "cli.h"
#include "flow_opts.h"

static int count_in(const char *opt, const char *arg, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (fc_cli_parse_count(opt, arg, &v))
		return -1;
	if (v < 1 || v > max) {
		fc_cli_error("%s: %s is out of range (1 .. %llu)", opt, arg, (unsigned long long)max);
		return -1;
	}
	*out = (uint32_t)v;
	return 1;
}

static int duration(const char *opt, const char *arg, uint64_t *ns)
{
	return fc_cli_parse_duration(opt, arg, ns) ? -1 : 1;
}

int fc_cli_flow_opt(int c, const char *arg, struct fc_engine_opts *eng)
{
	struct fc_flowtab_opts *fo = &eng->flow;
	uint64_t v;

	switch (c) {
	case FC_FLOWOPT_IDLE:
		if (fc_cli_parse_duration("--idle-timeout", arg, &v))
			return -1;
		fo->idle_tcp_ns = fo->idle_udp_ns = fo->idle_other_ns = v;
		return 1;
	case FC_FLOWOPT_IDLE_TCP:
		return duration("--tcp-idle-timeout", arg, &fo->idle_tcp_ns);
	case FC_FLOWOPT_IDLE_UDP:
		return duration("--udp-idle-timeout", arg, &fo->idle_udp_ns);
	case FC_FLOWOPT_IDLE_OTHER:
		return duration("--other-idle-timeout", arg, &fo->idle_other_ns);
	case FC_FLOWOPT_ACTIVE:
		return duration("--active-timeout", arg, &fo->active_ns);
	case FC_FLOWOPT_CLOSE:
		return duration("--tcp-close-grace", arg, &fo->tcp_close_ns);
	case FC_FLOWOPT_NO_VLAN:
		fo->no_vlan_key = true;
		return 1;
	case FC_FLOWOPT_FRAG_TIMEOUT:
		if (fc_cli_parse_duration("--frag-timeout", arg, &eng->frag_timeout_ns))
			return -1;
		if (!eng->frag_timeout_ns) {
			fc_cli_error("--frag-timeout: must be more than 0");
			return -1;
		}
		return 1;
	case FC_FLOWOPT_MAX_FLOWS:
		return count_in("--max-flows", arg, 1u << 30, &fo->max_flows);
	case FC_FLOWOPT_MAX_FRAGS:
		return count_in("--max-frags", arg, 1u << 24, &eng->frag_max);
	}
	return 0;
}
