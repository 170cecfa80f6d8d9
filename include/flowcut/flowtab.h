/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowtab.h - the bidirectional flow table.
 *
 * One table per worker (no locks). Flows come from a pool allocated once at
 * creation and capped at max_flows; the packet path never allocates. Both
 * directions of a flow meet in one entry through a direction-free keyed hash
 * (SipHash with a random seed). Finished flows leave through the emit
 * callback as struct fc_flow_rec; the table never prints or exits.
 */
#ifndef FLOWCUT_FLOWTAB_H
#define FLOWCUT_FLOWTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "flowcut/pkt.h"
#include "flowcut/record.h"

#define FC_NS_PER_SEC 1000000000ULL

#define FC_DEFAULT_MAX_FLOWS (1u << 20)
#define FC_DEFAULT_IDLE_TCP_NS (300 * FC_NS_PER_SEC)
#define FC_DEFAULT_IDLE_UDP_NS (60 * FC_NS_PER_SEC)
#define FC_DEFAULT_IDLE_OTHER_NS (60 * FC_NS_PER_SEC)
#define FC_DEFAULT_ACTIVE_NS (1800 * FC_NS_PER_SEC)
#define FC_DEFAULT_TCP_CLOSE_NS (5 * FC_NS_PER_SEC)

typedef void (*fc_emit_fn)(void *ctx, const struct fc_flow_rec *rec);

/*
 * Kernel bypass hooks (src/lib/bypass_flow.c implements them). A bypassed
 * flow's packets are counted by a kernel program in one map entry; the
 * table keeps, per flow, what earlier entries counted (folded in when they
 * were removed) and how much was already reported, so that a record's
 * totals are always userspace's count plus the kernel's share, each packet
 * once. Counters are oriented like the record: [0] initiator -> responder.
 */
struct fc_flowtab_kcounts {
	uint64_t pkts[2], bytes[2];
	uint64_t last_ns;		/* epoch ns of the entry's last hit; 0 = none */
};

enum fc_flowtab_sync {
	FC_FT_SYNC_PEEK,	/* read the entry (idle check) */
	FC_FT_SYNC_KEEP,	/* read it, note it as reported, keep it (interim, shutdown) */
	FC_FT_SYNC_END,		/* remove it and return its final counts */
};

struct fc_flowtab_bypass_ops {
	uint64_t after_pkts, after_bytes;	/* add() is asked once a flow reached both */
	/*
	 * Hand the flow (identity and counts in rec, no community_id) to the
	 * kernel. 1 = an entry now counts it, 0 = policy says no, < 0 = failed
	 * (-errno). The table asks once per flow unless it returns 1.
	 */
	int (*add)(void *ctx, const struct fc_flow_rec *rec);
	/* Read / remove the flow's entry into *k. 0, -ENOENT (no entry), or -errno. */
	int (*sync)(void *ctx, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		    struct fc_flowtab_kcounts *k);
	void *ctx;
};

struct fc_flowtab_opts {
	uint32_t max_flows;		/* hard cap on live flows; 0 = default */
	uint64_t idle_tcp_ns;		/* 0 = no idle timeout for TCP */
	uint64_t idle_udp_ns;		/* 0 = off */
	uint64_t idle_other_ns;		/* 0 = off */
	uint64_t active_ns;		/* 0 = no interim records */
	uint64_t tcp_close_ns;		/* grace after FIN both ways / RST; 0 = end at once */
	bool no_vlan_key;		/* ignore VLAN ids when matching flows */
	bool fixed_seed;		/* use seed[] instead of a random one (tests) */
	bool defer_community_id;	/* leave community_id empty: the exporter fills it */
	bool siphash;			/* index hash: SipHash even where AES-NI is there */
	uint8_t seed[16];
	uint64_t flow_id_base;		/* first flow_id is flow_id_base + 1 */
	fc_emit_fn emit;		/* required; called for every finished record */
	void *emit_ctx;
	const struct fc_flowtab_bypass_ops *bypass;	/* NULL = no kernel bypass */
};

/* Fill opts with the documented defaults (emit left NULL). */
void fc_flowtab_opts__defaults(struct fc_flowtab_opts *opts);

struct fc_flowtab_stats {
	uint64_t flows_created;
	uint64_t records[FC_END__COUNT];	/* records emitted, by end reason */
	uint64_t pkts_emitted;		/* sum of pkts+rpkts over emitted records */
	uint64_t bytes_emitted;		/* sum of bytes+rbytes over emitted records */
	uint64_t active;		/* flows in the table now */
	uint64_t peak_active;
	uint64_t bypassed;		/* flows handed to the kernel (incl. adopted, claimed) */
	uint64_t bypass_refreshed;	/* idle checks answered by a recent kernel hit */
	uint64_t bypass_sync_failed;	/* sync() errors: share counted as 0 for that record */
	uint64_t bypass_share_pkts;	/* kernel share of emitted records (in pkts_emitted too) */
	uint64_t bypass_share_bytes;
	uint64_t bypass_sw_flows;	/* add() found the map full: bypassed in userspace instead */
	uint64_t bypass_sw_pkts;	/* their packets, counted and not inspected further */
};

/* Returns a new table, or NULL with errno set. Free with fc_flowtab__free(). */
struct fc_flowtab *fc_flowtab__new(const struct fc_flowtab_opts *opts);
void fc_flowtab__free(struct fc_flowtab *ft);

