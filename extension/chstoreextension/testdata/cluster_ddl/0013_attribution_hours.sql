-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_customer_1h ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String),
    customer                 String CODEC(ZSTD(1)),
    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
    team                     LowCardinality(String),
    feature                  LowCardinality(String),
    calls                    SimpleAggregateFunction(sum, UInt64),
    errors                   SimpleAggregateFunction(sum, UInt64),
    unpriced                 SimpleAggregateFunction(sum, UInt64),
    anomalies                SimpleAggregateFunction(sum, UInt64),
    input_tokens             SimpleAggregateFunction(sum, UInt64),
    cached_input_tokens      SimpleAggregateFunction(sum, UInt64),
    cache_write_input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens            SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens         SimpleAggregateFunction(sum, UInt64),
    cost_usd                 SimpleAggregateFunction(sum, Decimal(38, 12)),
    duration_ns_sum          SimpleAggregateFunction(sum, UInt64),
    latency_ms               AggregateFunction(quantileTDigest, Float64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, customer, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_user_1h ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String),
    user                     String CODEC(ZSTD(1)),
    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
    team                     LowCardinality(String),
    feature                  LowCardinality(String),
    calls                    SimpleAggregateFunction(sum, UInt64),
    errors                   SimpleAggregateFunction(sum, UInt64),
    unpriced                 SimpleAggregateFunction(sum, UInt64),
    anomalies                SimpleAggregateFunction(sum, UInt64),
    input_tokens             SimpleAggregateFunction(sum, UInt64),
    cached_input_tokens      SimpleAggregateFunction(sum, UInt64),
    cache_write_input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens            SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens         SimpleAggregateFunction(sum, UInt64),
    cost_usd                 SimpleAggregateFunction(sum, Decimal(38, 12)),
    duration_ns_sum          SimpleAggregateFunction(sum, UInt64),
    latency_ms               AggregateFunction(quantileTDigest, Float64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, user, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

INSERT INTO `nexus`.api_calls_customer_1h
SELECT toStartOfHour(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, customer, provider, model, operation, service, environment, team, feature
HAVING (SELECT count() FROM `nexus`.api_calls_customer_1h) = 0;

INSERT INTO `nexus`.api_calls_user_1h
SELECT toStartOfHour(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, user, provider, model, operation, service, environment, team, feature
HAVING (SELECT count() FROM `nexus`.api_calls_user_1h) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_customer_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_customer_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, customer, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_user_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_user_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, user, provider, model, operation, service, environment, team, feature;
