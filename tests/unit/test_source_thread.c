// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the threaded source: the reader thread hands over exactly
 * the frames, order, lengths, timestamps and filter verdicts of the plain
 * source, through many wraparounds of its ring and with frames too big for
 * the ring; stopping early neither hangs nor leaks; the final status (EOF or
 * a truncated file) comes through. */
#include <stdlib.h>
#include <unistd.h>

#include "flowcut/source.h"
#include "flowcut/source_thread.h"
#include "t.h"

#define NFRAMES 3000
#define BIG 400000

static uint8_t *buf;
static size_t blen, bcap;

static void put(const void *p, size_t n)
{
	if (blen + n > bcap) {
		bcap = (blen + n) * 2;
		buf = realloc(buf, bcap);
	}
	memcpy(buf + blen, p, n);
	blen += n;
}

static void put32(uint32_t v)
{
	put(&v, 4);
}

static void put16(uint16_t v)
{
	put(&v, 2);
}

/* A pcapng file (own reader: no libpcap snaplen cap) with frames of varied
 * sizes, a few larger than a quarter of the 1 MiB ring. */
static const char *make_file(size_t *expect_bytes, int cut)
{
	static char path[64];
	uint32_t i;
	int fd;

	blen = 0;
	put32(0x0A0D0D0A), put32(28), put32(0x1A2B3C4D), put16(1), put16(0);
	put32(0xffffffff), put32(0xffffffff), put32(28);
	put32(1), put32(20), put16(101), put16(0), put32(0), put32(20);
	*expect_bytes = 0;
	for (i = 0; i < NFRAMES; i++) {
		uint32_t n = i % 997 == 5 ? BIG : 20 + (i * 7919u) % 1500;
		uint32_t padded = (n + 3) & ~3u, len = 32 + padded, k;
		uint8_t b;

		put32(6), put32(len), put32(0), put32(0), put32(1000 + i), put32(n), put32(n);
		for (k = 0; k < padded; k++) {
			b = k < n ? (uint8_t)(i + k) : 0;
			if (k == 0 && k < n)
				b = (i & 1) ? 0x45 : 0x60;	/* IPv4 or IPv6 for the filter */
			put(&b, 1);
		}
		put32(len);
		*expect_bytes += n;
	}
	if (cut)
		blen -= 10;	/* file ends inside the last block */
	strcpy(path, "/tmp/fc_test_st_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, buf, blen) != (ssize_t)blen)
		abort();
	close(fd);
	return path;
}

static void compare(int cut)
{
	size_t expect;
	const char *path = make_file(&expect, cut);
	char err[256];
	struct fc_pcap_src *a = fc_pcap_src__open(path, "ip", err, sizeof(err));
	struct fc_pcap_src *b = fc_pcap_src__open(path, "ip", err, sizeof(err));
	struct fc_src_thread *t = b ? fc_src_thread__start(b, 1) : NULL;
	enum fc_src_status sa, sb;
	struct fc_frame fa, fb;
	bool filtered;
	size_t n = 0, bytes = 0, bad = 0;

	CHECK(a && b && t);
	if (!a || !b || !t)
		return;
	for (;;) {
		sa = fc_pcap_src__next(a, &fa);
		sb = fc_src_thread__next(t, &fb, &filtered);
		if (sa != sb) {
			bad++;
			break;
		}
		if (sa != FC_SRC_FRAME)
			break;
		if (fa.caplen != fb.caplen || fa.wirelen != fb.wirelen || fa.ts_ns != fb.ts_ns ||
		    fa.linktype != fb.linktype || memcmp(fa.data, fb.data, fa.caplen) ||
		    filtered != !fc_pcap_src__match(a, &fa))
			bad++;
		n++;
		bytes += fb.caplen;
	}
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(n, cut ? NFRAMES - 1 : NFRAMES);
	CHECK_EQ_U(sb, cut ? FC_SRC_TRUNCATED : FC_SRC_EOF);
	if (!cut)
		CHECK_EQ_U(bytes, expect);
	fc_src_thread__stop(t);
	fc_pcap_src__close(a);
	fc_pcap_src__close(b);
	unlink(path);
}

static void test_same_frames(void)
{
	compare(0);
}

static void test_truncated_file(void)
{
	compare(1);
}

static void test_stop_early(void)
{
	size_t expect;
	const char *path = make_file(&expect, 0);
	char err[256];
	int round;

	for (round = 0; round < 20; round++) {
		struct fc_pcap_src *src = fc_pcap_src__open(path, NULL, err, sizeof(err));
		struct fc_src_thread *t = fc_src_thread__start(src, 1);
		struct fc_frame f;
		bool filtered;
		int i;

		for (i = 0; i < round * 37; i++)
			if (fc_src_thread__next(t, &f, &filtered) != FC_SRC_FRAME)
				break;
		fc_src_thread__stop(t);	/* the reader may be blocked on a full ring */
		fc_pcap_src__close(src);
	}
	fc_src_thread__stop(NULL);
	unlink(path);
}

int main(void)
{
	RUN(test_same_frames);
	RUN(test_truncated_file);
	RUN(test_stop_early);
	free(buf);
	return T_DONE();
}
