package nexusexporter

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/store"
)

var usageColumns = []string{"provider", "account", "kind", "bucket_start", "bucket_end", "project", "model",
	"line_item", "category", "api_key", "value", "polled_at", "tenant"}

// The providers' tables, each partitioned by month of its first time.
// The exporter also writes the tenant whose credentials polled (the
// resource's nexus.tenant), last; the other writers of gauges and health
// leave it to the column's default.
var (
	providerUsage  = tableSpec{name: "provider_usage", columns: usageColumns}
	providerGauges = tableSpec{name: "provider_gauges", columns: append(slices.Clone(store.ProviderGaugeColumns), "tenant")}
	providerHealth = tableSpec{name: "provider_health", columns: append(slices.Clone(store.ProviderHealthColumns), "tenant")}
)

// metricRows are the rows one metrics request turns into.
type metricRows struct {
	usage, gauges, health []row
}

// pushMetrics writes the apiusage receiver's metrics: usage and cost
// buckets to provider_usage (where a re-polled bucket replaces its earlier
// value), gauges and rate limits to provider_gauges, key checks to
// provider_health. Metrics of other names are not Nexus's and are skipped.
// Points are written as spans are (see write): exactly once, bad points
// refused and the rest stored. Their times are not bounded by age (a
// provider's usage history is legitimately old) but must be set, not
// ahead of now + max_future and storable.
func (e *nexusExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	w := newWindow(time.Now(), 0, e.cfg.AcceptedTime.MaxFuture)
	var rows metricRows
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		// The receiver always stamps its polls. Without the stamp, a retry
		// computes another polled_at and so another block: it is stored
		// again, which the ReplacingMergeTree of provider_usage absorbs.
		polledAt := time.Now()
		if v, ok := rm.Resource().Attributes().Get(semconv.MetricResourcePolledAt); ok {
			polledAt = time.Unix(0, v.Int())
		}
		tenant := tenantOf(rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			appendMetrics(&rows, sms.At(j).Metrics(), polledAt, tenant, w)
		}
	}
	var rep pushReport
	for _, t := range []struct {
		spec *tableSpec
		rows []row
	}{{&providerUsage, rows.usage}, {&providerGauges, rows.gauges}, {&providerHealth, rows.health}} {
		if err := e.write(ctx, t.spec, t.rows, &rep); err != nil {
			return err
		}
	}
	e.refusals.report(ctx, &rep)
	return nil
}

func appendMetrics(b *metricRows, ms pmetric.MetricSlice, polledAt time.Time, tenant string, w window) {
	// Latency points pair with health points of the same check.
	latency := map[pcommon.Timestamp]float64{}
	for k := 0; k < ms.Len(); k++ {
		if m := ms.At(k); m.Name() == semconv.MetricHealthLatency && m.Type() == pmetric.MetricTypeGauge {
			dps := m.Gauge().DataPoints()
			for d := 0; d < dps.Len(); d++ {
				latency[dps.At(d).Timestamp()] = dps.At(d).DoubleValue()
			}
		}
	}
	ahead := w.noAge()
	for k := 0; k < ms.Len(); k++ {
		m := ms.At(k)
		if m.Type() != pmetric.MetricTypeGauge {
			continue
		}
		dps := m.Gauge().DataPoints()
		for d := 0; d < dps.Len(); d++ {
			dp := dps.At(d)
			a := dp.Attributes()
			provider := str(a, semconv.MetricAttrProvider)
			r := row{at: dp.Timestamp().AsTime(), what: m.Name() + " of " + provider, refused: ahead.check(dp.Timestamp())}
			switch m.Name() {
			case semconv.MetricCost, semconv.MetricUsage:
				// The bucket's start partitions it; its end may be ahead
				// (an open bucket) but must be storable.
				r.at, r.refused = dp.StartTimestamp().AsTime(), ahead.check(dp.StartTimestamp())
				if r.refused == "" {
					r.refused = storable().check(dp.Timestamp())
				}
				r.vals = []any{provider, str(a, semconv.MetricAttrAccount),
					str(a, semconv.MetricAttrKind), dp.StartTimestamp().AsTime(), dp.Timestamp().AsTime(),
					str(a, semconv.MetricAttrProject), str(a, semconv.MetricAttrModel), str(a, semconv.MetricAttrLineItem),
					str(a, semconv.MetricAttrCategory), str(a, semconv.MetricAttrAPIKey), exactValue(dp), polledAt, tenant}
				b.usage = append(b.usage, r)
			case semconv.MetricGauge:
				r.vals = []any{dp.Timestamp().AsTime(), provider, str(a, semconv.MetricAttrAccount),
					str(a, semconv.MetricAttrName), str(a, semconv.MetricAttrWindow), "", "", exactValue(dp), tenant}
				b.gauges = append(b.gauges, r)
			case semconv.MetricRateLimitLimit, semconv.MetricRateLimitRemaining:
				name := "ratelimit_limit"
				if m.Name() == semconv.MetricRateLimitRemaining {
					name = "ratelimit_remaining"
				}
				r.vals = []any{dp.Timestamp().AsTime(), provider, "", name, "",
					str(a, semconv.MetricAttrScope), str(a, semconv.MetricAttrEndpoint), exactValue(dp), tenant}
				b.gauges = append(b.gauges, r)
			case semconv.MetricHealthUp:
				status, _ := a.Get(semconv.MetricAttrHTTPStatus)
				r.vals = []any{dp.Timestamp().AsTime(), provider, dp.IntValue() == 1,
					str(a, semconv.MetricAttrClass), uint16(min(max(status.Int(), 0), 65535)),
					latency[dp.Timestamp()], str(a, semconv.MetricAttrMessage), tenant}
				b.health = append(b.health, r)
			}
		}
	}
}

func str(a pcommon.Map, k string) string {
	if v, ok := a.Get(k); ok {
		return v.AsString()
	}
	return ""
}

// exactValue is the point's value as a decimal: the exact text the receiver
// kept when there is one, else the number (a double by its shortest
// decimal form, which is the text the provider sent).
func exactValue(dp pmetric.NumberDataPoint) decimal.Decimal {
	if v, ok := dp.Attributes().Get(semconv.MetricAttrExactValue); ok {
		if d, err := decimal.NewFromString(v.Str()); err == nil {
			return roundScale(d)
		}
	}
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return decimal.NewFromInt(dp.IntValue())
	}
	d, _ := decimal.NewFromString(strconv.FormatFloat(dp.DoubleValue(), 'f', -1, 64))
	return roundScale(d)
}

// roundScale fits a value into Decimal(38, 12); providers never send finer
// amounts, but a value that had more digits must not be refused whole.
func roundScale(d decimal.Decimal) decimal.Decimal {
	if d.Exponent() < -12 {
		return d.RoundBank(12)
	}
	return d
}
