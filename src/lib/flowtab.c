// SPDX-License-Identifier: BSD-2-Clause
/*
 * flowtab.c - the bidirectional flow table: pool, keyed hash index, LRU
 * lists per timeout class, flow records.
 *
 * Memory is two anonymous mappings made once in __new: a pool of
 * max_flows + 1 fixed 192-byte entries (slot 0 unused, so index 0 means
 * "none" and zero-filled memory is a valid empty state) and a power-of-two
 * array of uint32 bucket heads, chained through the entries. Slots are handed
 * out from a LIFO free list first and then from never-used slots in
 * ascending order, so resident memory follows the peak number of flows.
 *
 * Both directions share one entry: the key is stored canonically (lower
 * (address, port) first; ICMP-style symmetric keys by address only) and the
 * entry remembers which canonical side is the initiator. The hash is keyed
 * from getrandom(2): AES rounds where the CPU has AES-NI (aeshash.h, which
 * says why), else SipHash-1-3 over the canonical key.
 *
 * Every live entry sits on exactly one LRU list: TCP, UDP, other, or TCP
 * closing (FIN both ways or RST seen, waiting out tcp_close_ns). Lists are
 * kept in last-seen order, so expiry and eviction only look at list heads.
 * A packet for an entry whose timeout has already passed (expire() not yet
 * called) ends that flow first, so results do not depend on how often the
 * caller runs expire().
 *
 * Kernel bypass (opts->bypass): a flow handed to the kernel keeps its entry
 * here; its bypass state (when, what earlier kernel entries counted, what
 * was already reported) lives in a side array indexed like the pool, so the
 * three cache lines of the packet path do not grow. Every record of such a
 * flow asks the kernel for its share (sync), and a bypassed flow that looks
 * idle here is only ended after the kernel says it is idle too.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <stdlib.h>

#include "flowcut/flowtab.h"
#include "aeshash.h"
#include "siphash.h"
#include "tcpstate.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

enum { CLS_TCP, CLS_UDP, CLS_OTHER, CLS_CLOSING, CLS__COUNT };

#define F_INIT_B 0x01	/* the initiator is canonical side B (key.dst) */
#define F_TUNNEL 0x02	/* tun is valid */
#define F_BP 0x04	/* a kernel entry counts this flow now */
#define F_BP_NO 0x08	/* do not offer the flow to the bypass again */
#define F_BP_EVER 0x10	/* the flow has (had) a kernel share: bp[] is valid */
#define F_BP_SW 0x20	/* the kernel map was full: bypassed in userspace (counted, not inspected) */

enum { KP0, KP1, KB0, KB1, K__N };	/* kernel counter slots: pkts[2], bytes[2] */

/* Bypass state of one flow (side array, touched only for bypassed flows). */
struct bpstate {
	uint64_t start_ns;	/* when the flow was handed to the kernel */
	uint64_t acc[K__N];	/* counted by entries already removed */
	uint64_t rep[K__N];	/* kernel counts already in records (entry-relative for live) */
};

/*
 * One flow, 192 bytes = three cache lines: the first holds what a lookup
 * reads (key, chain), the second what every packet writes, the third what
 * only a record needs.
 */
struct flow {
	struct fc_flow_key key;		/* canonical: side A = src, side B = dst */
	uint32_t hnext;			/* bucket chain, or free list; 0 = end */
	uint32_t lprev, lnext;		/* LRU list of class cls; 0 = end */
	uint8_t cls;
	uint8_t bits;			/* F_* */
	uint8_t vlan_flags;		/* FC_KEYF_VLAN/VLAN2 of the first packet */
	uint8_t pad0;

	uint64_t start_ns, last_ns;	/* this interval's first and last packet */
	uint64_t pkts[2], bytes[2];	/* [0] initiator -> responder, [1] back */
	struct fc_tcpstate tcp;
	uint16_t tcp_flags[2];

	uint64_t flow_id;
	struct fc_tunnel_info tun;	/* outer endpoints of the first packet */
	uint16_t rec_sport, rec_dport;	/* initiator's ports; ICMP type and code */
	uint16_t vlan, vlan_inner;	/* first packet's, even when not keyed */
	uint32_t hash;			/* SipHash of key, low 32 bits */
	uint8_t pad1[4];
};

_Static_assert(sizeof(struct fc_flow_key) == 48, "flow key has padding");
_Static_assert(sizeof(struct flow) == 192, "flow entry is three cache lines");

struct lru {
	uint32_t head, tail;
};

struct fc_flowtab {
	struct flow *pool;		/* max_flows + 1 entries, [0] unused */
	uint32_t *buckets;		/* mask + 1 chain heads */
	uint32_t mask;
	uint32_t max_flows;
	uint32_t fresh;			/* lowest never-used slot */
	uint32_t free_head;		/* freed slots, chained through hnext */
	struct lru lru[CLS__COUNT];
	uint64_t timeout_ns[CLS__COUNT];	/* 0 = no timeout */
	struct fc_siphash_key seed;
	struct fc_aeshash_key aes_key;
	bool aes;			/* hash with AES rounds (else SipHash) */
	uint64_t created;		/* flows created so far (flow_id counter) */
	size_t pool_bytes, bucket_bytes;
	struct fc_flowtab_opts opts;
	struct fc_flowtab_stats stats;
	struct bpstate *bp;		/* max_flows + 1 entries when opts.bypass, else NULL */
	size_t bp_bytes;
};

void fc_flowtab_opts__defaults(struct fc_flowtab_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_flows = FC_DEFAULT_MAX_FLOWS;
	opts->idle_tcp_ns = FC_DEFAULT_IDLE_TCP_NS;
	opts->idle_udp_ns = FC_DEFAULT_IDLE_UDP_NS;
	opts->idle_other_ns = FC_DEFAULT_IDLE_OTHER_NS;
	opts->active_ns = FC_DEFAULT_ACTIVE_NS;
	opts->tcp_close_ns = FC_DEFAULT_TCP_CLOSE_NS;
}

