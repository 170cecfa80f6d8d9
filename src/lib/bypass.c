// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass.c - loading, attaching and pinning the bypass programs and maps,
 * and every operation on their entries (see bypass.h, docs/bypass.md).
 *
 * The maps are pinned by name under <pin_root>/<ifname>/; libbpf reuses a
 * pin whose type and geometry match, so a restarted monitor finds the
 * entries (and their counters) its predecessor left. The flow tables are
 * arrays the programs probe themselves (bypass_common.h); this file owns
 * placement in them (bypass_table.c, under one lock), the order of slot
 * and counter writes the programs rely on, and the grace period before a
 * removed slot is reused. Per-CPU counters are summed here. Keys are built from a record's identity exactly as the
 * programs build them from a frame (bpf/parse.h), the meta map remembers
 * who initiated a flow so the kernel's side a/b counters can be turned
 * back into initiator/responder.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/membarrier.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bypass_common.h"
#include "bypass_table.h"
#include "bypass.skel.h"
#include "flowcut/bypass.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

_Static_assert(FC_BYPASS_ACTIONS == FC_BP_ACT__COUNT, "action count");
_Static_assert(FC_BP_VLAN_MAX_DEPTH == FC_VLAN_MAX_DEPTH, "VLAN bound shared with the decoder");
_Static_assert(FC_BP_IPV6_EXT_MAX == FC_IPV6_EXT_MAX, "IPv6 bound shared with the decoder");

struct fc_bypass {
	struct bypass_bpf *skel;
	enum fc_bypass_mode mode;
	int ifindex;
	uint32_t xdp_flags;		/* as attached; 0 = not attached */
	bool vlan_key;
	int ncpu;
	int tab_fd[2], cnt_fd[2], meta_fd[2], block_fd[2], stats_fd;	/* [0] IPv4, [1] IPv6 */
	void *tab_mem[2];		/* the mmapped slot arrays */
	size_t tab_len[2];
	struct fc_bptab tab[2];		/* placement; under lock */
	pthread_mutex_t lock;		/* tab[] and every slot write */
	pthread_mutex_t reclaim_lock;	/* one grace period at a time */
	char pin_dir[256];
	const char *desc;
};

/* ---- time ----------------------------------------------------------- */

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC time as epoch ns (0 stays 0). */
static uint64_t mono_to_epoch(uint64_t mono)
{
	uint64_t rt = clock_ns(CLOCK_REALTIME), mn = clock_ns(CLOCK_MONOTONIC);

	if (!mono)
		return 0;
	return mono > mn ? rt : rt - (mn - mono);
}

/* ---- keys ----------------------------------------------------------- */

union bp_key {
	struct fc_bp_key4 k4;
	struct fc_bp_key6 k6;
};

static uint16_t vlan_enc(bool present, uint16_t vid)
{
	return present ? (uint16_t)(FC_BP_VLAN_PRESENT | (vid & 0x0fff)) : 0;
}

/*
 * The map key of the flow rec names; returns the family index (0 IPv4, 1
 * IPv6) and in *init_b whether the initiator is side b, or -errno.
 */
static int rec_key(const struct fc_bypass *b, const struct fc_flow_rec *r, union bp_key *k, uint8_t *init_b)
{
	int alen = r->family == 4 ? 4 : 16, c;
	uint16_t v1 = 0, v2 = 0;
	bool swap;

	if (r->family != 4 && r->family != 6)
		return -EAFNOSUPPORT;
	if ((r->proto != 6 && r->proto != 17) || r->has_tunnel || r->tunnel_id)
		return -EPROTONOSUPPORT;
	if (b->vlan_key) {
		v1 = vlan_enc(r->has_vlan >= 1, r->vlan);
		v2 = vlan_enc(r->has_vlan >= 2, r->vlan_inner);
	}
	c = memcmp(r->src.b, r->dst.b, (size_t)alen);
	swap = c > 0 || (c == 0 && r->sport > r->dport);
	*init_b = swap;
	memset(k, 0, sizeof(*k));
	if (r->family == 4) {
		memcpy(&k->k4.addr_a, swap ? r->dst.b : r->src.b, 4);
		memcpy(&k->k4.addr_b, swap ? r->src.b : r->dst.b, 4);
		k->k4.port_a = swap ? r->dport : r->sport;
		k->k4.port_b = swap ? r->sport : r->dport;
		k->k4.vlan = v1, k->k4.vlan_inner = v2, k->k4.proto = r->proto;
		return 0;
	}
	memcpy(k->k6.addr_a, swap ? r->dst.b : r->src.b, 16);
	memcpy(k->k6.addr_b, swap ? r->src.b : r->dst.b, 16);
	k->k6.port_a = swap ? r->dport : r->sport;
	k->k6.port_b = swap ? r->sport : r->dport;
	k->k6.vlan = v1, k->k6.vlan_inner = v2, k->k6.proto = r->proto;
	return 1;
}

