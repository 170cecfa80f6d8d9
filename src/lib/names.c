// SPDX-License-Identifier: BSD-2-Clause
/*
 * names.c - the stable text names of flowcut's enums. These names are an
 * interface: they appear in --stats JSON, flow records and metrics, so a
 * name never changes once released.
 */
#include "flowcut/pkt.h"
#include "flowcut/record.h"

struct nonflow_desc {
	const char *name;
	enum fc_nonflow_class cls;
};

static const struct nonflow_desc nonflow_desc[FC_NONFLOW__COUNT] = {
	[FC_NF_NONE] = { "none", FC_NFC_NOT_IP },
	[FC_NF_ARP] = { "arp", FC_NFC_NOT_IP },
	[FC_NF_NONIP] = { "non_ip", FC_NFC_NOT_IP },
	[FC_NF_PPPOE_DISCOVERY] = { "pppoe_discovery", FC_NFC_NOT_IP },
	[FC_NF_LINKTYPE] = { "linktype_unsupported", FC_NFC_UNSUPPORTED },
	[FC_NF_TRUNC_L2] = { "l2_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_VLAN] = { "vlan_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_MPLS] = { "mpls_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_PPPOE] = { "pppoe_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_IPV4] = { "ipv4_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_IPV6] = { "ipv6_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_IPV6_EXT] = { "ipv6_ext_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_TCP] = { "tcp_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_UDP] = { "udp_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_SCTP] = { "sctp_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_ICMP] = { "icmp_truncated", FC_NFC_TRUNCATED },
	[FC_NF_TRUNC_ICMPV6] = { "icmpv6_truncated", FC_NFC_TRUNCATED },
	[FC_NF_BAD_IP_VERSION] = { "ip_bad_version", FC_NFC_INVALID },
	[FC_NF_BAD_IPV4_IHL] = { "ipv4_bad_ihl", FC_NFC_INVALID },
	[FC_NF_BAD_IPV4_LEN] = { "ipv4_bad_length", FC_NFC_INVALID },
	[FC_NF_BAD_IPV6_LEN] = { "ipv6_bad_length", FC_NFC_INVALID },
	[FC_NF_BAD_TCP_OFF] = { "tcp_bad_offset", FC_NFC_INVALID },
	[FC_NF_BAD_UDP_LEN] = { "udp_bad_length", FC_NFC_INVALID },
	[FC_NF_BAD_FRAG] = { "fragment_too_short", FC_NFC_INVALID },
	[FC_NF_VLAN_TOO_DEEP] = { "vlan_too_deep", FC_NFC_UNSUPPORTED },
	[FC_NF_MPLS_TOO_DEEP] = { "mpls_too_deep", FC_NFC_UNSUPPORTED },
	[FC_NF_MPLS_PAYLOAD] = { "mpls_payload_unsupported", FC_NFC_UNSUPPORTED },
	[FC_NF_IPV6_EXT_TOO_MANY] = { "ipv6_ext_too_many", FC_NFC_UNSUPPORTED },
	[FC_NF_FRAG_ORPHAN] = { "fragment_orphan", FC_NFC_FRAGMENT },
	[FC_NF_FILTERED] = { "filtered", FC_NFC_FILTERED },
};

const char *fc_nonflow_name(enum fc_nonflow nf)
{
	if ((unsigned)nf >= FC_NONFLOW__COUNT)
		return "unknown";
	return nonflow_desc[nf].name;
}

enum fc_nonflow_class fc_nonflow_class(enum fc_nonflow nf)
{
	if ((unsigned)nf >= FC_NONFLOW__COUNT)
		return FC_NFC_INVALID;
	return nonflow_desc[nf].cls;
}

const char *fc_nonflow_class_name(enum fc_nonflow_class c)
{
	static const char *const names[FC_NFC__COUNT] = {
		[FC_NFC_NOT_IP] = "not_ip",	  [FC_NFC_TRUNCATED] = "truncated",
		[FC_NFC_INVALID] = "invalid",	  [FC_NFC_UNSUPPORTED] = "unsupported",
		[FC_NFC_FRAGMENT] = "fragment",	  [FC_NFC_FILTERED] = "filtered",
	};
	if ((unsigned)c >= FC_NFC__COUNT)
		return "unknown";
	return names[c];
}

const char *fc_tunnel_type_name(enum fc_tunnel_type t)
{
	static const char *const names[FC_TUN__COUNT] = {
		[FC_TUN_NONE] = "none",	    [FC_TUN_GRE] = "gre",	[FC_TUN_ERSPAN] = "erspan",
		[FC_TUN_VXLAN] = "vxlan",   [FC_TUN_GENEVE] = "geneve", [FC_TUN_IPIP] = "ipip",
		[FC_TUN_GTPU] = "gtpu",	    [FC_TUN_GRE_UDP] = "gre_udp",
		[FC_TUN_MPLS_UDP] = "mpls_udp", [FC_TUN_TEREDO] = "teredo",
	};
	if ((unsigned)t >= FC_TUN__COUNT)
		return "unknown";
	return names[t];
}

const char *fc_end_reason_name(enum fc_end_reason r)
{
	static const char *const names[FC_END__COUNT] = {
		[FC_END_FIN] = "fin",	    [FC_END_RST] = "rst",	  [FC_END_IDLE] = "idle",
		[FC_END_ACTIVE] = "active", [FC_END_EOF] = "eof",	  [FC_END_EVICTED] = "evicted",
		[FC_END_SHUTDOWN] = "shutdown",
	};
	if ((unsigned)r >= FC_END__COUNT)
		return "unknown";
	return names[r];
}

const char *fc_tcp_state_name(enum fc_tcp_state s)
{
	static const char *const names[FC_TCP__COUNT] = {
		[FC_TCP_S0] = "S0",	[FC_TCP_S1] = "S1",	[FC_TCP_SF] = "SF",	[FC_TCP_REJ] = "REJ",
		[FC_TCP_S2] = "S2",	[FC_TCP_S3] = "S3",	[FC_TCP_RSTO] = "RSTO", [FC_TCP_RSTR] = "RSTR",
		[FC_TCP_RSTOS0] = "RSTOS0", [FC_TCP_RSTRH] = "RSTRH", [FC_TCP_SH] = "SH",
		[FC_TCP_SHR] = "SHR",	[FC_TCP_OTH] = "OTH",
	};
	if ((unsigned)s >= FC_TCP__COUNT)
		return "unknown";
	return names[s];
}
