-- Alert rules managed through the API (rules declared in the collector
-- config live in the config, not here). A rule is a kind, scope filters
-- (empty = any), a threshold (exact decimal; its unit depends on the kind),
-- a window and a for-duration, severity and notification channels. Rows
-- are versioned; deleting writes a row with deleted = 1.
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_rules {{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "version"}}
ORDER BY id;

-- One row per alert state change (pending, firing, resolved, ok) and per
-- re-notification of a still-firing alert. An instance is one series a rule
-- watches (a provider, a budget's threshold in a period, …); started_at is
-- when its condition was first seen, shared by every row of one episode.
-- dedup_key is derived from rule, instance, state and started_at, so that
-- every collector announcing the same change sends the same key. Rows are
-- versioned: delivery progress (deliveries, JSON per channel) and
-- acknowledgement write newer rows of the same id.
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_events {{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "version"}}
PARTITION BY toYYYYMM(at)
ORDER BY id;
