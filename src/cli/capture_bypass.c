// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture_bypass.c - the capture command's side of kernel bypass (see
 * capture_bypass.h and docs/bypass.md): option parsing, opening and
 * attaching, per-worker hooks, adoption of pinned entries, --stats members.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "capture_bypass.h"
#include "cli.h"

int cap_bypass_parse_opt(struct cap_bypass *bp, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case CAP_OPT_BYPASS:
		if (!strcmp(arg, "xdp"))
			bp->mode = FC_BYPASS_XDP;
		else if (!strcmp(arg, "socket"))
			bp->mode = FC_BYPASS_SOCKET;
		else if (!strcmp(arg, "off"))
			bp->mode = FC_BYPASS_OFF;
		else {
			fc_cli_error("--bypass: '%s' is not a mode (xdp, socket, off)", arg);
			return -1;
		}
		return 0;
	case CAP_OPT_BP_BYTES:
		bp->have_policy = true;
		return fc_cli_parse_size("--bypass-after-bytes", arg, UINT64_MAX, &bp->pol.after_bytes);
	case CAP_OPT_BP_PKTS:
		bp->have_policy = true;
		return fc_cli_parse_count("--bypass-after-pkts", arg, &bp->pol.after_pkts);
	case CAP_OPT_BP_PORT:
		if (fc_cli_parse_count("--bypass-port", arg, &v) || v < 1 || v > 65535 ||
		    bp->pol.n_ports >= FC_BYPASS_MAX_PORTS) {
			fc_cli_error("--bypass-port: '%s' is not a port 1..65535 (at most %d)", arg,
				     FC_BYPASS_MAX_PORTS);
			return -1;
		}
		bp->pol.ports[bp->pol.n_ports++] = (uint16_t)v;
		bp->have_policy = true;
		return 0;
	case CAP_OPT_BP_CIDR:
		if (fc_bypass_policy__add_cidr(&bp->pol, arg)) {
			fc_cli_error("--bypass-cidr: '%s' is not an address/prefix (at most %d)", arg,
				     FC_BYPASS_MAX_CIDRS);
			return -1;
		}
		bp->have_policy = true;
		return 0;
	case CAP_OPT_BP_ENTRIES:
		if (fc_cli_parse_count("--bypass-max-entries", arg, &v) || v < 1 || v > (1u << 24)) {
			fc_cli_error("--bypass-max-entries: '%s' is out of range (1 .. 16777216)", arg);
			return -1;
		}
		bp->max_entries = (uint32_t)v;
		return 0;
	case CAP_OPT_BP_PIN:
		bp->pin_root = arg;
		return 0;
	case CAP_OPT_BP_GENERIC:
		bp->xdp_generic = true;
		return 0;
	case CAP_OPT_BP_CONTROL:
		if (strlen(arg) >= sizeof(bp->ctl_path)) {
			fc_cli_error("--bypass-control: path too long (at most %zu)", sizeof(bp->ctl_path) - 1);
			return -1;
		}
		bp->ctl_opt = arg;
		return 0;
	}
	return -1;
}

static int open_bypass(struct cap_bypass *bp, const char *ifname, bool no_vlan_key)
{
	struct fc_bypass_opts o = {
		.mode = bp->mode,
		.ifname = ifname,
		.pin_root = bp->pin_root,
		.max_entries = bp->max_entries,
		.vlan_key = !no_vlan_key,
		.xdp_generic = bp->xdp_generic,
	};
	char err[512];

	if (!bp->have_policy)
		fc_cli_warn("--bypass %s without a policy (--bypass-after-bytes, -pkts, -port, -cidr): "
			    "every TCP and UDP flow is handed over at its first packet",
			    bp->mode == FC_BYPASS_XDP ? "xdp" : "socket");
	if (fc_bypass__open(&o, &bp->b, err, sizeof(err))) {
		fc_cli_error("%s", err);
		return -1;
	}
	if (!strcmp(fc_bypass__attach_desc(bp->b), "xdp generic") && !bp->xdp_generic)
		fc_cli_warn("%s: native XDP is not available, using generic XDP (slower)", ifname);
	fprintf(stderr, "flowcut: bypass: %s on %s, maps in %s\n", fc_bypass__attach_desc(bp->b),
		ifname, *fc_bypass__pin_dir(bp->b) ? fc_bypass__pin_dir(bp->b) : "(not pinned)");
	return 0;
}

int cap_bypass_worker(struct cap_bypass *bp, const char *ifname, bool no_vlan_key,
		      struct fc_bypass_worker *w, struct fc_afp *afp, unsigned idx,
		      struct fc_flowtab_opts *fo)
{
	int rc;

