// SPDX-License-Identifier: BSD-2-Clause
/*
 * bypass_flow.c - which flows go to the kernel (policy), and one worker's
 * flow-table hooks onto the shared maps (see bypass.h). The hooks count
 * every outcome: a map that is full, an entry that was already there (a
 * success), a failed read; nothing is lost silently. A flow whose add
 * failed stays in userspace for good and is counted there as usual.
 */
#include <errno.h>
#include <string.h>

#include "flowcut/bypass.h"

/* bypass.c: "address[/len]" with host bits cleared. */
int fc_bypass_parse_cidr(const char *s, uint8_t *family, uint8_t *plen, struct fc_addr *a);

/* Well-known tunnel ports: userspace keys the inner flow, the kernel cannot. */
static bool tunnel_port(uint16_t p)
{
	return p == 4789 || p == 6081 || p == 2152 || p == 4754 || p == 6635 || p == 3544;
}

static bool in_cidr(const struct fc_bypass_policy *p, unsigned i, const struct fc_flow_rec *r,
		    const struct fc_addr *a)
{
	unsigned bit, plen = p->cidrs[i].plen;

	if (p->cidrs[i].family != r->family)
		return false;
	for (bit = 0; bit < plen; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((a->b[bit / 8] & m) != (p->cidrs[i].addr.b[bit / 8] & m))
			return false;
	}
	return true;
}

bool fc_bypass_policy__match(const struct fc_bypass_policy *p, const struct fc_flow_rec *r)
{
	unsigned i;
	bool ok;

	if (r->proto != 6 && r->proto != 17)
		return false;
	if (r->has_tunnel || r->tunnel_id)
		return false;
	if (r->proto == 17 && (tunnel_port(r->sport) || tunnel_port(r->dport)))
		return false;
	if (r->pkts + r->rpkts < p->after_pkts || r->bytes + r->rbytes < p->after_bytes)
		return false;
	if (p->n_ports) {
		for (ok = false, i = 0; i < p->n_ports && !ok; i++)
			ok = r->sport == p->ports[i] || r->dport == p->ports[i];
		if (!ok)
			return false;
	}
	if (p->n_cidrs) {
		for (ok = false, i = 0; i < p->n_cidrs && !ok; i++)
			ok = in_cidr(p, i, r, &r->src) || in_cidr(p, i, r, &r->dst);
		if (!ok)
			return false;
	}
	return true;
}

int fc_bypass_policy__add_cidr(struct fc_bypass_policy *p, const char *cidr)
{
	unsigned n = p->n_cidrs;
	int err;

	if (n >= FC_BYPASS_MAX_CIDRS)
		return -ENOSPC;
	err = fc_bypass_parse_cidr(cidr, &p->cidrs[n].family, &p->cidrs[n].plen, &p->cidrs[n].addr);
	if (err)
		return err;
	p->n_cidrs++;
	return 0;
}

static int w_add(void *ctx, const struct fc_flow_rec *rec)
{
	struct fc_bypass_worker *w = ctx;
	int err;

	if (!fc_bypass_policy__match(w->pol, rec))
		return 0;
	err = fc_bypass__add(w->b, rec, w->owner);
	switch (err) {
	case 0:
		w->st.added++;
		return 1;
	case -EEXIST:
		w->st.exists++;
		return 1;
	case -E2BIG:
	case -ENOSPC:
		w->st.map_full++;
		return err;
	case -EPROTONOSUPPORT:
	case -EAFNOSUPPORT:
		w->st.not_keyable++;
		return 0;
	default:
		w->st.add_failed++;
		return err;
	}
}

static int w_sync(void *ctx, const struct fc_flow_rec *rec, enum fc_flowtab_sync how,
		  struct fc_flowtab_kcounts *k)
{
	struct fc_bypass_worker *w = ctx;
	int err = fc_bypass__sync(w->b, rec, how, k);

	if (err && err != -ENOENT)
		w->st.sync_failed++;
	else if (!err && how == FC_FT_SYNC_END)
		w->st.ended++;
	else if (!err && how == FC_FT_SYNC_KEEP)
		w->st.kept++;
	return err;
}

void fc_bypass_worker__init(struct fc_bypass_worker *w, struct fc_bypass *b,
			    const struct fc_bypass_policy *pol, uint32_t owner)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->pol = pol;
	w->owner = owner;
	w->ops.after_pkts = pol->after_pkts;
	w->ops.after_bytes = pol->after_bytes;
	w->ops.add = w_add;
	w->ops.sync = w_sync;
	w->ops.ctx = w;
}
