// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the capture-file source: pcapng (sections of both byte
 * orders, per-interface link types and timestamp resolutions, EPB/SPB/PB,
 * skipped blocks), classic pcap through libpcap (us/ns, both byte orders),
 * filters, and every truncation point of a crafted file. */
#include <stdlib.h>
#include <unistd.h>

#include "flowcut/source.h"
#include "t.h"

struct buf {
	uint8_t d[4096];
	size_t n;
	int be;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put32(struct buf *b, uint32_t v)
{
	if (b->be)
		v = __builtin_bswap32(v);
	put(b, &v, 4);
}

static void put16(struct buf *b, uint16_t v)
{
	if (b->be)
		v = __builtin_bswap16(v);
	put(b, &v, 2);
}

static void shb(struct buf *b)
{
	put32(b, 0x0A0D0D0A);
	put32(b, 28);
	put32(b, 0x1A2B3C4D);
	put16(b, 1);
	put16(b, 0);
	put32(b, 0xffffffff);
	put32(b, 0xffffffff);
	put32(b, 28);
}

static void idb(struct buf *b, uint16_t lt, int tsresol)
{
	uint32_t len = 20 + (tsresol >= 0 ? 12 : 0);

	put32(b, 1);
	put32(b, len);
	put16(b, lt);
	put16(b, 0);
	put32(b, 65535);
	if (tsresol >= 0) {
		uint8_t v[4] = { (uint8_t)tsresol, 0, 0, 0 };

		put16(b, 9);
		put16(b, 1);
		put(b, v, 4);
		put32(b, 0);	/* opt_endofopt */
	}
	put32(b, len);
}

static void epb(struct buf *b, uint32_t ifid, uint64_t ts, const uint8_t *data, uint32_t n)
{
	uint32_t padded = (n + 3) & ~3u, len = 32 + padded;
	uint8_t zero[4] = { 0 };

	put32(b, 6);
	put32(b, len);
	put32(b, ifid);
	put32(b, (uint32_t)(ts >> 32));
	put32(b, (uint32_t)ts);
	put32(b, n);
	put32(b, n + 10);
	put(b, data, n);
	put(b, zero, padded - n);
	put32(b, len);
}

static void spb(struct buf *b, const uint8_t *data, uint32_t n)
{
	uint32_t padded = (n + 3) & ~3u, len = 16 + padded;
	uint8_t zero[4] = { 0 };

	put32(b, 3);
	put32(b, len);
	put32(b, n);
	put(b, data, n);
	put(b, zero, padded - n);
	put32(b, len);
}

static void nrb_like(struct buf *b)
{
	put32(b, 4);	/* Name Resolution Block, empty: skipped */
	put32(b, 16);
	put32(b, 0);
	put32(b, 16);
}

/* Reads all frames; returns count, stores the final status. */
static int read_all(const char *path, const char *filter, enum fc_src_status *st,
		    struct fc_frame *frames, int max, int *matched)
{
	char err[512];
	struct fc_pcap_src *src = fc_pcap_src__open(path, filter, err, sizeof(err));
	struct fc_frame f;
	int n = 0;