/* ---- index ---------------------------------------------------------- */

/*
 * The key as the six little-endian 64-bit words of struct fc_flow_key's
 * memory (addresses, then ports and VLANs, then tunnel id, protocol, family,
 * tunnel type, flags). Canonicalising, hashing and comparing in registers
 * avoids store-to-load forwarding stalls that byte-wise copies cause.
 */
struct ckey {
	uint64_t w[6];
};

#define W4_VLAN (0xffffULL << 32)
#define W4_VLAN2 (0xffffULL << 48)
#define W5_TUNID 0xffffffffULL
#define W5_FLAGS_SHIFT 56

_Static_assert(offsetof(struct fc_flow_key, sport) == 32 && offsetof(struct fc_flow_key, vlan) == 36 &&
		       offsetof(struct fc_flow_key, tunnel_id) == 40 &&
		       offsetof(struct fc_flow_key, proto) == 44 && offsetof(struct fc_flow_key, family) == 45 &&
		       offsetof(struct fc_flow_key, tunnel_type) == 46 &&
		       offsetof(struct fc_flow_key, flags) == 47,
	       "struct ckey word layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "struct ckey assumes a little-endian host");

static inline uint8_t ck_proto(const struct ckey *k)
{
	return (uint8_t)(k->w[5] >> 32);
}

static inline uint8_t ck_family(const struct ckey *k)
{
	return (uint8_t)(k->w[5] >> 40);
}

/* The IPv4 key in three words: the addresses' meaningful halves together. */
static inline void pack_v4(const struct ckey *k, uint64_t w[3])
{
	w[0] = k->w[0] | k->w[2] << 32;
	w[1] = k->w[4];
	w[2] = k->w[5];
}

/* Out of line: code with AES instructions cannot be inlined into callers
 * built for plain x86-64, and the call is cheaper than SipHash by far. */
FC_AESHASH_TARGET __attribute__((noinline)) static uint32_t key_hash_aes(const struct fc_flowtab *ft,
									const struct ckey *k)
{
	uint64_t w[3];

	if (ck_family(k) == 4) {
		pack_v4(k, w);
		return (uint32_t)fc_aeshash_words(&ft->aes_key, w, 3);
	}
	return (uint32_t)fc_aeshash_words(&ft->aes_key, k->w, 6);
}

static inline uint32_t key_hash(const struct fc_flowtab *ft, const struct ckey *k)
{
	uint64_t w[3];

	if (ft->aes)
		return key_hash_aes(ft, k);
	if (ck_family(k) == 4) {
		pack_v4(k, w);
		return (uint32_t)fc_siphash13_words(&ft->seed, w, 3);
	}
	return (uint32_t)fc_siphash13_words(&ft->seed, k->w, 6);
}

static inline bool key_eq(const struct fc_flow_key *x, const struct ckey *y)
{
	uint64_t a[6];

	memcpy(a, x, sizeof(a));
	return !((a[0] ^ y->w[0]) | (a[1] ^ y->w[1]) | (a[2] ^ y->w[2]) | (a[3] ^ y->w[3]) |
		 (a[4] ^ y->w[4]) | (a[5] ^ y->w[5]));
}

/* Big-endian (memcmp) order of two 16-byte addresses given as LE words. */
static inline int addr_cmp(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	if (a0 != b0)
		return be64toh(a0) < be64toh(b0) ? -1 : 1;
	if (a1 != b1)
		return be64toh(a1) < be64toh(b1) ? -1 : 1;
	return 0;
}

/*
 * Load the packet's key in canonical form: meaningless bytes cleared, side
 * A the lower (address, port), or the lower address for keys with
 * symmetric ports. Returns the canonical side (0 = A, 1 = B) of the sender.
 */
static inline int canon_key(const struct fc_flowtab *ft, const struct fc_flow_key *in, struct ckey *k)
{
	uint64_t *w = k->w, t;
	uint8_t flags;
	int cmp, swap;

	memcpy(w, in, sizeof(k->w));
	flags = (uint8_t)(w[5] >> W5_FLAGS_SHIFT);
	flags &= FC_KEYF_VLAN | FC_KEYF_VLAN2 | FC_KEYF_PORTS_SYMMETRIC;
	if (ft->opts.no_vlan_key)
		flags &= (uint8_t)~(FC_KEYF_VLAN | FC_KEYF_VLAN2);
	if (!(flags & FC_KEYF_VLAN))
		w[4] &= ~W4_VLAN;
	if (!(flags & FC_KEYF_VLAN2))
		w[4] &= ~W4_VLAN2;
	if (((w[5] >> 48) & 0xff) == FC_TUN_NONE)
		w[5] &= ~W5_TUNID;
	w[5] = (w[5] & ~(0xffULL << W5_FLAGS_SHIFT)) | (uint64_t)flags << W5_FLAGS_SHIFT;
	if (ck_family(k) == 4) {	/* only 4 bytes are meaningful; never let stray bytes split a flow */
		w[0] &= 0xffffffffULL;
		w[1] = 0;
		w[2] &= 0xffffffffULL;
		w[3] = 0;
	}

	cmp = addr_cmp(w[0], w[1], w[2], w[3]);
	swap = cmp > 0 || (cmp == 0 && !(flags & FC_KEYF_PORTS_SYMMETRIC) &&
			   (uint16_t)w[4] > (uint16_t)(w[4] >> 16));
	if (swap) {
		t = w[0], w[0] = w[2], w[2] = t;
		t = w[1], w[1] = w[3], w[3] = t;
		if (!(flags & FC_KEYF_PORTS_SYMMETRIC))
			w[4] = (w[4] & ~0xffffffffULL) | (w[4] >> 16 & 0xffff) | (w[4] & 0xffff) << 16;
	}
	return swap;
}

static inline uint32_t index_find(const struct fc_flowtab *ft, uint32_t h, const struct ckey *k)
{
	uint32_t i;

	for (i = ft->buckets[h & ft->mask]; i; i = ft->pool[i].hnext)
		if (key_eq(&ft->pool[i].key, k))
			return i;
	return 0;
}

static void index_remove(struct fc_flowtab *ft, uint32_t i)
{
	uint32_t *pp = &ft->buckets[ft->pool[i].hash & ft->mask];

	while (*pp != i)
		pp = &ft->pool[*pp].hnext;
	*pp = ft->pool[i].hnext;
}

/* ---- LRU lists ------------------------------------------------------ */

static void lru_unlink(struct fc_flowtab *ft, uint32_t i)
{
	struct flow *f = &ft->pool[i];
	struct lru *l = &ft->lru[f->cls];

	if (f->lprev)
		ft->pool[f->lprev].lnext = f->lnext;
	else
		l->head = f->lnext;
	if (f->lnext)
		ft->pool[f->lnext].lprev = f->lprev;
	else
		l->tail = f->lprev;
	f->lprev = f->lnext = 0;
}

/* Link unlinked flow i into list cls right after j (0: at the head). */
static void lru_link_after(struct fc_flowtab *ft, uint32_t i, uint8_t cls, uint32_t j)
{
	struct flow *f = &ft->pool[i];
	struct lru *l = &ft->lru[cls];

	f->cls = cls;
	f->lprev = j;
	f->lnext = j ? ft->pool[j].lnext : l->head;
	if (f->lnext)
		ft->pool[f->lnext].lprev = i;
	else
		l->tail = i;
	if (j)
		ft->pool[j].lnext = i;
	else
		l->head = i;
}

static void lru_append(struct fc_flowtab *ft, uint32_t i, uint8_t cls)
{
	lru_link_after(ft, i, cls, ft->lru[cls].tail);
}

static inline void lru_touch(struct fc_flowtab *ft, uint32_t i)
{
	if (ft->lru[ft->pool[i].cls].tail == i)
		return;
	lru_unlink(ft, i);
	lru_append(ft, i, ft->pool[i].cls);
}

/* Re-insert flow i in last-seen order (its last_ns moved, not necessarily to the newest). */
static void lru_resort(struct fc_flowtab *ft, uint32_t i)
{
	struct flow *f = &ft->pool[i];
	uint32_t j;

	lru_unlink(ft, i);
	for (j = ft->lru[f->cls].tail; j && ft->pool[j].last_ns > f->last_ns; j = ft->pool[j].lprev)
		;
	lru_link_after(ft, i, f->cls, j);
}

/* ---- records -------------------------------------------------------- */

static bool is_echo(uint8_t proto, uint16_t type)
{
	if (proto == PROTO_ICMP)
		return type == 8 || type == 0;
	if (proto == PROTO_ICMPV6)
		return type == 128 || type == 129;
	return false;
}

static enum fc_end_reason closed_reason(const struct flow *f)
{
	return fc_tcpstate__reset(&f->tcp) ? FC_END_RST : FC_END_FIN;
}

/* The identity part of a record: what the bypass hooks need to name a flow. */
static void fill_ident(const struct flow *f, struct fc_flow_rec *rp)
{
	struct fc_flow_rec r;
	bool ib = f->bits & F_INIT_B;

	memset(&r, 0, sizeof(r));
	r.flow_id = f->flow_id;
	r.start_ns = f->start_ns;
	r.end_ns = f->last_ns;
	r.src = ib ? f->key.dst : f->key.src;
	r.dst = ib ? f->key.src : f->key.dst;
	r.sport = f->rec_sport;
	r.dport = f->rec_dport;
	if (f->vlan_flags & FC_KEYF_VLAN) {
		r.has_vlan = f->vlan_flags & FC_KEYF_VLAN2 ? 2 : 1;
		r.vlan = f->vlan;
		r.vlan_inner = r.has_vlan == 2 ? f->vlan_inner : 0;
	}
	r.family = f->key.family;
	r.proto = f->key.proto;
	if ((f->key.flags & FC_KEYF_PORTS_SYMMETRIC) && is_echo(f->key.proto, f->rec_sport)) {
		r.has_icmp_id = 1;
		r.icmp_id = f->key.dport;
	}
	if (f->key.proto == PROTO_TCP) {
		r.tcp_state = (uint8_t)fc_tcpstate__conn_state(&f->tcp);
		fc_tcpstate__history(&f->tcp, r.history);
	}
	r.tcp_flags = f->tcp_flags[0];
	r.rtcp_flags = f->tcp_flags[1];
	if (f->bits & F_TUNNEL) {
		r.has_tunnel = 1;
		r.tunnel = f->tun;
	}
	r.tunnel_id = f->tun.id;	/* the key may leave direction-specific ids out */
	r.pkts = f->pkts[0];
	r.bytes = f->bytes[0];
	r.rpkts = f->pkts[1];
	r.rbytes = f->bytes[1];
	*rp = r;
}

/*
 * Add the kernel's share to a record of a bypassed flow: everything the
 * flow's entries counted that no earlier record reported. Interim records
 * and shutdown keep the entry (noting what was reported), the end of the
 * flow removes it and takes its final counts.
 */
static void add_bypass_share(struct fc_flowtab *ft, struct flow *f, struct fc_flow_rec *r,
			     enum fc_end_reason reason)
{
	struct bpstate *b = &ft->bp[f - ft->pool];
	struct fc_flowtab_kcounts k;
	uint64_t tot[K__N], d[K__N];
	enum fc_flowtab_sync how;
	int j, err;

	memset(&k, 0, sizeof(k));
	if (f->bits & F_BP) {
		how = reason == FC_END_ACTIVE || reason == FC_END_SHUTDOWN || reason == FC_END_EOF ?
			      FC_FT_SYNC_KEEP : FC_FT_SYNC_END;
		err = ft->opts.bypass->sync(ft->opts.bypass->ctx, r, how, &k);
		if (err && err != -ENOENT) {
			ft->stats.bypass_sync_failed++;
			memset(&k, 0, sizeof(k));
			/* keep what we know: report nothing new from this entry */
			k.pkts[0] = b->rep[KP0], k.pkts[1] = b->rep[KP1];
			k.bytes[0] = b->rep[KB0], k.bytes[1] = b->rep[KB1];
		}
		if (how == FC_FT_SYNC_END)
			f->bits &= (uint8_t)~F_BP;
	}
	tot[KP0] = k.pkts[0], tot[KP1] = k.pkts[1], tot[KB0] = k.bytes[0], tot[KB1] = k.bytes[1];
	for (j = 0; j < K__N; j++) {
		d[j] = tot[j] >= b->rep[j] ? tot[j] - b->rep[j] : 0;
		b->rep[j] = tot[j];
		d[j] += b->acc[j];
		b->acc[j] = 0;
	}
	if (!(f->bits & F_BP))	/* entry gone: the next one starts from zero */
		memset(b->rep, 0, sizeof(b->rep));
	r->bypass.pkts = d[KP0];
	r->bypass.rpkts = d[KP1];
	r->bypass.bytes = d[KB0];
	r->bypass.rbytes = d[KB1];
	r->bypass.start_ns = b->start_ns;
	r->pkts += d[KP0];
	r->rpkts += d[KP1];
	r->bytes += d[KB0];
	r->rbytes += d[KB1];
	if (k.last_ns > r->end_ns)
		r->end_ns = k.last_ns;
	ft->stats.bypass_share_pkts += d[KP0] + d[KP1];
	ft->stats.bypass_share_bytes += d[KB0] + d[KB1];
}

static void emit_record(struct fc_flowtab *ft, struct flow *f, enum fc_end_reason reason)
{
	struct fc_flow_rec r;

	fill_ident(f, &r);
	r.end_reason = (uint8_t)reason;
	if (f->bits & F_BP_EVER)
		add_bypass_share(ft, f, &r, reason);
	/* A pure function of the creation-time key, so computing it here gives
	 * the creation-time value without 20 bytes per entry. With
	 * defer_community_id the exporter thread computes it instead, keeping
	 * SHA-1 off the packet path (5 % of a live worker's CPU). */
	if (ft->opts.defer_community_id)
		r.community_id[0] = '\0';
	else
		fc_community_id(r.family, r.proto, &r.src, &r.dst, r.sport, r.dport, r.community_id);

	ft->stats.records[reason]++;
	ft->stats.pkts_emitted += r.pkts + r.rpkts;
	ft->stats.bytes_emitted += r.bytes + r.rbytes;
	ft->opts.emit(ft->opts.emit_ctx, &r);
}

/* Emit the final record of flow i and return its slot to the free list. */
static void end_flow(struct fc_flowtab *ft, uint32_t i, enum fc_end_reason reason)
{
	struct flow *f = &ft->pool[i];

	emit_record(ft, f, reason);
	f->bits = 0;
	index_remove(ft, i);
	lru_unlink(ft, i);
	f->hnext = ft->free_head;
	ft->free_head = i;
	ft->stats.active--;
}

/* ---- flows ---------------------------------------------------------- */

static uint8_t class_of(uint8_t proto)
{
	return proto == PROTO_TCP ? CLS_TCP : proto == PROTO_UDP ? CLS_UDP : CLS_OTHER;
}

/* The least recently seen flow: the oldest of the list heads. */
static uint32_t lru_oldest(const struct fc_flowtab *ft)
{
	uint32_t best = 0, i;
	int c;

	for (c = 0; c < CLS__COUNT; c++) {
		i = ft->lru[c].head;
		if (i && (!best || ft->pool[i].last_ns < ft->pool[best].last_ns))
			best = i;
	}
	return best;
}

static uint32_t slot_get(struct fc_flowtab *ft)
{
	uint32_t i;

	if (!ft->free_head) {
		if (ft->fresh <= ft->max_flows)
			return ft->fresh++;
		end_flow(ft, lru_oldest(ft), FC_END_EVICTED);
	}
	i = ft->free_head;
	ft->free_head = ft->pool[i].hnext;
	return i;
}

static uint32_t flow_create(struct fc_flowtab *ft, const struct ckey *k, uint32_t h, int side,
			    const struct fc_pkt *pkt, uint16_t tflags, uint64_t ts_ns)
{
	uint32_t i = slot_get(ft);
	struct flow *f = &ft->pool[i];
	bool flip = false;

	memset(f, 0, sizeof(*f));
	memcpy(&f->key, k->w, sizeof(f->key));
	f->hash = h;
	f->hnext = ft->buckets[h & ft->mask];
	ft->buckets[h & ft->mask] = i;
	lru_append(ft, i, class_of(ck_proto(k)));

	/* A SYN-ACK first: its receiver sent the SYN we missed, so it initiated. */
	if (ck_proto(k) == PROTO_TCP && (pkt->flags & FC_PKTF_TCP) &&
	    (tflags & (FC_TCPF_SYN | FC_TCPF_ACK | FC_TCPF_RST)) == (FC_TCPF_SYN | FC_TCPF_ACK))
		flip = true;
	if (side ^ flip)
		f->bits |= F_INIT_B;
	if (ck_proto(k) == PROTO_ICMP || ck_proto(k) == PROTO_ICMPV6) {
		f->rec_sport = pkt->icmp_type;
		f->rec_dport = pkt->icmp_code;
	} else {
		f->rec_sport = flip ? pkt->key.dport : pkt->key.sport;
		f->rec_dport = flip ? pkt->key.sport : pkt->key.dport;
	}
	f->vlan_flags = pkt->key.flags & (FC_KEYF_VLAN | FC_KEYF_VLAN2);
	f->vlan = pkt->key.flags & FC_KEYF_VLAN ? pkt->key.vlan : 0;
	f->vlan_inner = pkt->key.flags & FC_KEYF_VLAN2 ? pkt->key.vlan_inner : 0;
	if (pkt->flags & FC_PKTF_TUNNEL) {
		f->bits |= F_TUNNEL;
		f->tun = pkt->tunnel;
	}
	f->flow_id = ft->opts.flow_id_base + ++ft->created;
	f->start_ns = f->last_ns = ts_ns;

	ft->stats.flows_created++;
	if (++ft->stats.active > ft->stats.peak_active)
		ft->stats.peak_active = ft->stats.active;
	return i;
}

/* If flow i's timeout passed before ts_ns, the reason it ended; else -1. */
static inline int stale_reason(const struct fc_flowtab *ft, const struct flow *f, uint64_t ts_ns)
{
	uint64_t t = ft->timeout_ns[f->cls];

	if (!t || ts_ns < f->last_ns || ts_ns - f->last_ns < t)
		return -1;
	return f->cls == CLS_CLOSING ? (int)closed_reason(f) : FC_END_IDLE;
}

/*
 * stale_reason() for any flow: a bypassed flow idle here may be busy in the
 * kernel. Then its last-seen time moves to the kernel's and it stays. With
 * `resort` the flow is put back in last-seen order (expire walks the lists
 * in that order; update() touches the flow anyway).
 */
static int stale_reason_bp(struct fc_flowtab *ft, uint32_t i, uint64_t ts_ns, bool resort)
{
	struct flow *f = &ft->pool[i];
	struct fc_flowtab_kcounts k;
	struct fc_flow_rec r;
	int why = stale_reason(ft, f, ts_ns);

	if (why != FC_END_IDLE || !(f->bits & F_BP))
		return why;
	fill_ident(f, &r);
	memset(&k, 0, sizeof(k));
	if (ft->opts.bypass->sync(ft->opts.bypass->ctx, &r, FC_FT_SYNC_PEEK, &k) == 0 &&
	    k.last_ns > f->last_ns) {
		f->last_ns = k.last_ns;
		if (stale_reason(ft, f, ts_ns) < 0) {
			ft->stats.bypass_refreshed++;
			if (resort)
				lru_resort(ft, i);
			return -1;
		}
	}
	return why;
}

/* Mark flow i bypassed from ts_ns on (an entry for it exists now). */
static void mark_bypassed(struct fc_flowtab *ft, uint32_t i, uint64_t ts_ns)
{
	struct flow *f = &ft->pool[i];
	struct bpstate *b = &ft->bp[i];

	if (!(f->bits & F_BP_EVER)) {
		memset(b, 0, sizeof(*b));
		b->start_ns = ts_ns;
	}
	memset(b->rep, 0, sizeof(b->rep));
	f->bits |= F_BP | F_BP_EVER;
	ft->stats.bypassed++;
}

/* The flow reached the policy's thresholds: offer it to the kernel, once. */
static void try_bypass(struct fc_flowtab *ft, uint32_t i, uint64_t ts_ns)
{
	struct flow *f = &ft->pool[i];
	struct fc_flow_rec r;

	int rc;

	fill_ident(f, &r);
	rc = ft->opts.bypass->add(ft->opts.bypass->ctx, &r);
	if (rc == 1) {
		mark_bypassed(ft, i, ts_ns);
		return;
	}
	f->bits |= F_BP_NO;
	if (rc == -E2BIG || rc == -ENOSPC) {
		/* The kernel cannot take it: drop the rest of the flow early here. */
		f->bits |= F_BP_SW;
		ft->stats.bypass_sw_flows++;
	}
}

/* ---- prefetch pipeline ---------------------------------------------- */

_Static_assert(sizeof(((struct fc_flowtab_hint *)0)->key) == sizeof(struct ckey), "hint holds a ckey");

void fc_flowtab__prefetch_bucket(const struct fc_flowtab *ft, const struct fc_pkt *pkt,
				 struct fc_flowtab_hint *hint)
{
	struct ckey k;

	hint->side = canon_key(ft, &pkt->key, &k);
	hint->hash = key_hash(ft, &k);
	memcpy(hint->key, k.w, sizeof(k.w));
	__builtin_prefetch(&ft->buckets[hint->hash & ft->mask]);
}

void fc_flowtab__prefetch_entry(const struct fc_flowtab *ft, const struct fc_flowtab_hint *hint)
{
	uint32_t i = ft->buckets[hint->hash & ft->mask];

	if (i) {
		__builtin_prefetch(&ft->pool[i]);
		__builtin_prefetch((const char *)&ft->pool[i] + 64, 1);
	}
}

void fc_flowtab__prefetch_lru(const struct fc_flowtab *ft, const struct fc_flowtab_hint *hint)
{
	uint32_t i = ft->buckets[hint->hash & ft->mask];

	/* The entry's LRU neighbours are written when it moves to the tail. */
	if (i && ft->lru[ft->pool[i].cls].tail != i) {
		__builtin_prefetch(&ft->pool[ft->pool[i].lprev], 1);
		__builtin_prefetch(&ft->pool[ft->pool[i].lnext], 1);
	}
}

static int update(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns,
		  const struct fc_flowtab_hint *hint);

int fc_flowtab__update(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns)
{
	return update(ft, pkt, ts_ns, NULL);
}

int fc_flowtab__update_hinted(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns,
			      const struct fc_flowtab_hint *hint)
{
	return update(ft, pkt, ts_ns, hint);
}

static int update(struct fc_flowtab *ft, const struct fc_pkt *pkt, uint64_t ts_ns,
		  const struct fc_flowtab_hint *hint)
{
	struct ckey k;
	struct flow *f;
	uint32_t i, h;
	uint16_t tflags = 0;
	bool tcp;
	int side, dir, why;

	if (pkt->kind != FC_PKT_FLOW)
		return -EINVAL;
	if (hint) {
		memcpy(k.w, hint->key, sizeof(k.w));
		side = hint->side;
		h = hint->hash;
	} else {
		side = canon_key(ft, &pkt->key, &k);
		h = key_hash(ft, &k);
	}
	tcp = ck_proto(&k) == PROTO_TCP && (pkt->flags & FC_PKTF_TCP);
	if (tcp)
		tflags = pkt->tcp_flags & 0x1ff;

	i = index_find(ft, h, &k);
	if (i) {
		f = &ft->pool[i];
		why = ft->bp ? stale_reason_bp(ft, i, ts_ns, false) : stale_reason(ft, f, ts_ns);
		if (why < 0 && tcp &&
		    (tflags & (FC_TCPF_SYN | FC_TCPF_ACK | FC_TCPF_RST | FC_TCPF_FIN)) == FC_TCPF_SYN &&
		    fc_tcpstate__closed(&f->tcp))
			why = closed_reason(f);	/* port reuse: a new connection */
		if (why >= 0) {
			end_flow(ft, i, (enum fc_end_reason)why);
			i = 0;
		}
	}
	if (!i) {
		i = flow_create(ft, &k, h, side, pkt, tflags, ts_ns);
		f = &ft->pool[i];
	} else {
		if (ft->opts.active_ns && ts_ns >= f->start_ns && ts_ns - f->start_ns >= ft->opts.active_ns) {
			emit_record(ft, f, FC_END_ACTIVE);
			memset(f->pkts, 0, sizeof(f->pkts));
			memset(f->bytes, 0, sizeof(f->bytes));
			memset(f->tcp_flags, 0, sizeof(f->tcp_flags));
			f->start_ns = f->last_ns = ts_ns;
		}
		lru_touch(ft, i);
		if (ts_ns > f->last_ns)
			f->last_ns = ts_ns;
		else if (ts_ns < f->start_ns)
			f->start_ns = ts_ns;
	}

	dir = side != (f->bits & F_INIT_B);
	f->pkts[dir]++;
	f->bytes[dir] += pkt->ip_bytes;
	if ((f->bits & F_BP_SW) && !(tflags & (FC_TCPF_SYN | FC_TCPF_FIN | FC_TCPF_RST))) {
		/* Userspace fallback of a bypass the kernel map had no room for:
		 * counted, nothing more (as the programs pass TCP SYN/FIN/RST to
		 * the monitor, those still drive the connection state). */
		ft->stats.bypass_sw_pkts++;
		return 1;
	}
	if (tcp) {
		f->tcp_flags[dir] |= tflags;
		fc_tcpstate__update(&f->tcp, dir, tflags, pkt->payload_len);
		if (f->cls != CLS_CLOSING && fc_tcpstate__closed(&f->tcp)) {
			if (!ft->opts.tcp_close_ns) {
				end_flow(ft, i, closed_reason(f));
				return 0;
			}
			lru_unlink(ft, i);
			lru_append(ft, i, CLS_CLOSING);
		}
	}
	if (ft->bp && !(f->bits & (F_BP | F_BP_NO)) && f->cls != CLS_CLOSING &&
	    f->pkts[0] + f->pkts[1] >= ft->opts.bypass->after_pkts &&
	    f->bytes[0] + f->bytes[1] >= ft->opts.bypass->after_bytes)
		try_bypass(ft, i, ts_ns);
	return 0;
}

void fc_flowtab__expire(struct fc_flowtab *ft, uint64_t now_ns)
{
	int c, why;
	uint32_t i;

	for (c = 0; c < CLS__COUNT; c++) {
		while ((i = ft->lru[c].head) != 0) {
			why = ft->bp ? stale_reason_bp(ft, i, now_ns, true) :
				       stale_reason(ft, &ft->pool[i], now_ns);
			if (why < 0 && ft->lru[c].head != i)
				continue;	/* refreshed by the kernel and moved back */
			if (why < 0)
				break;
			end_flow(ft, i, (enum fc_end_reason)why);
		}
	}
}

void fc_flowtab__flush(struct fc_flowtab *ft, enum fc_end_reason reason)
{
	int c;

	if ((unsigned)reason >= FC_END__COUNT)
		reason = FC_END_SHUTDOWN;
	/* A connection that already closed ended by FIN or RST, not by the
	 * flush: say so, so the record does not depend on tcp_close_ns. */
	for (c = 0; c < CLS__COUNT; c++)
		while (ft->lru[c].head)
			end_flow(ft, ft->lru[c].head,
				 c == CLS_CLOSING ? closed_reason(&ft->pool[ft->lru[c].head]) : reason);
}

const struct fc_flowtab_stats *fc_flowtab__stats(const struct fc_flowtab *ft)
{
	return &ft->stats;
}

/* ---- bypass entry points -------------------------------------------- */

/* The canonical key of a flow named by a record's identity. */
static int ident_key(const struct fc_flowtab *ft, const struct fc_flow_rec *id, struct ckey *k)
{
	struct fc_flow_key key;

	if (id->family != 4 && id->family != 6)
		return -EAFNOSUPPORT;
	memset(&key, 0, sizeof(key));
	key.src = id->src;
	key.dst = id->dst;
	key.sport = id->sport;
	key.dport = id->dport;
	key.proto = id->proto;
	key.family = id->family;
	if (id->has_vlan >= 1) {
		key.vlan = id->vlan;
		key.flags |= FC_KEYF_VLAN;
	}
	if (id->has_vlan >= 2) {
		key.vlan_inner = id->vlan_inner;
		key.flags |= FC_KEYF_VLAN2;
	}
	return canon_key(ft, &key, k);
}

int fc_flowtab__bypass_claim(struct fc_flowtab *ft, const struct fc_flow_rec *id, uint64_t now_ns)
{
	struct ckey k;
	uint32_t i;
	int side;

	if (!ft->bp)
		return -EINVAL;
	side = ident_key(ft, id, &k);
	if (side < 0)
		return side;
	i = index_find(ft, key_hash(ft, &k), &k);
	if (!i)
		return -ENOENT;
	if (ft->pool[i].bits & F_BP)
		return -EEXIST;
	mark_bypassed(ft, i, now_ns);
	return 0;
}

int fc_flowtab__bypass_adopt(struct fc_flowtab *ft, const struct fc_flow_rec *id,
			     const struct fc_flowtab_kcounts *reported)
{
	struct fc_pkt pkt;
	struct ckey k;
	struct flow *f;
	uint32_t h, i;
	int side;

	if (!ft->bp)
		return -EINVAL;
	side = ident_key(ft, id, &k);
	if (side < 0)
		return side;
	h = key_hash(ft, &k);
	i = index_find(ft, h, &k);
	if (i && (ft->pool[i].bits & F_BP))
		return -EEXIST;
	if (!i) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.key.sport = id->sport;
		pkt.key.dport = id->dport;
		pkt.key.flags = (uint8_t)((id->has_vlan >= 1 ? FC_KEYF_VLAN : 0) |
					  (id->has_vlan >= 2 ? FC_KEYF_VLAN2 : 0));
		pkt.key.vlan = id->vlan;
		pkt.key.vlan_inner = id->vlan_inner;
		/* side: which canonical side the initiator (id->src) is on */
		i = flow_create(ft, &k, h, side, &pkt, 0, id->start_ns);
		f = &ft->pool[i];
		f->last_ns = id->end_ns > id->start_ns ? id->end_ns : id->start_ns;
		lru_resort(ft, i);
	}
	mark_bypassed(ft, i, id->bypass.start_ns ? id->bypass.start_ns : id->start_ns);
	ft->bp[i].rep[KP0] = reported->pkts[0];
	ft->bp[i].rep[KP1] = reported->pkts[1];
	ft->bp[i].rep[KB0] = reported->bytes[0];
	ft->bp[i].rep[KB1] = reported->bytes[1];
	return 0;
}

