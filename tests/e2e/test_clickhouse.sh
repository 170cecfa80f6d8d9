#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_clickhouse.sh - the clickhouse sink against a real clickhouse-server
# (the Debian package) that this test starts as its own private instance: its
# own config and data in a temp dir, loopback only, free ports, stopped by PID.
#
#   1. the schema from share/clickhouse/flows.sql;
#   2. every golden capture and a real one exported through the sink: count,
#      sums and every field of every row equal `flowcut read`'s JSON;
#   3. create=1 builds the same table as flows.sql; user/password_file auth;
#   4. a wrong password and an unknown table fail with the server's message;
#   5. the server is killed mid-run: the next write fails, the batch is kept,
#      and after a restart every record is in the table exactly once;
#   6. with `flowcut read --sink` (once the CLI has it): records for a server
#      that is down go to the exporter's spool, and the next run after the
#      restart delivers them first: zero loss.
# Exports go through `flowcut read --sink` when the CLI has it, else through
# bench/ch_load.c (the library's engine + the sink, exporter-style retries).
# Prints nothing on success; exit 77 (skip) when clickhouse is not installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLOWCUT=${FLOWCUT:-$ROOT/build/flowcut}
CHECK="python3 $ROOT/tests/e2e/check_clickhouse.py"
REAL=${FC_SHARED:-$ROOT/../shared}/corpus/real/suricata-bug-5162.pcap
PING_TIMEOUT_S=20

die() { echo "$*" >&2; exit 1; }
skip() { echo "$*" >&2; exit 77; }

command -v clickhouse-server >/dev/null || skip "clickhouse-server not installed (scripts/setup.sh test)"
command -v clickhouse-client >/dev/null || skip "clickhouse-client not installed (scripts/setup.sh test)"
if [ ! -f "$ROOT/build/libflowcut.a" ] || [ ! -x "$FLOWCUT" ]; then skip "build first: make"; fi

