// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_flowtab_bypass.c - the flow table's kernel-bypass hooks against a
 * fake kernel (one entry per test): the policy is asked once, a record's
 * totals are userspace's count plus the kernel's share, interim records and
 * shutdown report each kernel packet once, a bypassed flow idle in
 * userspace but busy in the kernel stays, release folds the entry into the
 * flow, adoption reports only what a previous run did not.
 */
#include <errno.h>
#include <stdlib.h>

#include "flowcut/flowtab.h"
#include "tcpstate.h"
#include "t.h"

#define SEC FC_NS_PER_SEC
#define T0 (1700000000ULL * SEC)

struct fake {
	int adds, want;		/* add() calls; what add() answers */
	int syncs[3];		/* sync() calls by how */
	bool live;
	struct fc_flowtab_kcounts k;	/* the entry: initiator-oriented */
	struct fc_flow_rec r[16];
	int n;
};

static int f_add(void *ctx, const struct fc_flow_rec *rec)
{
	struct fake *f = ctx;

	f->adds++;
	if (f->want == 1) {
		f->live = true;
		memset(&f->k, 0, sizeof(f->k));
	}
	return f->want;
}

static int f_sync(void *ctx, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		  struct fc_flowtab_kcounts *k)
{
	struct fake *f = ctx;

	f->syncs[how]++;
	if (!f->live)
		return -ENOENT;
	*k = f->k;
	if (how == FC_FT_SYNC_END)
		f->live = false;
	return 0;
}

static void on_emit(void *ctx, const struct fc_flow_rec *rec)
{
	struct fake *f = ctx;

	if (f->n < 16)
		f->r[f->n++] = *rec;
}

static struct fc_flowtab *mk(struct fake *fk, struct fc_flowtab_bypass_ops *ops, uint64_t after_bytes)
{
	struct fc_flowtab_opts o;

	fc_flowtab_opts__defaults(&o);
	o.max_flows = 64;
	o.idle_tcp_ns = o.idle_udp_ns = 10 * SEC;
	o.tcp_close_ns = 1 * SEC;
	o.emit = on_emit;
	o.emit_ctx = fk;
	memset(ops, 0, sizeof(*ops));
	ops->after_bytes = after_bytes;
	ops->add = f_add;
	ops->sync = f_sync;
	ops->ctx = fk;
	o.bypass = ops;
	return fc_flowtab__new(&o);
}

static struct fc_pkt tcp(int from_client, uint16_t flags, uint32_t len)
{
	struct fc_pkt p;

	memset(&p, 0, sizeof(p));
	p.kind = FC_PKT_FLOW;
	p.key.family = 4;
	p.key.proto = 6;
	/* client 10.0.0.2:40000 (higher: canonical side B), server 10.0.0.1:80 */
	p.key.src.b[0] = 10, p.key.src.b[3] = from_client ? 2 : 1;
	p.key.dst.b[0] = 10, p.key.dst.b[3] = from_client ? 1 : 2;
	p.key.sport = from_client ? 40000 : 80;
	p.key.dport = from_client ? 80 : 40000;
	p.ip_bytes = 40 + len;
	p.flags = FC_PKTF_TCP;
	p.tcp_flags = flags;
	p.payload_len = len;
	return p;
}

#define SYN FC_TCPF_SYN
#define ACK FC_TCPF_ACK
#define FIN (FC_TCPF_FIN | FC_TCPF_ACK)

static void handshake(struct fc_flowtab *ft, uint64_t t)
{
	struct fc_pkt p;

	p = tcp(1, SYN, 0), fc_flowtab__update(ft, &p, t);
	p = tcp(0, SYN | ACK, 0), fc_flowtab__update(ft, &p, t + 1);
	p = tcp(1, ACK, 0), fc_flowtab__update(ft, &p, t + 2);
}

