// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_community_id.c - SHA-1 against the FIPS 180 examples, and Community
 * ID v1 against the spec's published values and values computed by tshark
 * 4.0's independent implementation (-o communityid.seed:0 on a crafted
 * pcap of one packet per case).
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "flowcut/flowtab.h"
#include "sha1.h"
#include "t.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha1(const char *msg, size_t len, const char *want)
{
	uint8_t d[FC_SHA1_LEN];
	char got[2 * FC_SHA1_LEN + 1];

	fc_sha1(msg, len, d);
	hex(d, sizeof(d), got);
	CHECK_STR(got, want);
}

static void test_sha1_vectors(void)
{
	static const char *l56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char *l112 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1(l56, strlen(l56), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_sha1(l112, strlen(l112), "a49b2446a02c645bf419f995b67091253a04a259");
}

static void test_sha1_million_a_incremental(void)
{
	struct fc_sha1 s;
	uint8_t d[FC_SHA1_LEN], chunk[997];
	char got[41];
	size_t left = 1000000, n;

	/* odd chunk size exercises the partial-block path */
	memset(chunk, 'a', sizeof(chunk));
	fc_sha1__init(&s);
	for (; left; left -= n) {
		n = left < sizeof(chunk) ? left : sizeof(chunk);
		fc_sha1__update(&s, chunk, n);
	}
	fc_sha1__final(&s, d);
	hex(d, sizeof(d), got);
	CHECK_STR(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha1_block_edges(void)
{
	/* 55, 56, 63, 64 bytes: padding spills into a second block at 56 */
	char buf[64];
	uint8_t one[FC_SHA1_LEN], inc[FC_SHA1_LEN];
	struct fc_sha1 s;
	size_t n, i;

	memset(buf, 'x', sizeof(buf));
	for (n = 54; n <= 64; n++) {
		fc_sha1(buf, n, one);
		fc_sha1__init(&s);
		for (i = 0; i < n; i++)
			fc_sha1__update(&s, buf + i, 1);
		fc_sha1__final(&s, inc);
		CHECK(memcmp(one, inc, sizeof(one)) == 0);
	}
	check_sha1(buf, 64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163");
}

/*
 * The SHA-NI block function against the portable one: the FIPS vectors under
 * each, then 400 pseudo-random messages of 0..399 bytes (every padding case,
 * one to eight blocks) hashed by both.
 */
static void test_sha1_implementations_agree(void)
{
	uint8_t msg[400], c[FC_SHA1_LEN], ni[FC_SHA1_LEN];
	uint32_t x = 0x9e3779b9u;
	size_t n, i;
	bool have_ni;

	CHECK(fc_sha1__select(true));
	test_sha1_vectors();
	have_ni = fc_sha1__select(false);
	if (!have_ni)
		fprintf(stderr, "  (this CPU has no SHA extensions: portable path only)\n");
	test_sha1_vectors();
	test_sha1_million_a_incremental();
	for (n = 0; n < sizeof(msg); n++) {
		for (i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			msg[i] = (uint8_t)x;
		}
		fc_sha1__select(true);
		fc_sha1(msg, n, c);
		fc_sha1__select(false);
		fc_sha1(msg, n, ni);
		CHECK(memcmp(c, ni, sizeof(c)) == 0);
	}
}

static struct fc_addr a4(const char *s)
{
	struct fc_addr a;

	memset(&a, 0, sizeof(a));
	CHECK(inet_pton(AF_INET, s, a.b) == 1);
	return a;
}

static struct fc_addr a6(const char *s)
{
	struct fc_addr a;

	CHECK(inet_pton(AF_INET6, s, a.b) == 1);
	return a;
}

static void cid(int fam, uint8_t proto, const char *s, const char *d, uint16_t sp, uint16_t dp,
		const char *want)
{
	struct fc_addr src = fam == 4 ? a4(s) : a6(s), dst = fam == 4 ? a4(d) : a6(d);
	char out[FC_COMMUNITY_ID_LEN];

	fc_community_id(fam, proto, &src, &dst, sp, dp, out);
	CHECK_STR(out, want);
	CHECK_EQ_U(strlen(out), FC_COMMUNITY_ID_LEN - 1);
}

static void test_spec_values(void)
{
	cid(4, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	cid(4, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	cid(4, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
}

static void test_direction_free(void)
{
	cid(4, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	cid(4, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	/* echo reply from the other side meets the request */
	cid(4, 1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
}

/* Values from tshark (see the file comment). */
static void test_tshark_values(void)
{
	cid(4, 6, "172.26.0.39", "172.217.14.206", 35958, 443, "1:0rRFlkfZsYZ0l7PqLoMEAxHMqrI=");
	cid(4, 6, "172.217.14.206", "172.26.0.39", 443, 35958, "1:0rRFlkfZsYZ0l7PqLoMEAxHMqrI=");
	cid(6, 6, "2600:1f13:f8:d400:3a6:303c:e011:18eb", "2001:4860:4860::8888", 33892, 443,
	    "1:x48XA3YiAaOKTB0FEpvi+0cbuGg=");
	cid(6, 6, "2600:1f13:f8:d400:3a6:303c:e011:18eb", "2607:f8b0:400a:800::200e", 60202, 443,
	    "1:njFHyHv2ATzLP9rSy0H6wbG73QU=");
	/* one-way ICMP: dest unreachable, time exceeded (ports = type, code; never swapped) */
	cid(4, 1, "10.0.0.9", "10.0.0.1", 3, 1, "1:FutSOBs/xBc7wkuFbYH/sZyfZw8=");
	cid(4, 1, "10.0.0.1", "10.0.0.9", 11, 0, "1:ZrKPjKcxHf+wWuGV7uoe094ZD0g=");
	cid(4, 132, "10.1.1.1", "10.0.0.2", 5000, 3868, "1:PhHNDhq3QXMe2ifTSUNpmqW/m+I=");
	/* GRE has no ports: addresses and protocol only */
	cid(4, 47, "10.1.1.1", "10.0.0.2", 0, 0, "1:3z6hd5PnQBg1YNX9doREBDKPC7E=");
	cid(4, 47, "10.0.0.2", "10.1.1.1", 1234, 99, "1:3z6hd5PnQBg1YNX9doREBDKPC7E=");
	/* equal addresses: ordered by port */
	cid(4, 17, "10.1.1.1", "10.1.1.1", 9000, 80, "1:pnAbAczwO8rMvMHPF0i7CMwF2jo=");
	cid(4, 17, "10.1.1.1", "10.1.1.1", 80, 9000, "1:pnAbAczwO8rMvMHPF0i7CMwF2jo=");
	/* ICMPv6 neighbour solicitation (two-way 135/136), echo, one-way unreachable */
	cid(6, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0,
	    "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
	cid(6, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0,
	    "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
	cid(6, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:410:0:2c0:dfff:fe47:33e", 128, 0,
	    "1:68bKFDKetB8kCl+ulMhTOH9U2Pw=");
	cid(6, 58, "2001:db8::2", "2001:db8::1", 1, 4, "1:qxd1LeYGiZWewhdgFCEH4g39f1w=");
	cid(6, 17, "2001:db8::2", "2001:db8::1", 123, 123, "1:KNuk9+HkLoRDMQdSOSDFJ6BtHDM=");
}

int main(void)
{
	RUN(test_sha1_vectors);
	RUN(test_sha1_million_a_incremental);
	RUN(test_sha1_block_edges);
	RUN(test_sha1_implementations_agree);
	RUN(test_spec_values);
	RUN(test_direction_free);
	RUN(test_tshark_values);
	return T_DONE();
}
