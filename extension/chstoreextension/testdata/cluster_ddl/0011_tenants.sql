-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';

-- Daily rollups by customer, by user and by tag, sorted by tenant and that
-- value first: a per-customer month is a range of the primary key. They
-- are read by point lookups (one customer, or the customers of concurrent
-- requests at once), and a lookup reads whole granules: 1,024 rows per
-- granule instead of 8,192 reads an eighth of the rows for each customer
-- asked, for a primary index of one mark per 1,024 rows. Each range read
-- also decompresses the whole compressed block holding it, per column:
-- blocks of 4–16 KiB instead of 64 KiB–1 MiB halved a 25-customer lookup
-- (23 → 10.5 ms at 10 M calls) for a little less compression. Every
-- call enters the customer and user rollups (those without one under ''),
-- so a grouping by customer still adds up to the total; a call enters the
-- tag rollup once per tag it carries. Calls stored since attribution began
-- (0010) fill the new rollups once, before their views exist: a second run
-- finds them filled and adds nothing.
CREATE TABLE IF NOT EXISTS `nexus`.api_calls_customer_1d ON CLUSTER `nexus_cluster`
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

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_user_1d ON CLUSTER `nexus_cluster`
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

CREATE TABLE IF NOT EXISTS `nexus`.api_calls_tag_1d ON CLUSTER `nexus_cluster`
(
    ts                       DateTime('UTC'),
    tenant                   LowCardinality(String),
    tag_key                  LowCardinality(String),
    tag_value                String CODEC(ZSTD(1)),
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
ORDER BY (tenant, tag_key, tag_value, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

INSERT INTO `nexus`.api_calls_customer_1d
SELECT toStartOfDay(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
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
HAVING (SELECT count() FROM `nexus`.api_calls_customer_1d) = 0;

INSERT INTO `nexus`.api_calls_user_1d
SELECT toStartOfDay(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
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
HAVING (SELECT count() FROM `nexus`.api_calls_user_1d) = 0;

INSERT INTO `nexus`.api_calls_tag_1d
SELECT toStartOfDay(timestamp) AS ts, tenant, tag_key, tags[tag_key] AS tag_value, provider, model, operation, service, environment, team, feature,
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
ARRAY JOIN mapKeys(tags) AS tag_key
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, tag_key, tag_value, provider, model, operation, service, environment, team, feature
HAVING (SELECT count() FROM `nexus`.api_calls_tag_1d) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_customer_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_customer_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, customer, provider, model, operation, service, environment, team, feature,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_user_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_user_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, user, provider, model, operation, service, environment, team, feature,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`.api_calls_tag_1d_mv ON CLUSTER `nexus_cluster` TO `nexus`.api_calls_tag_1d AS
SELECT toStartOfDay(timestamp) AS ts, tenant, tag_key, tags[tag_key] AS tag_value, provider, model, operation, service, environment, team, feature,
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
ARRAY JOIN mapKeys(tags) AS tag_key
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, tenant, tag_key, tag_value, provider, model, operation, service, environment, team, feature;

-- Gauges and checks belong to the tenant whose credentials polled them
-- (provider_usage, whose key must hold the tenant, is rebuilt by 0012).
ALTER TABLE `nexus`.provider_gauges ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';

ALTER TABLE `nexus`.provider_health ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';

-- Budgets and alert rules belong to a tenant and can be scoped to the
-- attribution dimensions too (empty = any): "customer acme may spend $50 a
-- month". Alert events and API keys belong to a tenant. Keys that could
-- manage everything before tenants existed (admin) keep doing so: they are
-- the installation's administrators.
ALTER TABLE `nexus`.budgets ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS customer String,
    ADD COLUMN IF NOT EXISTS user String,
    ADD COLUMN IF NOT EXISTS team String,
    ADD COLUMN IF NOT EXISTS feature String,
    ADD COLUMN IF NOT EXISTS tag_key String,
    ADD COLUMN IF NOT EXISTS tag_value String;

ALTER TABLE `nexus`.alert_rules ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS customer String,
    ADD COLUMN IF NOT EXISTS user String,
    ADD COLUMN IF NOT EXISTS team String,
    ADD COLUMN IF NOT EXISTS feature String,
    ADD COLUMN IF NOT EXISTS tag_key String,
    ADD COLUMN IF NOT EXISTS tag_value String;

ALTER TABLE `nexus`.alert_events ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';

ALTER TABLE `nexus`.api_keys ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS installation_admin Bool DEFAULT role = 'admin';

-- The tenants an installation administrator created; the default tenant
-- exists without a row. Rows are versioned; deleting writes deleted = 1.
CREATE TABLE IF NOT EXISTS `nexus`.tenants ON CLUSTER `nexus_cluster`
(
    id          String,
    name        String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    deleted     Bool,
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;

-- Ingest keys: what an app shows to write calls into its tenant (OTLP
-- through the nexusingestauth authenticator, the proxy through its header).
-- Only a hash is stored; a key is shown once. Revoking writes a newer row.
CREATE TABLE IF NOT EXISTS `nexus`.ingest_keys ON CLUSTER `nexus_cluster`
(
    id          String,
    tenant      LowCardinality(String),
    name        String,
    prefix      String,
    key_hash    String,
    created_at  DateTime64(3, 'UTC'),
    revoked_at  Nullable(DateTime64(3, 'UTC')),
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;