/* The identity of an entry as a record names it (src = initiator). */
static void key_rec(int fam, const void *key, uint8_t init_b, struct fc_flow_rec *r)
{
	const struct fc_bp_key4 *k4 = key;
	const struct fc_bp_key6 *k6 = key;
	struct fc_addr a, bb;
	uint16_t pa, pb, v1, v2;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	memset(&bb, 0, sizeof(bb));
	if (fam == 0) {
		memcpy(a.b, &k4->addr_a, 4), memcpy(bb.b, &k4->addr_b, 4);
		pa = k4->port_a, pb = k4->port_b, v1 = k4->vlan, v2 = k4->vlan_inner;
		r->proto = k4->proto, r->family = 4;
	} else {
		memcpy(a.b, k6->addr_a, 16), memcpy(bb.b, k6->addr_b, 16);
		pa = k6->port_a, pb = k6->port_b, v1 = k6->vlan, v2 = k6->vlan_inner;
		r->proto = k6->proto, r->family = 6;
	}
	r->src = init_b ? bb : a;
	r->dst = init_b ? a : bb;
	r->sport = init_b ? pb : pa;
	r->dport = init_b ? pa : pb;
	if (v1 & FC_BP_VLAN_PRESENT) {
		r->has_vlan = v2 & FC_BP_VLAN_PRESENT ? 2 : 1;
		r->vlan = v1 & 0x0fff;
		r->vlan_inner = v2 & 0x0fff;
	}
}

/* ---- per-CPU values ------------------------------------------------- */

#define MAX_CPUS 1024

static void sum_values(const struct fc_bp_counters *v, int ncpu, struct fc_bp_counters_sum *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ncpu; i++) {
		s->pkts[0] += v[i].pkts[0], s->pkts[1] += v[i].pkts[1];
		s->bytes[0] += v[i].bytes[0], s->bytes[1] += v[i].bytes[1];
		if (v[i].last_ns > s->last_ns)
			s->last_ns = v[i].last_ns;
	}
}

/* Side a/b sums -> initiator-oriented counts. */
static void orient(const struct fc_bp_counters_sum *s, uint8_t init_b, struct fc_flowtab_kcounts *k)
{
	int i = init_b ? 1 : 0;

	k->pkts[0] = s->pkts[i], k->pkts[1] = s->pkts[!i];
	k->bytes[0] = s->bytes[i], k->bytes[1] = s->bytes[!i];
	k->last_ns = mono_to_epoch(s->last_ns);
}

static void meta_rep(const struct fc_bp_meta *m, struct fc_flowtab_kcounts *rep)
{
	int i = m->init_b ? 1 : 0;

	memset(rep, 0, sizeof(*rep));
	rep->pkts[0] = m->rep_pkts[i], rep->pkts[1] = m->rep_pkts[!i];
	rep->bytes[0] = m->rep_bytes[i], rep->bytes[1] = m->rep_bytes[!i];
}

/* ---- miss prefilter (bypass_common.h) ------------------------------ */

/*
 * The programs skip the probe when the key's slot in pf_v4/pf_v6 is zero,
 * so the count must cover every VALID entry: pf_add() runs before a slot
 * turns VALID, pf_sub() after one was drained (and only by the call that
 * drained it), both atomic since workers and the control thread add and
 * remove concurrently. A count at FC_BP_PF_MAX stays there (always "maybe").
 */
static uint8_t *pf_slot(struct fc_bypass *b, int fam, const void *key)
{
	return (fam ? b->skel->bss->pf_v6 : b->skel->bss->pf_v4) + fc_bp_pf_slot(key, fam);
}

static void pf_add(struct fc_bypass *b, int fam, const void *key)
{
	uint8_t *c = pf_slot(b, fam, key), v = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (v == FC_BP_PF_MAX)
			return;
	} while (!__atomic_compare_exchange_n(c, &v, (uint8_t)(v + 1), false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
}

static void pf_sub(struct fc_bypass *b, int fam, const void *key)
{
	uint8_t *c = pf_slot(b, fam, key), v = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (v == FC_BP_PF_MAX || v == 0)
			return;
	} while (!__atomic_compare_exchange_n(c, &v, (uint8_t)(v - 1), false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
}

/* Count every VALID slot (a predecessor's included), before attaching. */
static void pf_rebuild(struct fc_bypass *b)
{
	union bp_key k;
	uint32_t i;
	int fam;

	memset(b->skel->bss->pf_v4, 0, sizeof(b->skel->bss->pf_v4));
	memset(b->skel->bss->pf_v6, 0, sizeof(b->skel->bss->pf_v6));
	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i <= b->tab[fam].mask; i++) {
			if (fc_bptab_state(&b->tab[fam], i) != FC_BP_SLOT_VALID)
				continue;
			memset(&k, 0, sizeof(k));	/* fc_bp_pf_slot reads whole words */
			memcpy(&k, fc_bptab_key(&b->tab[fam], i), b->tab[fam].key_size);
			pf_add(b, fam, &k);
		}
	}
}

int fc_bypass__prefilter(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t *slot)
{
	union bp_key k;
	uint8_t init_b;
	int fam = rec_key(b, rec, &k, &init_b);

	if (fam < 0)
		return fam;
	*slot = fc_bp_pf_slot(&k, fam);
	return __atomic_load_n(pf_slot(b, fam, &k), __ATOMIC_RELAXED);
}

/* ---- slot counters and grace periods -------------------------------- */

static int cnt_read(struct fc_bypass *b, int fam, uint32_t i, struct fc_bp_counters_sum *s)
{
	struct fc_bp_counters v[MAX_CPUS];

	if (bpf_map_lookup_elem(b->cnt_fd[fam], &i, v))
		return -errno;
	sum_values(v, b->ncpu, s);
	return 0;
}

static int cnt_zero(int fd, int ncpu, uint32_t i)
{
	struct fc_bp_counters zero[MAX_CPUS];

	memset(zero, 0, sizeof(zero[0]) * (size_t)ncpu);
	return bpf_map_update_elem(fd, &i, zero, BPF_ANY) ? -errno : 0;
}

