// SPDX-License-Identifier: BSD-2-Clause
/*
 * stats.c - run counters and their --stats JSON form. Counting is a few
 * increments per packet; the JSON is written once at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/stats.h"
#include "jsonw.h"

/* Upper bounds (inclusive) of the size buckets; the last one is open. */
static const uint32_t size_bucket_max[FC_SIZE_BUCKETS - 1] = {
	19, 39, 79, 159, 319, 639, 1279, 2559, 5119,
};

static const char *const proto_slot_name[FC_PS__COUNT] = {
	[FC_PS_IPV4] = "ipv4", [FC_PS_IPV6] = "ipv6",	  [FC_PS_TCP] = "tcp",
	[FC_PS_UDP] = "udp",   [FC_PS_ICMP] = "icmp",	  [FC_PS_ICMPV6] = "icmpv6",
	[FC_PS_SCTP] = "sctp", [FC_PS_GRE] = "gre",	  [FC_PS_ESP] = "esp",
	[FC_PS_OTHER] = "other",
};

/* Bucket k >= 1 holds 20*2^(k-1) .. 20*2^k - 1 bytes: the bit width of len/20. */
static unsigned size_bucket(uint32_t len)
{
	uint32_t q = len / 20;
	unsigned b = q ? 32 - (unsigned)__builtin_clz(q) : 0;

	return b < FC_SIZE_BUCKETS ? b : FC_SIZE_BUCKETS - 1;
}

static void count_linktype(struct fc_stats *st, int linktype)
{
	unsigned i;

	for (i = 0; i < FC_STATS_LINKTYPES; i++) {
		if (st->linktypes[i].pkts && st->linktypes[i].linktype == linktype) {
			st->linktypes[i].pkts++;
			return;
		}
		if (!st->linktypes[i].pkts) {
			st->linktypes[i].linktype = linktype;
			st->linktypes[i].pkts = 1;
			return;
		}
	}
	/* More than FC_STATS_LINKTYPES link types in one run: not itemised. */
}

void fc_stats__count_frame(struct fc_stats *st, int linktype, uint32_t caplen, uint32_t wirelen,
			   uint64_t ts_ns)
{
	st->packets_read++;
	st->bytes_read += wirelen;
	if (caplen < wirelen)
		st->caplen_short++;
	st->size_hist[size_bucket(wirelen)]++;
	if (!st->first_ts_ns || ts_ns < st->first_ts_ns)
		st->first_ts_ns = ts_ns;
	if (ts_ns > st->last_ts_ns)
		st->last_ts_ns = ts_ns;
	if (st->linktypes[0].pkts && st->linktypes[0].linktype == linktype)
		st->linktypes[0].pkts++;	/* the common case: one link type */
	else
		count_linktype(st, linktype);
}

static enum fc_proto_slot proto_slot(uint8_t proto)
{
	switch (proto) {
	case 6: return FC_PS_TCP;
	case 17: return FC_PS_UDP;
	case 1: return FC_PS_ICMP;
	case 58: return FC_PS_ICMPV6;
	case 132: return FC_PS_SCTP;
	case 47: return FC_PS_GRE;
	case 50: return FC_PS_ESP;
	default: return FC_PS_OTHER;
	}
}

void fc_stats__count_flow_pkt(struct fc_stats *st, const struct fc_pkt *pkt)
{
	enum fc_proto_slot ip = pkt->key.family == 6 ? FC_PS_IPV6 : FC_PS_IPV4;
	enum fc_proto_slot l4 = proto_slot(pkt->key.proto);

	st->proto[ip].pkts++;
	st->proto[ip].bytes += pkt->ip_bytes;
	st->proto[l4].pkts++;
	st->proto[l4].bytes += pkt->ip_bytes;
	if (pkt->flags & FC_PKTF_TUNNEL && pkt->tunnel.type < FC_TUN__COUNT)
		st->tunnel_pkts[pkt->tunnel.type]++;
}

uint64_t fc_stats__nonflow_total(const struct fc_stats *st)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < FC_NONFLOW__COUNT; i++)
		sum += st->nonflow[i];
	return sum;
}

bool fc_stats_identity_ok(const struct fc_stats *st, const struct fc_flowtab_stats *fs)
{
	return st->packets_read == fs->pkts_emitted + fc_stats__nonflow_total(st);
}

