// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipfix_enc.c - encodes flow records as IPFIX messages (RFC 7011), one
 * RFC 5103 biflow record per flow or, with uniflow, one record per
 * direction. Owns the template layouts, the message/set framing and the
 * exporter-statistics options record; see ipfix_enc.h for the contract.
 *
 * Message layout (RFC 7011 §3): a 16-octet header, then Sets, each a 4-octet
 * header (Set ID, length incl. header) and records. We never pad Sets
 * (padding is optional, §3.3.1): every Set length is exactly 4 plus its
 * records, which collectors must and do accept.
 *
 *   0                   1                   2                   3
 *   | Version = 10                  | Length                        |
 *   | Export Time (epoch seconds)                                   |
 *   | Sequence Number (data records sent before this message)      |
 *   | Observation Domain ID                                         |
 *
 * Field specifiers with the enterprise bit set carry a 4-octet PEN; RFC 5103
 * reverse elements are the forward element id under PEN 29305.
 */
#include <errno.h>
#include <string.h>

#include "ipfix_enc.h"

#define NTP_EPOCH_OFFSET 2208988800ULL	/* 1900-01-01 to 1970-01-01, seconds */

/* Options template: scope observationDomainId, then three totals. */
static const struct fc_ipfix_field opt_fields[] = {
	{ FC_IE_DOMAIN_ID, 4, 0 },
	{ FC_IE_EXP_MSGS, 8, 0 },
	{ FC_IE_EXP_FLOWS, 8, 0 },
	{ FC_IE_EXP_OCTETS, 8, 0 },
};
#define OPT_NFIELDS (sizeof(opt_fields) / sizeof(opt_fields[0]))
#define OPT_SCOPE_COUNT 1
#define OPT_REC_LEN 28
#define OPT_TMPL_LEN (6 + 4 * OPT_NFIELDS)	/* id, count, scope count, specifiers */

/* ---- output (lengths are checked by the caller before any put) --------- */

static inline uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

/* ---- templates ----------------------------------------------------------- */

uint8_t fc_ipfix_end_reason(uint8_t r)
{
	switch (r) {
	case FC_END_FIN:
	case FC_END_RST:
		return FC_IPFIX_END_EOF;
	case FC_END_IDLE:
		return FC_IPFIX_END_IDLE;
	case FC_END_ACTIVE:
		return FC_IPFIX_END_ACTIVE;
	case FC_END_EVICTED:
		return FC_IPFIX_END_RESOURCES;
	case FC_END_EOF:
	case FC_END_SHUTDOWN:
	default:
		return FC_IPFIX_END_FORCED;
	}
}

unsigned fc_ipfix_shape(const struct fc_ipfix_enc_opts *o, const struct fc_flow_rec *r)
{
	unsigned s = 0;

	if (r->family == 6)
		s |= FC_IPFIX_SHAPE_V6;
	if ((r->family == 6 && r->proto == 58) || (r->family != 6 && r->proto == 1))
		s |= FC_IPFIX_SHAPE_ICMP;
	if (r->has_vlan)
		s |= FC_IPFIX_SHAPE_VLAN;
	if (r->has_vlan == 2)
		s |= FC_IPFIX_SHAPE_VLAN2;
	if (r->has_tunnel && r->tunnel.type == FC_TUN_VXLAN)
		s |= FC_IPFIX_SHAPE_VXLAN;
	if (o->uniflow)
		s |= FC_IPFIX_SHAPE_UNI;
	return s;
}

