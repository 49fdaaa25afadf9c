-- The last month of raw calls sorted by customer, and by user. A
-- per-customer range that starts or ends inside an hour ("the last 30
-- days" asked at 14:37) reads its partial hours from raw calls, and in
-- api_calls, sorted by provider and service, any hour is a granule or two
-- of every provider and service: ~100 granules of 8,192 rows per edge
-- whoever is asked (16 ms of a 25-customer lookup at 10 M calls). Here an
-- edge is a range of the key per customer asked. Only the columns a cost
-- read needs are copied, and only for as long as the hour rollups keep
-- edges (retention.api_calls_by_customer, 32 days); older edges read
-- api_calls. Every call is copied, those without a customer under '', so a
-- grouping by customer still adds up to the total. The calls already
-- stored fill the tables once, before their views exist (a second run
-- finds them filled); rows past the retention leave with the TTL.
CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_by_customer {{.OnCluster}}
(
    timestamp                DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    tenant                   LowCardinality(String),
    customer                 String CODEC(ZSTD(1)),
{{recentColumns}}
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, customer, timestamp)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, {{dedupWindow}};

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_by_user {{.OnCluster}}
(
    timestamp                DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    tenant                   LowCardinality(String),
    user                     String CODEC(ZSTD(1)),
{{recentColumns}}
)
ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, user, timestamp)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, {{dedupWindow}};

INSERT INTO {{.DB}}.api_calls_by_customer
{{recent "customer"}}
WHERE (SELECT count() FROM {{.DB}}.api_calls_by_customer) = 0;
INSERT INTO {{.DB}}.api_calls_by_user
{{recent "user"}}
WHERE (SELECT count() FROM {{.DB}}.api_calls_by_user) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_by_customer_mv {{.OnCluster}} TO {{.DB}}.api_calls_by_customer AS
{{recent "customer"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_by_user_mv {{.OnCluster}} TO {{.DB}}.api_calls_by_user AS
{{recent "user"}};
