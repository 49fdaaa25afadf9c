-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS customer String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS user String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS team LowCardinality(String),
    ADD COLUMN IF NOT EXISTS feature LowCardinality(String),
    ADD COLUMN IF NOT EXISTS tags Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_customer customer TYPE bloom_filter(0.01) GRANULARITY 1,
    ADD INDEX IF NOT EXISTS idx_user user TYPE bloom_filter(0.01) GRANULARITY 1;
