package nexusexporter

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Telemetry of the exporter itself, beside exporterhelper's (which counts
// requests, not the rows inside them).
const (
	scopeName         = "github.com/nexus-otel/nexus/exporter/nexusexporter"
	metricRowsRefused = "nexus_exporter_rows_refused"
	attrTable         = "table"
	attrReason        = "reason"
	// refusalLogEvery bounds the refusal warnings: a sender stuck on a
	// wrong clock would otherwise write one per request.
	refusalLogEvery = 10 * time.Second
	// refusalExamples is how many refused rows one warning describes.
	refusalExamples = 3
)

// refusalKey counts refusals per table and reason.
type refusalKey struct {
	table  string
	reason reason
}

// pushReport is what one attempt at a push did. It is reported only when
// the attempt ends without an error to retry: a retried request would
// otherwise count its refused rows once per attempt.
type pushReport struct {
	stored     int
	duplicates int // calls already stored, or repeated in the push: dropped
	bisections int
	refused    map[refusalKey]int64
	examples   []string
}

func (p *pushReport) refuse(table string, r row, why reason, err error) {
	if p.refused == nil {
		p.refused = map[refusalKey]int64{}
	}
	p.refused[refusalKey{table, why}]++
	if len(p.examples) < refusalExamples {
		ex := fmt.Sprintf("%s %s: %s at %s", table, why, r.describe(), r.at.UTC().Format(time.RFC3339Nano))
		if err != nil {
			ex += ": " + err.Error()
		}
		p.examples = append(p.examples, ex)
	}
}

// refusals counts refused rows and logs them, at most once per
// refusalLogEvery with how many went unlogged in between.
type refusals struct {
	counter metric.Int64Counter
	logger  *zap.Logger

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int64
}

func newRefusals(set component.TelemetrySettings) (*refusals, error) {
	c, err := set.MeterProvider.Meter(scopeName).Int64Counter(metricRowsRefused,
		metric.WithDescription("Rows the nexus exporter did not store because they cannot be stored as sent, by table and reason."),
		metric.WithUnit("{row}"))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", metricRowsRefused, err)
	}
	return &refusals{counter: c, logger: set.Logger}, nil
}

// report counts and logs what p refused.
func (r *refusals) report(ctx context.Context, p *pushReport) {
	if len(p.refused) == 0 {
		return
	}
	var total int64
	parts := make([]string, 0, len(p.refused))
	for k, n := range p.refused {
		r.counter.Add(ctx, n, metric.WithAttributes(attribute.String(attrTable, k.table), attribute.String(attrReason, string(k.reason))))
		total += n
		parts = append(parts, fmt.Sprintf("%s/%s=%d", k.table, k.reason, n))
	}
	sort.Strings(parts)

	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.lastLog) < refusalLogEvery {
		r.suppressed += total
		r.mu.Unlock()
		return
	}
	suppressed := r.suppressed
	r.lastLog, r.suppressed = now, 0
	r.mu.Unlock()
	r.logger.Warn("rows refused: they cannot be stored as sent and are not retried (see "+metricRowsRefused+")",
		zap.Int64("refused", total), zap.Int("stored", p.stored), zap.String("by_table_reason", strings.Join(parts, " ")),
		zap.Strings("examples", p.examples), zap.Int64("refused_unlogged_before", suppressed))
}
