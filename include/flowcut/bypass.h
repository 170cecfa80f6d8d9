/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bypass.h - kernel flow bypass: load the BPF programs (bpf/bypass.bpf.c),
 * attach them (XDP on the interface, or a socket filter on every capture
 * socket), pin their maps under bpffs, and add, read and remove flow
 * entries; policies that decide which flows to hand over; the glue that
 * connects one worker's flow table to the maps (fc_flowtab_bypass_ops).
 *
 * Entry operations are safe from any thread: one lock per bypass guards
 * placement in the flow tables. GC, flush, and an add whose probe window
 * holds only removed slots wait for one RCU grace period (~10 ms) before
 * slots are reused. The library never prints: failures are a negative
 * errno, at open with a one-line reason in the caller's buffer.
 */
#ifndef FLOWCUT_BYPASS_H
#define FLOWCUT_BYPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/flowtab.h"
#include "flowcut/record.h"

#define FC_BYPASS_PIN_ROOT "/sys/fs/bpf/flowcut"
#define FC_BYPASS_DEFAULT_ENTRIES 65536u
#define FC_BYPASS_DEFAULT_BLOCK 1024u

enum fc_bypass_mode { FC_BYPASS_OFF = 0, FC_BYPASS_XDP, FC_BYPASS_SOCKET };

struct fc_bypass_opts {
	enum fc_bypass_mode mode;
	const char *ifname;		/* required: names the pin directory; XDP attaches here */
	const char *pin_root;		/* NULL = FC_BYPASS_PIN_ROOT; "" = do not pin */
	uint32_t max_entries;		/* entries per flow table (IPv4, IPv6); 0 = default */
	uint32_t max_block;		/* per block list; 0 = default */
	bool vlan_key;			/* VLAN ids part of the key (flow table's !no_vlan_key) */
	bool xdp_generic;		/* skip the native XDP attempt */
};

struct fc_bypass;

/*
 * Load the programs, create or reuse the pinned maps (mounting bpffs on
 * /sys/fs/bpf when it is not), and in XDP mode attach to the interface,
 * native first, generic if the driver cannot. Returns 0 and *out, or a
 * negative errno with the reason in err (-EPERM privilege, -ENOSYS no BPF,
 * -EINVAL pinned maps of another geometry, ...). Close with fc_bypass__close().
 */
int fc_bypass__open(const struct fc_bypass_opts *o, struct fc_bypass **out, char *err, size_t errlen);
/* Detach XDP, close the maps; pins (and their entries) stay. Accepts NULL. */
void fc_bypass__close(struct fc_bypass *b);
/* "xdp native", "xdp generic" or "socket filter". */
const char *fc_bypass__attach_desc(const struct fc_bypass *b);
const char *fc_bypass__pin_dir(const struct fc_bypass *b);
/*
 * Tests and benchmarks: program fd (xdp or socket filter); fd of the
 * per-CPU counters of the flow table of family 4 or 6 (fc_bp_counters,
 * indexed by slot); the slot of rec's entry, or -ENOENT.
 */
int fc_bypass__prog_fd(const struct fc_bypass *b, bool xdp);
int fc_bypass__map_fd(const struct fc_bypass *b, int family);
int fc_bypass__slot(struct fc_bypass *b, const struct fc_flow_rec *rec);
/*
 * Tests: the miss-prefilter count of the slot rec's key falls in (entries of
 * the flow table hashing there, FC_BP_PF_MAX = saturated), its slot in *slot.
 * The count or -errno.
 */
int fc_bypass__prefilter(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t *slot);
/* SO_ATTACH_BPF the socket-filter program to a packet socket. 0 or -errno. */
int fc_bypass__attach_socket(struct fc_bypass *b, int fd);

/* Kernel counters of one entry, oriented as the record (initiator first). */
struct fc_bypass_entry {
	struct fc_flow_rec id;		/* identity: src (initiator), dst, ports, proto, vlan */
	struct fc_flowtab_kcounts k;	/* summed over CPUs; last_ns epoch */
	struct fc_flowtab_kcounts rep;	/* already reported (meta) */
	uint64_t start_ns;		/* when added, epoch ns */
	uint64_t idle_ns;		/* since the last hit (or the add) */
	uint32_t owner;			/* worker + 1, 0 = none */
};

/*
 * Add an entry for the flow rec names (zero counters, owner = worker + 1 or
 * 0). 0 = added; -EEXIST = an entry was there (owner updated: success for
 * the caller); -E2BIG / -ENOSPC = map full; -EPROTONOSUPPORT = not a flow
 * the kernel can key (only TCP and UDP, no tunnel); other -errno.
 */
int fc_bypass__add(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t owner);
/* fc_flowtab_bypass_ops.sync() for the flow rec names. */
int fc_bypass__sync(struct fc_bypass *b, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		    struct fc_flowtab_kcounts *k);
/* Remove the entry of rec's flow; its final counts into *e if not NULL. 0 / -ENOENT / -errno. */
int fc_bypass__del(struct fc_bypass *b, const struct fc_flow_rec *rec, struct fc_bypass_entry *e);

