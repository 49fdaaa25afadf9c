-- What the proxy did about a budget, call by call: each call it refused
-- (block) and each it let pass under a warning budget (warn), with the
-- call's worst case and what the budget had left. id makes a batch
-- written again after a failed insert replace itself, never count twice.
-- The attribution columns hold who the call was for: personal data, kept
-- a year and covered by the personal-data requests.
CREATE TABLE IF NOT EXISTS {{.DB}}.budget_events {{.OnCluster}}
(
    id             String,
    tenant         LowCardinality(String),
    timestamp      DateTime64(3, 'UTC'),
    budget_id      String,
    budget_name    String,
    action         LowCardinality(String),
    provider       LowCardinality(String),
    model          String,
    service        LowCardinality(String),
    customer       String,
    user           String,
    team           String,
    feature        String,
    worst_case_usd Decimal(38, 12),
    remaining_usd  Decimal(38, 12)
)
ENGINE = {{engine "ReplacingMergeTree"}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, budget_id, timestamp, id);