unsigned fc_ipfix_template_fields(unsigned shape, bool time_ns, struct fc_ipfix_field *f,
				  size_t *rec_len)
{
	bool v6 = shape & FC_IPFIX_SHAPE_V6;
	unsigned n = 0, i;
	size_t len = 0;

#define ADD(i_, l_, p_) (f[n].id = (i_), f[n].len = (l_), f[n].pen = (p_), n++)
	ADD(v6 ? FC_IE_SRC_IPV6 : FC_IE_SRC_IPV4, v6 ? 16 : 4, 0);
	ADD(v6 ? FC_IE_DST_IPV6 : FC_IE_DST_IPV4, v6 ? 16 : 4, 0);
	if (shape & FC_IPFIX_SHAPE_ICMP) {
		ADD(v6 ? FC_IE_ICMP_TC_V6 : FC_IE_ICMP_TC_V4, 2, 0);
	} else {
		ADD(FC_IE_SRC_PORT, 2, 0);
		ADD(FC_IE_DST_PORT, 2, 0);
	}
	ADD(FC_IE_PROTOCOL, 1, 0);
	ADD(FC_IE_TCP_FLAGS, 2, 0);
	ADD(time_ns ? FC_IE_START_NS : FC_IE_START_MS, 8, 0);
	ADD(time_ns ? FC_IE_END_NS : FC_IE_END_MS, 8, 0);
	ADD(FC_IE_OCTET_DELTA, 8, 0);
	ADD(FC_IE_PACKET_DELTA, 8, 0);
	if (!(shape & FC_IPFIX_SHAPE_UNI)) {
		ADD(FC_IE_OCTET_DELTA, 8, FC_IPFIX_PEN_REVERSE);
		ADD(FC_IE_PACKET_DELTA, 8, FC_IPFIX_PEN_REVERSE);
		ADD(FC_IE_TCP_FLAGS, 2, FC_IPFIX_PEN_REVERSE);
	}
	ADD(FC_IE_FLOW_END_REASON, 1, 0);
	if (!(shape & FC_IPFIX_SHAPE_UNI))
		ADD(FC_IE_BIFLOW_DIR, 1, 0);
	ADD(FC_IE_FLOW_ID, 8, 0);
	if (shape & FC_IPFIX_SHAPE_VLAN)
		ADD(FC_IE_VLAN, 2, 0);
	if (shape & FC_IPFIX_SHAPE_VLAN2)
		ADD(FC_IE_CUSTOMER_VLAN, 2, 0);
	if (shape & FC_IPFIX_SHAPE_VXLAN)
		ADD(FC_IE_L2_SEGMENT, 8, 0);
#undef ADD
	for (i = 0; i < n; i++)
		len += f[i].len;
	*rec_len = len;
	return n;
}

/* Template record length on the wire: id, count, specifiers (+PEN). */
static size_t template_len(const struct fc_ipfix_field *f, unsigned n)
{
	size_t len = 4;
	unsigned i;

	for (i = 0; i < n; i++)
		len += f[i].pen ? 8 : 4;
	return len;
}

static uint8_t *put_template(uint8_t *p, uint16_t tid, const struct fc_ipfix_field *f, unsigned n)
{
	unsigned i;

	p = put16(p, tid);
	p = put16(p, (uint16_t)n);
	for (i = 0; i < n; i++) {
		p = put16(p, f[i].pen ? (uint16_t)(f[i].id | FC_IPFIX_ENTERPRISE_BIT) : f[i].id);
		p = put16(p, f[i].len);
		if (f[i].pen)
			p = put32(p, f[i].pen);
	}
	return p;
}

/* ---- data records -------------------------------------------------------- */

/* One direction of a flow as a data record sees it. */
struct view {
	const struct fc_flow_rec *r;
	const struct fc_addr *src, *dst;
	uint16_t sport, dport;	/* ICMP: type, code */
	uint64_t pkts, bytes, rpkts, rbytes;
	uint16_t flags, rflags;
};

/* Reply type of an ICMP query type, for the reverse record of a uniflow pair. */
static uint8_t icmp_reply_type(bool v6, uint8_t type)
{
	if (v6)
		return type == 128 ? 129 : type;	/* echo request -> echo reply */
	switch (type) {
	case 8: return 0;	/* echo */
	case 13: return 14;	/* timestamp */
	case 15: return 16;	/* information */
	case 17: return 18;	/* address mask */
	default: return type;
	}
}