	if (bp->mode == FC_BYPASS_OFF)
		return 0;
	if (idx >= CAP_BYPASS_MAX_WORKERS)
		return -1;
	if (!bp->b && (open_bypass(bp, ifname, no_vlan_key) || cap_bypass_ctl_open(bp, ifname)))
		return -1;
	if (bp->mode == FC_BYPASS_SOCKET) {
		rc = fc_bypass__attach_socket(bp->b, fc_afp__fd(afp));
		if (rc) {
			fc_cli_error("%s: cannot attach the bypass socket filter: %s%s", ifname,
				     strerror(-rc), rc == -EINVAL ? " (-f and --bypass socket "
							      "cannot be combined)" : "");
			return -1;
		}
	}
	fc_bypass_worker__init(w, bp->b, &bp->pol, idx + 1);
	bp->bpw[idx] = w;
	fo->bypass = &w->ops;
	bp->idle_tcp_ns = fo->idle_tcp_ns;
	bp->idle_udp_ns = fo->idle_udp_ns;
	return 0;
}

static int adopt_one(void *ctx, const struct fc_bypass_entry *e)
{
	struct cap_bypass *bp = ctx;
	struct fc_flow_rec id = e->id;
	unsigned h = 0, i;

	/* One flow, one worker: spread by a hash of the ports and addresses. */
	for (i = 0; i < 16; i++)
		h = h * 31 + (unsigned)(id.src.b[i] ^ id.dst.b[i]);
	h += (unsigned)(id.sport ^ id.dport);
	id.bypass.start_ns = e->start_ns;
	if (!id.start_ns)
		id.start_ns = e->start_ns;
	if (fc_flowtab__bypass_adopt(bp->ft[h % bp->nworkers], &id, &e->rep) == 0)
		bp->adopted++;
	else
		bp->adopt_failed++;
	return 0;
}

void cap_bypass_table(struct cap_bypass *bp, unsigned idx, struct fc_flowtab *ft, unsigned nworkers)
{
	if (!bp->b || idx >= CAP_BYPASS_MAX_WORKERS)
		return;
	bp->ft[idx] = ft;
	bp->nworkers = nworkers;
	if (idx + 1 != nworkers)
		return;
	/* Every table exists: take over what a previous run left pinned. */
	(void)fc_bypass__foreach(bp->b, adopt_one, bp);
	if (bp->adopted)
		fprintf(stderr, "flowcut: bypass: took over %llu entries left by a previous run\n",
			(unsigned long long)bp->adopted);
	/* GC often enough that an entry outlives its idle timeout by at most half of it */
	bp->gc_every_ns = bp->idle_tcp_ns && (!bp->idle_udp_ns || bp->idle_tcp_ns < bp->idle_udp_ns) ?
				  bp->idle_tcp_ns / 2 : bp->idle_udp_ns / 2;
	if (bp->gc_every_ns < FC_NS_PER_SEC / 2)
		bp->gc_every_ns = FC_NS_PER_SEC / 2;
	if (bp->gc_every_ns > 30 * FC_NS_PER_SEC)
		bp->gc_every_ns = 30 * FC_NS_PER_SEC;
}

