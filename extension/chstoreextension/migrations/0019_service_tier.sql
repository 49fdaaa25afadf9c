-- The service tier a call was served at (OpenAI's service_tier: default,
-- flex, priority; "batch" for Batch API calls), as the span reported it:
-- flex and batch calls cost half the standard price, so a cost is read
-- with its tier. Empty for calls stored before this, and for calls that
-- name none (the standard tier).
ALTER TABLE {{.DB}}.api_calls {{.OnCluster}}
    ADD COLUMN IF NOT EXISTS service_tier LowCardinality(String) AFTER cost_reason;
