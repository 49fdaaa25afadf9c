package apiusagereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/nexus-otel/nexus/internal/providerclient"
)

// The metrics this receiver emits, declared once. The nexus exporter maps
// them to the provider_usage, provider_gauges and provider_health tables.
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

	// Resource attributes: the provider, and when the poll ran (storage keeps
	// the latest poll of a bucket).
	ResourceProvider = "nexus.provider"
	ResourcePolledAt = "nexus.polled_at"

	// Attributes.
	AttrProvider   = "provider"
	AttrAccount    = "account"
	AttrKind       = "kind"
	AttrProject    = "project"
	AttrModel      = "model"
	AttrLineItem   = "line_item"
	AttrCategory   = "category"
	AttrAPIKey     = "api_key"
	AttrName       = "name"
	AttrWindow     = "window"
	AttrScope      = "scope"
	AttrEndpoint   = "endpoint"
	AttrClass      = "class"
	AttrHTTPStatus = "http.response.status_code"
	AttrMessage    = "message"
	// AttrExactValue carries a money or count value as exact decimal text:
	// the double of the data point is for display, the text is what is stored.
	AttrExactValue = "nexus.value"
)

// builder appends one provider's points to a ScopeMetrics.
type builder struct {
	provider string
	sm       pmetric.ScopeMetrics
	metrics  map[string]pmetric.Metric
}

func newBuilder(md pmetric.Metrics, provider string, polledAt time.Time) *builder {
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr(ResourceProvider, provider)
	rm.Resource().Attributes().PutInt(ResourcePolledAt, polledAt.UnixNano())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("github.com/nexus-otel/nexus/receiver/apiusagereceiver")
	return &builder{provider: provider, sm: sm, metrics: map[string]pmetric.Metric{}}
}

var metricUnits = map[string]string{
	MetricCost: "USD", MetricUsage: "{unit}", MetricGauge: "{value}",
	MetricRateLimitLimit: "{request}", MetricRateLimitRemaining: "{request}",
	MetricHealthUp: "1", MetricHealthLatency: "ms",
}

func (b *builder) gauge(name string) pmetric.NumberDataPointSlice {
	m, ok := b.metrics[name]
	if !ok {
		m = b.sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(metricUnits[name])
		m.SetEmptyGauge()
		b.metrics[name] = m
	}
	return m.Gauge().DataPoints()
}

func (b *builder) point(name string, start, ts time.Time) pmetric.NumberDataPoint {
	dp := b.gauge(name).AppendEmpty()
	if !start.IsZero() {
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	}
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.Attributes().PutStr(AttrProvider, b.provider)
	return dp
}

func putIf(attrs pcommon.Map, k, v string) {
	if v != "" {
		attrs.PutStr(k, v)
	}
}

// usage records one bucket with the provider's own start and end times.
func (b *builder) usage(u providerclient.Usage) {
	name := MetricUsage
	if isMoney(u.Kind) {
		name = MetricCost
	}
	dp := b.point(name, u.Start, u.End)
	f, _ := u.Value.Float64()
	dp.SetDoubleValue(f)
	a := dp.Attributes()
	a.PutStr(AttrKind, u.Kind)
	a.PutStr(AttrExactValue, u.Value.String())
	putIf(a, AttrAccount, u.Account)
	putIf(a, AttrProject, u.Project)
	putIf(a, AttrModel, u.Model)
	putIf(a, AttrLineItem, u.LineItem)
	putIf(a, AttrCategory, u.Category)
	putIf(a, AttrAPIKey, u.APIKey)
}

func isMoney(kind string) bool {
	return len(kind) > 4 && kind[len(kind)-4:] == "_usd"
}

func (b *builder) gaugeValue(g providerclient.Gauge, now time.Time) {
	dp := b.point(MetricGauge, time.Time{}, now)
	f, _ := g.Value.Float64()
	dp.SetDoubleValue(f)
	a := dp.Attributes()
	a.PutStr(AttrName, g.Name)
	a.PutStr(AttrExactValue, g.Value.String())
	putIf(a, AttrWindow, g.Window)
	putIf(a, AttrAccount, g.Account)
}

func (b *builder) rateLimit(r providerclient.RateLimit, now time.Time) {
	for _, p := range []struct {
		name  string
		value int64
	}{{MetricRateLimitLimit, r.Limit}, {MetricRateLimitRemaining, r.Remaining}} {
		if p.value < 0 {
			continue
		}
		dp := b.point(p.name, time.Time{}, now)
		dp.SetIntValue(p.value)
		dp.Attributes().PutStr(AttrScope, r.Scope)
		putIf(dp.Attributes(), AttrEndpoint, r.Endpoint)
	}
}

func (b *builder) check(c providerclient.Check, now time.Time) {
	up := b.point(MetricHealthUp, time.Time{}, now)
	if c.Up {
		up.SetIntValue(1)
	} else {
		up.SetIntValue(0)
	}
	lat := b.point(MetricHealthLatency, time.Time{}, now)
	lat.SetDoubleValue(float64(c.Latency) / float64(time.Millisecond))
	class := c.Class
	if class == "" {
		class = "ok"
	}
	for _, dp := range []pmetric.NumberDataPoint{up, lat} {
		a := dp.Attributes()
		a.PutStr(AttrClass, class)
		if c.HTTPStatus != 0 {
			a.PutInt(AttrHTTPStatus, int64(c.HTTPStatus))
		}
		putIf(a, AttrMessage, c.Message)
	}
	for _, r := range c.RateLimits {
		b.rateLimit(r, now)
	}
}
