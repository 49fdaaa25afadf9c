-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.
-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update

ALTER TABLE `nexus`.api_calls_1m_mv ON CLUSTER `nexus_cluster` MODIFY QUERY
SELECT toStartOfMinute(timestamp) AS ts, provider, model, operation, service, environment,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, provider, model, operation, service, environment;

ALTER TABLE `nexus`.api_calls_1h_mv ON CLUSTER `nexus_cluster` MODIFY QUERY
SELECT toStartOfHour(timestamp) AS ts, provider, model, operation, service, environment,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, provider, model, operation, service, environment;

ALTER TABLE `nexus`.api_calls_1d_mv ON CLUSTER `nexus_cluster` MODIFY QUERY
SELECT toStartOfDay(timestamp) AS ts, provider, model, operation, service, environment,
    count() AS calls,
    countIf(status = 'error') AS errors,
    countIf(cost_status = 'unpriced') AS unpriced,
    countIf(is_anomaly) AS anomalies,
    sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached_input_tokens,
    sum(cache_write_input_tokens) AS cache_write_input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,
    sum(duration_ns) AS duration_ns_sum,
    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms
FROM `nexus`.api_calls
WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')
GROUP BY ts, provider, model, operation, service, environment;
