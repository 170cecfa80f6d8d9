// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the engine (frame -> decode -> fragments -> flows) and the
 * run statistics: every frame lands in exactly one record or one named
 * counter; later fragments that come first join their flow; orphans and
 * filtered frames are counted; the prefetch pipeline keeps arrival order;
 * the size histogram's bucket edges; the --stats JSON. */
#include <stdlib.h>

#include "flowcut/engine.h"
#include "t.h"

#define MAXR 64

struct sink {
	struct fc_flow_rec r[MAXR];
	unsigned n;
};

static void emit(void *ctx, const struct fc_flow_rec *rec)
{
	struct sink *s = ctx;

	if (s->n < MAXR)
		s->r[s->n] = *rec;
	s->n++;
}

static struct fc_engine *mk(struct sink *s)
{
	struct fc_engine_opts o;

	memset(&o, 0, sizeof(o));
	memset(s, 0, sizeof(*s));
	fc_flowtab_opts__defaults(&o.flow);
	o.flow.max_flows = 1024;
	o.flow.emit = emit;
	o.flow.emit_ctx = s;
	return fc_engine__new(&o);
}

/* Raw IPv4 (LINKTYPE_RAW) UDP 10.0.0.1:sport -> 10.0.0.2:53, total length tl.
 * off8 = fragment offset in 8-byte units, mf = more fragments. */
static size_t ip_udp(uint8_t *b, uint16_t sport, uint16_t tl, uint16_t id, uint16_t off8, int mf)
{
	uint16_t fo = (uint16_t)(off8 | (mf ? 0x2000 : 0));

	memset(b, 0, 64);
	b[0] = 0x45;
	b[2] = (uint8_t)(tl >> 8), b[3] = (uint8_t)tl;
	b[4] = (uint8_t)(id >> 8), b[5] = (uint8_t)id;
	b[6] = (uint8_t)(fo >> 8), b[7] = (uint8_t)fo;
	b[8] = 64, b[9] = 17;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	if (off8 == 0) {
		b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
		b[23] = 53;
		b[25] = 8;
	}
	return 28;
}

static void frame(struct fc_engine *e, const uint8_t *b, uint32_t len, uint64_t ts, int lt, bool filtered)
{
	struct fc_frame f = { .data = b, .caplen = len, .wirelen = len, .ts_ns = ts, .linktype = lt };

	fc_engine__frame(e, &f, filtered);
}

static void test_accounting_and_order(void)
{
	struct sink s;
	struct fc_engine *e = mk(&s);
	uint8_t b[64], arp[42] = { [12] = 0x08, [13] = 0x06 };
	uint64_t t = 1700000000000000000ULL;
	int i;

	CHECK(e != NULL);
	if (!e)
		return;
	for (i = 0; i < 40; i++) {	/* 40 packets over 5 flows, through the pipeline */
		ip_udp(b, (uint16_t)(1000 + i % 5), 28, 0, 0, 0);
		frame(e, b, 28, t + (uint64_t)i, FC_LINKTYPE_RAW, false);
	}
	frame(e, arp, sizeof(arp), t + 50, FC_LINKTYPE_ETHERNET, false);
	frame(e, b, 28, t + 51, FC_LINKTYPE_RAW, true);
	frame(e, b, 10, t + 52, FC_LINKTYPE_RAW, false);	/* cut inside IPv4 */
	frame(e, b, 28, t + 53, 9999, false);
	CHECK_EQ_U(s.n, 0);	/* nothing ends before the input does */
	fc_engine__finish(e, FC_END_EOF);
	CHECK_EQ_U(s.n, 5);
	for (i = 0; i < 5 && i < (int)s.n; i++) {
		CHECK_EQ_U(s.r[i].pkts, 8);
		CHECK_EQ_U(s.r[i].end_reason, FC_END_EOF);
	}
	{
		const struct fc_stats *st = fc_engine__stats(e);
		const struct fc_flowtab_stats *fs = fc_engine__flow_stats(e);

		CHECK_EQ_U(st->packets_read, 44);
		CHECK_EQ_U(fs->pkts_emitted, 40);
		CHECK_EQ_U(st->nonflow[FC_NF_ARP], 1);
		CHECK_EQ_U(st->nonflow[FC_NF_FILTERED], 1);
		CHECK_EQ_U(st->nonflow[FC_NF_TRUNC_IPV4], 1);
		CHECK_EQ_U(st->nonflow[FC_NF_LINKTYPE], 1);
		CHECK(fc_stats_identity_ok(st, fs));
		CHECK_EQ_U(st->proto[FC_PS_UDP].pkts, 40);
		CHECK_EQ_U(st->proto[FC_PS_UDP].bytes, 40 * 28);
	}
	fc_engine__free(e);
}