/* Flow i's entry is gone with these final counts: fold what is new into acc. */
static void fold_entry(struct fc_flowtab *ft, uint32_t i, const struct fc_flowtab_kcounts *k)
{
	struct flow *f = &ft->pool[i];
	struct bpstate *b = &ft->bp[i];

	b->acc[KP0] += k->pkts[0] >= b->rep[KP0] ? k->pkts[0] - b->rep[KP0] : 0;
	b->acc[KP1] += k->pkts[1] >= b->rep[KP1] ? k->pkts[1] - b->rep[KP1] : 0;
	b->acc[KB0] += k->bytes[0] >= b->rep[KB0] ? k->bytes[0] - b->rep[KB0] : 0;
	b->acc[KB1] += k->bytes[1] >= b->rep[KB1] ? k->bytes[1] - b->rep[KB1] : 0;
	if (k->last_ns > f->last_ns)
		f->last_ns = k->last_ns;
	memset(b->rep, 0, sizeof(b->rep));
	f->bits &= (uint8_t)~F_BP;
}

static uint32_t ident_find(const struct fc_flowtab *ft, const struct fc_flow_rec *id)
{
	struct ckey k;

	if (ident_key(ft, id, &k) < 0)
		return 0;
	return index_find(ft, key_hash(ft, &k), &k);
}