static void test_bypass_after_bytes_exact_record(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 1 };
	struct fc_flowtab *ft = mk(&fk, &ops, 1000);
	struct fc_pkt p;
	int i;

	handshake(ft, T0);
	CHECK_EQ_U(fk.adds, 0);
	for (i = 0; i < 3; i++)		/* 3 x 540 bytes: crosses 1000 at the 2nd */
		p = tcp(1, ACK, 500), fc_flowtab__update(ft, &p, T0 + 10 + i);
	CHECK_EQ_U(fk.adds, 1);
	CHECK_EQ_U(fc_flowtab__stats(ft)->bypassed, 1);
	/* the kernel counts 100 client packets and 50 server packets */
	fk.k.pkts[0] = 100, fk.k.bytes[0] = 100 * 1040;
	fk.k.pkts[1] = 50, fk.k.bytes[1] = 50 * 40;
	fk.k.last_ns = T0 + 5 * SEC;
	p = tcp(1, FIN, 0), fc_flowtab__update(ft, &p, T0 + 6 * SEC);
	p = tcp(0, FIN, 0), fc_flowtab__update(ft, &p, T0 + 6 * SEC + 1);
	p = tcp(1, ACK, 0), fc_flowtab__update(ft, &p, T0 + 6 * SEC + 2);
	CHECK_EQ_U(fk.adds, 1);		/* closing flows are not offered again */
	fc_flowtab__expire(ft, T0 + 8 * SEC);
	CHECK_EQ_U(fk.n, 1);
	CHECK_EQ_U(fk.r[0].end_reason, FC_END_FIN);
	CHECK_EQ_U(fk.r[0].pkts, 2 + 3 + 2 + 100);
	CHECK_EQ_U(fk.r[0].rpkts, 2 + 50);
	CHECK_EQ_U(fk.r[0].bytes, 40 * 4 + 3 * 540 + 100 * 1040);
	CHECK_EQ_U(fk.r[0].rbytes, 80 + 50 * 40);
	CHECK_EQ_U(fk.r[0].bypass.pkts, 100);
	CHECK_EQ_U(fk.r[0].bypass.rpkts, 50);
	CHECK_EQ_U(fk.r[0].bypass.start_ns, T0 + 11);
	CHECK_EQ_U(fk.syncs[FC_FT_SYNC_END], 1);
	CHECK(!fk.live);
	CHECK_EQ_U(fc_flowtab__stats(ft)->bypass_share_pkts, 150);
	fc_flowtab__free(ft);
}

static void test_policy_no_is_asked_once(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 0 };
	struct fc_flowtab *ft = mk(&fk, &ops, 0);
	struct fc_pkt p;
	int i;

	for (i = 0; i < 10; i++)
		p = tcp(i & 1, ACK, 10), fc_flowtab__update(ft, &p, T0 + i);
	CHECK_EQ_U(fk.adds, 1);
	fk.want = -E2BIG;
	p = tcp(1, ACK, 10), p.key.sport = 40001, fc_flowtab__update(ft, &p, T0 + 20);
	p = tcp(1, ACK, 10), p.key.sport = 40001, fc_flowtab__update(ft, &p, T0 + 21);
	CHECK_EQ_U(fk.adds, 2);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(fk.n, 2);
	CHECK_EQ_U(fk.r[0].bypass.start_ns, 0);
	CHECK_EQ_U(fk.syncs[0] + fk.syncs[1] + fk.syncs[2], 0);
	fc_flowtab__free(ft);
}

static void test_idle_here_busy_in_kernel(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 1 };
	struct fc_flowtab *ft = mk(&fk, &ops, 0);
	struct fc_pkt p;

	p = tcp(1, ACK, 100), fc_flowtab__update(ft, &p, T0);
	CHECK(fk.live);
	fk.k.pkts[0] = 7, fk.k.bytes[0] = 700, fk.k.last_ns = T0 + 15 * SEC;
	fc_flowtab__expire(ft, T0 + 20 * SEC);	/* idle here (20 s), not in the kernel (5 s) */
	CHECK_EQ_U(fk.n, 0);
	CHECK_EQ_U(fk.syncs[FC_FT_SYNC_PEEK], 1);
	CHECK_EQ_U(fc_flowtab__stats(ft)->bypass_refreshed, 1);
	fc_flowtab__expire(ft, T0 + 26 * SEC);	/* 11 s after the kernel's last hit */
	CHECK_EQ_U(fk.n, 1);
	CHECK_EQ_U(fk.r[0].end_reason, FC_END_IDLE);
	CHECK_EQ_U(fk.r[0].pkts, 8);
	CHECK_EQ_U(fk.r[0].bytes, 840);
	CHECK_EQ_U(fk.r[0].end_ns, T0 + 15 * SEC);
	CHECK(!fk.live);
	fc_flowtab__free(ft);
}

static void test_interim_and_shutdown_report_once(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 1 };
	struct fc_flowtab_opts o;
	struct fc_flowtab *ft;
	struct fc_pkt p;

	fc_flowtab_opts__defaults(&o);
	o.max_flows = 16;
	o.active_ns = 10 * SEC;
	o.emit = on_emit;
	o.emit_ctx = &fk;
	memset(&ops, 0, sizeof(ops));
	ops.add = f_add, ops.sync = f_sync, ops.ctx = &fk;
	o.bypass = &ops;
	ft = fc_flowtab__new(&o);
	CHECK(ft != NULL);
	p = tcp(1, ACK, 0), fc_flowtab__update(ft, &p, T0);
	fk.k.pkts[0] = 10, fk.k.bytes[0] = 400, fk.k.last_ns = T0 + 9 * SEC;
	p = tcp(1, ACK, 0), fc_flowtab__update(ft, &p, T0 + 11 * SEC);	/* interim first */
	CHECK_EQ_U(fk.n, 1);
	CHECK_EQ_U(fk.r[0].end_reason, FC_END_ACTIVE);
	CHECK_EQ_U(fk.r[0].pkts, 11);
	CHECK_EQ_U(fk.syncs[FC_FT_SYNC_KEEP], 1);
	CHECK(fk.live);
	fk.k.pkts[0] = 15, fk.k.bytes[0] = 600;
	fc_flowtab__flush(ft, FC_END_SHUTDOWN);
	CHECK_EQ_U(fk.n, 2);
	CHECK_EQ_U(fk.r[1].pkts, 1 + 5);
	CHECK_EQ_U(fk.r[1].bypass.pkts, 5);
	CHECK_EQ_U(fk.r[1].bypass.bytes, 200);
	CHECK(fk.live);		/* shutdown keeps the entry for the next run */
	fc_flowtab__free(ft);
}

