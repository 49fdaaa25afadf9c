-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE DATABASE IF NOT EXISTS `nexus` ON CLUSTER `nexus_cluster`;

CREATE TABLE IF NOT EXISTS `nexus`.schema_migrations ON CLUSTER `nexus_cluster` (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', applied_at) ORDER BY version;