int fc_flowtab__bypass_gone(struct fc_flowtab *ft, const struct fc_flow_rec *id,
			    const struct fc_flowtab_kcounts *k, const struct fc_flowtab_kcounts *reported,
			    uint64_t now_ns)
{
	uint32_t i;
	int why;

	if (!ft->bp)
		return -EINVAL;
	i = ident_find(ft, id);
	if (!i || !(ft->pool[i].bits & F_BP)) {
		/* No flow counts this entry (a manual add nobody claimed, a leftover):
		 * make one from the entry alone, so its counts still reach a record. */
		if (i)
			return -EEXIST;	/* a flow of that name that the entry was not counting for */
		if (fc_flowtab__bypass_adopt(ft, id, reported))
			return -ENOMEM;
		i = ident_find(ft, id);
		if (!i)
			return -ENOENT;
	}
	fold_entry(ft, i, k);
	why = stale_reason(ft, &ft->pool[i], now_ns);
	if (why < 0 && ft->pool[i].pkts[0] + ft->pool[i].pkts[1] == 0)
		why = FC_END_IDLE;	/* never seen here: nothing else will end it */
	if (why < 0) {
		lru_resort(ft, i);
		return 1;
	}
	end_flow(ft, i, (enum fc_end_reason)why);
	return 0;
}

