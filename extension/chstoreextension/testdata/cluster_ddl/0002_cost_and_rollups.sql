-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS cache_write_input_tokens UInt64 AFTER cached_input_tokens,
    ADD COLUMN IF NOT EXISTS reasoning_tokens UInt64 AFTER cache_write_input_tokens,
    ADD COLUMN IF NOT EXISTS usage_units Map(LowCardinality(String), UInt64) AFTER reasoning_tokens,
    ADD COLUMN IF NOT EXISTS cost_usd Nullable(Decimal(18, 12)) AFTER usage_units,
    ADD COLUMN IF NOT EXISTS cost_status LowCardinality(String) AFTER cost_usd,
    ADD COLUMN IF NOT EXISTS unpriced_reason LowCardinality(String) AFTER cost_status,
    ADD COLUMN IF NOT EXISTS pricing_version LowCardinality(String) AFTER unpriced_reason,
    ADD COLUMN IF NOT EXISTS anomaly_score Float32 AFTER pricing_version,
    ADD COLUMN IF NOT EXISTS is_anomaly Bool AFTER anomaly_score;

-- Rollups at minute, hour and day grain, kept by materialized views as rows
-- arrive, so that dashboards and the API answer long ranges without reading
-- raw calls. Sums are exact (Decimal for money); latency keeps a t-digest
-- state that merges into any quantile.
CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1m ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
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
ORDER BY (provider, model, operation, service, environment, ts);

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1h ON CLUSTER `nexus_cluster` AS `nexus`.api_calls_1m
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, model, operation, service, environment, ts);

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1d ON CLUSTER `nexus_cluster` AS `nexus`.api_calls_1m
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYear(ts)
ORDER BY (provider, model, operation, service, environment, ts);

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1m_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1m AS
SELECT toStartOfMinute(timestamp) AS ts, provider, model, operation, service, environment,
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
GROUP BY ts, provider, model, operation, service, environment;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1h AS
SELECT toStartOfHour(timestamp) AS ts, provider, model, operation, service, environment,
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
GROUP BY ts, provider, model, operation, service, environment;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1d AS
SELECT toStartOfDay(timestamp) AS ts, provider, model, operation, service, environment,
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
GROUP BY ts, provider, model, operation, service, environment;
