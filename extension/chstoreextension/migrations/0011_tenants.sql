-- Tenants: isolated organisations (or projects) inside one installation.
-- Every table gains the tenant its rows belong to. Rows stored before this
-- belong to the default tenant, which every installation has and which an
-- installation with no tenants configured uses for everything.
--
-- Where a table collapses rows by its sorting key (the rollups sum, the
-- usage table replaces), the tenant must join the key, or two tenants' rows
-- would fold into one: migration 0012 rebuilds those tables.

ALTER TABLE {{.DB}}.api_calls {{.OnCluster}}
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
CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_customer_1d {{.OnCluster}}
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

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_user_1d {{.OnCluster}}
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

CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls_tag_1d {{.OnCluster}}
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
{{rollupSums}}
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, tag_key, tag_value, ts, provider, model, operation, service, environment, team, feature)
SETTINGS index_granularity = 1024, min_compress_block_size = 4096, max_compress_block_size = 16384, {{dedupWindow}};

INSERT INTO {{.DB}}.api_calls_customer_1d
{{rollup "toStartOfDay" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}}
HAVING (SELECT count() FROM {{.DB}}.api_calls_customer_1d) = 0;
INSERT INTO {{.DB}}.api_calls_user_1d
{{rollup "toStartOfDay" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}}
HAVING (SELECT count() FROM {{.DB}}.api_calls_user_1d) = 0;
INSERT INTO {{.DB}}.api_calls_tag_1d
{{rollup "toStartOfDay" "ARRAY JOIN" "tenant" "tag_key" "tag_value" "provider" "model" "operation" "service" "environment" "team" "feature"}}
HAVING (SELECT count() FROM {{.DB}}.api_calls_tag_1d) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_customer_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_customer_1d AS
{{rollup "toStartOfDay" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_user_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_user_1d AS
{{rollup "toStartOfDay" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_calls_tag_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_tag_1d AS
{{rollup "toStartOfDay" "ARRAY JOIN" "tenant" "tag_key" "tag_value" "provider" "model" "operation" "service" "environment" "team" "feature"}};

-- Gauges and checks belong to the tenant whose credentials polled them
-- (provider_usage, whose key must hold the tenant, is rebuilt by 0012).
ALTER TABLE {{.DB}}.provider_gauges {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';
ALTER TABLE {{.DB}}.provider_health {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';

-- Budgets and alert rules belong to a tenant and can be scoped to the
-- attribution dimensions too (empty = any): "customer acme may spend $50 a
-- month". Alert events and API keys belong to a tenant. Keys that could
-- manage everything before tenants existed (admin) keep doing so: they are
-- the installation's administrators.
ALTER TABLE {{.DB}}.budgets {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS customer String,
    ADD COLUMN IF NOT EXISTS user String,
    ADD COLUMN IF NOT EXISTS team String,
    ADD COLUMN IF NOT EXISTS feature String,
    ADD COLUMN IF NOT EXISTS tag_key String,
    ADD COLUMN IF NOT EXISTS tag_value String;
ALTER TABLE {{.DB}}.alert_rules {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS customer String,
    ADD COLUMN IF NOT EXISTS user String,
    ADD COLUMN IF NOT EXISTS team String,
    ADD COLUMN IF NOT EXISTS feature String,
    ADD COLUMN IF NOT EXISTS tag_key String,
    ADD COLUMN IF NOT EXISTS tag_value String;
ALTER TABLE {{.DB}}.alert_events {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default';
ALTER TABLE {{.DB}}.api_keys {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS tenant LowCardinality(String) DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS installation_admin Bool DEFAULT role = 'admin';

-- The tenants an installation administrator created; the default tenant
-- exists without a row. Rows are versioned; deleting writes deleted = 1.
CREATE TABLE IF NOT EXISTS {{.DB}}.tenants {{.OnCluster}}
(
    id          String,
    name        String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    deleted     Bool,
    version     DateTime64(6, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "version"}}
ORDER BY id;

-- Ingest keys: what an app shows to write calls into its tenant (OTLP
-- through the nexusingestauth authenticator, the proxy through its header).
-- Only a hash is stored; a key is shown once. Revoking writes a newer row.
CREATE TABLE IF NOT EXISTS {{.DB}}.ingest_keys {{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "version"}}
ORDER BY id;
