#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ipfix_bench.sh - builds bench/ipfix_bench.c against build/libflowcut.a and
# runs it for the UDP and TCP sinks (see BENCHMARKS.md, "IPFIX").
# usage: bench/ipfix_bench.sh [RECORDS] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(make -s -p -n -q 2>/dev/null | grep -E '^(LDLIBS|BASE_CFLAGS|OPT_CFLAGS) :=' |
	sed 's/ := \(.*\)/="\1"/')"
make -s build/libflowcut.a
# shellcheck disable=SC2086
cc $BASE_CFLAGS $OPT_CFLAGS -o build/ipfix_bench bench/ipfix_bench.c \
	-Wl,--whole-archive build/libflowcut.a -Wl,--no-whole-archive $LDLIBS
build/ipfix_bench udp "${1:-2000000}" "${2:-256}"
build/ipfix_bench tcp "${1:-2000000}" "${2:-256}"
