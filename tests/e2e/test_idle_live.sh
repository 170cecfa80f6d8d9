#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# With no traffic the engine is ticked by the wall clock: a UDP flow ends
# as "idle" while flowcut is still running (output is flushed every second).
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_flowcut --udp-idle-timeout 1s
sp=$(in_snd $PY udp-client "$ADDR_CAP" 7000 10 | json_field sport)
wait_line "$T/rec.json" "\"sport\":$sp,.*\"end_reason\":\"idle\"" "$FC_PID"
stop_flowcut
$CHECK expect "$T/rec.json" proto=17 sport=$sp pkts=1 rpkts=1 end_reason=idle
