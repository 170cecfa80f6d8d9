/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - the counters of one run: what was read, where each packet went
 * (a flow or a named non-flow counter), and what a capture analyzer shows
 * (size histogram, protocol mix). The accounting identity
 *     packets_read == packets_in_flows + sum(nonflow[])
 * holds at the end of every run; fc_stats_identity_ok() checks it.
 */
#ifndef FLOWCUT_STATS_H
#define FLOWCUT_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "flowcut/flowtab.h"
#include "flowcut/pkt.h"

/* Wire-length buckets, as Wireshark's "Packet Lengths" statistics. */
#define FC_SIZE_BUCKETS 10

enum fc_proto_slot {
	FC_PS_IPV4, FC_PS_IPV6,	/* by the flow's IP version */
	FC_PS_TCP, FC_PS_UDP, FC_PS_ICMP, FC_PS_ICMPV6, FC_PS_SCTP, FC_PS_GRE, FC_PS_ESP,
	FC_PS_OTHER,
	FC_PS__COUNT
};

struct fc_count2 {
	uint64_t pkts;
	uint64_t bytes;
};

#define FC_STATS_LINKTYPES 16

struct fc_stats {
	uint64_t packets_read;		/* frames handed to flowcut by the source */
	uint64_t bytes_read;		/* their wire lengths */
	uint64_t caplen_short;		/* frames cut by the snaplen (caplen < wire length) */
	uint64_t nonflow[FC_NONFLOW__COUNT];
	uint64_t size_hist[FC_SIZE_BUCKETS];
	struct fc_count2 proto[FC_PS__COUNT];	/* flow packets and their IP bytes */
	uint64_t tunnel_pkts[FC_TUN__COUNT];	/* flow packets that came out of a tunnel */
	uint64_t frag_first;		/* first fragments (offset 0) */
	uint64_t frag_later;		/* non-first fragments */
	uint64_t frag_matched;		/* non-first fragments joined to their flow */
	uint64_t first_ts_ns, last_ts_ns;
	struct {
		int linktype;
		uint64_t pkts;
	} linktypes[FC_STATS_LINKTYPES];
};

void fc_stats__count_frame(struct fc_stats *st, int linktype, uint32_t caplen, uint32_t wirelen,
			   uint64_t ts_ns);
void fc_stats__count_flow_pkt(struct fc_stats *st, const struct fc_pkt *pkt);

uint64_t fc_stats__nonflow_total(const struct fc_stats *st);
bool fc_stats_identity_ok(const struct fc_stats *st, const struct fc_flowtab_stats *fs);

/* Extra facts about the run that the caller knows (source, warnings). */
struct fc_stats_extra {
	const char *source;		/* file or interface */
	const char *warning;		/* e.g. "file truncated mid-record", or NULL */
	double elapsed_s;		/* wall time of the run */
};

/*
 * Write the final counters as one JSON object followed by a newline.
 * Returns 0 or a negative errno.
 */
int fc_stats__write_json(const struct fc_stats *st, const struct fc_flowtab_stats *fs,
			 const struct fc_stats_extra *ex, FILE *out);

/*
 * Add the counters of src to dst (several workers -> one run). Timestamps
 * take the earlier first and the later last packet.
 */
void fc_stats__merge(struct fc_stats *dst, const struct fc_stats *src);

/* Same for flow-table counters; peak_open becomes the sum of the peaks. */
void fc_stats__merge_flows(struct fc_flowtab_stats *dst, const struct fc_flowtab_stats *src);

/*
 * fc_stats__write_json() plus caller-formatted members: `members` (may be
 * NULL) is a comma-separated list of complete JSON members, e.g.
 * "\"kernel_drops\":0,\"workers\":[...]", appended to the top-level object.
 * Returns 0 or a negative errno (-ENOSPC if it does not fit in 64 KiB).
 */
int fc_stats__write_json_ext(const struct fc_stats *st, const struct fc_flowtab_stats *fs,
			     const struct fc_stats_extra *ex, const char *members, FILE *out);

#endif