/*
 * Wait until every program that may have seen a slot VALID has returned:
 * the programs run inside RCU read-side sections (XDP in NAPI, socket
 * filters under rcu_read_lock), and MEMBARRIER_CMD_GLOBAL waits for an RCU
 * grace period (synchronize_rcu; ~8-16 ms on the bench VM). The kernel
 * refuses it under nohz_full; then a pause far longer than any program run.
 */
static void grace_period(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	nanosleep(&ts, NULL);
}

/*
 * Make the drained slots of table fam reusable: mark them RETIRE, wait a
 * grace period, zero their counters, EMPTY. One reclaim at a time (a slot
 * drained during the wait stays DRAIN until the next one); the table lock
 * is not held during the wait.
 */
static void reclaim(struct fc_bypass *b, int fam)
{
	struct fc_bptab *t = &b->tab[fam];
	uint32_t i, n;

	pthread_mutex_lock(&b->reclaim_lock);
	pthread_mutex_lock(&b->lock);
	n = fc_bptab_retire(t);
	pthread_mutex_unlock(&b->lock);
	if (n) {
		grace_period();
		pthread_mutex_lock(&b->lock);
		for (i = 0; i <= t->mask; i++) {
			if (fc_bptab_state(t, i) == FC_BP_SLOT_RETIRE && cnt_zero(b->cnt_fd[fam], b->ncpu, i) == 0)
				fc_bptab_free(t, i);
		}
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&b->reclaim_lock);
}

/*
 * Remove the entry in slot i (lock held): DRAIN first, so no program counts
 * into it any more, then read its final counts. The prefilter is the
 * caller's (pf_sub after unlocking).
 */
static int drain_slot(struct fc_bypass *b, int fam, uint32_t i, struct fc_bp_counters_sum *s)
{
	fc_bptab_drain(&b->tab[fam], i);
	return cnt_read(b, fam, i, s);
}

/* ---- entries -------------------------------------------------------- */

/* A new entry for key k (zeroed counters): 0, -EEXIST, -E2BIG, -ENOSPC or -errno. */
static int insert(struct fc_bypass *b, int fam, const union bp_key *k)
{
	struct fc_bptab *t = &b->tab[fam];
	uint32_t i;
	int err;

	pthread_mutex_lock(&b->lock);
	err = fc_bptab_place(t, k, &i);
	if (err == -EAGAIN) {
		pthread_mutex_unlock(&b->lock);
		reclaim(b, fam);	/* the window is full of drained slots */
		pthread_mutex_lock(&b->lock);
		err = fc_bptab_place(t, k, &i);
		if (err == -EAGAIN)
			err = -ENOSPC;
	}
	if (!err)
		err = cnt_zero(b->cnt_fd[fam], b->ncpu, i);
	if (!err) {
		pf_add(b, fam, k);	/* before VALID: the programs never skip it */
		fc_bptab_fill(t, i, k);
	}
	pthread_mutex_unlock(&b->lock);
	return err;
}

/* Remove key k's entry if it has one; its final counts in *s. 0, -ENOENT or -errno. */
static int remove_key(struct fc_bypass *b, int fam, const union bp_key *k, struct fc_bp_counters_sum *s)
{
	long i;
	int err;

	pthread_mutex_lock(&b->lock);
	i = fc_bptab_find(&b->tab[fam], k);
	err = i < 0 ? (int)i : drain_slot(b, fam, (uint32_t)i, s);
	pthread_mutex_unlock(&b->lock);
	if (i >= 0)
		pf_sub(b, fam, k);
	return err;
}

/* Read key k's entry: 0, -ENOENT or -errno. */
static int read_key(struct fc_bypass *b, int fam, const union bp_key *k, struct fc_bp_counters_sum *s)
{
	long i;
	int err;

	pthread_mutex_lock(&b->lock);
	i = fc_bptab_find(&b->tab[fam], k);
	err = i < 0 ? (int)i : cnt_read(b, fam, (uint32_t)i, s);
	pthread_mutex_unlock(&b->lock);
	return err;
}

int fc_bypass__add(struct fc_bypass *b, const struct fc_flow_rec *rec, uint32_t owner)
{
	struct fc_bp_counters_sum s;
	struct fc_bp_meta m;
	union bp_key k;
	uint8_t init_b;
	int fam = rec_key(b, rec, &k, &init_b), err;

	if (fam < 0)
		return fam;
	err = insert(b, fam, &k);
	if (err && err != -EEXIST)
		return err;
	if (err == -EEXIST && bpf_map_lookup_elem(b->meta_fd[fam], &k, &m) == 0) {
		m.owner = owner;
		(void)bpf_map_update_elem(b->meta_fd[fam], &k, &m, BPF_EXIST);
		return -EEXIST;
	}
	memset(&m, 0, sizeof(m));
	m.first_ns = rec->start_ns;
	m.start_ns = clock_ns(CLOCK_REALTIME);
	m.added_mono_ns = clock_ns(CLOCK_MONOTONIC);
	m.owner = owner;
	m.init_b = init_b;
	if (bpf_map_update_elem(b->meta_fd[fam], &k, &m, BPF_ANY)) {
		int e = -errno;

		if (!err)
			(void)remove_key(b, fam, &k, &s);
		return e;
	}
	return err;
}

