#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs every Debian package flowcut needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

PKGS_BUILD="build-essential pkg-config clang llvm libpcap-dev libsqlite3-dev libclang-rt-14-dev libfuzzer-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev"
# export: the config file parser (flowcut.conf(5))
PKGS_BUILD="$PKGS_BUILD libinih-dev"
# nfdump: nfcapd is the reference collector of the ipfix sink's end-to-end test
PKGS_TEST="tshark tcpdump python3 iproute2 ethtool iputils-ping nfdump gdb"
# clickhouse: the clickhouse sink's end-to-end test runs a private clickhouse-server
PKGS_TEST="$PKGS_TEST clickhouse-server clickhouse-client"
PKGS_BENCH="softflowd nfdump argus-client argus-server time tcpreplay netsniff-ng"

want="$PKGS_BUILD"
case "${1:-all}" in
build) ;;
test) want="$want $PKGS_TEST" ;;
all) want="$want $PKGS_TEST $PKGS_BENCH" ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# Wait for a dpkg lock held by another apt run instead of failing at once.
APT_LOCK="-o DPkg::Lock::Timeout=600"
$SUDO apt-get $APT_LOCK update -qq
# shellcheck disable=SC2086
$SUDO apt-get $APT_LOCK install -y -qq --no-install-recommends $missing
