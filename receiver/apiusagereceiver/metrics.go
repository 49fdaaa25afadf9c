package apiusagereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// builder appends one provider's points to a ScopeMetrics.
type builder struct {
	provider string
	sm       pmetric.ScopeMetrics
	metrics  map[string]pmetric.Metric
}

func newBuilder(md pmetric.Metrics, provider, tenant string, polledAt time.Time) *builder {
	rm := md.ResourceMetrics().AppendEmpty()
	if tenant == "" {
		tenant = schema.DefaultTenant
	}
	rm.Resource().Attributes().PutStr(semconv.Tenant, tenant)
	rm.Resource().Attributes().PutStr(semconv.MetricResourceProvider, provider)
	rm.Resource().Attributes().PutInt(semconv.MetricResourcePolledAt, polledAt.UnixNano())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("github.com/nexus-otel/nexus/receiver/apiusagereceiver")
	return &builder{provider: provider, sm: sm, metrics: map[string]pmetric.Metric{}}
}

func (b *builder) gauge(name string) pmetric.NumberDataPointSlice {
	m, ok := b.metrics[name]
	if !ok {
		m = b.sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(semconv.MetricUnit(name))
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
	dp.Attributes().PutStr(semconv.MetricAttrProvider, b.provider)
	return dp
}

func putIf(attrs pcommon.Map, k, v string) {
	if v != "" {
		attrs.PutStr(k, v)
	}
}

// usage records one bucket with the provider's own start and end times.
func (b *builder) usage(u provider.Usage) {
	name := semconv.MetricUsage
	if isMoney(u.Kind) {
		name = semconv.MetricCost
	}
	dp := b.point(name, u.Start, u.End)
	f, _ := u.Value.Float64()
	dp.SetDoubleValue(f)
	a := dp.Attributes()
	a.PutStr(semconv.MetricAttrKind, u.Kind)
	a.PutStr(semconv.MetricAttrExactValue, u.Value.String())
	putIf(a, semconv.MetricAttrAccount, u.Account)
	putIf(a, semconv.MetricAttrProject, u.Project)
	putIf(a, semconv.MetricAttrModel, u.Model)
	putIf(a, semconv.MetricAttrLineItem, u.LineItem)
	putIf(a, semconv.MetricAttrCategory, u.Category)
	putIf(a, semconv.MetricAttrAPIKey, u.APIKey)
}

func isMoney(kind string) bool {
	return len(kind) > 4 && kind[len(kind)-4:] == "_usd"
}

func (b *builder) gaugeValue(g provider.Gauge, now time.Time) {
	dp := b.point(semconv.MetricGauge, time.Time{}, now)
	f, _ := g.Value.Float64()
	dp.SetDoubleValue(f)
	a := dp.Attributes()
	a.PutStr(semconv.MetricAttrName, g.Name)
	a.PutStr(semconv.MetricAttrExactValue, g.Value.String())
	putIf(a, semconv.MetricAttrWindow, g.Window)
	putIf(a, semconv.MetricAttrAccount, g.Account)
}

func (b *builder) rateLimit(r provider.RateLimit, now time.Time) {
	for _, p := range []struct {
		name  string
		value int64
	}{{semconv.MetricRateLimitLimit, r.Limit}, {semconv.MetricRateLimitRemaining, r.Remaining}} {
		if p.value < 0 {
			continue
		}
		dp := b.point(p.name, time.Time{}, now)
		dp.SetIntValue(p.value)
		dp.Attributes().PutStr(semconv.MetricAttrScope, r.Scope)
		putIf(dp.Attributes(), semconv.MetricAttrEndpoint, r.Endpoint)
	}
}

func (b *builder) check(c provider.Check, now time.Time) {
	up := b.point(semconv.MetricHealthUp, time.Time{}, now)
	if c.Up {
		up.SetIntValue(1)
	} else {
		up.SetIntValue(0)
	}
	lat := b.point(semconv.MetricHealthLatency, time.Time{}, now)
	lat.SetDoubleValue(float64(c.Latency) / float64(time.Millisecond))
	class := c.Class
	if class == "" {
		class = "ok"
	}
	for _, dp := range []pmetric.NumberDataPoint{up, lat} {
		a := dp.Attributes()
		a.PutStr(semconv.MetricAttrClass, class)
		if c.HTTPStatus != 0 {
			a.PutInt(semconv.MetricAttrHTTPStatus, int64(c.HTTPStatus))
		}
		putIf(a, semconv.MetricAttrMessage, c.Message)
	}
	for _, r := range c.RateLimits {
		b.rateLimit(r, now)
	}
}
