-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1m_by_tenant ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String) DEFAULT 'default',
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
ORDER BY (tenant, provider, model, operation, service, environment, team, feature, ts)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

TRUNCATE TABLE IF EXISTS `nexus`.api_calls_1m_by_tenant ON CLUSTER `nexus_cluster`;

INSERT INTO `nexus`.api_calls_1m_by_tenant (tenant, ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms) SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 SELECT 'default', ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms FROM `nexus`.api_calls_1m;

DROP VIEW IF EXISTS `nexus`.api_calls_1m_mv ON CLUSTER `nexus_cluster`;

EXCHANGE TABLES `nexus`.api_calls_1m AND `nexus`.api_calls_1m_by_tenant ON CLUSTER `nexus_cluster`;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1m_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1m AS
SELECT toStartOfMinute(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
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
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

DROP TABLE IF EXISTS `nexus`.api_calls_1m_by_tenant ON CLUSTER `nexus_cluster` SYNC;

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1h_by_tenant ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String) DEFAULT 'default',
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
ORDER BY (tenant, provider, model, operation, service, environment, team, feature, ts)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

TRUNCATE TABLE IF EXISTS `nexus`.api_calls_1h_by_tenant ON CLUSTER `nexus_cluster`;

INSERT INTO `nexus`.api_calls_1h_by_tenant (tenant, ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms) SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 SELECT 'default', ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms FROM `nexus`.api_calls_1h;

DROP VIEW IF EXISTS `nexus`.api_calls_1h_mv ON CLUSTER `nexus_cluster`;

EXCHANGE TABLES `nexus`.api_calls_1h AND `nexus`.api_calls_1h_by_tenant ON CLUSTER `nexus_cluster`;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
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
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

DROP TABLE IF EXISTS `nexus`.api_calls_1h_by_tenant ON CLUSTER `nexus_cluster` SYNC;

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_1d_by_tenant ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String) DEFAULT 'default',
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
PARTITION BY toYear(ts)
ORDER BY (tenant, provider, model, operation, service, environment, team, feature, ts)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

TRUNCATE TABLE IF EXISTS `nexus`.api_calls_1d_by_tenant ON CLUSTER `nexus_cluster`;

INSERT INTO `nexus`.api_calls_1d_by_tenant (tenant, ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms) SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 SELECT 'default', ts, provider, model, operation, service, environment, calls, errors, unpriced, anomalies, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_usd, duration_ns_sum, latency_ms FROM `nexus`.api_calls_1d;

DROP VIEW IF EXISTS `nexus`.api_calls_1d_mv ON CLUSTER `nexus_cluster`;

EXCHANGE TABLES `nexus`.api_calls_1d AND `nexus`.api_calls_1d_by_tenant ON CLUSTER `nexus_cluster`;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
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
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

DROP TABLE IF EXISTS `nexus`.api_calls_1d_by_tenant ON CLUSTER `nexus_cluster` SYNC;

CREATE TABLE IF NOT EXISTS `nexus`.provider_usage_by_tenant ON CLUSTER `nexus_cluster`
(
    tenant       LowCardinality(String) DEFAULT 'default',
    provider     LowCardinality(String),
    account      String,
    kind         LowCardinality(String),
    bucket_start DateTime('UTC'),
    bucket_end   DateTime('UTC'),
    project      String,
    model        LowCardinality(String),
    line_item    LowCardinality(String),
    category     LowCardinality(String),
    api_key      String,
    value        Decimal(38, 12),
    polled_at    DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', polled_at)
PARTITION BY toYYYYMM(bucket_start)
ORDER BY (tenant, provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

TRUNCATE TABLE IF EXISTS `nexus`.provider_usage_by_tenant ON CLUSTER `nexus_cluster`;

INSERT INTO `nexus`.provider_usage_by_tenant (tenant, provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key, value, polled_at) SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 SELECT 'default', provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key, value, polled_at FROM `nexus`.provider_usage;

EXCHANGE TABLES `nexus`.provider_usage AND `nexus`.provider_usage_by_tenant ON CLUSTER `nexus_cluster`;

DROP TABLE IF EXISTS `nexus`.provider_usage_by_tenant ON CLUSTER `nexus_cluster` SYNC;

CREATE OR REPLACE VIEW `nexus`.cost_reconciliation ON CLUSTER `nexus_cluster` AS
SELECT b.tenant AS tenant, b.day AS day, b.provider AS provider, b.billed_usd AS billed_usd,
    c.computed_usd AS computed_usd, c.computed_usd - b.billed_usd AS difference_usd,
    c.calls AS calls, c.unpriced AS unpriced_calls
FROM
(
    SELECT tenant, toDate(bucket_start) AS day, provider, sum(value) AS billed_usd
    FROM `nexus`.provider_usage FINAL
    WHERE kind = 'cost_usd'
    GROUP BY tenant, day, provider
) AS b
INNER JOIN
(
    SELECT tenant, toDate(ts) AS day, provider, sum(cost_usd) AS computed_usd, sum(calls) AS calls, sum(unpriced) AS unpriced
    FROM `nexus`.api_calls_1d
    GROUP BY tenant, day, provider
) AS c ON b.tenant = c.tenant AND b.day = c.day AND b.provider = c.provider;
