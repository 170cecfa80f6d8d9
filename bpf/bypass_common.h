/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bypass_common.h - the one header the kernel programs (bpf/bypass.bpf.c)
 * and userspace (src/lib/bypass*.c) share: map keys and values, the action
 * counter slots, bounds. Every struct has a size assertion so that the two
 * sides can never disagree on layout; nothing here depends on the host.
 *
 * Flow keys are normalised so that both directions of a flow hit one entry:
 * side "a" is the lower (address, port), addresses compared as big-endian
 * byte strings and ports as numbers (the flow table's canonical order).
 * Counters are indexed by sender: [0] = sent by side a, [1] = sent by side b.
 */
#ifndef FLOWCUT_BYPASS_COMMON_H
#define FLOWCUT_BYPASS_COMMON_H

#include <linux/types.h>

/* The same bounds as userspace's decoder (include/flowcut/pkt.h). */
#define FC_BP_VLAN_MAX_DEPTH 8
#define FC_BP_IPV6_EXT_MAX 16

/* A VLAN id in a key: 0 = no tag, else FC_BP_VLAN_PRESENT | 12-bit VID. */
#define FC_BP_VLAN_PRESENT 0x8000

/* Map names (also the file names of their pins). */
#define FC_BP_MAP_TAB4 "tab_v4"
#define FC_BP_MAP_TAB6 "tab_v6"
#define FC_BP_MAP_CNT4 "cnt_v4"
#define FC_BP_MAP_CNT6 "cnt_v6"
#define FC_BP_MAP_META4 "meta_v4"
#define FC_BP_MAP_META6 "meta_v6"
#define FC_BP_MAP_BLOCK4 "block_v4"
#define FC_BP_MAP_BLOCK6 "block_v6"
#define FC_BP_MAP_STATS "bp_stats"
#define FC_BP_MAP_CLOCK "bp_clock"

/* Per-CPU action counters (map bp_stats): one slot per outcome of a packet. */
enum fc_bp_action {
	FC_BP_ACT_PASS = 0,	/* understood, no entry: to the stack / the monitor */
	FC_BP_ACT_BYPASS,	/* flow entry hit: counted, dropped (xdp) or hidden (socket) */
	FC_BP_ACT_BLOCK,	/* block list hit: counted, dropped */
	FC_BP_ACT_CTRL,		/* TCP SYN/FIN/RST of any flow: always passed */
	FC_BP_ACT_FRAG,		/* IP fragment: passed whole (ports live in the first only) */
	FC_BP_ACT_NOT_IP,	/* neither IPv4 nor IPv6 (ARP, MPLS, PPPoE...): passed */
	FC_BP_ACT_PARSE_FAIL,	/* truncated, invalid or beyond our bounds: passed (fail open) */
	FC_BP_ACT__COUNT
};

struct fc_bp_key4 {
	__u32 addr_a;		/* network byte order */
	__u32 addr_b;		/* network byte order */
	__u16 port_a;		/* host byte order */
	__u16 port_b;		/* host byte order */
	__u16 vlan;		/* outer tag: 0 or FC_BP_VLAN_PRESENT | VID */
	__u16 vlan_inner;	/* second tag, same encoding */
	__u8 proto;		/* IANA protocol: 6 or 17 */
	__u8 pad[3];		/* always zero */
};

struct fc_bp_key6 {
	__u8 addr_a[16];	/* network byte order */
	__u8 addr_b[16];
	__u16 port_a;		/* host byte order */
	__u16 port_b;
	__u16 vlan;
	__u16 vlan_inner;
	__u8 proto;
	__u8 pad[3];
};

/*
 * Miss prefilter: one byte per slot, per family (globals pf_v4 / pf_v6 of
 * the programs, written by userspace through the mmapped .bss), holding how
 * many entries of the flow map hash to that slot. The programs look the
 * hash map up only when the packet's slot is non-zero: a miss then costs a
 * multiply-and-shift and one byte load instead of jhash and a bucket walk.
 * Userspace adds 1 before it creates an entry and subtracts 1 after it
 * removed one; a count that reaches 255 stays there (a slot that only ever
 * says "maybe"), so the filter never says "no" for a key that has an entry.
 * A wrong "no" would not break exactness anyway (the packet then goes to the
 * monitor, which counts it), only the bypass.
 */
#define FC_BP_PF_BITS 18
#define FC_BP_PF_SLOTS (1u << FC_BP_PF_BITS)
#define FC_BP_PF_MAX 255

static inline __attribute__((always_inline)) __u64 fc_bp_rd64(const void *p)
{
	__u64 v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

/*
 * The 32-bit hash of a key (struct fc_bp_key4 when v6 is 0, else
 * fc_bp_key6), computed the same way by the programs and by userspace: the
 * key read as native-endian 64-bit words (both sides run on the same host),
 * each multiplied by its own odd constant, summed, folded, and the top half
 * of a final multiplicative hash. Its top FC_BP_PF_BITS bits are the
 * prefilter slot, its top bits the flow table's home slot. Programs: the
 * key must be 8-aligned.
 */
static inline __attribute__((always_inline)) __u32 fc_bp_hash(const void *key, const int v6)
{
	const __u8 *k = (const __u8 *)key;
	__u64 h;

	if (v6)
		h = fc_bp_rd64(k) * 0xff51afd7ed558ccdull + fc_bp_rd64(k + 8) * 0xc4ceb9fe1a85ec53ull +
		    fc_bp_rd64(k + 16) * 0x87c37b91114253d5ull + fc_bp_rd64(k + 24) * 0x4cf5ad432745937full +
		    fc_bp_rd64(k + 32) * 0x94d049bb133111ebull + k[40];
	else
		h = fc_bp_rd64(k) * 0xff51afd7ed558ccdull + fc_bp_rd64(k + 8) * 0xc4ceb9fe1a85ec53ull + k[16];
	h ^= h >> 32;
	return (__u32)((h * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline __attribute__((always_inline)) __u32 fc_bp_pf_of(__u32 hash)
{
	return hash >> (32 - FC_BP_PF_BITS);
}

/* The prefilter slot of a key. */
static inline __attribute__((always_inline)) __u32 fc_bp_pf_slot(const void *key, const int v6)
{
	return fc_bp_pf_of(fc_bp_hash(key, v6));
}

/*
 * Flow tables (maps tab_v4 / tab_v6): open addressing in a BPF array that
 * the programs walk themselves. A key lives in one of FC_BP_PROBE slots
 * from its home slot (the top bits of fc_bp_hash), wrapping; its counters
 * live at the same index of cnt_v4 / cnt_v6 (per-CPU arrays). The verifier
 * inlines lookups in both kinds of array, so a hit makes no kernel call
 * (the per-CPU hash map's lookup cost ~40-55 ns a hit, docs/bypass.md).
 *
 * Only userspace writes slots (through the mmapped array, under its lock):
 * an entry is made by zeroing its counters, writing the key into an EMPTY
 * slot and then storing state VALID; it is removed by storing DRAIN first
 * and reading its counters after that, so the programs count a packet in
 * an entry only while it is VALID. A DRAIN slot becomes EMPTY (counters
 * zeroed, reusable) only after an RCU grace period, when no program that
 * saw it VALID can still be running. Programs compare the key only of a
 * VALID slot, whose key userspace never writes. Slots count entries toward
 * the prefilter exactly as long as they are VALID.
 */
#define FC_BP_PROBE 32
#define FC_BP_SLOT_EMPTY 0
#define FC_BP_SLOT_VALID 1
#define FC_BP_SLOT_DRAIN 2

struct fc_bp_slot4 {
	struct fc_bp_key4 key;
	__u32 state;		/* FC_BP_SLOT_* */
};

struct fc_bp_slot6 {
	struct fc_bp_key6 key;
	__u32 state;		/* FC_BP_SLOT_* */
};

/* log2 of the slots of a table for max_entries entries: at most half full, 64 slots or more. */
static inline __u32 fc_bp_tab_bits(__u32 max_entries)
{
	__u32 bits = 6;

	while (bits < 30 && (1u << bits) < 2ull * max_entries)
		bits++;
	return bits;
}

/* The home slot of a hash in a table of 2^bits slots. */
static inline __attribute__((always_inline)) __u32 fc_bp_home(__u32 hash, __u32 bits)
{
	return hash >> (32 - bits);
}

/* Counters of a flow table slot (cnt_v4 / cnt_v6), one copy per CPU (userspace sums them).
 * The programs add to it; userspace zeroes it while the slot is not VALID. */
struct fc_bp_counters {
	__u64 pkts[2];		/* [0] sent by side a, [1] by side b */
	__u64 bytes[2];		/* IP octets: IPv4 total length, IPv6 40 + payload length */
	__u64 last_ns;		/* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE) of the last hit */
};

/*
 * Userspace's bookkeeping for one flow entry (maps meta_v4/meta_v6, hashes
 * keyed by the flow key, never touched by the programs): who initiated, when, which worker
 * owns the flow, and how much of the kernel count was already reported in
 * records, so that a restarted monitor reports only the rest.
 */
struct fc_bp_meta {
	__u64 first_ns;		/* flow's first packet, epoch ns */
	__u64 start_ns;		/* when the entry was added, epoch ns */
	__u64 added_mono_ns;	/* the same instant, CLOCK_MONOTONIC */
	__u64 rep_pkts[2];	/* already in records; indexed like fc_bp_counters */
	__u64 rep_bytes[2];
	__u32 owner;		/* worker index + 1; 0 = no live flow owns it */
	__u8 init_b;		/* 1 if side b initiated the flow */
	__u8 pad[3];
};

/*
 * The programs' per-CPU cache of bpf_ktime_get_coarse_ns() (map bp_clock,
 * one slot, never pinned, never read by userspace): the coarse clock only
 * moves on a tick, so it is read again only when jiffies moved. The helper
 * call cost ~16 ns per hit; bpf_jiffies64() is inlined to one load.
 */
struct fc_bp_clock {
	__u64 jiffies;		/* bpf_jiffies64() when ns was read */
	__u64 ns;		/* bpf_ktime_get_coarse_ns() then */
};

/* Block list: LPM trie keys (prefix length in bits, then the address). */
struct fc_bp_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct fc_bp_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct fc_bp_block_val {
	__u64 pkts;		/* packets dropped by this entry (atomic adds) */
	__u64 bytes;		/* their IP octets */
};

_Static_assert(sizeof(struct fc_bp_key4) == 20, "fc_bp_key4 layout");
_Static_assert(sizeof(struct fc_bp_key6) == 44, "fc_bp_key6 layout");
_Static_assert(sizeof(struct fc_bp_slot4) == 24, "fc_bp_slot4 layout");
_Static_assert(sizeof(struct fc_bp_slot6) == 48, "fc_bp_slot6 layout");
_Static_assert(sizeof(struct fc_bp_counters) == 40, "fc_bp_counters layout");
_Static_assert(sizeof(struct fc_bp_meta) == 64, "fc_bp_meta layout");
_Static_assert(sizeof(struct fc_bp_clock) == 16, "fc_bp_clock layout");
_Static_assert(sizeof(struct fc_bp_lpm4) == 8, "fc_bp_lpm4 layout");
_Static_assert(sizeof(struct fc_bp_lpm6) == 20, "fc_bp_lpm6 layout");
_Static_assert(sizeof(struct fc_bp_block_val) == 16, "fc_bp_block_val layout");

#endif