typedef int (*fc_bypass_visit_fn)(void *ctx, const struct fc_bypass_entry *e);
/* Call fn for every entry (both families); stops when fn returns non-zero. */
int fc_bypass__foreach(struct fc_bypass *b, fc_bypass_visit_fn fn, void *ctx);

/*
 * Garbage collection of the flow table of family 4 or 6: every entry is
 * visited once (slots never move); entries `stale` says yes to are removed
 * (drained, then read) with their final counts handed to `gone` (if not
 * NULL), key = struct fc_bp_key4 / fc_bp_key6. Then the removed slots are
 * made reusable after one RCU grace period (~10 ms, only when something
 * was removed). Returns entries removed or -errno.
 */
struct fc_bp_counters_sum {
	uint64_t pkts[2], bytes[2];	/* side a / side b of the key */
	uint64_t last_ns;		/* CLOCK_MONOTONIC, max over CPUs */
};
typedef bool (*fc_bypass_stale_fn)(void *ctx, const void *key, const struct fc_bp_counters_sum *c);
typedef void (*fc_bypass_gone_fn)(void *ctx, const void *key, const struct fc_bp_counters_sum *c);
long fc_bypass__table_gc(struct fc_bypass *b, int family, fc_bypass_stale_fn stale, fc_bypass_gone_fn gone,
			 void *ctx);

/* Remove every flow entry. Returns how many, or -errno. */
long fc_bypass__flush(struct fc_bypass *b);
/* The same on the maps pinned in pin_dir, with no programs loaded (no capture running). */
long fc_bypass_flush_pins(const char *pin_dir);

/*
 * Map-wide GC of both flow maps: entries whose last hit (or add, if never
 * hit) is older than the idle timeout of their protocol are removed, when
 * they belong to `owner` (meta owner), or with take_unowned to nobody (0) or
 * to an owner above nowners. `gone` gets each removed entry with its final
 * counts (oriented, `rep` = already reported). Returns entries removed or -errno.
 */
struct fc_bypass_gc_opts {
	uint64_t idle_tcp_ns, idle_udp_ns;	/* 0 = never */
	uint32_t owner;				/* worker + 1 */
	uint32_t nowners;			/* owners that exist: 1..nowners */
	bool take_unowned;
};
long fc_bypass__gc(struct fc_bypass *b, const struct fc_bypass_gc_opts *o, fc_bypass_visit_fn gone,
		   void *ctx);

/* Block list: "203.0.113.0/24", "2001:db8::/32", a bare address = host. */
int fc_bypass__block_add(struct fc_bypass *b, const char *cidr);
int fc_bypass__block_del(struct fc_bypass *b, const char *cidr);
/* Format "CIDR pkts=N bytes=N\n" lines into buf; returns length or -errno. */
int fc_bypass__block_list(struct fc_bypass *b, char *buf, size_t cap);

/* Per-action counters of the programs, summed over CPUs (enum fc_bp_action order). */
#define FC_BYPASS_ACTIONS 7
int fc_bypass__actions(struct fc_bypass *b, uint64_t out[FC_BYPASS_ACTIONS]);
const char *fc_bypass_action_name(unsigned a);

/* ---- policy and per-worker glue -------------------------------------- */

#define FC_BYPASS_MAX_PORTS 16
#define FC_BYPASS_MAX_CIDRS 16

struct fc_bypass_policy {
	uint64_t after_pkts, after_bytes;	/* flow total before hand-over */
	uint16_t ports[FC_BYPASS_MAX_PORTS];	/* either port matches; none = any port */
	unsigned n_ports;
	struct { uint8_t family, plen; struct fc_addr addr; } cidrs[FC_BYPASS_MAX_CIDRS];
	unsigned n_cidrs;			/* either address matches; none = any */
};

/* Parse "10.0.0.0/8" / "2001:db8::/32" into the policy. 0 or -EINVAL / -ENOSPC. */
int fc_bypass_policy__add_cidr(struct fc_bypass_policy *p, const char *cidr);
/* Does the policy want this flow (identity and counts in rec)? */
bool fc_bypass_policy__match(const struct fc_bypass_policy *p, const struct fc_flow_rec *rec);

struct fc_bypass_wstats {
	uint64_t added, exists, map_full, add_failed, not_keyable;
	uint64_t sync_failed, ended, kept;
};

/* One worker's view: its flow table's ops call into the shared maps. */
struct fc_bypass_worker {
	struct fc_bypass *b;
	const struct fc_bypass_policy *pol;
	uint32_t owner;			/* worker index + 1 */
	struct fc_bypass_wstats st;	/* written by the worker only */
	struct fc_flowtab_bypass_ops ops;	/* filled by fc_bypass_worker__init */
};

void fc_bypass_worker__init(struct fc_bypass_worker *w, struct fc_bypass *b,
			    const struct fc_bypass_policy *pol, uint32_t owner);

#endif
