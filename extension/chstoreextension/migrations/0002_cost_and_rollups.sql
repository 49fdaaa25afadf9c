-- What the cost processor decides for each call: its price (exact decimal,
-- NULL when unpriced: an unknown price is never $0), how the price was
-- obtained, the catalog version used, and the anomaly score. Token kinds are
-- stored as reported: cached and cache-write tokens are part of
-- input_tokens, reasoning tokens part of output_tokens.
ALTER TABLE {{.DB}}.api_calls {{.OnCluster}}
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
CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_1m {{.OnCluster}}
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
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, model, operation, service, environment, ts);

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_1h {{.OnCluster}} AS {{.DB}}.api_calls_1m
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, model, operation, service, environment, ts);

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_1d {{.OnCluster}} AS {{.DB}}.api_calls_1m
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYear(ts)
ORDER BY (provider, model, operation, service, environment, ts);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_1m_mv {{.OnCluster}} TO {{.DB}}.api_calls_1m AS
{{rollup "toStartOfMinute"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_1h AS
{{rollup "toStartOfHour"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_1d AS
{{rollup "toStartOfDay"}};