static void view_forward(struct view *v, const struct fc_flow_rec *r)
{
	v->r = r;
	v->src = &r->src;
	v->dst = &r->dst;
	v->sport = r->sport;
	v->dport = r->dport;
	v->pkts = r->pkts;
	v->bytes = r->bytes;
	v->rpkts = r->rpkts;
	v->rbytes = r->rbytes;
	v->flags = r->tcp_flags;
	v->rflags = r->rtcp_flags;
}

static void view_reverse(struct view *v, const struct fc_flow_rec *r, unsigned shape)
{
	view_forward(v, r);
	v->src = &r->dst;
	v->dst = &r->src;
	if (shape & FC_IPFIX_SHAPE_ICMP) {
		v->sport = icmp_reply_type(shape & FC_IPFIX_SHAPE_V6, (uint8_t)r->sport);
	} else {
		v->sport = r->dport;
		v->dport = r->sport;
	}
	v->pkts = r->rpkts;
	v->bytes = r->rbytes;
	v->flags = r->rtcp_flags;
}

static uint64_t ntp_time(uint64_t ns)
{
	uint64_t s = ns / 1000000000ULL, frac = ns % 1000000000ULL;

	/* 32-bit seconds since 1900 wrap in 2036 (NTP era 1), as RFC 7011 §6.1.10 allows. */
	return ((s + NTP_EPOCH_OFFSET) << 32) | ((frac << 32) / 1000000000ULL);
}

static uint8_t *put_record(uint8_t *p, const struct view *v, const struct fc_ipfix_field *f,
			   unsigned n)
{
	const struct fc_flow_rec *r = v->r;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (f[i].pen == FC_IPFIX_PEN_REVERSE) {
			switch (f[i].id) {
			case FC_IE_OCTET_DELTA: p = put64(p, v->rbytes); break;
			case FC_IE_PACKET_DELTA: p = put64(p, v->rpkts); break;
			default: p = put16(p, v->rflags); break;	/* FC_IE_TCP_FLAGS */
			}
			continue;
		}
		switch (f[i].id) {
		case FC_IE_SRC_IPV4:
		case FC_IE_SRC_IPV6:
			memcpy(p, v->src->b, f[i].len);
			p += f[i].len;
			break;
		case FC_IE_DST_IPV4:
		case FC_IE_DST_IPV6:
			memcpy(p, v->dst->b, f[i].len);
			p += f[i].len;
			break;
		case FC_IE_ICMP_TC_V4:
		case FC_IE_ICMP_TC_V6:
			p = put16(p, (uint16_t)((v->sport & 0xff) << 8 | (v->dport & 0xff)));
			break;
		case FC_IE_SRC_PORT: p = put16(p, v->sport); break;
		case FC_IE_DST_PORT: p = put16(p, v->dport); break;
		case FC_IE_PROTOCOL: p = put8(p, r->proto); break;
		case FC_IE_TCP_FLAGS: p = put16(p, v->flags); break;
		case FC_IE_START_MS: p = put64(p, r->start_ns / 1000000ULL); break;
		case FC_IE_END_MS: p = put64(p, r->end_ns / 1000000ULL); break;
		case FC_IE_START_NS: p = put64(p, ntp_time(r->start_ns)); break;
		case FC_IE_END_NS: p = put64(p, ntp_time(r->end_ns)); break;
		case FC_IE_OCTET_DELTA: p = put64(p, v->bytes); break;
		case FC_IE_PACKET_DELTA: p = put64(p, v->pkts); break;
		case FC_IE_FLOW_END_REASON: p = put8(p, fc_ipfix_end_reason(r->end_reason)); break;
		case FC_IE_BIFLOW_DIR: p = put8(p, 0x01); break;	/* src is the initiator */
		case FC_IE_FLOW_ID: p = put64(p, r->flow_id); break;
		case FC_IE_VLAN: p = put16(p, r->vlan & 0x0fff); break;
		case FC_IE_CUSTOMER_VLAN: p = put16(p, r->vlan_inner & 0x0fff); break;
		case FC_IE_L2_SEGMENT:
			/* IANA: top octet = overlay type (0x01 VXLAN), low 3 octets = VNI */
			p = put64(p, (1ULL << 56) | (r->tunnel_id & 0xffffffULL));
			break;
		default:	/* not reached: every field of fc_ipfix_template_fields() */
			memset(p, 0, f[i].len);
			p += f[i].len;
		}
	}
	return p;
}

