-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

CREATE TABLE IF NOT EXISTS `nexus`.api_calls ON CLUSTER `nexus_cluster`
(
    timestamp            DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    duration_ns          UInt64 CODEC(T64, ZSTD(1)),
    service              LowCardinality(String),
    environment          LowCardinality(String),
    provider             LowCardinality(String),
    operation            LowCardinality(String),
    model                LowCardinality(String),
    request_model        LowCardinality(String),
    span_name            LowCardinality(String),
    server_address       LowCardinality(String),
    http_method          LowCardinality(String),
    http_status          UInt16,
    status               LowCardinality(String),
    error_class          LowCardinality(String),
    error_type           LowCardinality(String),
    input_tokens         UInt64,
    output_tokens        UInt64,
    cached_input_tokens  UInt64,
    trace_id             String CODEC(ZSTD(1)),
    span_id              String CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(timestamp)
ORDER BY (provider, service, timestamp)
SETTINGS index_granularity = 8192;
