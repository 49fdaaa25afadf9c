-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.budgets ON CLUSTER `nexus_cluster`
    ADD COLUMN IF NOT EXISTS action LowCardinality(String) DEFAULT 'notify';