/* ---- messages ------------------------------------------------------------ */

int fc_ipfix_enc__init(struct fc_ipfix_enc *e, const struct fc_ipfix_enc_opts *o)
{
	if (o->max_msg < FC_IPFIX_MSG_MIN || o->max_msg > FC_IPFIX_MSG_MAX)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->cur.stats_due = true;
	e->next = e->cur;
	return 0;
}

void fc_ipfix_enc__resend_templates(struct fc_ipfix_enc *e)
{
	e->cur.tmpl_sent = 0;
	e->cur.opt_tmpl_sent = false;
	e->cur.stats_due = true;
	e->next = e->cur;
}

void fc_ipfix_enc__stats_due(struct fc_ipfix_enc *e)
{
	e->cur.stats_due = true;
	e->next = e->cur;
}

void fc_ipfix_enc__commit(struct fc_ipfix_enc *e)
{
	e->cur = e->next;
}

/* A message being built: buf[0..len), at most max bytes; one open Set at set_off. */
struct msg {
	uint8_t *buf;
	size_t len, max;
	size_t set_off;		/* 0: no Set open */
	uint16_t set_id;
	uint32_t data_recs;
};

static void set_close(struct msg *m)
{
	if (m->set_off) {
		put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
		m->set_off = 0;
	}
}

static void set_open(struct msg *m, uint16_t id)
{
	set_close(m);
	m->set_off = m->len;
	m->set_id = id;
	put16(m->buf + m->len, id);
	put16(m->buf + m->len + 2, 0);
	m->len += FC_IPFIX_SET_HDR_LEN;
}

/* Announce data template `shape` if it fits. Returns true if written. */
static bool add_template(struct msg *m, struct fc_ipfix_state *st, unsigned shape, bool time_ns)
{
	struct fc_ipfix_field f[FC_IPFIX_MAX_FIELDS];
	size_t rec_len, tl;
	unsigned n = fc_ipfix_template_fields(shape, time_ns, f, &rec_len);
	bool in_set = m->set_off && m->set_id == FC_IPFIX_SET_TEMPLATE;

	tl = template_len(f, n);
	if (m->len + (in_set ? 0 : FC_IPFIX_SET_HDR_LEN) + tl > m->max)
		return false;
	if (!in_set)
		set_open(m, FC_IPFIX_SET_TEMPLATE);
	m->len = (size_t)(put_template(m->buf + m->len, (uint16_t)(FC_IPFIX_DATA_TID_BASE + shape),
				       f, n) - m->buf);
	st->tmpl_sent |= 1ULL << shape;
	st->tmpl_used |= 1ULL << shape;
	return true;
}

/* Options template and statistics record, when due and if they fit. */
static void add_options(struct msg *m, struct fc_ipfix_state *st, uint32_t domain)
{
	uint8_t *p;
	unsigned i;

	if (!st->opt_tmpl_sent) {
		if (m->len + FC_IPFIX_SET_HDR_LEN + OPT_TMPL_LEN > m->max)
			return;
		set_open(m, FC_IPFIX_SET_OPTIONS_TEMPLATE);
		p = m->buf + m->len;
		p = put16(p, FC_IPFIX_OPTIONS_TID);
		p = put16(p, OPT_NFIELDS);
		p = put16(p, OPT_SCOPE_COUNT);
		for (i = 0; i < OPT_NFIELDS; i++) {
			p = put16(p, opt_fields[i].id);
			p = put16(p, opt_fields[i].len);
		}
		m->len = (size_t)(p - m->buf);
		set_close(m);
		st->opt_tmpl_sent = true;
	}
	if (!st->stats_due || m->len + FC_IPFIX_SET_HDR_LEN + OPT_REC_LEN > m->max)
		return;
	set_open(m, FC_IPFIX_OPTIONS_TID);
	p = m->buf + m->len;
	p = put32(p, domain);
	p = put64(p, st->msgs);
	p = put64(p, st->flow_recs);
	p = put64(p, st->octets);
	m->len = (size_t)(p - m->buf);
	set_close(m);
	m->data_recs++;
	st->stats_due = false;
}