T=$(mktemp -d /tmp/fc_ch.XXXXXX)
cleanup() {
	local pid
	pid=$(cat "$T/pid" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	fi
	[ -z "${E2E_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT

read -r HTTP_PORT TCP_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
BASE=http://127.0.0.1:$HTTP_PORT
mkdir -p "$T/data" "$T/tmp" "$T/user_files" "$T/format_schemas"
cat >"$T/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$T/server.log</log>
        <errorlog>$T/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$HTTP_PORT</http_port>
    <tcp_port>$TCP_PORT</tcp_port>
    <path>$T/data/</path>
    <tmp_path>$T/tmp/</tmp_path>
    <user_files_path>$T/user_files/</user_files_path>
    <format_schema_path>$T/format_schemas/</format_schema_path>
    <users_config>$T/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>16</max_concurrent_queries>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
cat >"$T/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile><quota>default</quota>
        </default>
        <flowcut>
            <password>pw &amp; spaces</password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile><quota>default</quota>
        </flowcut>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
EOF
printf 'pw & spaces\n' >"$T/pw"

# Start/stop scripts: also run by ch_load for the outage, so the PID file
# always names the server that is running now.
cat >"$T/start.sh" <<EOF
#!/usr/bin/env bash
clickhouse-server --config-file="$T/config.xml" >>"$T/server.out" 2>&1 &
echo \$! >"$T/pid"
for _ in \$(seq $((PING_TIMEOUT_S * 20))); do
	[ "\$(curl -s --max-time 1 $BASE/ping)" = "Ok." ] && exit 0
	kill -0 \$! 2>/dev/null || { echo "clickhouse-server exited: \$(tail -n5 "$T/server.err.log" "$T/server.out")" >&2; exit 1; }
	sleep 0.05
done
echo "clickhouse-server did not answer /ping within ${PING_TIMEOUT_S}s" >&2
exit 1
EOF
cat >"$T/stop.sh" <<EOF
#!/usr/bin/env bash
pid=\$(cat "$T/pid")
kill -KILL "\$pid"
while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
EOF
chmod +x "$T/start.sh" "$T/stop.sh"

q() { curl -sS --fail-with-body "$BASE/" --data-binary "$1"; }

# The sink driver: the library's engine + fc_sink__write with exporter-style retries.
LDLIBS=$(make -C "$ROOT" -pn 2>/dev/null | sed -n 's/^LDLIBS := //p' | head -n1)
# LDLIBS is a word list on purpose.
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src/lib" "$ROOT/bench/ch_load.c" \
	-o "$T/ch_load" -Wl,--whole-archive "$ROOT/build/libflowcut.a" -Wl,--no-whole-archive \
	${LDLIBS:--lpcap -lm -lpthread} || die "cannot build bench/ch_load.c"

"$T/start.sh" || die "clickhouse-server did not start"

# 1. schema. The cluster variant cannot run here (ZooKeeper, several servers):
# at least its column list must be flows.sql's, which the sink writes.
columns() { awk '/^CREATE TABLE/ { t = 1 } t && /^\(/ { c = 1; next } c && /^\)/ { exit } c' "$1"; }
[ "$(columns "$ROOT/share/clickhouse/flows.sql")" = "$(columns "$ROOT/share/clickhouse/flows_distributed.sql")" ] &&
	[ -n "$(columns "$ROOT/share/clickhouse/flows.sql")" ] ||
	die "share/clickhouse/flows_distributed.sql columns differ from flows.sql"
clickhouse-client --host 127.0.0.1 --port "$TCP_PORT" --multiquery \
	<"$ROOT/share/clickhouse/flows.sql" || die "share/clickhouse/flows.sql failed"

CLI_SINK=
"$FLOWCUT" read --help 2>&1 | grep -q -- '--sink' && CLI_SINK=1

# 2. golden captures and a real one: every row as `flowcut read` prints it
caps=("$ROOT"/tests/decode/pcaps/*.pcap)
[ -f "$REAL" ] && caps+=("$REAL")
for cap in "${caps[@]}"; do
	name=$(basename "$cap" .pcap)
	q "TRUNCATE TABLE flowcut.flows"
	"$FLOWCUT" read -q "$cap" >"$T/$name.json" 2>/dev/null || die "$name: flowcut read failed"
	if [ -n "$CLI_SINK" ]; then
		"$FLOWCUT" read -q "$cap" --sink "clickhouse://127.0.0.1:$HTTP_PORT/flowcut.flows" \
			>"$T/load.out" 2>&1 || die "$name: flowcut read --sink failed: $(cat "$T/load.out")"
	else
		"$T/ch_load" --batch 7 --retry-for 0 "$cap" "clickhouse://127.0.0.1:$HTTP_PORT/flowcut.flows" \
			>"$T/load.out" || die "$name: export failed: $(cat "$T/load.out")"
	fi
	$CHECK "$BASE" flowcut.flows "$T/$name.json" || die "$name: ClickHouse rows differ from flowcut read"
done

# 3. create=1 and auth: the same table as flows.sql
"$T/ch_load" --retry-for 0 "$REAL" \
	"clickhouse://127.0.0.1:$HTTP_PORT/made.flows2?create=1&user=flowcut&password_file=$T/pw" \
	>"$T/load.out" || die "create=1 with auth failed: $(cat "$T/load.out")"
a=$(q "SHOW CREATE TABLE flowcut.flows")
b=$(q "SHOW CREATE TABLE made.flows2" | sed 's/made\.flows2/flowcut.flows/')
[ "$a" = "$b" ] || die "create=1 table differs from share/clickhouse/flows.sql: $a / $b"
"$FLOWCUT" read -q "$REAL" >"$T/real.json"
$CHECK "$BASE" made.flows2 "$T/real.json" || die "create=1: rows differ"

# 4. server errors reach the user with the server's message
if "$T/ch_load" --retry-for 0 "$REAL" \
	"clickhouse://127.0.0.1:$HTTP_PORT/flowcut.flows?user=flowcut&password=wrong" >"$T/load.out"; then
	die "a wrong password was accepted"
fi
grep -q 'first_errno=-13 .*HTTP 401: Code: 193' "$T/load.out" || die "wrong password: $(cat "$T/load.out")"
if "$T/ch_load" --retry-for 0 "$REAL" "clickhouse://127.0.0.1:$HTTP_PORT/flowcut.nope" >"$T/load.out"; then
	die "an unknown table was accepted"
fi
grep -q "first_errno=-2 .*HTTP 404: Code: 60.*nope doesn't exist" "$T/load.out" ||
	die "unknown table: $(cat "$T/load.out")"

# 5. outage: kill the server after 5 batches, restart it; nothing lost or doubled.
# Fresh tables from here on: 18.16 reloads TRUNCATEd parts after a SIGKILL.
"$T/ch_load" --batch 100 --repeat 30 --stop-after 5 --stop-cmd "$T/stop.sh" \
	--start-cmd "$T/start.sh" --retry-for 30 "$REAL" "clickhouse://127.0.0.1:$HTTP_PORT/made.outage?timeout=2s&create=1" \
	>"$T/load.out" || die "outage run failed: $(cat "$T/load.out")"
grep -q 'first_errno=-111 ' "$T/load.out" || die "outage not reported as ECONNREFUSED: $(cat "$T/load.out")"
$CHECK "$BASE" made.outage "$T/real.json" --times 30 || die "records lost or doubled across the outage"
n=$(q "SELECT count() - uniqExact(flow_id, start_ns) FROM made.outage")
[ "$n" = 0 ] || die "$n duplicate rows after the outage"

# 6. the exporter's spool across a restart of the server (and of flowcut)
if [ -n "$CLI_SINK" ]; then
	url="clickhouse://127.0.0.1:$HTTP_PORT/made.spool?create=1"
	"$T/stop.sh"
	if "$FLOWCUT" read -q "$REAL" --sink "$url" --spool-dir "$T/spool" --flush-timeout 1s \
		--stats "$T/down.json" >"$T/read.out" 2>&1; then
		die "flowcut read reported success with the server down"
	fi
	python3 -c 'import json, sys
s = list(json.load(open(sys.argv[1]))["sinks"].values())[0]
assert s["spool_records"] == int(sys.argv[2]) and s["dropped"] == 0 and s["sent"] == 0, s' \
		"$T/down.json" "$(grep -c . "$T/real.json")" || die "records not spooled: $(cat "$T/read.out")"
	"$T/start.sh" || die "clickhouse-server did not restart"
	tcp=$ROOT/tests/decode/pcaps/tcp_sf.pcap
	"$FLOWCUT" read -q "$tcp" --sink "$url" --spool-dir "$T/spool" >"$T/read.out" 2>&1 ||
		die "flowcut read after the restart failed: $(cat "$T/read.out")"
	"$FLOWCUT" read -q "$tcp" >"$T/tcp.json"
	cat "$T/real.json" "$T/tcp.json" >"$T/both.json"
	want=$(grep -c . "$T/both.json")
	got=$(q "SELECT count() FROM made.spool")
	[ "$got" = "$want" ] || die "spool: $got rows after the restart, want $want: $(cat "$T/read.out")"
	# rows are keyed by (flow_id, start_ns), so both runs' records check together
	$CHECK "$BASE" made.spool "$T/both.json" || die "spool: rows differ after the restart"
fi
exit 0
