-- SPDX-License-Identifier: BSD-2-Clause
-- flowcut flow records in ClickHouse: one row per flow record (docs/clickhouse.md).
--
-- Written for the oldest server we test, clickhouse-server 18.16 (Debian 12),
-- and valid on every newer one. 18.16 has no DateTime64, no IPv4/IPv6 types
-- and only an experimental LowCardinality, hence:
--   times      exact epoch nanoseconds as UInt64 (start_ns, end_ns), plus
--              second-resolution DateTime columns the server derives from them
--              for partitioning, the sort key and readable queries;
--   addresses  FixedString(16): IPv6 in network order, IPv4 mapped as
--              ::ffff:a.b.c.d (family says which); read with IPv6NumToString(),
--              filter with IPv6StringToNum('::ffff:10.0.0.5');
--   names      String (state, end_reason, tunnel_type have a few values each);
--   optional   Nullable where 0 is a valid value (icmp_id, vlan, vlan_inner);
--              TCP-only and tunnel/bypass fields are 0 / '' when absent.
-- The sink inserts with an explicit column list in RowBinary, whose bytes are
-- the same for the modern types (IPv6, LowCardinality(String)): see the
-- modern variant in docs/clickhouse.md. `clickhouse://...?create=1` creates
-- exactly this table (the end-to-end test checks they agree).
--
--   clickhouse-client --multiquery < share/clickhouse/flows.sql
-- (for another database or table name, edit both names below and in the URL).

CREATE DATABASE IF NOT EXISTS flowcut;

CREATE TABLE IF NOT EXISTS flowcut.flows
(
    flow_id UInt64,
    start_ns UInt64,
    end_ns UInt64,
    start DateTime('UTC') DEFAULT toDateTime(intDiv(start_ns, 1000000000)),
    end DateTime('UTC') DEFAULT toDateTime(intDiv(end_ns, 1000000000)),
    proto UInt8,
    family UInt8,
    src FixedString(16),
    dst FixedString(16),
    sport UInt16,
    dport UInt16,
    icmp_id Nullable(UInt32),
    vlan Nullable(UInt16),
    vlan_inner Nullable(UInt16),
    pkts UInt64,
    bytes UInt64,
    rpkts UInt64,
    rbytes UInt64,
    tcp_flags UInt16,
    rtcp_flags UInt16,
    state String,
    history String,
    end_reason String,
    community_id String,
    tunnel_type String,
    tunnel_id UInt32,
    tunnel_src FixedString(16),
    tunnel_dst FixedString(16),
    tunnel_depth UInt8,
    bypass_pkts UInt64,
    bypass_bytes UInt64,
    bypass_rpkts UInt64,
    bypass_rbytes UInt64,
    bypass_start_ns UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(start)
ORDER BY (toStartOfHour(start), src, dst, start_ns)
SETTINGS index_granularity = 8192;