	if (!src)
		return -1;
	if (matched)
		*matched = 0;
	while ((*st = fc_pcap_src__next(src, &f)) == FC_SRC_FRAME) {
		if (n < max)
			frames[n] = f;
		if (matched)
			*matched += fc_pcap_src__match(src, &f);
		frames[n < max ? n : max - 1].data = NULL;	/* not valid after next() */
		n++;
	}
	fc_pcap_src__close(src);
	return n;
}

static size_t build_ng(struct buf *b)
{
	static const uint8_t pkt[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x08, 0x06 };
	struct buf be = { .be = 1 };

	memset(b, 0, sizeof(*b));
	shb(b);
	idb(b, 1, -1);		/* Ethernet, microseconds */
	idb(b, 101, 9);		/* raw IP, nanoseconds */
	epb(b, 0, 1700000000123456ULL, pkt, 60);
	nrb_like(b);
	epb(b, 1, 1700000000123456789ULL, pkt + 14, 21);
	spb(b, pkt, 42);
	/* A second section, big-endian, with its own interfaces. */
	shb(&be);
	idb(&be, 0, 0x80 | 20);	/* NULL link type, 2^-20 s */
	epb(&be, 0, (uint64_t)5 << 20, pkt, 8);
	put(b, be.d, be.n);
	return b->n;
}

static void test_pcapng_sections(void)
{
	struct buf b;
	struct fc_frame fr[8];
	enum fc_src_status st;
	const char *path;
	int n;

	build_ng(&b);
	path = t_write_tmp(b.d, b.n);
	n = read_all(path, NULL, &st, fr, 8, NULL);
	CHECK_EQ_U(n, 4);
	CHECK_EQ_U(st, FC_SRC_EOF);
	CHECK_EQ_U(fr[0].linktype, 1);
	CHECK_EQ_U(fr[0].ts_ns, 1700000000123456000ULL);
	CHECK_EQ_U(fr[0].caplen, 60);
	CHECK_EQ_U(fr[0].wirelen, 70);
	CHECK_EQ_U(fr[1].linktype, 101);
	CHECK_EQ_U(fr[1].ts_ns, 1700000000123456789ULL);
	CHECK_EQ_U(fr[1].caplen, 21);
	CHECK_EQ_U(fr[2].linktype, 1);	/* SPB: interface 0 */
	CHECK_EQ_U(fr[2].caplen, 42);
	CHECK_EQ_U(fr[3].linktype, 0);
	CHECK_EQ_U(fr[3].ts_ns, 5000000000ULL);
	unlink(path);
}

/* Cut the file at every length: never a crash, packets before the cut stand. */
static void test_pcapng_every_truncation(void)
{
	struct buf b;
	struct fc_frame fr[8];
	enum fc_src_status st;
	size_t full = build_ng(&b), cut;
	int prev = 0;

	for (cut = 0; cut < full; cut++) {
		const char *path = t_write_tmp(b.d, cut);
		int n = read_all(path, NULL, &st, fr, 8, NULL);

		if (cut < 28) {
			CHECK(n == -1);	/* not even a section header: not a capture */
		} else {
			CHECK(n >= prev);
			CHECK(n <= 4);
			CHECK(st == FC_SRC_EOF || st == FC_SRC_TRUNCATED);
			prev = n;
		}
		unlink(path);
	}
	CHECK_EQ_U(prev, 3);
}

static void test_pcapng_corrupt(void)
{
	struct buf b;
	struct fc_frame fr[8];
	enum fc_src_status st;
	const char *path;
	size_t off = 28 + 20 + 32;	/* first EPB */
	int n;

	build_ng(&b);
	b.d[off + 8] = 7;	/* interface id 7 does not exist */
	path = t_write_tmp(b.d, b.n);
	n = read_all(path, NULL, &st, fr, 8, NULL);
	CHECK_EQ_U(n, 0);
	CHECK_EQ_U(st, FC_SRC_ERROR);
	unlink(path);

	build_ng(&b);
	b.d[off + 4] = 0xf0;	/* block length no longer matches its trailer */
	path = t_write_tmp(b.d, b.n);
	read_all(path, NULL, &st, fr, 8, NULL);
	CHECK_EQ_U(st, FC_SRC_ERROR);
	unlink(path);
}

static size_t build_pcap(struct buf *b, int be, int nano)
{
	static const uint8_t ip_udp[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
					    10, 0, 0, 2, 0x12, 0x34, 0, 53, 0, 8, 0, 0 };
	int i;

	memset(b, 0, sizeof(*b));
	b->be = be;
	put32(b, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(b, 2);
	put16(b, 4);
	put32(b, 0);
	put32(b, 0);
	put32(b, 65535);
	put32(b, 101);	/* LINKTYPE_RAW */
	for (i = 0; i < 3; i++) {
		put32(b, 1700000000 + (uint32_t)i);
		put32(b, 999);
		put32(b, 28);
		put32(b, 28);
		put(b, ip_udp, 28);
	}
	return b->n;
}

static void test_pcap_classic(void)
{
	struct buf b;
	struct fc_frame fr[8];
	enum fc_src_status st;
	int be, nano, n, matched;

	for (be = 0; be < 2; be++)
		for (nano = 0; nano < 2; nano++) {
			const char *path;

			build_pcap(&b, be, nano);
			path = t_write_tmp(b.d, b.n);
			n = read_all(path, "udp port 53", &st, fr, 8, &matched);
			CHECK_EQ_U(n, 3);
			CHECK_EQ_U(matched, 3);
			CHECK_EQ_U(st, FC_SRC_EOF);
			CHECK_EQ_U(fr[1].ts_ns, 1700000001000000000ULL + (nano ? 999 : 999000));
			n = read_all(path, "tcp", &st, fr, 8, &matched);
			CHECK_EQ_U(matched, 0);
			unlink(path);
		}
}

static void test_pcap_truncations(void)
{
	struct buf b;
	struct fc_frame fr[8];
	enum fc_src_status st;
	size_t full = build_pcap(&b, 0, 0), cut;

	for (cut = 0; cut <= full; cut++) {
		const char *path = t_write_tmp(b.d, cut);
		int n = read_all(path, NULL, &st, fr, 8, NULL);

		if (cut < 24) {
			CHECK(n == -1);
		} else {
			CHECK_EQ_U(n, (cut - 24) / 44);
			CHECK(st == ((cut - 24) % 44 ? FC_SRC_TRUNCATED : FC_SRC_EOF));
		}
		unlink(path);
	}
}

static void test_open_errors(void)
{
	char err[512];
	const char *path = t_write_tmp((const uint8_t *)"hello, not a capture file", 25);

	CHECK(fc_pcap_src__open("/nonexistent/x.pcap", NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(fc_pcap_src__open(path, NULL, err, sizeof(err)) == NULL);
	CHECK(fc_pcap_src__open("/tmp", NULL, err, sizeof(err)) == NULL);
	unlink(path);
	{
		struct buf b;

		build_pcap(&b, 0, 0);
		path = t_write_tmp(b.d, b.n);
		CHECK(fc_pcap_src__open(path, "tcp port", err, sizeof(err)) == NULL);
		CHECK(strstr(err, "bad filter") != NULL);
		unlink(path);
	}
}

int main(void)
{
	RUN(test_pcapng_sections);
	RUN(test_pcapng_every_truncation);
	RUN(test_pcapng_corrupt);
	RUN(test_pcap_classic);
	RUN(test_pcap_truncations);
	RUN(test_open_errors);
	return T_DONE();
}
