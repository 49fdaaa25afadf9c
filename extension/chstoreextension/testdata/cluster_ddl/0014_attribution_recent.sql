-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_by_customer ON CLUSTER `nexus_cluster`
(
    timestamp                DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    tenant                   LowCardinality(String),
    customer                 String CODEC(ZSTD(1)),
    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
    team                     LowCardinality(String),
    feature                  LowCardinality(String),
    status                   LowCardinality(String),
    cost_status              LowCardinality(String),
    is_anomaly               Bool,
    duration_ns              UInt64 CODEC(T64, ZSTD(1)),
    input_tokens             UInt64,
    output_tokens            UInt64,
    cost_usd                 Nullable(Decimal(18, 12))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, customer, timestamp)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_by_user ON CLUSTER `nexus_cluster`
(
    timestamp                DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    tenant                   LowCardinality(String),
    user                     String CODEC(ZSTD(1)),
    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
    team                     LowCardinality(String),
    feature                  LowCardinality(String),
    status                   LowCardinality(String),
    cost_status              LowCardinality(String),
    is_anomaly               Bool,
    duration_ns              UInt64 CODEC(T64, ZSTD(1)),
    input_tokens             UInt64,
    output_tokens            UInt64,
    cost_usd                 Nullable(Decimal(18, 12))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, user, timestamp)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

INSERT INTO `nexus`.api_calls_by_customer
SELECT timestamp, tenant, customer, provider, model, operation, service, environment, team, feature,
    status, cost_status, is_anomaly, duration_ns, input_tokens, output_tokens, cost_usd
FROM `nexus`.api_calls
WHERE (SELECT count() FROM `nexus`.api_calls_by_customer) = 0;

INSERT INTO `nexus`.api_calls_by_user
SELECT timestamp, tenant, user, provider, model, operation, service, environment, team, feature,
    status, cost_status, is_anomaly, duration_ns, input_tokens, output_tokens, cost_usd
FROM `nexus`.api_calls
WHERE (SELECT count() FROM `nexus`.api_calls_by_user) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_by_customer_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_by_customer AS
SELECT timestamp, tenant, customer, provider, model, operation, service, environment, team, feature,
    status, cost_status, is_anomaly, duration_ns, input_tokens, output_tokens, cost_usd
FROM `nexus`.api_calls;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_by_user_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_by_user AS
SELECT timestamp, tenant, user, provider, model, operation, service, environment, team, feature,
    status, cost_status, is_anomaly, duration_ns, input_tokens, output_tokens, cost_usd
FROM `nexus`.api_calls;
