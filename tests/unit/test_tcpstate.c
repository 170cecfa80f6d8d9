// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_tcpstate.c - crafted segment sequences -> Zeek conn_state and
 * history. A sequence is a string of packets: the letter picks the flags
 * (S SYN, H SYN+ACK, A ACK, D ACK+payload, F FIN+ACK, G FIN+ACK+payload,
 * R RST, X RST+ACK, I FIN+RST, Q SYN+FIN, P SYN+payload, N no flags),
 * uppercase from the originator, lowercase from the responder.
 */
#include <ctype.h>

#include "tcpstate.h"
#include "t.h"

static void feed(struct fc_tcpstate *ts, const char *seq)
{
	for (; *seq; seq++) {
		int dir = islower((unsigned char)*seq) ? 1 : 0;
		uint16_t fl = 0;
		uint32_t len = 0;

		switch (toupper((unsigned char)*seq)) {
		case 'S': fl = FC_TCPF_SYN; break;
		case 'H': fl = FC_TCPF_SYN | FC_TCPF_ACK; break;
		case 'A': fl = FC_TCPF_ACK; break;
		case 'D': fl = FC_TCPF_ACK | FC_TCPF_PSH; len = 100; break;
		case 'F': fl = FC_TCPF_FIN | FC_TCPF_ACK; break;
		case 'G': fl = FC_TCPF_FIN | FC_TCPF_ACK; len = 10; break;
		case 'R': fl = FC_TCPF_RST; break;
		case 'X': fl = FC_TCPF_RST | FC_TCPF_ACK; break;
		case 'I': fl = FC_TCPF_FIN | FC_TCPF_RST; break;
		case 'Q': fl = FC_TCPF_SYN | FC_TCPF_FIN; break;
		case 'P': fl = FC_TCPF_SYN; len = 10; break;
		case 'N': fl = 0; break;
		default: CHECK(!"bad sequence letter");
		}
		fc_tcpstate__update(ts, dir, fl, len);
	}
}

static void expect(const char *seq, enum fc_tcp_state st, const char *hist)
{
	struct fc_tcpstate ts;
	char h[FC_HISTORY_MAX + 1];

	memset(&ts, 0, sizeof(ts));
	feed(&ts, seq);
	fc_tcpstate__history(&ts, h);
	if (fc_tcpstate__conn_state(&ts) != st || strcmp(h, hist) != 0)
		fprintf(stderr, "  sequence %s: got %s %s, want %s %s\n", seq,
			fc_tcp_state_name(fc_tcpstate__conn_state(&ts)), h, fc_tcp_state_name(st), hist);
	CHECK_EQ_U(fc_tcpstate__conn_state(&ts), st);
	CHECK_STR(h, hist);
}

static void test_normal_sf(void)
{
	expect("ShADadFaf", FC_TCP_SF, "ShADadFf");
	expect("ShADadFfA", FC_TCP_SF, "ShADadFf");
	expect("ShAdDfF", FC_TCP_SF, "ShAdDfF");
	/* FIN with payload is an F, not a D (Zeek: one of SYN/FIN/RST wins) */
	expect("ShAGg", FC_TCP_SF, "ShAFf");
}

static void test_s0_s1(void)
{
	expect("S", FC_TCP_S0, "S");
	expect("SSS", FC_TCP_S0, "S");
	expect("Sh", FC_TCP_S1, "Sh");
	expect("ShADad", FC_TCP_S1, "ShADad");
}

static void test_rej(void)
{
	expect("Sr", FC_TCP_REJ, "Sr");
	expect("Sx", FC_TCP_REJ, "Sr");
	expect("SSr", FC_TCP_REJ, "Sr");
}

static void test_rsto_rstr(void)
{
	expect("ShADaR", FC_TCP_RSTO, "ShADaR");
	expect("ShR", FC_TCP_RSTO, "ShR");
	expect("ShADadr", FC_TCP_RSTR, "ShADadr");
	/* a RST after an orderly close still reads as an abort, as in Zeek */
	expect("ShADadFfR", FC_TCP_RSTO, "ShADadFfR");
}

static void test_rstos0_rstrh(void)
{
	expect("SR", FC_TCP_RSTOS0, "SR");
	expect("SSR", FC_TCP_RSTOS0, "SR");
	/* responder SYN-ACK then RST, no SYN from the originator */
	expect("hr", FC_TCP_RSTRH, "hr");
}

static void test_s2_s3_sh_shr(void)
{
	expect("ShADF", FC_TCP_S2, "ShADF");
	expect("ShADadf", FC_TCP_S3, "ShADadf");
	expect("SF", FC_TCP_SH, "SF");
	expect("hf", FC_TCP_SHR, "hf");
}

static void test_midstream_oth(void)
{
	expect("Dd", FC_TCP_OTH, "Dd");
	expect("DdAa", FC_TCP_OTH, "DdAa");
	expect("a", FC_TCP_OTH, "a");
	/* midstream then both FINs: Zeek calls that SF too */
	expect("DdFf", FC_TCP_SF, "DdFf");
	/* midstream then originator RST, no SYN: not RSTOS0 */
	expect("DR", FC_TCP_OTH, "DR");
}

static void test_synack_first(void)
{
	/* we saw the SYN-ACK first; the table makes its receiver the originator */
	expect("hADad", FC_TCP_OTH, "hADad");
	expect("hADadFf", FC_TCP_SF, "hADadFf");
	/* the SYN shows up late (reordered capture): both ends established */
	expect("hSA", FC_TCP_S1, "hSA");
}

static void test_multi_flag_letters(void)
{
	/* FIN+RST is I and resets; Zeek's RSTOS0 pattern wants an R, so OTH */
	expect("SI", FC_TCP_OTH, "SI");
	expect("SRI", FC_TCP_RSTOS0, "SRI");
	expect("Q", FC_TCP_SH, "Q");		/* SYN+FIN is Q */
	expect("Sq", FC_TCP_S3, "Sq");		/* responder closed, originator not inactive */
	/* SYN carrying data is still an S; N (no flags, no data) adds no letter */
	expect("PN", FC_TCP_S0, "S");
}

static void test_history_cap(void)
{
	struct fc_tcpstate ts;
	char h[FC_HISTORY_MAX + 1];

	/* every letter both ways: 16 distinct letters fit, repeats add nothing */
	memset(&ts, 0, sizeof(ts));
	feed(&ts, "ShADFQIRsHadfqirSHADFRIQshadfriq");
	fc_tcpstate__history(&ts, h);
	CHECK_EQ_U(strlen(h), 16);
	CHECK_STR(h, "ShADFQIRsHadfqir");
}

static void test_closed_predicate(void)
{
	struct fc_tcpstate ts;

	memset(&ts, 0, sizeof(ts));
	feed(&ts, "ShADadF");
	CHECK(!fc_tcpstate__closed(&ts));
	feed(&ts, "f");
	CHECK(fc_tcpstate__closed(&ts));
	CHECK(!fc_tcpstate__reset(&ts));

	memset(&ts, 0, sizeof(ts));
	feed(&ts, "Sr");
	CHECK(fc_tcpstate__closed(&ts));
	CHECK(fc_tcpstate__reset(&ts));
}

int main(void)
{
	RUN(test_normal_sf);
	RUN(test_s0_s1);
	RUN(test_rej);
	RUN(test_rsto_rstr);
	RUN(test_rstos0_rstrh);
	RUN(test_s2_s3_sh_shr);
	RUN(test_midstream_oth);
	RUN(test_synack_first);
	RUN(test_multi_flag_letters);
	RUN(test_history_cap);
	RUN(test_closed_predicate);
	return T_DONE();
}
