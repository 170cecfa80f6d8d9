/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture_bypass.h - `flowcut capture --bypass ...`: options, opening the
 * bypass for the capture's interface, hooking each worker's flow table and
 * socket to it, adopting entries a previous run left, and the bypass_*
 * members of --stats. Kept out of cmd_capture.c so that file only carries
 * the hook calls.
 */
#ifndef FC_CAPTURE_BYPASS_H
#define FC_CAPTURE_BYPASS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "flowcut/afpacket.h"
#include "flowcut/bypass.h"

#define CAP_BYPASS_OPT_BASE 1000
#define CAP_BYPASS_MAX_WORKERS 64
#define CAP_BYPASS_MEMBERS_MAX 1536

enum {
	CAP_OPT_BYPASS = CAP_BYPASS_OPT_BASE, CAP_OPT_BP_BYTES, CAP_OPT_BP_PKTS, CAP_OPT_BP_PORT,
	CAP_OPT_BP_CIDR, CAP_OPT_BP_ENTRIES, CAP_OPT_BP_PIN, CAP_OPT_BP_GENERIC, CAP_OPT_BP_CONTROL,
};

/* The control socket: one per interface, owner-only (see cmd_bypass.c). */
#define CAP_BYPASS_CTL_DIR "/run/flowcut"

/* Requests the main thread hands to workers (their flow tables are theirs alone). */
enum cap_bp_op { CAP_BP_OP_CLAIM = 1, CAP_BP_OP_ADOPT, CAP_BP_OP_DROP, CAP_BP_OP_RELEASE };

#define CAP_BYPASS_LONGOPTS \
	{ "bypass", required_argument, NULL, CAP_OPT_BYPASS }, \
	{ "bypass-after-bytes", required_argument, NULL, CAP_OPT_BP_BYTES }, \
	{ "bypass-after-pkts", required_argument, NULL, CAP_OPT_BP_PKTS }, \
	{ "bypass-port", required_argument, NULL, CAP_OPT_BP_PORT }, \
	{ "bypass-cidr", required_argument, NULL, CAP_OPT_BP_CIDR }, \
	{ "bypass-max-entries", required_argument, NULL, CAP_OPT_BP_ENTRIES }, \
	{ "bypass-pin-dir", required_argument, NULL, CAP_OPT_BP_PIN }, \
	{ "bypass-xdp-generic", no_argument, NULL, CAP_OPT_BP_GENERIC }, \
	{ "bypass-control", required_argument, NULL, CAP_OPT_BP_CONTROL }

struct cap_bypass {
	enum fc_bypass_mode mode;
	struct fc_bypass_policy pol;
	bool have_policy;
	uint32_t max_entries;
	const char *pin_root;
	bool xdp_generic;
	struct fc_bypass *b;
	unsigned nworkers;
	struct fc_bypass_worker *bpw[CAP_BYPASS_MAX_WORKERS];
	struct fc_flowtab *ft[CAP_BYPASS_MAX_WORKERS];
	uint64_t adopted, adopt_failed, attach_failed;

	/* map-wide GC, run by each worker for the entries it owns (worker 0 also
	 * for unowned ones) */
	uint64_t idle_tcp_ns, idle_udp_ns, gc_every_ns;
	struct {
		uint64_t next_ns;	/* CLOCK_MONOTONIC */
		unsigned calls;
		uint64_t removed, ended;
	} gc[CAP_BYPASS_MAX_WORKERS];

	/* control socket (main thread) and the requests it hands to workers */
	const char *ctl_opt;		/* --bypass-control PATH; NULL = default, "" = none */
	const char *ifname;
	char ctl_path[108];
	int ctl_fd;			/* valid when ctl_open */
	bool ctl_open, mu_init;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic uint64_t pending;	/* workers (bit idx) with a request to serve */
	int req_op;
	struct fc_flow_rec req_id;
	long req_res[CAP_BYPASS_MAX_WORKERS];
};

/* Returns 0 or -1 (message printed). */
int cap_bypass_parse_opt(struct cap_bypass *bp, int c, const char *arg);

/*
 * Worker idx's hooks: opens the bypass on the first call, attaches the
 * socket filter (socket mode), points fo->bypass at the worker's ops.
 * Returns 0 or -1 (message printed). No-op when --bypass is off.
 */
int cap_bypass_worker(struct cap_bypass *bp, const char *ifname, bool no_vlan_key,
		      struct fc_bypass_worker *w, struct fc_afp *afp, unsigned idx,
		      struct fc_flowtab_opts *fo);

/* Worker idx's flow table exists: register it; after the last, adopt leftovers. */
void cap_bypass_table(struct cap_bypass *bp, unsigned idx, struct fc_flowtab *ft, unsigned nworkers);

/* Append ",\"bypass_...\":N..." members (or nothing) at s; returns the length written. */
size_t cap_bypass_members(const struct cap_bypass *bp, char *s, size_t cap);

void cap_bypass_close(struct cap_bypass *bp);

/*
 * Worker idx, from its loop (every frame, and when idle): serves a request
 * of the control socket, and now and then runs the map GC. Cheap when there
 * is nothing to do (an atomic load; the clock every 1024 calls).
 */
void cap_bypass_service(struct cap_bypass *bp, unsigned idx, bool idle);

/* Main thread: the control socket's fd to poll (-1 = none), and serving one client. */
int cap_bypass_ctl_fd(const struct cap_bypass *bp);
void cap_bypass_ctl_serve(struct cap_bypass *bp);

/* capture_ctl.c: listen on the control socket (after the last worker's table exists). */
int cap_bypass_ctl_open(struct cap_bypass *bp, const char *ifname);
void cap_bypass_ctl_close(struct cap_bypass *bp);
/* Send one request to every worker in mask and wait for their answers. 0 or -ETIMEDOUT. */
int cap_bypass_ask(struct cap_bypass *bp, uint64_t mask, int op, const struct fc_flow_rec *id);

#endif
