-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

ALTER TABLE `nexus`.provider_usage ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

ALTER TABLE `nexus`.provider_gauges ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

ALTER TABLE `nexus`.provider_health ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- Targets of the materialized views over api_calls:
ALTER TABLE `nexus`.api_calls_1m ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

ALTER TABLE `nexus`.api_calls_1h ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

ALTER TABLE `nexus`.api_calls_1d ON CLUSTER `nexus_cluster` MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