int fc_flowtab__bypass_drop(struct fc_flowtab *ft, const struct fc_flow_rec *id)
{
	struct fc_flowtab_kcounts k;
	struct fc_flow_rec r;
	uint32_t i;
	int err;

	if (!ft->bp)
		return -EINVAL;
	i = ident_find(ft, id);
	if (!i || !(ft->pool[i].bits & F_BP))
		return -ENOENT;
	fill_ident(&ft->pool[i], &r);
	memset(&k, 0, sizeof(k));
	err = ft->opts.bypass->sync(ft->opts.bypass->ctx, &r, FC_FT_SYNC_END, &k);
	if (err && err != -ENOENT) {
		ft->stats.bypass_sync_failed++;
		return err;
	}
	if (err)
		memset(&k, 0, sizeof(k));
	fold_entry(ft, i, &k);
	ft->pool[i].bits |= F_BP_NO;	/* asked to stop: do not offer it again */
	return 0;
}

unsigned fc_flowtab__bypass_release(struct fc_flowtab *ft)
{
	struct fc_flowtab_kcounts k;
	struct fc_flow_rec r;
	struct bpstate *b;
	unsigned n = 0;
	uint32_t i;
	int c, err;

	if (!ft->bp)
		return 0;
	for (c = 0; c < CLS__COUNT; c++) {
		for (i = ft->lru[c].head; i; i = ft->pool[i].lnext) {
			struct flow *f = &ft->pool[i];

			if (!(f->bits & F_BP))
				continue;
			fill_ident(f, &r);
			memset(&k, 0, sizeof(k));
			err = ft->opts.bypass->sync(ft->opts.bypass->ctx, &r, FC_FT_SYNC_END, &k);
			if (err && err != -ENOENT)
				ft->stats.bypass_sync_failed++;
			b = &ft->bp[i];
			if (!err) {
				b->acc[KP0] += k.pkts[0] >= b->rep[KP0] ? k.pkts[0] - b->rep[KP0] : 0;
				b->acc[KP1] += k.pkts[1] >= b->rep[KP1] ? k.pkts[1] - b->rep[KP1] : 0;
				b->acc[KB0] += k.bytes[0] >= b->rep[KB0] ? k.bytes[0] - b->rep[KB0] : 0;
				b->acc[KB1] += k.bytes[1] >= b->rep[KB1] ? k.bytes[1] - b->rep[KB1] : 0;
				if (k.last_ns > f->last_ns)
					f->last_ns = k.last_ns;
			}
			memset(b->rep, 0, sizeof(b->rep));
			f->bits = (uint8_t)((f->bits & ~F_BP) | F_BP_NO);
			n++;
		}
	}
	return n;
}