static void test_release_folds_then_reports(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 1 };
	struct fc_flowtab *ft = mk(&fk, &ops, 0);
	struct fc_pkt p;

	p = tcp(0, ACK, 0), fc_flowtab__update(ft, &p, T0);
	fk.k.pkts[0] = 3, fk.k.pkts[1] = 4, fk.k.bytes[0] = 30, fk.k.bytes[1] = 40;
	CHECK_EQ_U(fc_flowtab__bypass_release(ft), 1);
	CHECK(!fk.live);
	p = tcp(0, ACK, 0), fc_flowtab__update(ft, &p, T0 + 1);	/* back in userspace, not re-offered */
	CHECK_EQ_U(fk.adds, 1);
	fc_flowtab__flush(ft, FC_END_EOF);
	CHECK_EQ_U(fk.n, 1);
	CHECK_EQ_U(fk.r[0].pkts + fk.r[0].rpkts, 2 + 7);
	CHECK_EQ_U(fk.r[0].bypass.pkts + fk.r[0].bypass.rpkts, 7);
	CHECK_EQ_U(fk.r[0].bytes + fk.r[0].rbytes, 80 + 70);
	fc_flowtab__free(ft);
}

static void test_adopt_and_claim(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { .want = 0 };
	struct fc_flowtab *ft = mk(&fk, &ops, 0);
	struct fc_flowtab_kcounts rep = { .pkts = { 10, 5 }, .bytes = { 1000, 500 } };
	struct fc_flow_rec id;
	struct fc_pkt p;

	memset(&id, 0, sizeof(id));
	id.family = 4, id.proto = 6;
	id.src.b[0] = 10, id.src.b[3] = 2, id.sport = 40000;
	id.dst.b[0] = 10, id.dst.b[3] = 1, id.dport = 80;
	id.start_ns = T0, id.end_ns = T0 + SEC;
	CHECK_EQ_U(fc_flowtab__bypass_adopt(ft, &id, &rep), 0);
	CHECK_EQ_U(fc_flowtab__bypass_adopt(ft, &id, &rep) == -EEXIST, 1);
	fk.live = true;
	fk.k.pkts[0] = 12, fk.k.pkts[1] = 6, fk.k.bytes[0] = 1200, fk.k.bytes[1] = 600;
	fc_flowtab__flush(ft, FC_END_SHUTDOWN);
	CHECK_EQ_U(fk.n, 1);
	CHECK_STR(fc_end_reason_name(fk.r[0].end_reason), "shutdown");
	CHECK_EQ_U(fk.r[0].sport, 40000);	/* the initiator stays the source */
	CHECK_EQ_U(fk.r[0].pkts, 2);
	CHECK_EQ_U(fk.r[0].rpkts, 1);
	CHECK_EQ_U(fk.r[0].bytes, 200);
	/* claim: only an existing flow can be claimed */
	CHECK_EQ_U(fc_flowtab__bypass_claim(ft, &id, T0) == -ENOENT, 1);
	p = tcp(1, ACK, 0), fc_flowtab__update(ft, &p, T0 + 2 * SEC);
	CHECK_EQ_U(fc_flowtab__bypass_claim(ft, &id, T0 + 2 * SEC), 0);
	CHECK_EQ_U(fc_flowtab__bypass_claim(ft, &id, T0 + 2 * SEC) == -EEXIST, 1);
	fc_flowtab__free(ft);
}

static void test_new_rejects_half_ops(void)
{
	struct fc_flowtab_bypass_ops ops;
	struct fake fk = { 0 };
	struct fc_flowtab_opts o;

	fc_flowtab_opts__defaults(&o);
	o.emit = on_emit;
	o.emit_ctx = &fk;
	memset(&ops, 0, sizeof(ops));
	ops.add = f_add;
	o.bypass = &ops;
	errno = 0;
	CHECK(fc_flowtab__new(&o) == NULL);
	CHECK_EQ_U(errno, EINVAL);
}

int main(void)
{
	RUN(test_bypass_after_bytes_exact_record);
	RUN(test_policy_no_is_asked_once);
	RUN(test_idle_here_busy_in_kernel);
	RUN(test_interim_and_shutdown_report_once);
	RUN(test_release_folds_then_reports);
	RUN(test_adopt_and_claim);
	RUN(test_new_rejects_half_ops);
	return T_DONE();
}
