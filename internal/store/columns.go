package store

// Column orders of the tables that more than one place writes (the nexus
// exporter from polls, the API from manual key checks; the store's own
// insert benchmarks), so that the writers cannot drift apart. The tables
// themselves are defined by the chstore migrations.
var (
	// APICallColumns is the column order of every api_calls insert.
	APICallColumns = []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"request_model", "span_name", "server_address", "http_method", "http_status", "status",
		"error_class", "error_type", "input_tokens", "output_tokens", "cached_input_tokens",
		"cache_write_input_tokens", "reasoning_tokens", "usage_units",
		"cost_usd", "cost_status", "unpriced_reason", "pricing_version", "cost_reason", "service_tier", "anomaly_score", "is_anomaly",
		"trace_id", "span_id",
		"customer", "user", "team", "feature", "tags",
		"tenant",
	}
	ProviderHealthColumns = []string{"ts", "provider", "up", "class", "http_status", "latency_ms", "message"}
	ProviderGaugeColumns  = []string{"ts", "provider", "account", "name", "window", "scope", "endpoint", "value"}
)
