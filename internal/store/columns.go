package store

// Column orders of the tables that more than one component writes (the
// nexus exporter from polls, the API from manual key checks), so that the
// writers cannot drift apart. The tables themselves are defined by the
// chstore migrations.
var (
	ProviderHealthColumns = []string{"ts", "provider", "up", "class", "http_status", "latency_ms", "message"}
	ProviderGaugeColumns  = []string{"ts", "provider", "account", "name", "window", "scope", "endpoint", "value"}
)
