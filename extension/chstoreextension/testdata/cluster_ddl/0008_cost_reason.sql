-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS cost_reason LowCardinality(String) AFTER pricing_version;