int fc_ipfix_enc__build(struct fc_ipfix_enc *e, const struct fc_flow_rec *recs, size_t n,
			uint32_t export_s, uint8_t *buf, size_t cap, size_t *consumed)
{
	struct fc_ipfix_state st = e->cur;
	struct fc_ipfix_field f[FC_IPFIX_MAX_FIELDS];
	struct msg m = { .buf = buf, .len = FC_IPFIX_HDR_LEN, .max = e->o.max_msg };
	unsigned shape, nf = 0, cached_shape = ~0u, s;
	size_t i, rec_len = 0, flows = 0, flow_recs = 0;
	uint64_t resend;

	*consumed = 0;
	if (cap < e->o.max_msg)
		return -EINVAL;

	/* Refresh: every template used so far, before anything else. */
	resend = st.tmpl_used & ~st.tmpl_sent;
	for (s = 0; resend && s < FC_IPFIX_NSHAPES; s++)
		if ((resend & (1ULL << s)) && !add_template(&m, &st, s, e->o.time_ns))
			break;
	set_close(&m);
	add_options(&m, &st, e->o.domain);

	for (i = 0; i < n; i++) {
		const struct fc_flow_rec *r = &recs[i];
		struct view v;
		bool two, need_tmpl, need_set;
		size_t need;

		shape = fc_ipfix_shape(&e->o, r);
		if (shape != cached_shape) {
			nf = fc_ipfix_template_fields(shape, e->o.time_ns, f, &rec_len);
			cached_shape = shape;
		}
		/* uniflow: no reverse record for a direction that saw nothing */
		two = (shape & FC_IPFIX_SHAPE_UNI) && r->rpkts;
		need_tmpl = !(st.tmpl_sent & (1ULL << shape));
		need_set = need_tmpl || !m.set_off || m.set_id != FC_IPFIX_DATA_TID_BASE + shape;
		need = (need_tmpl ? FC_IPFIX_SET_HDR_LEN + template_len(f, nf) : 0) +
		       (need_set ? FC_IPFIX_SET_HDR_LEN : 0) + rec_len * (two ? 2 : 1);
		if (m.len + need > m.max)
			break;
		if (need_tmpl) {
			set_close(&m);
			add_template(&m, &st, shape, e->o.time_ns);
			set_close(&m);
		}
		if (need_set)
			set_open(&m, (uint16_t)(FC_IPFIX_DATA_TID_BASE + shape));
		view_forward(&v, r);
		m.len = (size_t)(put_record(m.buf + m.len, &v, f, nf) - m.buf);
		if (two) {
			view_reverse(&v, r, shape);
			m.len = (size_t)(put_record(m.buf + m.len, &v, f, nf) - m.buf);
		}
		flow_recs += two ? 2 : 1;
		flows++;
	}
	set_close(&m);
	m.data_recs += (uint32_t)flow_recs;

	if (m.len == FC_IPFIX_HDR_LEN) {
		e->next = e->cur;
		e->next_flows = 0;
		return 0;
	}
	put16(buf, FC_IPFIX_VERSION);
	put16(buf + 2, (uint16_t)m.len);
	put32(buf + 4, export_s);
	put32(buf + 8, st.seq);
	put32(buf + 12, e->o.domain);

	st.seq += m.data_recs;
	st.msgs++;
	st.flow_recs += flow_recs;
	st.octets += m.len;
	e->next = st;
	e->next_flows = flows;
	*consumed = flows;
	return (int)m.len;
}
