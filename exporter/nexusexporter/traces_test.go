package nexusexporter

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap/zaptest"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func newExporter(t *testing.T, h storetest.Host, tweak func(*Config)) exporter.Traces {
	t.Helper()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.BackOffConfig.InitialInterval = 20 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 100 * time.Millisecond
	if tweak != nil {
		tweak(cfg)
	}
	set := exportertest.NewNopSettings(f.Type())
	set.Logger = zaptest.NewLogger(t)
	// A fixed id: the persistent queue's file is named after it, and a
	// restarted exporter must find its predecessor's queue.
	set.ID = component.NewID(f.Type())
	exp, err := f.CreateTraces(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return exp
}

// recent is a whole hour of yesterday: calls at that time are inside the
// exporter's accepted window whenever the tests run.
func recent() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour) }

// calls builds n OpenAI chat spans (plus one internal span that is not an
// API call and must not be stored).
func calls(n int, base time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "billing")
	rs.Resource().Attributes().PutStr("deployment.environment", "staging")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		s := spans.AppendEmpty()
		s.SetName("chat")
		s.SetTraceID(pcommon.TraceID([16]byte{1, byte(i >> 8), byte(i)}))
		s.SetSpanID(pcommon.SpanID([8]byte{2, byte(i >> 8), byte(i)}))
		start := base.Add(time.Duration(i) * time.Millisecond)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(250 * time.Millisecond)))
		a := s.Attributes()
		a.PutStr("gen_ai.system", "openai")
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.request.model", "gpt-4o")
		a.PutStr("gen_ai.response.model", "gpt-4o-2024-08-06")
		a.PutInt("gen_ai.usage.input_tokens", int64(100+i))
		a.PutInt("gen_ai.usage.output_tokens", 10)
		a.PutInt("gen_ai.usage.cache_read.input_tokens", 64)
		a.PutStr("server.address", "api.openai.com")
		a.PutInt("http.response.status_code", 200)
	}
	internal := spans.AppendEmpty()
	internal.SetName("render template")
	return td
}

func TestExportWritesOneRowPerCall(t *testing.T) {
	s, h := storetest.Start(t, "exp_rows")
	exp := newExporter(t, h, nil)
	base := recent().Add(123456789)
	if err := exp.ConsumeTraces(context.Background(), calls(100, base)); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil { // drains the queue
		t.Fatal(err)
	}
	got := storetest.Scalar(t, s, "SELECT toString(tuple(count(), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), "+
		"min(timestamp), uniqExact(trace_id), any(service), any(environment), any(model), any(request_model), any(duration_ns))) FROM exp_rows.api_calls")
	want := "(100,14950,1000,6400,'" + base.Format("2006-01-02 15:04:05.000000000") + "',100,'billing','staging','gpt-4o-2024-08-06','gpt-4o',250000000)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Without a cost processor nothing was priced: unpriced, never $0.
	if got := storetest.Scalar(t, s, "SELECT toString(tuple(countIf(cost_usd IS NULL), any(cost_status), any(unpriced_reason))) FROM exp_rows.api_calls"); got != "(100,'unpriced','"+noCostProcessor+"')" {
		t.Fatalf("cost columns without a cost processor: %s", got)
	}
	if tid := storetest.Scalar(t, s, "SELECT trace_id FROM exp_rows.api_calls ORDER BY timestamp LIMIT 1"); tid != "01000000000000000000000000000000" {
		t.Fatalf("trace id stored as %q", tid)
	}
}

// TestStoreOutageLosesNothing takes the api_calls table away while spans
// arrive, then brings it back: every span lands exactly once.
func TestStoreOutageLosesNothing(t *testing.T) {
	s, h := storetest.Start(t, "exp_outage")
	ctx := context.Background()
	if err := s.Exec(ctx, "DETACH TABLE exp_outage.api_calls", nil); err != nil {
		t.Fatal(err)
	}
	exp := newExporter(t, h, nil)
	base := recent()
	for i := range 5 {
		if err := exp.ConsumeTraces(ctx, calls(200, base.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatalf("queue refused data during the outage: %v", err)
		}
	}
	time.Sleep(300 * time.Millisecond) // several failed attempts
	if err := s.Exec(ctx, "ATTACH TABLE exp_outage.api_calls", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "SELECT count() FROM exp_outage.api_calls", "1000", 20*time.Second)
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := storetest.Scalar(t, s, "SELECT count() FROM exp_outage.api_calls"); n != "1000" {
		t.Fatalf("after shutdown: %s rows, want 1000 (duplicates?)", n)
	}
}

// TestPersistentQueueSurvivesRestart queues spans on disk while the store is
// down, stops the exporter, and lets a new one deliver them.
func TestPersistentQueueSurvivesRestart(t *testing.T) {
	s, h := storetest.Start(t, "exp_persist")
	ctx := context.Background()

	startFileStorage, fsID := fileStorage(t, h)
	withQueue := func(cfg *Config) {
		q := cfg.QueueConfig.Get()
		q.StorageID = &fsID
		cfg.QueueConfig = configoptional.Some(*q)
		cfg.BackOffConfig.MaxElapsedTime = 0 // retry until delivered
	}

	if err := s.Exec(ctx, "DETACH TABLE exp_persist.api_calls", nil); err != nil {
		t.Fatal(err)
	}
	fs1 := startFileStorage()
	h.Extensions[fsID] = fs1
	exp1 := newExporter(t, h, withQueue)
	if err := exp1.ConsumeTraces(ctx, calls(300, recent())); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// Shut down during the outage: the batch stays on disk.
	shutdownCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_ = exp1.Shutdown(shutdownCtx)
	cancel()
	if err := fs1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	if n := storetest.Scalar(t, s, "SELECT count() FROM system.tables WHERE database = 'exp_persist' AND name = 'api_calls'"); n != "0" {
		t.Fatalf("table came back early")
	}

	if err := s.Exec(ctx, "ATTACH TABLE exp_persist.api_calls", nil); err != nil {
		t.Fatal(err)
	}
	fs2 := startFileStorage()
	h.Extensions[fsID] = fs2
	exp2 := newExporter(t, h, withQueue)
	waitFor(t, s, "SELECT count() FROM exp_persist.api_calls", "300", 20*time.Second)
	if err := exp2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fs2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// fileStorage returns how to start a file_storage extension (the
// persistent queue's and the insert journal's storage) on one directory
// for the test, again after a stop as a restarted collector does, and its id.
func fileStorage(t *testing.T, h storetest.Host) (func() extension.Extension, component.ID) {
	t.Helper()
	fsf := filestorage.NewFactory()
	fsCfg := fsf.CreateDefaultConfig().(*filestorage.Config)
	fsCfg.Directory = t.TempDir()
	return func() extension.Extension {
		ext, err := fsf.Create(context.Background(), extensiontest.NewNopSettings(fsf.Type()), fsCfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := ext.Start(context.Background(), h); err != nil {
			t.Fatal(err)
		}
		return ext
	}, component.MustNewID("file_storage")
}

func waitFor(t *testing.T, s store.Store, sql, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		if got = storetest.Scalar(t, s, sql); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s = %s after %s, want %s", sql, got, timeout, want)
}
