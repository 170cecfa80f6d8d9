#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/sinks.sh - `make bench-sinks`: records/s and CPU per million records
# for every registered sink (build/bench/sink_bench), on synthetic flow
# records shaped like bench/gen_synth's capture, pinned to one core.
# usage: bench/sinks.sh [RECORDS]   (default 1000000)
#   env FC_BENCH_CLICKHOUSE=clickhouse://127.0.0.1:8123/db.table  to include clickhouse
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
bin=build/bench/sink_bench
[ -x "$bin" ] || { echo "sinks.sh: $bin is not built (make build/bench/sink_bench)" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# one core (taskset -c 0); scratch dir on $(df --output=fstype "$scratch" | tail -1)"
taskset -c 0 "$bin" "$n" "$scratch"
