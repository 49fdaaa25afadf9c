package semconv

// The provider usage metrics: the apiusage receiver emits them, the nexus
// exporter maps them to the provider_usage, provider_gauges and
// provider_health tables. All are gauges.
const (
	// MetricCost is money a provider billed for one bucket (kind cost_usd…).
	MetricCost = "nexus.provider.cost"
	// MetricUsage is a usage quantity for one bucket (tokens, requests…).
	MetricUsage = "nexus.provider.usage"
	// MetricGauge is a point-in-time figure: balance, limit, remaining.
	MetricGauge = "nexus.provider.gauge"
	// MetricRateLimitLimit and MetricRateLimitRemaining are the headroom a
	// provider's headers or usage stats announce.
	MetricRateLimitLimit     = "nexus.provider.ratelimit.limit"
	MetricRateLimitRemaining = "nexus.provider.ratelimit.remaining"
	// MetricHealthUp is 1 when the key check passed, 0 when not; its
	// attributes say why. MetricHealthLatency is the check's latency.
	MetricHealthUp      = "nexus.provider.health.up"
	MetricHealthLatency = "nexus.provider.health.latency"
)

// Resource attributes of the usage metrics: the provider, and when the poll
// ran (storage keeps the latest poll of a bucket).
const (
	MetricResourceProvider = "nexus.provider"
	MetricResourcePolledAt = "nexus.polled_at"
)

// Data point attributes of the usage metrics. They are short, unprefixed
// names (unlike the span attributes) because they only ever appear on these
// metrics, which are Nexus's own.
const (
	MetricAttrProvider   = "provider"
	MetricAttrAccount    = "account"
	MetricAttrKind       = "kind"
	MetricAttrProject    = "project"
	MetricAttrModel      = "model"
	MetricAttrLineItem   = "line_item"
	MetricAttrCategory   = "category"
	MetricAttrAPIKey     = "api_key"
	MetricAttrName       = "name"
	MetricAttrWindow     = "window"
	MetricAttrScope      = "scope"
	MetricAttrEndpoint   = "endpoint"
	MetricAttrClass      = "class"
	MetricAttrHTTPStatus = "http.response.status_code"
	MetricAttrMessage    = "message"
	// MetricAttrExactValue carries a money or count value as exact decimal
	// text: the double of the data point is for display, the text is what
	// is stored.
	MetricAttrExactValue = "nexus.value"
)

// MetricUnit is the unit of a usage metric, "" for a name that is not one.
// A function rather than a map so that no importer can change it.
func MetricUnit(name string) string {
	switch name {
	case MetricCost:
		return "USD"
	case MetricUsage:
		return "{unit}"
	case MetricGauge:
		return "{value}"
	case MetricRateLimitLimit, MetricRateLimitRemaining:
		return "{request}"
	case MetricHealthUp:
		return "1"
	case MetricHealthLatency:
		return "ms"
	}
	return ""
}
