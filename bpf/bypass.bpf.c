// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass.bpf.c - the kernel half of flow bypass: two programs running the
 * same lookup over the same maps.
 *
 *   fc_bypass_xdp   (XDP, on a tap/span port): a bypassed flow's packets are
 *                   counted and dropped before the stack; block list hits too.
 *   fc_bypass_sock  (socket filter, SO_ATTACH_BPF on every capture socket):
 *                   the same packets are counted and hidden from the monitor
 *                   only; the host's stack still gets them.
 *
 * A packet is counted here only when its flow has an entry; the entry is
 * created by userspace (zeroed) at the moment it hands the flow over, so
 * every packet is counted exactly once: here if it arrived after the entry
 * existed, by the monitor otherwise (docs/bypass.md). Everything else
 * passes: misses, fragments, TCP SYN/FIN/RST, and anything we do not
 * understand (fail open). Map sizes are set by the loader.
 */
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load: 0 when the monitor runs with --no-vlan-key. */
const volatile __u8 cfg_vlan_key = 1;
/* log2 of the slots of tab_v4 / tab_v6 (fc_bp_tab_bits of the map size), set by the loader. */
const volatile __u32 cfg_tab_bits = 17;

/*
 * Entries in block_v4 / block_v6, kept by userspace after every change (and
 * recounted at load, the lists being pinned). An LPM lookup costs a helper
 * call and a trie walk even on an empty trie; with the lists empty (the
 * common case) the program skips them. A stale non-zero only costs a lookup.
 */
volatile __u32 block_n[2];

/*
 * Miss prefilters (bypass_common.h): per slot, how many entries of
 * tab_v4 / tab_v6 hash there; kept by userspace through the mmapped
 * .bss (fc_bypass__add and every removal), rebuilt from the maps at load.
 */
__u8 pf_v4[FC_BP_PF_SLOTS];
__u8 pf_v6[FC_BP_PF_SLOTS];

/*
 * The flow tables (bypass_common.h): slots the program probes itself and,
 * at the same index, per-CPU counters. Sizes (2^cfg_tab_bits) set by the
 * loader; the slots are mmapped by userspace, which alone writes them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 17);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fc_bp_slot4);
} tab_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 17);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fc_bp_slot6);
} tab_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << 17);
	__type(key, __u32);
	__type(value, struct fc_bp_counters);
} cnt_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << 17);
	__type(key, __u32);
	__type(value, struct fc_bp_counters);
} cnt_v6 SEC(".maps");

/* Userspace only; here so that one object creates and pins every map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fc_bp_key4);
	__type(value, struct fc_bp_meta);
} meta_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fc_bp_key6);
	__type(value, struct fc_bp_meta);
} meta_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_bp_lpm4);
	__type(value, struct fc_bp_block_val);
} block_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_bp_lpm6);
	__type(value, struct fc_bp_block_val);
} block_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FC_BP_ACT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} bp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_bp_clock);
} bp_clock SEC(".maps");

/*
 * CLOCK_MONOTONIC_COARSE now, read through this CPU's cache: the value only
 * changes on a tick, so the helper runs once per jiffy per CPU. jiffies is
 * bumped just before the timekeeper in the tick, so a read in that window
 * can keep the previous tick's value for one more tick: last_ns may lag by
 * two ticks instead of one (8 ms at HZ=250; idle timeouts are seconds).
 */
static __always_inline __u64 coarse_now(void)
{
	__u32 zero = 0;
	struct fc_bp_clock *k = bpf_map_lookup_elem(&bp_clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!k)
		return bpf_ktime_get_coarse_ns();
	if (k->jiffies != j) {
		k->ns = bpf_ktime_get_coarse_ns();
		k->jiffies = j;
	}
	return k->ns;
}

static __always_inline void count(__u32 act)
{
	__u64 *c = bpf_map_lookup_elem(&bp_stats, &act);

	if (c)
		*c += 1;	/* per-CPU slot: no other writer */
}

/* Block list: longest prefix match on the sender's address. */
static __always_inline int blocked(struct parsed *p)
{
	struct fc_bp_block_val *v;

	if (!block_n[p->family == 6])
		return 0;
	if (p->family == 4) {
		struct fc_bp_lpm4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, p->src, 4);
		v = bpf_map_lookup_elem(&block_v4, &k);
	} else {
		struct fc_bp_lpm6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, p->src, 16);
		v = bpf_map_lookup_elem(&block_v6, &k);
	}
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->pkts, 1);
	__sync_fetch_and_add(&v->bytes, p->ip_bytes);
	return 1;
}

/*
 * Keys compared as words: slots are 8-aligned array values and the parsed
 * keys 8-aligned on the stack (struct parsed). 20 octets: two words and a
 * half; 44 octets: five words and a half.
 */
static __always_inline int key4_eq(const struct fc_bp_key4 *a, const struct fc_bp_key4 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] &&
	       *(const __u32 *)&x[2] == *(const __u32 *)&y[2];
}

