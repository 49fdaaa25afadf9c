-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.budget_events ON CLUSTER `nexus_cluster`
(
    id             String,
    tenant         LowCardinality(String),
    timestamp      DateTime64(3, 'UTC'),
    budget_id      String,
    budget_name    String,
    action         LowCardinality(String),
    provider       LowCardinality(String),
    model          String,
    service        LowCardinality(String),
    customer       String,
    user           String,
    team           String,
    feature        String,
    worst_case_usd Decimal(38, 12),
    remaining_usd  Decimal(38, 12)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, budget_id, timestamp, id);