int fc_bypass__sync(struct fc_bypass *b, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		    struct fc_flowtab_kcounts *k)
{
	struct fc_bp_counters_sum s;
	struct fc_bp_meta m;
	union bp_key key;
	uint8_t init_b;
	int fam = rec_key(b, rec, &key, &init_b), err;

	if (fam < 0)
		return fam;
	if (how == FC_FT_SYNC_END)
		err = remove_key(b, fam, &key, &s);
	else
		err = read_key(b, fam, &key, &s);
	if (err)
		return err;
	orient(&s, init_b, k);
	if (how == FC_FT_SYNC_END) {
		(void)bpf_map_delete_elem(b->meta_fd[fam], &key);
	} else if (how == FC_FT_SYNC_KEEP) {
		if (bpf_map_lookup_elem(b->meta_fd[fam], &key, &m))
			memset(&m, 0, sizeof(m)), m.init_b = init_b;
		memcpy(m.rep_pkts, s.pkts, sizeof(m.rep_pkts));
		memcpy(m.rep_bytes, s.bytes, sizeof(m.rep_bytes));
		m.owner = 0;	/* until someone adopts it */
		if (bpf_map_update_elem(b->meta_fd[fam], &key, &m, BPF_ANY))
			return -errno;
	}
	return 0;
}

int fc_bypass__del(struct fc_bypass *b, const struct fc_flow_rec *rec, struct fc_bypass_entry *e)
{
	struct fc_bp_counters_sum s;
	struct fc_bp_meta m;
	union bp_key key;
	uint8_t init_b;
	int fam = rec_key(b, rec, &key, &init_b), err;

	if (fam < 0)
		return fam;
	memset(&m, 0, sizeof(m));
	m.init_b = init_b;
	(void)bpf_map_lookup_elem(b->meta_fd[fam], &key, &m);
	err = remove_key(b, fam, &key, &s);
	if (err)
		return err;
	(void)bpf_map_delete_elem(b->meta_fd[fam], &key);
	if (e) {
		memset(e, 0, sizeof(*e));
		key_rec(fam, &key, m.init_b, &e->id);
		orient(&s, m.init_b, &e->k);
		meta_rep(&m, &e->rep);
		e->start_ns = m.start_ns;
		e->owner = m.owner;
		e->id.start_ns = m.first_ns;
	}
	return 0;
}

int fc_bypass__slot(struct fc_bypass *b, const struct fc_flow_rec *rec)
{
	union bp_key k;
	uint8_t init_b;
	int fam = rec_key(b, rec, &k, &init_b);
	long i;

	if (fam < 0)
		return fam;
	pthread_mutex_lock(&b->lock);
	i = fc_bptab_find(&b->tab[fam], &k);
	pthread_mutex_unlock(&b->lock);
	return (int)i;
}

/* Slot i's key and counts when it holds an entry: 0, or -ENOENT. */
static int peek_slot(struct fc_bypass *b, int fam, uint32_t i, union bp_key *k, struct fc_bp_counters_sum *s)
{
	int err = -ENOENT;

	if (fc_bptab_state(&b->tab[fam], i) != FC_BP_SLOT_VALID)
		return err;	/* most slots: no lock taken */
	pthread_mutex_lock(&b->lock);
	if (fc_bptab_state(&b->tab[fam], i) == FC_BP_SLOT_VALID) {
		memset(k, 0, sizeof(*k));
		memcpy(k, fc_bptab_key(&b->tab[fam], i), b->tab[fam].key_size);
		err = cnt_read(b, fam, i, s);
	}
	pthread_mutex_unlock(&b->lock);
	return err;
}

static int visit_entry(struct fc_bypass *b, int fam, const void *key, const struct fc_bp_counters_sum *s,
		       fc_bypass_visit_fn fn, void *ctx)
{
	struct fc_bypass_entry e;
	struct fc_bp_meta m;
	uint64_t now = clock_ns(CLOCK_MONOTONIC), last;

	memset(&m, 0, sizeof(m));
	(void)bpf_map_lookup_elem(b->meta_fd[fam], key, &m);
	memset(&e, 0, sizeof(e));
	key_rec(fam, key, m.init_b, &e.id);
	e.id.start_ns = m.first_ns;
	orient(s, m.init_b, &e.k);
	meta_rep(&m, &e.rep);
	e.start_ns = m.start_ns;
	e.owner = m.owner;
	last = s->last_ns > m.added_mono_ns ? s->last_ns : m.added_mono_ns;
	e.idle_ns = now > last ? now - last : 0;
	e.id.end_ns = e.k.last_ns ? e.k.last_ns : m.start_ns;
	e.id.bypass.start_ns = m.start_ns;
	return fn(ctx, &e);
}