static __always_inline int key6_eq(const struct fc_bp_key6 *a, const struct fc_bp_key6 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] &&
	       *(const __u32 *)&x[5] == *(const __u32 *)&y[5];
}

/*
 * Whether a slot holds an entry; read before its key, which userspace
 * writes only while the slot is not VALID and before it stores VALID. The
 * compiler barrier keeps clang from loading the key first (it may hoist
 * loads it knows are safe); x86 keeps loads in order, as it does stores.
 */
static __always_inline int slot_valid(const __u32 *state)
{
	__u32 v = *(const volatile __u32 *)state;

	asm volatile("" ::: "memory");
	return v == FC_BP_SLOT_VALID;
}

/* The counters of k's entry, or NULL: probe FC_BP_PROBE slots from the home slot. */
static __always_inline struct fc_bp_counters *find4(const struct fc_bp_key4 *k, __u32 hash)
{
	__u32 home = fc_bp_home(hash, cfg_tab_bits), mask = (1u << cfg_tab_bits) - 1, j, i;
	struct fc_bp_slot4 *s;

	for (j = 0; j < FC_BP_PROBE; j++) {
		i = (home + j) & mask;
		s = bpf_map_lookup_elem(&tab_v4, &i);
		if (!s)
			return NULL;
		if (!slot_valid(&s->state))
			continue;
		if (key4_eq(&s->key, k))
			return bpf_map_lookup_elem(&cnt_v4, &i);
	}
	return NULL;
}

static __always_inline struct fc_bp_counters *find6(const struct fc_bp_key6 *k, __u32 hash)
{
	__u32 home = fc_bp_home(hash, cfg_tab_bits), mask = (1u << cfg_tab_bits) - 1, j, i;
	struct fc_bp_slot6 *s;

	for (j = 0; j < FC_BP_PROBE; j++) {
		i = (home + j) & mask;
		s = bpf_map_lookup_elem(&tab_v6, &i);
		if (!s)
			return NULL;
		if (!slot_valid(&s->state))
			continue;
		if (key6_eq(&s->key, k))
			return bpf_map_lookup_elem(&cnt_v6, &i);
	}
	return NULL;
}

/* Returns 1 when the packet belongs to a bypassed flow (counted), else 0. */
static __always_inline int verdict(void *ctx, const int xdp, __u32 vlan_present, __u32 vlan_tci)
{
	struct fc_bp_counters *c = NULL;
	struct parsed p;
	__u32 h;
	int r;

	/* Only what the parser reads before writing is cleared: zeroing the
	 * whole struct (both keys) on every packet showed in the profile. */
	p.family = 0;
	p.vlan = p.vlan_inner = 0;

	r = xdp ? parse_fast_xdp(ctx, &p) : -1;
	if (r < 0)
		r = parse_frame(ctx, xdp, &p, cfg_vlan_key, vlan_present, vlan_tci);
	if (r != P_NOT_IP && p.family && blocked(&p)) {
		count(FC_BP_ACT_BLOCK);
		return 1;
	}
	switch (r) {
	case P_FLOW:
		break;
	case P_NOT_IP:
		count(FC_BP_ACT_NOT_IP);
		return 0;
	case P_FRAG:
		count(FC_BP_ACT_FRAG);
		return 0;
	case P_CTRL:
		count(FC_BP_ACT_CTRL);
		return 0;
	case P_OTHER_L4:
		count(FC_BP_ACT_PASS);
		return 0;
	default:
		count(FC_BP_ACT_PARSE_FAIL);
		return 0;
	}
	/* A zero slot in the prefilter: no entry can match, skip the probe. */
	if (p.family == 4) {
		h = fc_bp_hash(&p.k4, 0);
		if (pf_v4[fc_bp_pf_of(h)])
			c = find4(&p.k4, h);
	} else {
		h = fc_bp_hash(&p.k6, 1);
		if (pf_v6[fc_bp_pf_of(h)])
			c = find6(&p.k6, h);
	}
	if (!c) {
		count(FC_BP_ACT_PASS);
		return 0;
	}
	/* Per-CPU counters: plain adds, no atomics; userspace sums the CPUs. */
	c->pkts[p.dir & 1] += 1;
	c->bytes[p.dir & 1] += p.ip_bytes;
	/* The coarse clock (one tick of resolution) is plenty for idle timeouts
	 * of seconds and costs a fraction of bpf_ktime_get_ns(); cached per jiffy. */
	c->last_ns = coarse_now();
	count(FC_BP_ACT_BYPASS);
	return 1;
}

SEC("xdp")
int fc_bypass_xdp(struct xdp_md *ctx)
{
	return verdict(ctx, 1, 0, 0) ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int fc_bypass_sock(struct __sk_buff *skb)
{
	return verdict(skb, 0, skb->vlan_present, skb->vlan_tci) ? 0 : (int)skb->len;
}