size_t cap_bypass_members(const struct cap_bypass *bp, char *s, size_t cap)
{
	struct fc_bypass_wstats t = { 0 };
	struct fc_flowtab_stats f = { 0 };
	uint64_t act[FC_BYPASS_ACTIONS] = { 0 };
	uint64_t gc_removed = 0, gc_ended = 0;
	size_t len = 0;
	unsigned i;
	int n;

	if (!bp->b)
		return 0;
	for (i = 0; i < bp->nworkers; i++) {
		const struct fc_bypass_wstats *w = &bp->bpw[i]->st;
		const struct fc_flowtab_stats *fs = bp->ft[i] ? fc_flowtab__stats(bp->ft[i]) : NULL;

		t.added += w->added, t.exists += w->exists, t.map_full += w->map_full;
		t.add_failed += w->add_failed, t.not_keyable += w->not_keyable;
		t.sync_failed += w->sync_failed, t.ended += w->ended, t.kept += w->kept;
		if (fs) {
			f.bypassed += fs->bypassed, f.bypass_refreshed += fs->bypass_refreshed;
			f.bypass_sync_failed += fs->bypass_sync_failed;
			f.bypass_share_pkts += fs->bypass_share_pkts;
			f.bypass_share_bytes += fs->bypass_share_bytes;
			f.bypass_sw_flows += fs->bypass_sw_flows;
			f.bypass_sw_pkts += fs->bypass_sw_pkts;
		}
		gc_removed += bp->gc[i].removed;
		gc_ended += bp->gc[i].ended;
	}
	(void)fc_bypass__actions(bp->b, act);
	n = snprintf(s, cap,
		     "\"bypass_mode\":\"%s\",\"bypass_flows\":%llu,\"bypass_added\":%llu,"
		     "\"bypass_exists\":%llu,\"bypass_map_full\":%llu,\"bypass_add_failed\":%llu,"
		     "\"bypass_not_keyable\":%llu,\"bypass_sync_failed\":%llu,\"bypass_ended\":%llu,"
		     "\"bypass_kept\":%llu,\"bypass_refreshed\":%llu,\"bypass_adopted\":%llu,"
		     "\"bypass_adopt_failed\":%llu,\"bypass_share_pkts\":%llu,\"bypass_share_bytes\":%llu,",
		     fc_bypass__attach_desc(bp->b), (unsigned long long)f.bypassed,
		     (unsigned long long)t.added, (unsigned long long)t.exists,
		     (unsigned long long)t.map_full, (unsigned long long)t.add_failed,
		     (unsigned long long)t.not_keyable,
		     (unsigned long long)(t.sync_failed + f.bypass_sync_failed),
		     (unsigned long long)t.ended, (unsigned long long)t.kept,
		     (unsigned long long)f.bypass_refreshed, (unsigned long long)bp->adopted,
		     (unsigned long long)bp->adopt_failed, (unsigned long long)f.bypass_share_pkts,
		     (unsigned long long)f.bypass_share_bytes);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	n = snprintf(s + len, cap - len,
		     "\"bypass_sw_flows\":%llu,\"bypass_sw_pkts\":%llu,\"bypass_gc_removed\":%llu,"
		     "\"bypass_gc_ended\":%llu,",
		     (unsigned long long)f.bypass_sw_flows, (unsigned long long)f.bypass_sw_pkts,
		     (unsigned long long)gc_removed, (unsigned long long)gc_ended);
	if (n < 0 || (size_t)n >= cap - len)
		return 0;
	len += (size_t)n;
	for (i = 0; i < FC_BYPASS_ACTIONS; i++) {
		n = snprintf(s + len, cap - len, "\"bypass_kernel_%s\":%llu,", fc_bypass_action_name(i),
			     (unsigned long long)act[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return 0;
		len += (size_t)n;
	}
	return len;
}

void cap_bypass_close(struct cap_bypass *bp)
{
	cap_bypass_ctl_close(bp);
	fc_bypass__close(bp->b);
	bp->b = NULL;
}

/* ---- worker side: requests and GC ------------------------------------ */

static uint64_t clock_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * FC_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Worker idx: one request of the control socket, on its own flow table. */
static void serve_request(struct cap_bypass *bp, unsigned idx)
{
	struct fc_flowtab *ft = bp->ft[idx];
	struct fc_flowtab_kcounts zero = { { 0, 0 }, { 0, 0 }, 0 };
	struct fc_flow_rec id;
	long res = -ENOENT;

	pthread_mutex_lock(&bp->mu);
	if (!(atomic_load(&bp->pending) & (1ull << idx))) {
		pthread_mutex_unlock(&bp->mu);
		return;
	}
	id = bp->req_id;
	switch (bp->req_op) {
	case CAP_BP_OP_CLAIM:
		res = fc_flowtab__bypass_claim(ft, &id, clock_of(CLOCK_REALTIME));
		if (res == 0)	/* the entry exists: this only records the owner */
			(void)fc_bypass__add(bp->b, &id, idx + 1);
		break;
	case CAP_BP_OP_ADOPT:
		id.start_ns = id.bypass.start_ns = id.end_ns = clock_of(CLOCK_REALTIME);
		res = fc_flowtab__bypass_adopt(ft, &id, &zero);
		if (res == 0)
			(void)fc_bypass__add(bp->b, &id, idx + 1);
		break;
	case CAP_BP_OP_DROP:
		res = fc_flowtab__bypass_drop(ft, &id);
		break;
	case CAP_BP_OP_RELEASE:
		res = (long)fc_flowtab__bypass_release(ft);
		break;
	}
	bp->req_res[idx] = res;
	atomic_fetch_and(&bp->pending, ~(1ull << idx));
	pthread_cond_broadcast(&bp->cv);
	pthread_mutex_unlock(&bp->mu);
}

struct gc_visit {
	struct cap_bypass *bp;
	unsigned idx;
};

static int gc_gone(void *ctx, const struct fc_bypass_entry *e)
{
	struct gc_visit *g = ctx;
	struct cap_bypass *bp = g->bp;
	struct fc_flow_rec id = e->id;

	if (!id.start_ns)
		id.start_ns = e->start_ns;
	bp->gc[g->idx].removed++;
	if (fc_flowtab__bypass_gone(bp->ft[g->idx], &id, &e->k, &e->rep, clock_of(CLOCK_REALTIME)) == 0)
		bp->gc[g->idx].ended++;
	return 0;
}

static void run_gc(struct cap_bypass *bp, unsigned idx)
{
	struct fc_bypass_gc_opts o = {
		.idle_tcp_ns = bp->idle_tcp_ns,
		.idle_udp_ns = bp->idle_udp_ns,
		.owner = idx + 1,
		.nowners = bp->nworkers,
		.take_unowned = idx == 0,
	};
	struct gc_visit g = { bp, idx };

	(void)fc_bypass__gc(bp->b, &o, gc_gone, &g);
}

void cap_bypass_service(struct cap_bypass *bp, unsigned idx, bool idle)
{
	uint64_t now;

	if (!bp->b || idx >= bp->nworkers || !bp->ft[idx])
		return;
	if (atomic_load_explicit(&bp->pending, memory_order_relaxed) & (1ull << idx))
		serve_request(bp, idx);
	if (!idle && (++bp->gc[idx].calls & 1023))
		return;
	now = clock_of(CLOCK_MONOTONIC);
	if (now < bp->gc[idx].next_ns)
		return;
	bp->gc[idx].next_ns = now + bp->gc_every_ns;
	run_gc(bp, idx);
}
