-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.alert_rules ON CLUSTER `nexus_cluster`
(
    id          String,
    name        String,
    kind        LowCardinality(String),
    provider    String,
    model       String,
    operation   String,
    service     String,
    environment String,
    group_by    Array(String),
    threshold   Decimal(38, 12),
    window_ms   UInt64,
    for_ms      UInt64,
    severity    LowCardinality(String),
    channels    Array(String),
    message     String,
    enabled     Bool,
    budget_id   String,
    min_calls   UInt32,
    source      LowCardinality(String),
    mode        LowCardinality(String),
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    deleted     Bool,
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY id;

-- One row per alert state change (pending, firing, resolved, ok) and per
-- re-notification of a still-firing alert. An instance is one series a rule
-- watches (a provider, a budget's threshold in a period, …); started_at is
-- when its condition was first seen, shared by every row of one episode.
-- dedup_key is derived from rule, instance, state and started_at, so that
-- every collector announcing the same change sends the same key. Rows are
-- versioned: delivery progress (deliveries, JSON per channel) and
-- acknowledgement write newer rows of the same id.
CREATE TABLE IF NOT EXISTS `nexus`.alert_events ON CLUSTER `nexus_cluster`
(
    id          String,
    rule_id     String,
    rule_name   String,
    kind        LowCardinality(String),
    instance    String,
    labels      Map(String, String),
    provider    LowCardinality(String),
    model       LowCardinality(String),
    operation   LowCardinality(String),
    service     LowCardinality(String),
    environment LowCardinality(String),
    state       LowCardinality(String),
    severity    LowCardinality(String),
    value       Decimal(38, 12),
    threshold   Decimal(38, 12),
    message     String,
    started_at  DateTime64(3, 'UTC'),
    at          DateTime64(3, 'UTC'),
    notify_seq  UInt32,
    dedup_key   String,
    deliveries  String,
    acked_at    Nullable(DateTime64(3, 'UTC')),
    acked_by    String,
    version     DateTime64(6, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
PARTITION BY toYYYYMM(at)
ORDER BY id;
