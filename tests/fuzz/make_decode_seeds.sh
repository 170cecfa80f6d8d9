#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerate tests/fuzz/seeds/fuzz_decode/ from the frames of the decoder's
# unit tests (tests/unit/test_decode.c writes each frame as a 2-byte LE link
# type + frame when FC_DECODE_SEED_DIR is set), keeping a fixed subset that
# covers every link type and tunnel, plus the regress_* inputs the fuzzer
# found. Run from the repository root.
set -eu

out=tests/fuzz/seeds/fuzz_decode
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s build/tests/test_decode
FC_DECODE_SEED_DIR=$tmp build/tests/test_decode >/dev/null

keep="eth_ipv4_tcp eth_ipv4_opts_udp eth_vlan_ipv4_frag_first
eth_icmp eth_icmp6 eth_ipv6_ext_ah_udp eth_ipv6_frag_first eth_ipv6_jumbo eth_6in4
eth_qinqinq_tcp eth_vntag_vlan_tcp eth_llc_snap_ipv4 eth_vlan_mpls_ipv4 eth_ipip_x5
eth_pppoe_ipv4 eth_qinq_pppoe_ipv6 eth_pppoe_pfc_ipv4 sll_ipv4_tcp sll2_ipv6_tcp
null_le_ipv4 loop_be_ipv4 null_ipv6_udp ppp_hdlc_ipv4 ppp_mpls_ipv4 chdlc_ipv4
fddi_snap_ipv4 nflog_ipv4_tcp pktap_eth_udp raw_ipv4 raw_ipv6 eth_vxlan_vxlan_udp
eth_gre_csum_key_seq_ipv4 eth_gre_teb_vlan eth_erspan2 eth_erspan3_sub
eth_pptp_gre_ppp_ipv4 eth_vxlan_tcp eth_geneve_eth_udp
eth_ipv6_rt0_udp eth_ipv6_rt2_tcp eth_ipv6_srh_icmp6 eth_ipv6_rt0_frag_first
eth_ipv6_home_addr_udp eth_ipv6_rt2_home_tcp eth_ipv6_home_addr_badlen
eth_gtpu_ipv4_tcp eth_gtpu_ext_ipv6_udp eth_gtpu_ext_too_many eth_gre_udp_ipv4_udp
eth_gre_udp_teb eth_mpls_udp_icmp eth_teredo_ipv6_udp eth_teredo_origin_icmp6
eth_teredo_auth_origin_bubble eth_gtpu_teredo_udp"

mkdir -p "$out"
# regress_* files are fuzzer finds: kept forever, never regenerated.
find "$out" -type f ! -name 'regress_*' -delete
for name in $keep; do
	cp "$tmp/$name" "$out/$name"
done
echo "$(ls "$out" | wc -l) seeds in $out"
