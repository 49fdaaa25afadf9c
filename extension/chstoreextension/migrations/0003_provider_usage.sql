-- What the providers themselves report, from the apiusage receiver.
--
-- provider_usage holds usage and cost buckets. Rows of kind cost_usd never
-- overlap (a provider's totals and its breakdowns use different kinds), so
-- their sum is what the provider billed. Every poll returns the open
-- buckets again with newer figures: the table keeps, per bucket and
-- dimension, only the row polled last (ReplacingMergeTree on polled_at), so a
-- re-polled bucket replaces its value and never adds to it. Read it with
-- FINAL (or argMax by polled_at) to see settled figures.
CREATE TABLE IF NOT EXISTS {{.DB}}.provider_usage {{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "polled_at"}}
PARTITION BY toYYYYMM(bucket_start)
ORDER BY (provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key);

-- Point-in-time figures: balances, limits, what is left, usage in a window,
-- and rate-limit headroom.
CREATE TABLE IF NOT EXISTS {{.DB}}.provider_gauges {{.OnCluster}}
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
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, name, account, ts);

-- One row per key check: is the provider up for us, how fast, and if not,
-- why (auth_failed, quota_exhausted, rate_limited, server_error, timeout,
-- bad_response, network_error).
CREATE TABLE IF NOT EXISTS {{.DB}}.provider_health {{.OnCluster}}
(
    ts          DateTime64(3, 'UTC'),
    provider    LowCardinality(String),
    up          Bool,
    class       LowCardinality(String),
    http_status UInt16,
    latency_ms  Float64,
    message     String
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, ts);

-- Provider-billed cost against the cost Nexus computed from spans, per
-- provider and day, where both exist.
CREATE VIEW IF NOT EXISTS {{.DB}}.cost_reconciliation {{.OnCluster}} AS
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
    FROM {{.DB}}.provider_usage FINAL
    WHERE kind = 'cost_usd'
    GROUP BY day, provider
) AS b
INNER JOIN
(
    SELECT toDate(ts) AS day, provider, sum(cost_usd) AS computed_usd, sum(calls) AS calls, sum(unpriced) AS unpriced
    FROM {{.DB}}.api_calls_1d
    GROUP BY day, provider
) AS c ON b.day = c.day AND b.provider = c.provider;