size_t fc_flowtab__bytes_per_flow(const struct fc_flowtab *ft)
{
	return (ft->pool_bytes + ft->bucket_bytes + ft->max_flows / 2) / ft->max_flows;
}

/* ---- lifetime ------------------------------------------------------- */

/* Anonymous zero-filled memory: untouched pages cost no RSS. NULL + errno on failure. */
static void *map_zeroed(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Big tables are TLB-bound: ask for huge pages (a hint; RSS then grows
	 * 2 MB at a time, still only as slots are first used). */
	if (len >= (4u << 20))
		(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

struct fc_flowtab *fc_flowtab__new(const struct fc_flowtab_opts *opts)
{
	struct fc_flowtab *ft;
	uint8_t seed[16];
	uint64_t nb = 1;
	int err;

	if (!opts || !opts->emit) {
		errno = EINVAL;
		return NULL;
	}
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	ft->opts = *opts;
	ft->max_flows = opts->max_flows ? opts->max_flows : FC_DEFAULT_MAX_FLOWS;
	/* uint32 indexes with 0 reserved; beyond 2^31 flows we would need > 400 GB anyway */
	if (ft->max_flows > (1u << 31)) {
		err = ENOMEM;
		goto err_free;
	}
	while (nb < ft->max_flows)
		nb <<= 1;
	ft->mask = (uint32_t)(nb - 1);
	ft->pool_bytes = ((size_t)ft->max_flows + 1) * sizeof(struct flow);
	ft->bucket_bytes = (size_t)nb * sizeof(uint32_t);

	if (opts->fixed_seed) {
		memcpy(seed, opts->seed, sizeof(seed));
	} else if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		err = errno ? errno : EIO;
		goto err_free;
	}
	fc_siphash_key__init(&ft->seed, seed);
	fc_aeshash_key__init(&ft->aes_key, &ft->seed);
	ft->aes = !opts->siphash && fc_aeshash_available();

	ft->pool = map_zeroed(ft->pool_bytes);
	if (!ft->pool) {
		err = errno;
		goto err_free;
	}
	ft->buckets = map_zeroed(ft->bucket_bytes);
	if (!ft->buckets) {
		err = errno;
		goto err_unmap_pool;
	}
	if (opts->bypass) {
		if (!opts->bypass->add || !opts->bypass->sync) {
			err = EINVAL;
			goto err_unmap_buckets;
		}
		ft->bp_bytes = ((size_t)ft->max_flows + 1) * sizeof(struct bpstate);
		ft->bp = map_zeroed(ft->bp_bytes);
		if (!ft->bp) {
			err = errno;
			goto err_unmap_buckets;
		}
	}
	ft->fresh = 1;
	ft->timeout_ns[CLS_TCP] = opts->idle_tcp_ns;
	ft->timeout_ns[CLS_UDP] = opts->idle_udp_ns;
	ft->timeout_ns[CLS_OTHER] = opts->idle_other_ns;
	ft->timeout_ns[CLS_CLOSING] = opts->tcp_close_ns;
	return ft;

err_unmap_buckets:
	munmap(ft->buckets, ft->bucket_bytes);
err_unmap_pool:
	munmap(ft->pool, ft->pool_bytes);
err_free:
	free(ft);
	errno = err;
	return NULL;
}

void fc_flowtab__free(struct fc_flowtab *ft)
{
	if (!ft)
		return;
	if (ft->bp)
		munmap(ft->bp, ft->bp_bytes);
	munmap(ft->buckets, ft->bucket_bytes);
	munmap(ft->pool, ft->pool_bytes);
	free(ft);
}
