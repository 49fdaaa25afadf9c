package nexusexporter

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/receiver/apiusagereceiver"
)

var (
	usageColumns = []string{"provider", "account", "kind", "bucket_start", "bucket_end", "project", "model",
		"line_item", "category", "api_key", "value", "polled_at"}
)

// metricBatches are the inserts one metrics request turns into.
type metricBatches struct {
	usage, gauges, health store.Batch
}

// pushMetrics writes the apiusage receiver's metrics: usage and cost
// buckets to provider_usage (where a re-polled bucket replaces its earlier
// value), gauges and rate limits to provider_gauges, key checks to
// provider_health. Metrics of other names are not Nexus's and are skipped.
func (e *nexusExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	var b metricBatches
	var err error
	if b.usage, err = e.store.PrepareBatch(ctx, "provider_usage", usageColumns); err != nil {
		return fmt.Errorf("prepare provider_usage insert: %w", err)
	}
	if b.gauges, err = e.store.PrepareBatch(ctx, "provider_gauges", store.ProviderGaugeColumns); err != nil {
		return fmt.Errorf("prepare provider_gauges insert: %w", err)
	}
	if b.health, err = e.store.PrepareBatch(ctx, "provider_health", store.ProviderHealthColumns); err != nil {
		return fmt.Errorf("prepare provider_health insert: %w", err)
	}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		polledAt := time.Now()
		if v, ok := rm.Resource().Attributes().Get(apiusagereceiver.ResourcePolledAt); ok {
			polledAt = time.Unix(0, v.Int())
		}
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			e.appendMetrics(&b, sms.At(j).Metrics(), polledAt)
		}
	}
	for _, t := range []struct {
		name  string
		batch store.Batch
	}{{"provider_usage", b.usage}, {"provider_gauges", b.gauges}, {"provider_health", b.health}} {
		if t.batch.Rows() == 0 {
			_ = t.batch.Abort()
			continue
		}
		if err := t.batch.Send(ctx); err != nil {
			return fmt.Errorf("insert %s: %w", t.name, err)
		}
	}
	return nil
}

func (e *nexusExporter) appendMetrics(b *metricBatches, ms pmetric.MetricSlice, polledAt time.Time) {
	// Latency points pair with health points of the same check.
	latency := map[pcommon.Timestamp]float64{}
	for k := 0; k < ms.Len(); k++ {
		if m := ms.At(k); m.Name() == apiusagereceiver.MetricHealthLatency && m.Type() == pmetric.MetricTypeGauge {
			dps := m.Gauge().DataPoints()
			for d := 0; d < dps.Len(); d++ {
				latency[dps.At(d).Timestamp()] = dps.At(d).DoubleValue()
			}
		}
	}
	for k := 0; k < ms.Len(); k++ {
		m := ms.At(k)
		if m.Type() != pmetric.MetricTypeGauge {
			continue
		}
		dps := m.Gauge().DataPoints()
		for d := 0; d < dps.Len(); d++ {
			dp := dps.At(d)
			a := dp.Attributes()
			var err error
			switch m.Name() {
			case apiusagereceiver.MetricCost, apiusagereceiver.MetricUsage:
				err = b.usage.Append(str(a, apiusagereceiver.AttrProvider), str(a, apiusagereceiver.AttrAccount),
					str(a, apiusagereceiver.AttrKind), dp.StartTimestamp().AsTime(), dp.Timestamp().AsTime(),
					str(a, apiusagereceiver.AttrProject), str(a, apiusagereceiver.AttrModel), str(a, apiusagereceiver.AttrLineItem),
					str(a, apiusagereceiver.AttrCategory), str(a, apiusagereceiver.AttrAPIKey), exactValue(dp), polledAt)
			case apiusagereceiver.MetricGauge:
				err = b.gauges.Append(dp.Timestamp().AsTime(), str(a, apiusagereceiver.AttrProvider), str(a, apiusagereceiver.AttrAccount),
					str(a, apiusagereceiver.AttrName), str(a, apiusagereceiver.AttrWindow), "", "", exactValue(dp))
			case apiusagereceiver.MetricRateLimitLimit, apiusagereceiver.MetricRateLimitRemaining:
				name := "ratelimit_limit"
				if m.Name() == apiusagereceiver.MetricRateLimitRemaining {
					name = "ratelimit_remaining"
				}
				err = b.gauges.Append(dp.Timestamp().AsTime(), str(a, apiusagereceiver.AttrProvider), "", name, "",
					str(a, apiusagereceiver.AttrScope), str(a, apiusagereceiver.AttrEndpoint), exactValue(dp))
			case apiusagereceiver.MetricHealthUp:
				status, _ := a.Get(apiusagereceiver.AttrHTTPStatus)
				err = b.health.Append(dp.Timestamp().AsTime(), str(a, apiusagereceiver.AttrProvider), dp.IntValue() == 1,
					str(a, apiusagereceiver.AttrClass), uint16(min(max(status.Int(), 0), 65535)),
					latency[dp.Timestamp()], str(a, apiusagereceiver.AttrMessage))
			}
			if err != nil {
				e.logger.Warn("dropping a provider metric point that does not fit its table", zap.String("metric", m.Name()), zap.Error(err))
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
	if v, ok := dp.Attributes().Get(apiusagereceiver.AttrExactValue); ok {
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