static void write_nonflow(struct fc_jsonw *w, const struct fc_stats *st)
{
	uint64_t cls[FC_NFC__COUNT] = { 0 };
	unsigned i;

	fc_jsonw__obj_open(w, "nonflow");
	for (i = 1; i < FC_NONFLOW__COUNT; i++) {
		fc_jsonw__u64(w, fc_nonflow_name((enum fc_nonflow)i), st->nonflow[i]);
		cls[fc_nonflow_class((enum fc_nonflow)i)] += st->nonflow[i];
	}
	fc_jsonw__obj_close(w);
	fc_jsonw__u64(w, "nonflow_total", fc_stats__nonflow_total(st));

	fc_jsonw__obj_open(w, "decode_errors");
	fc_jsonw__u64(w, "truncated", cls[FC_NFC_TRUNCATED]);
	fc_jsonw__u64(w, "invalid", cls[FC_NFC_INVALID]);
	fc_jsonw__u64(w, "unsupported", cls[FC_NFC_UNSUPPORTED]);
	fc_jsonw__obj_open(w, "by_reason");
	for (i = 1; i < FC_NONFLOW__COUNT; i++) {
		enum fc_nonflow_class c = fc_nonflow_class((enum fc_nonflow)i);

		if (c == FC_NFC_TRUNCATED || c == FC_NFC_INVALID || c == FC_NFC_UNSUPPORTED)
			fc_jsonw__u64(w, fc_nonflow_name((enum fc_nonflow)i), st->nonflow[i]);
	}
	fc_jsonw__obj_close(w);
	fc_jsonw__obj_close(w);
}

static void write_flows(struct fc_jsonw *w, const struct fc_flowtab_stats *fs)
{
	uint64_t records = 0;
	unsigned i;

	fc_jsonw__obj_open(w, "flows");
	fc_jsonw__u64(w, "created", fs->flows_created);
	for (i = 0; i < FC_END__COUNT; i++)
		records += fs->records[i];
	fc_jsonw__u64(w, "records", records);
	for (i = 0; i < FC_END__COUNT; i++)
		fc_jsonw__u64(w, fc_end_reason_name((enum fc_end_reason)i), fs->records[i]);
	fc_jsonw__u64(w, "open", fs->active);
	fc_jsonw__u64(w, "peak_open", fs->peak_active);
	fc_jsonw__obj_close(w);
}

static void write_sizes(struct fc_jsonw *w, const struct fc_stats *st)
{
	unsigned i;

	fc_jsonw__arr_open(w, "size_histogram");
	for (i = 0; i < FC_SIZE_BUCKETS; i++) {
		fc_jsonw__obj_open(w, NULL);
		fc_jsonw__u64(w, "min", i ? size_bucket_max[i - 1] + 1 : 0);
		if (i < FC_SIZE_BUCKETS - 1)
			fc_jsonw__u64(w, "max", size_bucket_max[i]);
		else
			fc_jsonw__null(w, "max");
		fc_jsonw__u64(w, "packets", st->size_hist[i]);
		fc_jsonw__obj_close(w);
	}
	fc_jsonw__arr_close(w);
}

static void write_protocols(struct fc_jsonw *w, const struct fc_stats *st)
{
	char lt[16];
	unsigned i;

	fc_jsonw__obj_open(w, "protocols");
	for (i = 0; i < FC_PS__COUNT; i++) {
		fc_jsonw__obj_open(w, proto_slot_name[i]);
		fc_jsonw__u64(w, "packets", st->proto[i].pkts);
		fc_jsonw__u64(w, "bytes", st->proto[i].bytes);
		fc_jsonw__obj_close(w);
	}
	fc_jsonw__obj_close(w);
	fc_jsonw__obj_open(w, "tunnels");
	for (i = 1; i < FC_TUN__COUNT; i++)
		fc_jsonw__u64(w, fc_tunnel_type_name((enum fc_tunnel_type)i), st->tunnel_pkts[i]);
	fc_jsonw__obj_close(w);
	fc_jsonw__obj_open(w, "fragments");
	fc_jsonw__u64(w, "first", st->frag_first);
	fc_jsonw__u64(w, "later", st->frag_later);
	fc_jsonw__u64(w, "matched", st->frag_matched);
	fc_jsonw__u64(w, "orphans", st->nonflow[FC_NF_FRAG_ORPHAN]);
	fc_jsonw__obj_close(w);
	fc_jsonw__obj_open(w, "linktypes");
	for (i = 0; i < FC_STATS_LINKTYPES && st->linktypes[i].pkts; i++) {
		snprintf(lt, sizeof(lt), "%d", st->linktypes[i].linktype);
		fc_jsonw__u64(w, lt, st->linktypes[i].pkts);
	}
	fc_jsonw__obj_close(w);
}

