-- Prices changed at run time (internal/pricebook): entries added through
-- the API for one tenant (its negotiated rates), and entries a sync keeps
-- for every tenant (tenant '', source 'openrouter'). An entry is a price
-- list of the catalog's shape effective from a date; one added again with
-- the same key and date replaces the earlier (the latest added_at wins).
CREATE TABLE IF NOT EXISTS {{.DB}}.prices {{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "added_at"}}
ORDER BY (tenant, source, provider, model, operation, country, effective);

-- Each run of a price sync: when, how it went, how many models it read and
-- left out, and why it failed. The newest run is the sync's health.
CREATE TABLE IF NOT EXISTS {{.DB}}.price_syncs {{.OnCluster}}
(
    source   LowCardinality(String),
    at       DateTime64(3, 'UTC'),
    ok       Bool,
    models   UInt32,
    skipped  UInt32,
    changed  UInt32,
    message  String
)
ENGINE = {{engine "MergeTree"}}
ORDER BY (source, at);

-- Re-pricing corrections. A re-priced call's row in api_calls (and in the
-- recent copies sorted by customer and user) is updated in place, which
-- the rollups' views never see; the rollups are corrected by the
-- difference instead: a row written here is folded by the views below into
-- every rollup the call is in, moving its cost by cost_delta and its
-- unpriced count by unpriced_delta, and nothing else. The table keeps no
-- rows (Null engine): the rollups hold the corrections.
CREATE TABLE IF NOT EXISTS {{.DB}}.api_call_corrections {{.OnCluster}}
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_1m_mv {{.OnCluster}} TO {{.DB}}.api_calls_1m AS
{{correction "toStartOfMinute" "tenant" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_1h AS
{{correction "toStartOfHour" "tenant" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_1d AS
{{correction "toStartOfDay" "tenant" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_customer_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_customer_1d AS
{{correction "toStartOfDay" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_user_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_user_1d AS
{{correction "toStartOfDay" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_tag_1d_mv {{.OnCluster}} TO {{.DB}}.api_calls_tag_1d AS
{{correction "toStartOfDay" "ARRAY JOIN" "tenant" "tag_key" "tag_value" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_customer_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_customer_1h AS
{{correction "toStartOfHour" "tenant" "customer" "provider" "model" "operation" "service" "environment" "team" "feature"}};
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.api_call_corrections_user_1h_mv {{.OnCluster}} TO {{.DB}}.api_calls_user_1h AS
{{correction "toStartOfHour" "tenant" "user" "provider" "model" "operation" "service" "environment" "team" "feature"}};
