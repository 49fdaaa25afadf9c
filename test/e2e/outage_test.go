package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// The store under test is made unavailable for real: the collector under
// test (the "writer") runs configs/local.yaml with its chstore in remote
// mode, over HTTP, against a second collector (the "store") whose embedded
// engine serves the ClickHouse HTTP interface with writes allowed. Stopping
// the store collector is an outage the writer sees as a ClickHouse server
// going away (connection refused), and starting it again on the same data
// directory and port ends it.
const storeUser, storePassword = "nexus", "outage-test-password"

// Time is compressed only through the writer's retry settings, which are
// the default's shape scaled down 60 times: 5 s → 100 ms initial interval,
// 30 s → 500 ms longest interval, and the former 5 min limit → 5 s. An
// outage of 12 s then stands for one of 12 minutes.
const (
	compressedRetry = `
      initial_interval: 100ms
      max_interval: 500ms`
	oldRetryLimit = `
      max_elapsed_time: 5s`
	outage = 12 * time.Second
)

func writeConfig(tb testing.TB, yaml string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "override.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// storePair starts the store collector and a writer whose exporter config
// gets `exporter` (keys under exporters::nexus) on top of the shipped one.
// restart starts the store again, as it was, after store.stop().
func storePair(t *testing.T, exporter string) (store, writer *collector, restart func(), storeQuery func(string) (string, error)) {
	t.Helper()
	store = newCollector(t, t.TempDir())
	storeExtra := writeConfig(t, fmt.Sprintf(`
extensions:
  chstore:
    http:
      read_only: false
      username: %s
      password: %s
`, storeUser, storePassword))
	restart = func() { store.start("--config", storeExtra) }
	restart()

	writer = newCollector(t, t.TempDir())
	writerExtra := writeConfig(t, fmt.Sprintf(`
extensions:
  chstore:
    mode: remote
    remote:
      endpoints: [%s]
      protocol: http
      username: %s
      password: %s
      tls: {insecure: true}
    http:
      enabled: false
exporters:
  nexus:
%s
`, store.chHTTP, storeUser, storePassword, exporter))
	writer.start("--config", writerExtra)
	store.user, store.password = storeUser, storePassword
	storeQuery = store.query
	return store, writer, restart, storeQuery
}

// outageRun sends spans before, during and after a store outage of
// `outage`, each request retried until acknowledged, and returns what was
// acknowledged and what the store holds once the writer has drained (or,
// with quiet > 0, once the store's count has not moved for quiet).
func outageRun(t *testing.T, exporter string, quiet time.Duration) (load *ackedLoad, s stored, writer *collector) {
	store, writer, restart, q := storePair(t, exporter)
	load = newAckedLoad(100, writer.otlpHTTP)
	ctx := contextTimeout(t, 3*time.Minute)

	// Before: the path works.
	if err := load.run(ctx, 0, 5, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := settle(q, load.acked.Load(), 30*time.Second, 0); err != nil {
		t.Fatalf("before the outage: %v\n%s", err, writer.out)
	}
	// During: the writer acknowledges into its persistent queue while
	// every insert fails.
	if err := store.stop(); err != nil {
		t.Fatalf("stopping the store: %v\n%s", err, store.out)
	}
	began := time.Now()
	if err := load.run(ctx, 5, 40, 1, outage/40); err != nil {
		t.Fatalf("during the outage: %v\n%s", err, writer.out)
	}
	time.Sleep(time.Until(began.Add(outage)))
	restart()
	t.Logf("store back after %s", time.Since(began).Round(100*time.Millisecond))
	// After.
	if err := load.run(ctx, 45, 5, 1, 0); err != nil {
		t.Fatal(err)
	}
	s, err := settle(q, load.acked.Load(), 60*time.Second, quiet)
	if err != nil {
		t.Fatalf("%v\n%s", err, writer.out)
	}
	return load, s, writer
}

// TestStoreOutageLosesNothing: with the shipped retry setting (no time
// limit), a store outage longer than the former 5-minute limit (compressed
// as above) loses nothing the writer acknowledged, in api_calls and the
// day rollup, at the exact cost.
func TestStoreOutageLosesNothing(t *testing.T) {
	// The claim is about the shipped setting, which the test leaves as it is.
	var shipped struct {
		Exporters struct {
			Nexus struct {
				Retry map[string]any `yaml:"retry_on_failure"`
			} `yaml:"nexus"`
		} `yaml:"exporters"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "local.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &shipped); err != nil {
		t.Fatal(err)
	}
	if r := shipped.Exporters.Nexus.Retry; r["enabled"] != true || r["max_elapsed_time"] != 0 {
		t.Fatalf("configs/local.yaml retry_on_failure = %v, want enabled with max_elapsed_time: 0 (no limit)", r)
	}

	load, s, writer := outageRun(t, "    retry_on_failure:"+compressedRetry, 0)
	checkExact(t, s, load.acked.Load(), load.pico.Load())
	if out := writer.out.String(); !strings.Contains(out, "Will retry the request") || strings.Contains(out, "no more retries left") {
		t.Errorf("the writer should have retried through the outage without giving up:\n%s", out)
	}
}

// TestStoreOutageOldRetryLimitDrops is the control: the same outage with
// the former limit (max_elapsed_time, compressed like the rest) drops
// acknowledged spans, which is why the shipped config has none.
func TestStoreOutageOldRetryLimitDrops(t *testing.T) {
	// What the writer still holds after the outage lands within a few
	// retry intervals (500 ms each); 8 s without a new row is the end.
	load, s, writer := outageRun(t, "    retry_on_failure:"+compressedRetry+oldRetryLimit, 8*time.Second)
	lost := load.acked.Load() - s.distinct
	t.Logf("acknowledged %d spans; %s; lost %d", load.acked.Load(), s, lost)
	if lost <= 0 {
		t.Fatalf("the old retry limit lost nothing in a %s outage: the control shows nothing", outage)
	}
	if !strings.Contains(writer.out.String(), "no more retries left") {
		t.Errorf("writer's log does not say it gave up retrying:\n%s", writer.out)
	}
}

// TestQueueFullRefusedRetryably: when the persistent queue is full (here
// made small, during an outage) the writer refuses new data at once with
// a retryable answer, OTLP/HTTP 503 and OTLP/gRPC Unavailable, and keeps
// everything it accepted; a client that retries gets all its spans stored
// once the store is back.
func TestQueueFullRefusedRetryably(t *testing.T) {
	// ~530 bytes a span on disk: 10 requests of 100 spans fill it.
	store, writer, restart, q := storePair(t, `
    sending_queue:
      queue_size: 530000
    retry_on_failure:`+compressedRetry)
	if err := store.stop(); err != nil {
		t.Fatal(err)
	}
	load := newAckedLoad(100, writer.otlpHTTP)
	ctx := contextTimeout(t, 3*time.Minute)
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.run(ctx, 0, 30, 3, 0) }()

	// Wait for the writer to refuse, then ask over gRPC as well.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n, ok := load.refused.Load(http.StatusServiceUnavailable); ok && n.(*atomic.Int64).Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a full queue was never refused with 503 (%s)\n%s", load.refusals(), writer.out)
		}
	}
	conn, err := grpc.NewClient(writer.otlpGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body, _ := load.request(1 << 30)
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		t.Fatal(err)
	}
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, req)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("OTLP/gRPC into a full queue: %v, want Unavailable", err)
	}
	t.Logf("full queue: OTLP/gRPC %v; OTLP/HTTP so far %s", status.Code(err), load.refusals())

	restart()
	if err := <-loadDone; err != nil {
		t.Fatalf("%v\n%s", err, writer.out)
	}
	s, err := settle(q, load.acked.Load(), 60*time.Second, 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, writer.out)
	}
	checkExact(t, s, load.acked.Load(), load.pico.Load())
}
