-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.prices ON CLUSTER `nexus_cluster`
(
    tenant     LowCardinality(String),
    source     LowCardinality(String),
    provider   LowCardinality(String),
    model      String,
    operation  String,
    country    LowCardinality(String),
    effective  Date,
    prices     Map(LowCardinality(String), String),
    credits    String,
    added_at   DateTime64(3, 'UTC'),
    added_by   String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', added_at)
ORDER BY (tenant, source, provider, model, operation, country, effective);

-- Each run of a price sync: when, how it went, how many models it read and
-- left out, and why it failed. The newest run is the sync's health.
CREATE TABLE IF NOT EXISTS `nexus`.price_syncs ON CLUSTER `nexus_cluster`
(
    source   LowCardinality(String),
    at       DateTime64(3, 'UTC'),
    ok       Bool,
    models   UInt32,
    skipped  UInt32,
    changed  UInt32,
    message  String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (source, at);

-- Re-pricing corrections. A re-priced call's row in api_calls (and in the
-- recent copies sorted by customer and user) is updated in place, which
-- the rollups' views never see; the rollups are corrected by the
-- difference instead: a row written here is folded by the views below into
-- every rollup the call is in, moving its cost by cost_delta and its
-- unpriced count by unpriced_delta, and nothing else. The table keeps no
-- rows (Null engine): the rollups hold the corrections.
CREATE TABLE IF NOT EXISTS `nexus`.api_call_corrections ON CLUSTER `nexus_cluster`
(
    timestamp      DateTime64(9, 'UTC'),
    tenant         LowCardinality(String),
    provider       LowCardinality(String),
    model          LowCardinality(String),
    operation      LowCardinality(String),
    service        LowCardinality(String),
    environment    LowCardinality(String),
    customer       String,
    user           String,
    team           LowCardinality(String),
    feature        LowCardinality(String),
    tags           Map(String, String),
    cost_delta     Decimal(38, 12),
    unpriced_delta Int64
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_1m_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1m AS
SELECT toStartOfMinute(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_customer_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_customer_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, customer, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_user_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_user_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, user, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_tag_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_tag_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, tag_key, tags[tag_key] AS tag_value, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
ARRAY JOIN mapKeys(tags) AS tag_key
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, tag_key, tag_value, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_customer_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_customer_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, customer, provider, model, operation, service, environment, team, feature;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_call_corrections_user_1h_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_user_1h AS
SELECT toStartOfHour(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
    toUInt64(0) AS calls,
    toUInt64(0) AS errors,
    toUInt64(sum(unpriced_delta)) AS unpriced,
    toUInt64(0) AS anomalies,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS cached_input_tokens,
    toUInt64(0) AS cache_write_input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(cost_delta) AS cost_usd,
    toUInt64(0) AS duration_ns_sum,
    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms
FROM `nexus`.api_call_corrections
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, user, provider, model, operation, service, environment, team, feature;
