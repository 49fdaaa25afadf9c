-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.api_keys ON CLUSTER `nexus_cluster`
(
    id          String,
    name        String,
    role        LowCardinality(String),
    prefix      String,
    key_hash    String,
    created_at  DateTime64(3, 'UTC'),
    revoked_at  Nullable(DateTime64(3, 'UTC')),
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;

-- Budgets. A budget is a scope (any of provider, model, service,
-- environment; empty = any), a calendar period in a time zone, an amount and
-- warning thresholds. Rows are versioned; deleting writes a row with
-- deleted = 1.
CREATE TABLE IF NOT EXISTS `nexus`.budgets ON CLUSTER `nexus_cluster`
(
    id          String,
    name        String,
    provider    String,
    model       String,
    service     String,
    environment String,
    period      LowCardinality(String),
    timezone    String,
    amount_usd  Decimal(18, 6),
    thresholds  Array(UInt16),
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    deleted     Bool,
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;