int fc_bypass__foreach(struct fc_bypass *b, fc_bypass_visit_fn fn, void *ctx)
{
	struct fc_bp_counters_sum s;
	union bp_key k;
	uint32_t i;
	int fam, rc;

	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i <= b->tab[fam].mask; i++) {
			if (peek_slot(b, fam, i, &k, &s))
				continue;
			rc = visit_entry(b, fam, &k, &s, fn, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- GC ------------------------------------------------------------- */

/*
 * Slot i again, under the lock: still the entry stale() judged (same key,
 * VALID)? Then drain it with its final counts. 0, or -ENOENT if it went.
 */
static int drain_if_same(struct fc_bypass *b, int fam, uint32_t i, const union bp_key *k,
			 struct fc_bp_counters_sum *s)
{
	struct fc_bptab *t = &b->tab[fam];
	int err = -ENOENT;

	pthread_mutex_lock(&b->lock);
	if (fc_bptab_state(t, i) == FC_BP_SLOT_VALID && !memcmp(fc_bptab_key(t, i), k, t->key_size))
		err = drain_slot(b, fam, i, s);
	pthread_mutex_unlock(&b->lock);
	if (!err)
		pf_sub(b, fam, k);
	return err;
}

long fc_bypass__table_gc(struct fc_bypass *b, int family, fc_bypass_stale_fn stale, fc_bypass_gone_fn gone,
			 void *ctx)
{
	int fam = family == 6;
	struct fc_bp_counters_sum s;
	union bp_key k;
	long removed = 0;
	uint32_t i;

	/* Slots never move: one pass over the indices visits every entry
	 * once, whatever is added or removed meanwhile. */
	for (i = 0; i <= b->tab[fam].mask; i++) {
		if (peek_slot(b, fam, i, &k, &s) || !stale(ctx, &k, &s))
			continue;
		if (drain_if_same(b, fam, i, &k, &s))
			continue;
		removed++;
		if (gone)
			gone(ctx, &k, &s);
	}
	reclaim(b, fam);
	return removed;
}

/* ---- owner-aware GC (fc_bypass__gc) -------------------------------- */

struct gc_ctx {
	struct fc_bypass *b;
	const struct fc_bypass_gc_opts *o;
	int fam;
	uint64_t now;
	struct fc_bp_meta m;		/* of the key stale() just said yes to */
	fc_bypass_visit_fn gone;
	void *gone_ctx;
};

static bool gc_stale(void *ctx, const void *key, const struct fc_bp_counters_sum *s)
{
	struct gc_ctx *g = ctx;
	const struct fc_bypass_gc_opts *o = g->o;
	uint8_t proto = g->fam ? ((const struct fc_bp_key6 *)key)->proto :
				 ((const struct fc_bp_key4 *)key)->proto;
	uint64_t t = proto == 6 ? o->idle_tcp_ns : o->idle_udp_ns, last;
	bool mine;

	if (!t)
		return false;
	/* most keys are busy: decided without a syscall */
	if (s->last_ns && g->now - s->last_ns < t)
		return false;
	memset(&g->m, 0, sizeof(g->m));
	(void)bpf_map_lookup_elem(g->b->meta_fd[g->fam], key, &g->m);
	last = s->last_ns > g->m.added_mono_ns ? s->last_ns : g->m.added_mono_ns;
	if (g->now > last && g->now - last < t)
		return false;
	if (g->now <= last)
		return false;
	mine = g->m.owner == o->owner ||
	       (o->take_unowned && (g->m.owner == 0 || g->m.owner > o->nowners));
	return mine;
}

static void gc_gone(void *ctx, const void *key, const struct fc_bp_counters_sum *s)
{
	struct gc_ctx *g = ctx;
	struct fc_bypass_entry e;

	(void)bpf_map_delete_elem(g->b->meta_fd[g->fam], key);
	memset(&e, 0, sizeof(e));
	key_rec(g->fam, key, g->m.init_b, &e.id);
	e.id.start_ns = g->m.first_ns ? g->m.first_ns : g->m.start_ns;
	orient(s, g->m.init_b, &e.k);
	meta_rep(&g->m, &e.rep);
	e.start_ns = g->m.start_ns;
	e.owner = g->m.owner;
	e.id.end_ns = e.k.last_ns ? e.k.last_ns : g->m.start_ns;
	e.id.bypass.start_ns = g->m.start_ns;
	if (g->gone)
		(void)g->gone(g->gone_ctx, &e);
}

long fc_bypass__gc(struct fc_bypass *b, const struct fc_bypass_gc_opts *o, fc_bypass_visit_fn gone,
		   void *ctx)
{
	struct gc_ctx g = { .b = b, .o = o, .gone = gone, .gone_ctx = ctx };
	long n = 0, r;

	g.now = clock_ns(CLOCK_MONOTONIC);
	for (g.fam = 0; g.fam < 2; g.fam++) {
		r = fc_bypass__table_gc(b, g.fam ? 6 : 4, gc_stale, gc_gone, &g);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* ---- flush ---------------------------------------------------------- */

/* Delete every key of a hash map (get_next_key before delete); how many. */
static long flush_hash(int fd)
{
	union bp_key cur, next;
	bool have, more;
	long n = 0;

	have = bpf_map_get_next_key(fd, NULL, &cur) == 0;
	while (have) {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (bpf_map_delete_elem(fd, &cur) == 0)
			n++;
		cur = next;
		have = more;
	}
	return n;
}

static int open_pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/*
 * Map a flow table array (tab_v4/tab_v6) read-write; its length in *len.
 * Slots follow each other at their size (8-aligned, as the kernel lays out
 * array values). Returns the mapping or NULL with errno set.
 */
static void *map_table(int fd, int fam, uint32_t *bits, size_t *len)
{
	struct bpf_map_info info;
	uint32_t ilen = sizeof(info);
	size_t ssz = fam ? sizeof(struct fc_bp_slot6) : sizeof(struct fc_bp_slot4);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return NULL;
	if (info.value_size != ssz || !info.max_entries || (info.max_entries & (info.max_entries - 1)) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || page <= 0) {
		errno = EINVAL;
		return NULL;
	}
	*bits = (uint32_t)__builtin_ctz(info.max_entries);
	*len = ((size_t)info.max_entries * ssz + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Empty the pinned table of family fam in dir (no capture running); entries removed or -errno. */
static long flush_pinned_table(const char *dir, int fam)
{
	static const char *const tabs[] = { FC_BP_MAP_TAB4, FC_BP_MAP_TAB6 };
	static const char *const cnts[] = { FC_BP_MAP_CNT4, FC_BP_MAP_CNT6 };
	int tfd = open_pinned(dir, tabs[fam]), cfd = -1, ncpu = libbpf_num_possible_cpus();
	struct fc_bptab t;
	uint32_t bits, i;
	size_t len = 0;
	void *mem = NULL;
	long n;

	if (tfd < 0)
		return tfd;
	cfd = open_pinned(dir, cnts[fam]);
	if (cfd < 0 || ncpu <= 0 || ncpu > MAX_CPUS) {
		n = cfd < 0 ? cfd : -ERANGE;
		goto out;
	}
	mem = map_table(tfd, fam, &bits, &len);
	if (!mem) {
		n = -errno;
		goto out;
	}
	fc_bptab_init(&t, mem, fam, bits, UINT32_MAX);
	n = t.live;
	/* a crashed capture may have left its XDP program attached: drain, wait, free */
	for (i = 0; i <= t.mask; i++)
		if (fc_bptab_state(&t, i) == FC_BP_SLOT_VALID)
			fc_bptab_drain(&t, i);
	if (fc_bptab_retire(&t)) {
		grace_period();
		for (i = 0; i <= t.mask; i++)
			if (fc_bptab_state(&t, i) == FC_BP_SLOT_RETIRE && cnt_zero(cfd, ncpu, i) == 0)
				fc_bptab_free(&t, i);
	}
	munmap(mem, len);
out:
	if (cfd >= 0)
		close(cfd);
	close(tfd);
	return n;
}

long fc_bypass_flush_pins(const char *pin_dir)
{
	static const char *const meta[] = { FC_BP_MAP_META4, FC_BP_MAP_META6 };
	long n = 0, r;
	int i, fd;

	for (i = 0; i < 2; i++) {
		r = flush_pinned_table(pin_dir, i);
		if (r < 0)
			return r;
		n += r;
		fd = open_pinned(pin_dir, meta[i]);
		if (fd < 0)
			return fd;
		(void)flush_hash(fd);
		close(fd);
	}
	return n;
}

long fc_bypass__flush(struct fc_bypass *b)
{
	struct fc_bptab *t;
	union bp_key k;
	uint32_t i;
	long n = 0;
	int fam;

	for (fam = 0; fam < 2; fam++) {
		t = &b->tab[fam];
		for (i = 0; i <= t->mask; i++) {
			bool gone = false;

			if (fc_bptab_state(t, i) != FC_BP_SLOT_VALID)
				continue;
			pthread_mutex_lock(&b->lock);
			if (fc_bptab_state(t, i) == FC_BP_SLOT_VALID) {
				memset(&k, 0, sizeof(k));
				memcpy(&k, fc_bptab_key(t, i), t->key_size);
				fc_bptab_drain(t, i);
				gone = true;
			}
			pthread_mutex_unlock(&b->lock);
			if (gone) {
				pf_sub(b, fam, &k);
				n++;
			}
		}
		(void)flush_hash(b->meta_fd[fam]);
		reclaim(b, fam);
	}
	return n;
}

/* ---- block list ----------------------------------------------------- */

int fc_bypass_parse_cidr(const char *s, uint8_t *family, uint8_t *plen, struct fc_addr *a);
int fc_bypass_parse_cidr(const char *s, uint8_t *family, uint8_t *plen, struct fc_addr *a)
{
	char buf[64], *slash;
	unsigned long v;
	char *end;
	int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->b) == 1)
		*family = 4, max = 32;
	else if (inet_pton(AF_INET6, buf, a->b) == 1)
		*family = 6, max = 128;
	else
		return -EINVAL;
	v = (unsigned long)max;
	if (slash) {
		errno = 0;
		v = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || v > (unsigned long)max)
			return -EINVAL;
	}
	*plen = (uint8_t)v;
	/* clear host bits so that one prefix has one spelling */
	for (max = *plen; max < (*family == 4 ? 32 : 128); max++)
		a->b[max / 8] &= (uint8_t)~(0x80 >> (max % 8));
	return 0;
}

static int block_key(const char *cidr, int *fam, struct fc_bp_lpm6 *k)
{
	uint8_t family, plen;
	struct fc_addr a;
	int err = fc_bypass_parse_cidr(cidr, &family, &plen, &a);

	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	memcpy(k->addr, a.b, family == 4 ? 4 : 16);
	*fam = family == 6;
	return 0;
}

/* Tell the programs how many entries block list fam holds (0 = skip the lookup). */
static void block_recount(struct fc_bypass *b, int fam)
{
	struct fc_bp_lpm6 cur, next;
	void *prev = NULL;
	uint32_t n = 0;

	while (bpf_map_get_next_key(b->block_fd[fam], prev, &next) == 0 && n < UINT32_MAX) {
		cur = next;
		prev = &cur;
		n++;
	}
	b->skel->bss->block_n[fam] = n;
}

int fc_bypass__block_add(struct fc_bypass *b, const char *cidr)
{
	struct fc_bp_block_val v = { 0, 0 };
	struct fc_bp_lpm6 k;
	int fam, err = block_key(cidr, &fam, &k);

	if (err)
		return err;
	if (bpf_map_update_elem(b->block_fd[fam], &k, &v, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	block_recount(b, fam);
	return 0;
}

int fc_bypass__block_del(struct fc_bypass *b, const char *cidr)
{
	struct fc_bp_lpm6 k;
	int fam, err = block_key(cidr, &fam, &k);

	if (err)
		return err;
	if (bpf_map_delete_elem(b->block_fd[fam], &k))
		return -errno;
	block_recount(b, fam);
	return 0;
}

int fc_bypass__block_list(struct fc_bypass *b, char *buf, size_t cap)
{
	struct fc_bp_lpm6 cur, next;
	struct fc_bp_block_val v;
	char a[INET6_ADDRSTRLEN];
	size_t len = 0;
	int fam, n;
	void *prev;

	buf[0] = '\0';
	for (fam = 0; fam < 2; fam++) {
		prev = NULL;
		memset(&cur, 0, sizeof(cur));
		while (bpf_map_get_next_key(b->block_fd[fam], prev, &next) == 0) {
			cur = next;
			prev = &cur;
			if (bpf_map_lookup_elem(b->block_fd[fam], &cur, &v))
				continue;
			inet_ntop(fam ? AF_INET6 : AF_INET, cur.addr, a, sizeof(a));
			n = snprintf(buf + len, cap - len, "%s/%u pkts=%llu bytes=%llu\n", a,
				     cur.prefixlen, (unsigned long long)v.pkts, (unsigned long long)v.bytes);
			if (n < 0 || (size_t)n >= cap - len)
				return -ENOSPC;
			len += (size_t)n;
		}
	}
	return (int)len;
}

int fc_bypass__actions(struct fc_bypass *b, uint64_t out[FC_BYPASS_ACTIONS])
{
	uint64_t v[MAX_CPUS];
	uint32_t a;
	int i;

	for (a = 0; a < FC_BP_ACT__COUNT; a++) {
		out[a] = 0;
		if (bpf_map_lookup_elem(b->stats_fd, &a, v))
			return -errno;
		for (i = 0; i < b->ncpu; i++)
			out[a] += v[i];
	}
	return 0;
}

const char *fc_bypass_action_name(unsigned a)
{
	static const char *const names[FC_BP_ACT__COUNT] = {
		"passed", "bypassed", "blocked", "tcp_control", "fragments", "not_ip", "parse_failed",
	};

	return a < FC_BP_ACT__COUNT ? names[a] : "?";
}

/* ---- lifetime ------------------------------------------------------- */

/* bpffs at /sys/fs/bpf, mounted if missing; the pin directory made. */
static int prepare_pins(struct fc_bypass *b, const char *root, const char *ifname, char *err, size_t errlen)
{
	struct statfs sf;
	char dir[256];
	int n;

	if (!strncmp(root, "/sys/fs/bpf", 11)) {
		if (statfs("/sys/fs/bpf", &sf) == -1 || sf.f_type != BPF_FS_MAGIC) {
			(void)mkdir("/sys/fs/bpf", 0700);
			if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == -1) {
				n = -errno;
				snprintf(err, errlen, "bpffs is not mounted on /sys/fs/bpf and mounting it "
					 "failed: %s", strerror(-n));
				return n;
			}
		}
	}
	n = snprintf(dir, sizeof(dir), "%s", root);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		n = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-n));
		return n;
	}
	n = snprintf(b->pin_dir, sizeof(b->pin_dir), "%s/%s", root, ifname);
	if (n < 0 || (size_t)n >= sizeof(b->pin_dir))
		return -ENAMETOOLONG;
	if (mkdir(b->pin_dir, 0700) == -1 && errno != EEXIST) {
		n = -errno;
		snprintf(err, errlen, "cannot create %s: %s", b->pin_dir, strerror(-n));
		return n;
	}
	return 0;
}

static int set_pin(struct fc_bypass *b, struct bpf_map *m)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/%s", b->pin_dir, bpf_map__name(m));

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return bpf_map__set_pin_path(m, path);
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static const char *load_hint(int rc)
{
	switch (-rc) {
	case EPERM:
	case EACCES:
		return "loading BPF programs needs CAP_BPF and CAP_NET_ADMIN (run as root)";
	case ENOSYS:
		return "this kernel has no BPF support (CONFIG_BPF_SYSCALL)";
	case EINVAL:
		return "pinned maps of another size or layout exist (flowcut bypass flush -i IF, or "
		       "remove the pin directory), or the kernel is too old (needs Linux 5.10+)";
	default:
		return "the kernel rejected the programs or maps (needs Linux 5.10+ with BTF)";
	}
}

#define NMAPS 9

int fc_bypass__open(const struct fc_bypass_opts *o, struct fc_bypass **out, char *err, size_t errlen)
{
	const char *root = o->pin_root ? o->pin_root : FC_BYPASS_PIN_ROOT;
	uint32_t entries = o->max_entries ? o->max_entries : FC_BYPASS_DEFAULT_ENTRIES;
	uint32_t blocks = o->max_block ? o->max_block : FC_BYPASS_DEFAULT_BLOCK;
	struct bpf_map *maps[NMAPS];
	struct fc_bypass *b;
	uint32_t bits;
	int rc, i;

	*out = NULL;
	if (!o->ifname || strlen(o->ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bypass: no usable interface name");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->reclaim_lock, NULL);
	b->mode = o->mode;
	b->vlan_key = o->vlan_key;
	b->ncpu = libbpf_num_possible_cpus();
	if (b->ncpu <= 0 || b->ncpu > MAX_CPUS) {
		snprintf(err, errlen, "bypass: cannot count the CPUs");
		rc = -ERANGE;
		goto err_free;
	}
	b->ifindex = (int)if_nametoindex(o->ifname);
	if (!b->ifindex) {
		snprintf(err, errlen, "bypass: no such interface '%s'", o->ifname);
		rc = -ENODEV;
		goto err_free;
	}
	libbpf_set_print(silent_print);
	b->skel = bypass_bpf__open();
	if (!b->skel) {
		rc = -errno;
		snprintf(err, errlen, "bypass: cannot open the BPF object: %s", strerror(-rc));
		goto err_free;
	}
	bits = fc_bp_tab_bits(entries);
	b->skel->rodata->cfg_vlan_key = o->vlan_key;
	b->skel->rodata->cfg_tab_bits = bits;
	maps[0] = b->skel->maps.meta_v4, maps[1] = b->skel->maps.meta_v6;
	maps[2] = b->skel->maps.block_v4, maps[3] = b->skel->maps.block_v6;
	maps[4] = b->skel->maps.bp_stats;
	maps[5] = b->skel->maps.tab_v4, maps[6] = b->skel->maps.tab_v6;
	maps[7] = b->skel->maps.cnt_v4, maps[8] = b->skel->maps.cnt_v6;
	bpf_map__set_max_entries(maps[0], entries);
	bpf_map__set_max_entries(maps[1], entries);
	bpf_map__set_max_entries(maps[2], blocks);
	bpf_map__set_max_entries(maps[3], blocks);
	for (i = 5; i < NMAPS; i++)
		bpf_map__set_max_entries(maps[i], 1u << bits);
	if (*root) {
		rc = prepare_pins(b, root, o->ifname, err, errlen);
		if (rc)
			goto err_skel;
		for (i = 0; i < NMAPS; i++) {
			rc = set_pin(b, maps[i]);
			if (rc) {
				snprintf(err, errlen, "bypass: pin path: %s", strerror(-rc));
				goto err_skel;
			}
		}
	}
	rc = bypass_bpf__load(b->skel);
	if (rc) {
		rc = rc < 0 ? rc : -errno;
		snprintf(err, errlen, "bypass: cannot load the BPF programs: %s: %s", strerror(-rc),
			 load_hint(rc));
		goto err_skel;
	}
	for (i = 0; i < 2; i++) {
		b->meta_fd[i] = bpf_map__fd(maps[i]);
		b->block_fd[i] = bpf_map__fd(maps[2 + i]);
		b->tab_fd[i] = bpf_map__fd(maps[5 + i]);
		b->cnt_fd[i] = bpf_map__fd(maps[7 + i]);
	}
	b->stats_fd = bpf_map__fd(maps[4]);
	for (i = 0; i < 2; i++) {
		b->tab_mem[i] = map_table(b->tab_fd[i], i, &bits, &b->tab_len[i]);
		if (!b->tab_mem[i]) {
			rc = -errno;
			snprintf(err, errlen, "bypass: cannot map the flow table: %s", strerror(-rc));
			goto err_unmap;
		}
		/* a predecessor's entries are adopted as they are; its drained slots freed */
		fc_bptab_init(&b->tab[i], b->tab_mem[i], i, bits, entries);
		reclaim(b, i);
	}
	block_recount(b, 0);	/* pinned lists may hold entries already */
	block_recount(b, 1);
	pf_rebuild(b);		/* and the flow tables: before any program is attached */
	b->desc = "socket filter";
	if (o->mode == FC_BYPASS_XDP) {
		int pfd = bpf_program__fd(b->skel->progs.fc_bypass_xdp);
		uint32_t fl = XDP_FLAGS_UPDATE_IF_NOEXIST;

		rc = o->xdp_generic ? -EOPNOTSUPP : bpf_xdp_attach(b->ifindex, pfd, fl | XDP_FLAGS_DRV_MODE, NULL);
		if (!rc) {
			b->xdp_flags = fl | XDP_FLAGS_DRV_MODE;
			b->desc = "xdp native";
		} else {
			rc = bpf_xdp_attach(b->ifindex, pfd, fl | XDP_FLAGS_SKB_MODE, NULL);
			if (rc) {
				snprintf(err, errlen, "bypass: cannot attach XDP to %s (native nor generic): %s%s",
					 o->ifname, strerror(-rc),
					 rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" : "");
				goto err_unmap;
			}
			b->xdp_flags = fl | XDP_FLAGS_SKB_MODE;
			b->desc = "xdp generic";
		}
	}
	*out = b;
	return 0;

err_unmap:
	for (i = 0; i < 2; i++)
		if (b->tab_mem[i])
			munmap(b->tab_mem[i], b->tab_len[i]);
err_skel:
	bypass_bpf__destroy(b->skel);
err_free:
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->reclaim_lock);
	free(b);
	return rc;
}

int fc_bypass__attach_socket(struct fc_bypass *b, int fd)
{
	int pfd = bpf_program__fd(b->skel->progs.fc_bypass_sock);

	if (pfd < 0)
		return -EINVAL;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd)) == -1)
		return -errno;
	return 0;
}

void fc_bypass__close(struct fc_bypass *b)
{
	int i;

	if (!b)
		return;
	if (b->xdp_flags) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo,
			    .old_prog_fd = bpf_program__fd(b->skel->progs.fc_bypass_xdp));
		/* only our program: never detach someone else's */
		(void)bpf_xdp_detach(b->ifindex, (b->xdp_flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST) |
							XDP_FLAGS_REPLACE, &xo);
	}
	for (i = 0; i < 2; i++)
		if (b->tab_mem[i])
			munmap(b->tab_mem[i], b->tab_len[i]);
	bypass_bpf__destroy(b->skel);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->reclaim_lock);
	free(b);
}

const char *fc_bypass__attach_desc(const struct fc_bypass *b)
{
	return b->desc;
}

int fc_bypass__prog_fd(const struct fc_bypass *b, bool xdp)
{
	return bpf_program__fd(xdp ? b->skel->progs.fc_bypass_xdp : b->skel->progs.fc_bypass_sock);
}

int fc_bypass__map_fd(const struct fc_bypass *b, int family)
{
	return b->cnt_fd[family == 6];
}

const char *fc_bypass__pin_dir(const struct fc_bypass *b)
{
	return b->pin_dir;
}
