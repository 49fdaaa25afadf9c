package nexusexporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zaptest"

	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// The tables an api_calls insert reaches: the table and its rollups.
var callTables = []string{"api_calls", "api_calls_1m", "api_calls_1h", "api_calls_1d"}

// syncExporters are the real exporter without a sending queue, so that
// ConsumeTraces returns what the push (and its retries) ended with, and
// with its own telemetry to read the refusal counter from.
type syncExporters struct {
	traces  exporter.Traces
	metrics exporter.Metrics
	tel     *componenttest.Telemetry
}

func newSyncExporters(t *testing.T, h storetest.Host) syncExporters {
	t.Helper()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	// Retries bounded (the default waits an outage out for ever), long
	// enough that a batch wrongly taken for an outage fails the test.
	cfg.BackOffConfig.MaxElapsedTime = 2 * time.Minute
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zaptest.NewLogger(t) // after: TelemetrySettings carries a logger too
	set.ID = component.NewID(f.Type())
	ctx := context.Background()
	tr, err := f.CreateTraces(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	me, err := f.CreateMetrics(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []component.Component{tr, me} {
		if err := c.Start(ctx, h); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	}
	return syncExporters{traces: tr, metrics: me, tel: tel}
}

// refused reads nexus_exporter_rows_refused as "table/reason" → count.
func (x syncExporters) refused(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := x.tel.GetMetric(metricRowsRefused)
	if err != nil {
		return out // nothing refused yet
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		table, _ := dp.Attributes.Value(attrTable)
		why, _ := dp.Attributes.Value(attrReason)
		out[table.AsString()+"/"+why.AsString()] = dp.Value
	}
	return out
}

// consume exports td and fails the test unless the exporter took it at
// once: refused rows must not make a batch an outage that is retried.
func consume(t *testing.T, exp exporter.Traces, td ptrace.Traces) {
	t.Helper()
	began := time.Now()
	if err := exp.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatalf("export failed after %s: %v", time.Since(began), err)
	}
	if d := time.Since(began); d > time.Minute {
		t.Fatalf("export took %s: retried?", d)
	}
}

// requireDedupWindow checks that the tables an insert reaches
// de-duplicate: chstore migration 0006 gives them a window, without which
// a token is remembered by no table.
func requireDedupWindow(t *testing.T, s store.Store, db string, tables ...string) {
	t.Helper()
	for _, table := range tables {
		engine := storetest.Scalar(t, s, "SELECT engine_full FROM system.tables WHERE database = '"+db+"' AND name = '"+table+"'")
		if !strings.Contains(engine, "non_replicated_deduplication_window") {
			t.Fatalf("%s.%s has no de-duplication window: %s", db, table, engine)
		}
	}
}

// callCounts is the number of calls in api_calls (rows, distinct calls)
// and in each rollup. The minute rollup keeps 30 days (its TTL drops older
// rows as they are written), so it is compared over the last 29 days.
func callCounts(t *testing.T, s store.Store, db string) string {
	t.Helper()
	return storetest.Scalar(t, s, "SELECT toString(tuple((SELECT count() FROM "+db+".api_calls), "+
		"(SELECT uniqExact(trace_id, span_id, timestamp) FROM "+db+".api_calls), "+
		"(SELECT sum(calls) FROM "+db+".api_calls_1h), (SELECT sum(calls) FROM "+db+".api_calls_1d), "+
		"(SELECT count() FROM "+db+".api_calls WHERE timestamp >= now() - INTERVAL 29 DAY), "+
		"(SELECT sum(calls) FROM "+db+".api_calls_1m WHERE ts >= now() - INTERVAL 29 DAY)))")
}

func setTimes(s ptrace.Span, start, end time.Time) {
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
}

// TestBadTimesRefusedGoodStoredOnce sends one request mixing good calls
// with calls on 150 different days (more partitions than one insert may
// touch), a call at time 0 and calls in 2200: the good ones are stored
// exactly once (in api_calls and every rollup), the others are refused by
// reason, and the exporter goes on taking requests.
func TestBadTimesRefusedGoodStoredOnce(t *testing.T) {
	s, h := storetest.Start(t, "exp_times")
	requireDedupWindow(t, s, "exp_times", callTables...)
	x := newSyncExporters(t, h)
	now := time.Now().UTC()

	td := calls(173, recent())
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	// Spans 0–19 stay good. Spans 20–169: one a day, 1 to 150 days ago;
	// the api_calls retention (90 days) keeps days 1–89.
	for d := 1; d <= 150; d++ {
		start := now.Add(-time.Duration(d)*24*time.Hour - time.Hour)
		setTimes(spans.At(19+d), start, start.Add(time.Second))
	}
	spans.At(170).SetStartTimestamp(0) // an unset time
	spans.At(170).SetEndTimestamp(0)
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	setTimes(spans.At(171), far, far.Add(time.Second))
	setTimes(spans.At(172), recent(), far) // ends in 2200: decades of latency

	consume(t, x.traces, td)
	// 20 + 89 days; of them 20 + 28 days in the last 29 days.
	const stored = "(109,109,109,109,48,48)"
	if got := callCounts(t, s, "exp_times"); got != stored {
		t.Fatalf("stored (api_calls, distinct, 1h, 1d, api_calls and 1m over 29 days) = %s, want %s", got, stored)
	}
	want := map[string]int64{"api_calls/too_old": 61, "api_calls/missing_time": 1, "api_calls/in_future": 2}
	if got := x.refused(t); !equalCounts(got, want) {
		t.Fatalf("refused %v, want %v", got, want)
	}
	// No rollup holds a wrapped or refused time.
	if got := storetest.Scalar(t, s, "SELECT toString(tuple(min(ts) >= now() - INTERVAL 91 DAY, max(ts) <= now())) FROM exp_times.api_calls_1m"); got != "(1,1)" {
		t.Fatalf("rollup times in range: %s", got)
	}

	// The same request again, as a retry after a commit or a replay after
	// a crash sends it: nothing is stored twice.
	consume(t, x.traces, td)
	if got := callCounts(t, s, "exp_times"); got != stored {
		t.Fatalf("after the same request again: %s, want %s", got, stored)
	}
	// The exporter goes on: a new request lands.
	consume(t, x.traces, calls(10, recent().Add(time.Minute)))
	if got := callCounts(t, s, "exp_times"); got != "(119,119,119,119,58,58)" {
		t.Fatalf("after a further request: %s", got)
	}
}

// TestRefusedBlockIsBisected: a block the engine refuses for its data
// (here a constraint a few rows break) is split until the rows at fault
// are isolated; the others are stored, and only those are refused.
func TestRefusedBlockIsBisected(t *testing.T) {
	s, h := storetest.Start(t, "exp_bisect")
	requireDedupWindow(t, s, "exp_bisect", callTables...)
	ctx := context.Background()
	if err := s.Exec(ctx, "ALTER TABLE exp_bisect.api_calls ADD CONSTRAINT no_poison CHECK model != 'poison'", nil); err != nil {
		t.Fatal(err)
	}
	x := newSyncExporters(t, h)
	td := calls(100, recent())
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for _, i := range []int{0, 41, 42, 99} {
		spans.At(i).Attributes().PutStr("gen_ai.response.model", "poison")
	}
	consume(t, x.traces, td)
	if got := callCounts(t, s, "exp_bisect"); got != "(96,96,96,96,96,96)" {
		t.Fatalf("stored (api_calls, distinct, 1h, 1d, api_calls and 1m over 29 days) = %s, want 96 everywhere", got)
	}
	if got := storetest.Scalar(t, s, "SELECT toString(countIf(model = 'poison')) FROM exp_bisect.api_calls"); got != "0" {
		t.Fatalf("%s poison rows stored", got)
	}
	if got, want := x.refused(t), map[string]int64{"api_calls/refused_by_engine": 4}; !equalCounts(got, want) {
		t.Fatalf("refused %v, want %v", got, want)
	}
	// Sent again, the halves stored the first time are recognised.
	consume(t, x.traces, td)
	if got := callCounts(t, s, "exp_bisect"); got != "(96,96,96,96,96,96)" {
		t.Fatalf("after the same request again: %s", got)
	}

	// A request the table refuses row after row costs a bounded number of
	// inserts: past the budget, a refused block is refused whole.
	defer func(n int) { maxBisections = n }(maxBisections)
	maxBisections = 3
	bad := calls(40, recent().Add(time.Hour))
	spans = bad.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := range 40 {
		spans.At(i).Attributes().PutStr("gen_ai.response.model", "poison")
	}
	before := x.refused(t)["api_calls/refused_by_engine"]
	consume(t, x.traces, bad)
	if got := x.refused(t)["api_calls/refused_by_engine"] - before; got != 40 {
		t.Fatalf("%d of 40 refused rows counted", got)
	}
	if got := callCounts(t, s, "exp_bisect"); got != "(96,96,96,96,96,96)" {
		t.Fatalf("after a request of refused rows: %s", got)
	}
}

// TestMetricPointsWithBadTimes: the metrics path refuses points whose time
// is unset or ahead, and stores the rest of the request.
func TestMetricPointsWithBadTimes(t *testing.T) {
	s, h := storetest.Start(t, "exp_mtimes")
	x := newSyncExporters(t, h)
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	up := ms.AppendEmpty()
	up.SetName(semconv.MetricHealthUp)
	dps := up.SetEmptyGauge().DataPoints()
	for _, ts := range []time.Time{recent(), recent().Add(time.Minute), {}, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)} {
		dp := dps.AppendEmpty()
		if !ts.IsZero() {
			dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		}
		dp.SetIntValue(1)
		dp.Attributes().PutStr(semconv.MetricAttrProvider, "openai")
	}
	usage := ms.AppendEmpty()
	usage.SetName(semconv.MetricCost)
	// An old settled bucket is history, not refused; one that starts in
	// 2200 is.
	points := usage.SetEmptyGauge().DataPoints()
	for _, start := range []time.Time{recent().Add(-400 * 24 * time.Hour), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)} {
		dp := points.AppendEmpty()
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(24 * time.Hour)))
		dp.SetDoubleValue(1.5)
		dp.Attributes().PutStr(semconv.MetricAttrProvider, "openai")
		dp.Attributes().PutStr(semconv.MetricAttrKind, "cost_usd")
	}
	if err := x.metrics.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Scalar(t, s, "SELECT toString(tuple((SELECT count() FROM exp_mtimes.provider_health), (SELECT count() FROM exp_mtimes.provider_usage)))"); got != "(2,1)" {
		t.Fatalf("stored (health, usage) = %s, want (2,1)", got)
	}
	want := map[string]int64{"provider_health/missing_time": 1, "provider_health/in_future": 1, "provider_usage/in_future": 1}
	if got := x.refused(t); !equalCounts(got, want) {
		t.Fatalf("refused %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