int fc_stats__write_json(const struct fc_stats *st, const struct fc_flowtab_stats *fs,
			 const struct fc_stats_extra *ex, FILE *out)
{
	return fc_stats__write_json_ext(st, fs, ex, NULL, out);
}

static void merge_linktype(struct fc_stats *st, int linktype, uint64_t pkts)
{
	unsigned i;

	for (i = 0; i < FC_STATS_LINKTYPES; i++) {
		if (!st->linktypes[i].pkts || st->linktypes[i].linktype == linktype) {
			st->linktypes[i].linktype = linktype;
			st->linktypes[i].pkts += pkts;
			return;
		}
	}
}

void fc_stats__merge(struct fc_stats *dst, const struct fc_stats *src)
{
	unsigned i;

	dst->packets_read += src->packets_read;
	dst->bytes_read += src->bytes_read;
	dst->caplen_short += src->caplen_short;
	for (i = 0; i < FC_NONFLOW__COUNT; i++)
		dst->nonflow[i] += src->nonflow[i];
	for (i = 0; i < FC_SIZE_BUCKETS; i++)
		dst->size_hist[i] += src->size_hist[i];
	for (i = 0; i < FC_PS__COUNT; i++) {
		dst->proto[i].pkts += src->proto[i].pkts;
		dst->proto[i].bytes += src->proto[i].bytes;
	}
	for (i = 0; i < FC_TUN__COUNT; i++)
		dst->tunnel_pkts[i] += src->tunnel_pkts[i];
	dst->frag_first += src->frag_first;
	dst->frag_later += src->frag_later;
	dst->frag_matched += src->frag_matched;
	if (src->packets_read) {
		if (!dst->first_ts_ns || src->first_ts_ns < dst->first_ts_ns)
			dst->first_ts_ns = src->first_ts_ns;
		if (src->last_ts_ns > dst->last_ts_ns)
			dst->last_ts_ns = src->last_ts_ns;
	}
	for (i = 0; i < FC_STATS_LINKTYPES && src->linktypes[i].pkts; i++)
		merge_linktype(dst, src->linktypes[i].linktype, src->linktypes[i].pkts);
}

void fc_stats__merge_flows(struct fc_flowtab_stats *dst, const struct fc_flowtab_stats *src)
{
	unsigned i;

	dst->flows_created += src->flows_created;
	for (i = 0; i < FC_END__COUNT; i++)
		dst->records[i] += src->records[i];
	dst->pkts_emitted += src->pkts_emitted;
	dst->bytes_emitted += src->bytes_emitted;
	dst->active += src->active;
	dst->peak_active += src->peak_active;
}

int fc_stats__write_json_ext(const struct fc_stats *st, const struct fc_flowtab_stats *fs,
			     const struct fc_stats_extra *ex, const char *members, FILE *out)
{
	size_t cap = 64 * 1024;
	char *buf = malloc(cap);
	struct fc_jsonw w;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	fc_jsonw__init(&w, buf, cap);
	fc_jsonw__obj_open(&w, NULL);
	if (ex && ex->source)
		fc_jsonw__str(&w, "source", ex->source);
	fc_jsonw__u64(&w, "packets_read", st->packets_read);
	fc_jsonw__u64(&w, "bytes_read", st->bytes_read);
	fc_jsonw__u64(&w, "packets_in_flows", fs->pkts_emitted);
	fc_jsonw__u64(&w, "bytes_in_flows", fs->bytes_emitted);
	fc_jsonw__bool(&w, "identity_ok", fc_stats_identity_ok(st, fs));
	fc_jsonw__u64(&w, "caplen_short", st->caplen_short);
	write_nonflow(&w, st);
	write_flows(&w, fs);
	write_sizes(&w, st);
	write_protocols(&w, st);
	if (st->packets_read) {
		fc_jsonw__ts(&w, "first_packet", st->first_ts_ns);
		fc_jsonw__ts(&w, "last_packet", st->last_ts_ns);
	}
	if (ex) {
		fc_jsonw__double(&w, "elapsed_s", ex->elapsed_s);
		if (ex->warning)
			fc_jsonw__str(&w, "warning", ex->warning);
	}
	if (members && *members) {
		fc_jsonw__raw(&w, ",", 1);
		fc_jsonw__raw(&w, members, strlen(members));
	}
	fc_jsonw__obj_close(&w);
	if (w.overflow)
		err = -ENOSPC;
	else if (fprintf(out, "%s\n", buf) < 0)
		err = -EIO;
	free(buf);
	return err;
}