/*
 * Account one packet (pkt->kind must be FC_PKT_FLOW) seen at ts_ns.
 * May emit records first (TCP port reuse, active timeout, eviction at the
 * cap). Returns 0, 1 when the packet was counted and dropped early (its flow
 * is bypassed in userspace because the kernel map was full), or a negative
 * errno (-EINVAL for a non-flow packet).
 * O(1), no allocation.
 */
int fc_flowtab__update(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns);

/*
 * Optional three-stage prefetch for callers that see packets a few at a
 * time ahead of accounting them (the engine keeps a short pipeline): stage 1
 * canonicalises and hashes the key into a hint and starts loading its
 * bucket, stage 2 (a few packets later) starts loading the bucket's first
 * entry, stage 3 its LRU neighbours; then fc_flowtab__update_hinted() with
 * the same hint, which saves computing the key twice. Prefetching is only a
 * hint: any table change in between is harmless. The hint is valid only for
 * the table and packet it was made from.
 */
struct fc_flowtab_hint {
	uint64_t key[6];	/* canonical key (opaque) */
	uint32_t hash;
	int side;		/* canonical side of the sender */
};

void fc_flowtab__prefetch_bucket(const struct fc_flowtab *ft, const struct fc_pkt *pkt,
				 struct fc_flowtab_hint *hint);
void fc_flowtab__prefetch_entry(const struct fc_flowtab *ft, const struct fc_flowtab_hint *hint);
void fc_flowtab__prefetch_lru(const struct fc_flowtab *ft, const struct fc_flowtab_hint *hint);
int fc_flowtab__update_hinted(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns,
			      const struct fc_flowtab_hint *hint);

/*
 * End every flow idle at now_ns (per protocol idle timeout, TCP close grace)
 * with the matching end reason. Cost proportional to the flows ended.
 */
void fc_flowtab__expire(struct fc_flowtab *ft, uint64_t now_ns);

/*
 * End every open flow with `reason` (FC_END_EOF or FC_END_SHUTDOWN). Flows
 * already closed by FIN/RST and waiting out their close grace keep `fin` /
 * `rst`, so a record does not depend on where the input happened to stop.
 */
void fc_flowtab__flush(struct fc_flowtab *ft, enum fc_end_reason reason);

const struct fc_flowtab_stats *fc_flowtab__stats(const struct fc_flowtab *ft);

/*
 * Bypass entry points (all need opts->bypass). `ident` carries a flow's
 * identity as a record does (src = initiator, sport, dport, proto, family,
 * has_vlan / vlan / vlan_inner), start_ns and end_ns.
 *
 * adopt: a kernel entry outlived the monitor that created it: make (or
 * find) the flow and mark it bypassed; `reported` is the part of the
 * entry's counts already in records. Returns 0, or -EEXIST when the flow
 * was already bypassed. May evict the least recently seen flow.
 * claim: an entry was added for this flow from outside (manual add): mark
 * the existing flow bypassed. Returns 0, -ENOENT (no such flow) or -EEXIST.
 * release: remove every live entry of this table (sync END), keeping the
 * counts in the flows, which then stay in userspace. Returns how many.
 */
int fc_flowtab__bypass_adopt(struct fc_flowtab *ft, const struct fc_flow_rec *ident,
			     const struct fc_flowtab_kcounts *reported);
int fc_flowtab__bypass_claim(struct fc_flowtab *ft, const struct fc_flow_rec *ident, uint64_t now_ns);
unsigned fc_flowtab__bypass_release(struct fc_flowtab *ft);

/*
 * gone: map GC removed the flow's entry (final counts k, of which `reported`
 * was already in records before this table knew the entry). The counts are
 * folded into the flow, made from the entry alone when no flow of this table
 * counted it, and the flow ends (idle) unless userspace saw it within its
 * idle timeout. Returns 0 (ended), 1 (kept, no longer bypassed) or -errno.
 * drop: stop bypassing one flow (manual del): its entry is removed, the
 * counts stay in the flow, which is not offered again. 0 or -ENOENT.
 */
int fc_flowtab__bypass_gone(struct fc_flowtab *ft, const struct fc_flow_rec *ident,
			    const struct fc_flowtab_kcounts *k, const struct fc_flowtab_kcounts *reported,
			    uint64_t now_ns);
int fc_flowtab__bypass_drop(struct fc_flowtab *ft, const struct fc_flow_rec *ident);

/* Bytes of memory the table holds per flow slot (pool + index), for reports. */
size_t fc_flowtab__bytes_per_flow(const struct fc_flowtab *ft);

/*
 * Community ID v1 (https://github.com/corelight/community-id-spec) of a
 * flow, seed 0, into out (FC_COMMUNITY_ID_LEN bytes). sport/dport are the
 * real ports, or for ICMP the type and code of the packet.
 */
void fc_community_id(int family, uint8_t proto, const struct fc_addr *src, const struct fc_addr *dst,
		     uint16_t sport, uint16_t dport, char out[FC_COMMUNITY_ID_LEN]);

/* Fill r->community_id from r's identity if it is empty (deferred by the table). */
void fc_flow_rec__fill_community_id(struct fc_flow_rec *r);

#endif