static void test_fragments(void)
{
	struct sink s;
	struct fc_engine *e = mk(&s);
	uint8_t b[64];
	uint64_t t = 1700000000000000000ULL;

	if (!e)
		return;
	/* Datagram 7: the later fragments arrive before the first. */
	ip_udp(b, 4000, 1500, 7, 185, 1);
	frame(e, b, 28, t, FC_LINKTYPE_RAW, false);
	ip_udp(b, 4000, 500, 7, 370, 0);
	frame(e, b, 28, t + 1, FC_LINKTYPE_RAW, false);
	ip_udp(b, 4000, 1500, 7, 0, 1);
	frame(e, b, 28, t + 2, FC_LINKTYPE_RAW, false);
	/* Datagram 9: a later fragment whose first never comes. */
	ip_udp(b, 4000, 600, 9, 185, 0);
	frame(e, b, 28, t + 3, FC_LINKTYPE_RAW, false);
	fc_engine__finish(e, FC_END_EOF);
	CHECK_EQ_U(s.n, 1);
	CHECK_EQ_U(s.r[0].pkts, 3);
	CHECK_EQ_U(s.r[0].bytes, 1500 + 500 + 1500);
	CHECK_EQ_U(s.r[0].sport, 4000);
	CHECK_EQ_U(s.r[0].start_ns, t);	/* the waiting fragments count from when they came */
	{
		const struct fc_stats *st = fc_engine__stats(e);

		CHECK_EQ_U(st->frag_first, 1);
		CHECK_EQ_U(st->frag_later, 3);
		CHECK_EQ_U(st->frag_matched, 2);
		CHECK_EQ_U(st->nonflow[FC_NF_FRAG_ORPHAN], 1);
		CHECK(fc_stats_identity_ok(st, fc_engine__flow_stats(e)));
	}
	fc_engine__free(e);
}

static void test_idle_timeout_by_capture_time(void)
{
	struct sink s;
	struct fc_engine *e = mk(&s);
	uint8_t b[64];
	uint64_t t = 1700000000000000000ULL;

	if (!e)
		return;
	ip_udp(b, 5000, 28, 0, 0, 0);
	frame(e, b, 28, t, FC_LINKTYPE_RAW, false);
	ip_udp(b, 5001, 28, 0, 0, 0);
	frame(e, b, 28, t + 61 * FC_NS_PER_SEC, FC_LINKTYPE_RAW, false);
	CHECK_EQ_U(s.n, 1);	/* the first flow idled out (UDP 60 s) as capture time passed */
	CHECK_EQ_U(s.r[0].end_reason, FC_END_IDLE);
	fc_engine__tick(e, t + 200 * FC_NS_PER_SEC);
	CHECK_EQ_U(s.n, 2);
	fc_engine__finish(e, FC_END_EOF);
	CHECK_EQ_U(s.n, 2);
	fc_engine__free(e);
}

static void test_size_histogram_edges(void)
{
	static const uint32_t len[] = { 0, 19, 20, 39, 40, 79, 80, 1279, 1280, 5119, 5120, 65535 };
	static const unsigned want[] = { 0, 0, 1, 1, 2, 2, 3, 6, 7, 8, 9, 9 };
	struct fc_stats st;
	unsigned i, b;

	for (i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		memset(&st, 0, sizeof(st));
		fc_stats__count_frame(&st, 1, len[i], len[i], 1);
		for (b = 0; b < FC_SIZE_BUCKETS; b++)
			if (st.size_hist[b])
				break;
		CHECK_EQ_U(b, want[i]);
	}
	memset(&st, 0, sizeof(st));
	fc_stats__count_frame(&st, 1, 60, 100, 5);
	fc_stats__count_frame(&st, 101, 60, 60, 3);
	CHECK_EQ_U(st.caplen_short, 1);
	CHECK_EQ_U(st.first_ts_ns, 3);
	CHECK_EQ_U(st.last_ts_ns, 5);
	CHECK_EQ_U(st.linktypes[0].linktype, 1);
	CHECK_EQ_U(st.linktypes[1].linktype, 101);
}

static void test_stats_json(void)
{
	struct sink s;
	struct fc_engine *e = mk(&s);
	struct fc_stats_extra ex = { .source = "x.pcap", .warning = "cut \"short\"" };
	uint8_t b[64];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!e || !f)
		return;
	ip_udp(b, 6000, 28, 0, 0, 0);
	frame(e, b, 28, 1, FC_LINKTYPE_RAW, false);
	fc_engine__finish(e, FC_END_EOF);
	CHECK_EQ_U(fc_stats__write_json(fc_engine__stats(e), fc_engine__flow_stats(e), &ex, f), 0);
	fclose(f);
	CHECK(strstr(text, "\"packets_read\":1,") != NULL);
	CHECK(strstr(text, "\"packets_in_flows\":1,") != NULL);
	CHECK(strstr(text, "\"identity_ok\":true") != NULL);
	CHECK(strstr(text, "\"flows\":{\"created\":1,\"records\":1,") != NULL);
	CHECK(strstr(text, "\"warning\":\"cut \\\"short\\\"\"") != NULL);
	CHECK(text[len - 1] == '\n');
	free(text);
	fc_engine__free(e);
}

int main(void)
{
	RUN(test_accounting_and_order);
	RUN(test_fragments);
	RUN(test_idle_timeout_by_capture_time);
	RUN(test_size_histogram_edges);
	RUN(test_stats_json);
	return T_DONE();
}
