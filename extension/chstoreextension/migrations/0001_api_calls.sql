-- One row per observed call to a provider's API, from instrumented apps
-- (OTLP spans) or from the proxy. Sorted for the questions asked most:
-- one provider's calls over a time range, by service.
CREATE TABLE IF NOT EXISTS {{.DB}}.api_calls {{.OnCluster}}
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
ENGINE = {{engine "MergeTree"}}
PARTITION BY toDate(timestamp)
ORDER BY (provider, service, timestamp)
SETTINGS index_granularity = 8192;
