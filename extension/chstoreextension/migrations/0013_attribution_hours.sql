-- Hourly rollups by customer and by user, sorted like their day rollups
-- (tenant and the value first). A per-customer read of "the last 30 days"
-- reads whole days from the day rollup and the partial days at its ends:
-- from raw calls they cost a scan of a day of everyone's calls (the bloom
-- filter on customer stops skipping once a read asks for many customers at
-- once), from these a range of the key. Measured in the README
-- (BenchmarkCustomerSummary50Clients). They are kept only as long as
-- ranges need edges (retention.api_calls_customer_1h, 32 days): older edges
-- read raw calls.
CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_customer_1h {{.OnCluster}}
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
{{rollupSums}}
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, customer, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, {{dedupWindow}};

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_user_1h {{.OnCluster}}
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
{{rollupSums}}
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, user, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, {{dedupWindow}};

INSERT INTO {{.DB}}.api_calls_customer_1h
{{rollup "toStartOfHour" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}}
HAVING (SELECT count() FROM {{.DB}}.api_calls_customer_1h) = 0;
INSERT INTO {{.DB}}.api_calls_user_1h
{{rollup "toStartOfHour" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}}
HAVING (SELECT count() FROM {{.DB}}.api_calls_user_1h) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_customer_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_customer_1h AS
{{rollup "toStartOfHour" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_user_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_user_1h AS
{{rollup "toStartOfHour" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}};
