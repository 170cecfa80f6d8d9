// SPDX-License-Identifier: BSD-2-Clause
/*
 * fuzz_decode.c - libFuzzer target for fc_decode_frame(). Input: a 2-byte
 * little-endian link type (mapped onto a supported one if it is not), then
 * the frame. Checks the invariants the rest of flowcut relies on: exactly
 * one kind, a named reason only for non-flow packets, sane families,
 * ip_bytes and tunnel depth. Seeds: tests/fuzz/seeds/fuzz_decode/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
	FC_LINKTYPE_NULL,	FC_LINKTYPE_ETHERNET, FC_LINKTYPE_PPP,	 FC_LINKTYPE_FDDI,
	FC_DLT_RAW_12,		FC_DLT_RAW_14,	      FC_LINKTYPE_RAW,	 FC_LINKTYPE_C_HDLC,
	FC_LINKTYPE_LOOP,	FC_LINKTYPE_LINUX_SLL, FC_LINKTYPE_IPV4, FC_LINKTYPE_IPV6,
	FC_LINKTYPE_NFLOG,	FC_LINKTYPE_PKTAP,    FC_LINKTYPE_LINUX_SLL2,
};

#define N_LINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_pkt pkt;
	int lt;

	if (size < 2)
		return 0;
	lt = data[0] | data[1] << 8;
	if (!fc_decode_linktype_supported(lt))
		lt = linktypes[(unsigned int)lt % N_LINKTYPES];
	fc_decode_frame(lt, data + 2, (uint32_t)(size - 2), &pkt);

	switch (pkt.kind) {
	case FC_PKT_FLOW:
		check(pkt.nonflow == FC_NF_NONE);
		check(pkt.key.family == 4 || pkt.key.family == 6);
		check(pkt.l3_family == pkt.key.family);
		check(pkt.ip_bytes >= (pkt.key.family == 4 ? 20u : 40u));
		check(!(pkt.flags & FC_PKTF_FRAG) || (pkt.flags & FC_PKTF_FRAG_FIRST));
		check(!(pkt.key.flags & FC_KEYF_VLAN2) || (pkt.key.flags & FC_KEYF_VLAN));
		check(pkt.key.vlan < 4096 && pkt.key.vlan_inner < 4096);
		if (pkt.key.proto == 1 || pkt.key.proto == 58)
			check(pkt.key.flags & FC_KEYF_PORTS_SYMMETRIC);
		break;
	case FC_PKT_FRAG_LATER:
		check(pkt.nonflow == FC_NF_NONE);
		check((pkt.flags & (FC_PKTF_FRAG | FC_PKTF_FRAG_FIRST)) == FC_PKTF_FRAG);
		check(pkt.frag.family == 4 || pkt.frag.family == 6);
		check(pkt.ip_bytes >= (pkt.frag.family == 4 ? 20u : 40u));
		break;
	case FC_PKT_NONFLOW:
		check(pkt.nonflow > FC_NF_NONE && pkt.nonflow < FC_NONFLOW__COUNT);
		/* The decoder knows nothing of reassembly or filters. */
		check(pkt.nonflow != FC_NF_FRAG_ORPHAN && pkt.nonflow != FC_NF_FILTERED);
		check(pkt.flags == 0);
		break;
	default:
		abort();
	}
	if (pkt.flags & FC_PKTF_TUNNEL) {
		check(pkt.kind != FC_PKT_NONFLOW);
		check(pkt.tunnel.depth >= 1 && pkt.tunnel.depth <= FC_TUNNEL_MAX_DEPTH);
		check(pkt.tunnel.type > FC_TUN_NONE && pkt.tunnel.type < FC_TUN__COUNT);
		check(pkt.tunnel.family == 4 || pkt.tunnel.family == 6);
		check(pkt.kind != FC_PKT_FLOW || pkt.key.tunnel_type == pkt.tunnel.type);
	} else {
		check(pkt.key.tunnel_type == FC_TUN_NONE && pkt.key.tunnel_id == 0);
	}
	/* Deterministic and pure: the same bytes decode the same way. */
	{
		struct fc_pkt again;

		fc_decode_frame(lt, data + 2, (uint32_t)(size - 2), &again);
		check(memcmp(&pkt, &again, sizeof(pkt)) == 0);
	}
	return 0;
}
