package costprocessor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// sharedCall is the series every call below belongs to: same provider, model,
// operation and service on spans and on log records.
var sharedCall = map[string]any{
	"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
	"gen_ai.usage.input_tokens": int64(1000), "gen_ai.usage.output_tokens": int64(500),
}

// logWith is one log record of sharedCall, with its tokens multiplied by
// scale, from service "shop" as spanWith's spans are.
func logWith(scale int64) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "shop")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(callTime))
	_ = lr.Attributes().FromRaw(sharedCall)
	lr.Attributes().PutInt("gen_ai.usage.input_tokens", 1000*scale)
	lr.Attributes().PutInt("gen_ai.usage.output_tokens", 500*scale)
	return ld
}

// lastLog returns the attributes of the last record the sink received.
func lastLog(sink *consumertest.LogsSink) pcommon.Map {
	all := sink.AllLogs()
	return all[len(all)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
}

func anomalyOf(t *testing.T, attrs pcommon.Map) (float64, bool) {
	t.Helper()
	score, ok1 := attrs.Get(semconv.AttrAnomalyScore)
	flag, ok2 := attrs.Get(semconv.AttrAnomaly)
	if !ok1 || !ok2 {
		t.Fatalf("no anomaly attributes on %v", attrs.AsRaw())
	}
	return score.Double(), flag.Bool()
}

// held says whether a state is kept for key.
func held(key stateKey) bool {
	states.mu.Lock()
	defer states.mu.Unlock()
	_, ok := states.states[key]
	return ok
}

// TestSignalsShareOneBaseline: calls seen on the traces pipeline of a cost
// instance are the baseline its logs pipeline scores against, and shutting
// the traces side down leaves the logs side scoring against it.
func TestSignalsShareOneBaseline(t *testing.T) {
	ctx := context.Background()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	set := processortest.NewNopSettings(f.Type())
	tsink, lsink := new(consumertest.TracesSink), new(consumertest.LogsSink)
	tp, err := f.CreateTraces(ctx, set, cfg, tsink)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := f.CreateLogs(ctx, set, cfg, lsink)
	if err != nil {
		t.Fatal(err)
	}
	host := componenttest.NewNopHost()
	for _, p := range []component.Component{tp, lp} {
		if err := p.Start(ctx, host); err != nil {
			t.Fatal(err)
		}
	}

	// A baseline learnt from spans only, well past the warm-up.
	for range 3 * cfg.Anomaly.Warmup {
		if err := tp.ConsumeTraces(ctx, spanWith(sharedCall, 200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	// A call a hundred times the usual cost, seen on the logs side: scored
	// against what the traces side learnt.
	if err := lp.ConsumeLogs(ctx, logWith(100)); err != nil {
		t.Fatal(err)
	}
	if score, anomalous := anomalyOf(t, lastLog(lsink)); !anomalous || score < cfg.Anomaly.Threshold {
		t.Fatalf("logs side: score %v anomalous %v, want past %v on the traces side's baseline", score, anomalous, cfg.Anomaly.Threshold)
	}

	// Another instance (another config of the same ID, as after a reload)
	// has learnt nothing: the same call is not scored there.
	other := new(consumertest.LogsSink)
	op, err := f.CreateLogs(ctx, set, f.CreateDefaultConfig(), other)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.ConsumeLogs(ctx, logWith(100)); err != nil {
		t.Fatal(err)
	}
	if score, anomalous := anomalyOf(t, lastLog(other)); anomalous || score != 0 {
		t.Fatalf("fresh instance: score %v anomalous %v, want 0 in warm-up", score, anomalous)
	}
	if err := op.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// The traces side goes; the logs side keeps the baseline and prices on.
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	key := stateKey{id: set.ID, cfg: cfg}
	if !held(key) {
		t.Fatal("state forgotten while the logs processor still runs")
	}
	if err := lp.ConsumeLogs(ctx, logWith(100)); err != nil {
		t.Fatal(err)
	}
	attrs := lastLog(lsink)
	if v, _ := attrs.Get(semconv.AttrCostStatus); v.Str() != "computed" {
		t.Fatalf("logs side after the traces side's shutdown: %v", attrs.AsRaw())
	}
	if _, anomalous := anomalyOf(t, attrs); !anomalous {
		t.Fatalf("logs side lost the baseline with the traces side: %v", attrs.AsRaw())
	}

	// The last shutdown forgets the state (twice is harmless); a new
	// processor of the same config starts from nothing.
	for range 2 {
		if err := lp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if held(key) {
		t.Fatal("state kept after every processor shut down")
	}
	again := new(consumertest.LogsSink)
	ap, err := f.CreateLogs(ctx, set, cfg, again)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Shutdown(ctx)
	if err := ap.ConsumeLogs(ctx, logWith(100)); err != nil {
		t.Fatal(err)
	}
	if score, _ := anomalyOf(t, lastLog(again)); score != 0 {
		t.Fatalf("recreated instance scored %v from a state that should be gone", score)
	}
}

// countingHost counts extension look-ups: the live feed is found once per
// instance, not once per pipeline.
type countingHost struct {
	feedHost
	lookups *atomic.Int32
}

func (h countingHost) GetExtensions() map[component.ID]component.Component {
	h.lookups.Add(1)
	return h.feedHost.GetExtensions()
}

// TestSignalsShareOneLiveFeed: both signals of one instance publish on the
// one hub their shared state found.
func TestSignalsShareOneLiveFeed(t *testing.T) {
	ctx := context.Background()
	id := component.MustNewID("nexusapi")
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.LiveFeed = &id
	hub := livefeed.NewHub(1)
	host := countingHost{
		feedHost: feedHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: &feedExtension{hub: hub}}},
		lookups:  new(atomic.Int32),
	}
	set := processortest.NewNopSettings(f.Type())
	tp, err := f.CreateTraces(ctx, set, cfg, new(consumertest.TracesSink))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := f.CreateLogs(ctx, set, cfg, new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Shutdown(ctx)
	defer tp.Shutdown(ctx)
	if err := tp.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	if err := lp.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	if n := host.lookups.Load(); n != 1 {
		t.Fatalf("live feed looked up %d times for one instance", n)
	}

	sub, _ := hub.Subscribe(4, nil, 0)
	defer sub.Close()
	if err := tp.ConsumeTraces(ctx, spanWith(sharedCall, 200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := lp.ConsumeLogs(ctx, logWith(1)); err != nil {
		t.Fatal(err)
	}
	for _, signal := range []string{"traces", "logs"} {
		select {
		case <-sub.C:
		default:
			t.Fatalf("no call published from %s", signal)
		}
	}
}
