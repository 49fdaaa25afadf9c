-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.provider_usage ON CLUSTER `nexus_cluster`
(
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
ORDER BY (provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key);

-- Point-in-time figures: balances, limits, what is left, usage in a window,
-- and rate-limit headroom.
CREATE TABLE IF NOT EXISTS `nexus`.provider_gauges ON CLUSTER `nexus_cluster`
(
    ts        DateTime64(3, 'UTC'),
    provider  LowCardinality(String),
    account   String,
    name      LowCardinality(String),
    window    LowCardinality(String),
    scope     LowCardinality(String),
    endpoint  LowCardinality(String),
    value     Decimal(38, 12)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, name, account, ts);

-- One row per key check: is the provider up for us, how fast, and if not,
-- why (auth_failed, quota_exhausted, rate_limited, server_error, timeout,
-- bad_response, network_error).
CREATE TABLE IF NOT EXISTS `nexus`.provider_health ON CLUSTER `nexus_cluster`
(
    ts          DateTime64(3, 'UTC'),
    provider    LowCardinality(String),
    up          Bool,
    class       LowCardinality(String),
    http_status UInt16,
    latency_ms  Float64,
    message     String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, ts);

-- Provider-billed cost against the cost Nexus computed from spans, per
-- provider and day, where both exist.
CREATE VIEW IF NOT EXISTS `nexus`.cost_reconciliation ON CLUSTER `nexus_cluster` AS
SELECT
    b.day AS day,
    b.provider AS provider,
    b.billed_usd AS billed_usd,
    c.computed_usd AS computed_usd,
    c.computed_usd - b.billed_usd AS difference_usd,
    c.calls AS calls,
    c.unpriced AS unpriced_calls
FROM
(
    SELECT toDate(bucket_start) AS day, provider, sum(value) AS billed_usd
    FROM `nexus`.provider_usage FINAL
    WHERE kind = 'cost_usd'
    GROUP BY day, provider
) AS b
INNER JOIN
(
    SELECT toDate(ts) AS day, provider, sum(cost_usd) AS computed_usd, sum(calls) AS calls, sum(unpriced) AS unpriced
    FROM `nexus`.api_calls_1d
    GROUP BY day, provider
) AS c ON b.day = c.day AND b.provider = c.provider;
