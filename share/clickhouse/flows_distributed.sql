-- SPDX-License-Identifier: BSD-2-Clause
-- flowcut flow records on a ClickHouse cluster: a ReplicatedMergeTree table on
-- every node (flows_local) and a Distributed table (flows) over it that the
-- sink inserts into and queries read from. Documented, not tested by flowcut's
-- suite (it needs ZooKeeper and several servers); see docs/clickhouse.md.
--
-- Assumes, in each server's config: a cluster named flowcut_cluster in
-- <remote_servers>, <zookeeper>, <distributed_ddl>, and <macros> with {shard}
-- and {replica}. Columns are those of flows.sql (the sink's RowBinary column
-- list must find every one of them); the syntax works on 18.16 and newer.
--
-- Delivery: an INSERT into a Distributed table is acknowledged once the rows
-- are queued on the receiving node's disk and forwarded to the shards later.
-- For the sink's "acknowledged = stored on the shards" meaning, give the
-- sink's user insert_distributed_sync = 1 in its settings profile
-- (users.xml), or point one sink per shard at flowcut.flows_local directly.

CREATE DATABASE IF NOT EXISTS flowcut ON CLUSTER flowcut_cluster;

CREATE TABLE IF NOT EXISTS flowcut.flows_local ON CLUSTER flowcut_cluster
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/flowcut/flows_local', '{replica}')
PARTITION BY toYYYYMMDD(start)
ORDER BY (toStartOfHour(start), src, dst, start_ns)
SETTINGS index_granularity = 8192;

-- Rows of one flow (its interim active-timeout records and the final one) land
-- on one shard when sharded by the Community ID; rand() balances best when
-- that does not matter. Every top-N query aggregates across shards either way.
CREATE TABLE IF NOT EXISTS flowcut.flows ON CLUSTER flowcut_cluster
AS flowcut.flows_local
ENGINE = Distributed(flowcut_cluster, flowcut, flows_local, sipHash64(community_id));
