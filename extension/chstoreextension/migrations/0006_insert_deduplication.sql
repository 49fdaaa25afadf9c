-- Exactly-once ingestion: the exporter retries an insert it cannot confirm,
-- and a retry of an insert that did land must count once. Each insert
-- carries an insert_deduplication_token (the same on every retry) and
-- deduplicate_blocks_in_dependent_materialized_views=1; the tables below
-- remember the last inserts' tokens (dedupWindow renders the setting for a
-- single server or a cluster) and drop a block whose token they have seen.
-- The rollups need the window as well as api_calls: without it a retry that
-- api_calls drops is still folded into every rollup again (measured on the
-- embedded engine, chDB 26.7).
--
-- Tables the exporter writes:
ALTER TABLE {{.DB}}.api_calls {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
ALTER TABLE {{.DB}}.provider_usage {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
ALTER TABLE {{.DB}}.provider_gauges {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
ALTER TABLE {{.DB}}.provider_health {{.OnCluster}} MODIFY SETTING {{dedupWindow}};

-- Targets of the materialized views over api_calls:
ALTER TABLE {{.DB}}.api_calls_1m {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
ALTER TABLE {{.DB}}.api_calls_1h {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
ALTER TABLE {{.DB}}.api_calls_1d {{.OnCluster}} MODIFY SETTING {{dedupWindow}};
