package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// call is one API call an instrumented app makes, as the SDK records it.
type call struct {
	attrs  []attribute.KeyValue
	failed bool
}

// sdkCalls is a mix of the five providers in current and deprecated
// attribute spellings; the expected per-provider sums follow from it.
func sdkCalls(n int) ([]call, map[string][3]int64) {
	want := map[string][3]int64{} // provider -> calls, input tokens, errors
	var out []call
	for i := range n {
		var c call
		var p string
		var in int64
		switch i % 5 {
		case 0:
			p, in = "openai", int64(100+i)
			c.attrs = []attribute.KeyValue{
				attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.operation.name", "chat"),
				attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.Int64("gen_ai.usage.input_tokens", in),
				attribute.Int64("gen_ai.usage.output_tokens", 20), attribute.String("server.address", "api.openai.com"),
			}
		case 1:
			p, in = "openrouter", int64(50+i)
			c.attrs = []attribute.KeyValue{
				attribute.String("gen_ai.system", "openrouter"), attribute.String("gen_ai.request.model", "anthropic/claude-3.5-sonnet"),
				attribute.Int64("gen_ai.usage.prompt_tokens", in), attribute.Int64("gen_ai.usage.completion_tokens", 5),
			}
		case 2:
			p = "exa"
			c.attrs = []attribute.KeyValue{
				attribute.String("url.full", "https://api.exa.ai/search"), attribute.String("http.request.method", "POST"),
				attribute.Int("http.response.status_code", 200),
			}
		case 3:
			p = "twilio"
			c.failed = true
			c.attrs = []attribute.KeyValue{
				attribute.String("server.address", "api.twilio.com"), attribute.String("http.request.method", "POST"),
				attribute.Int("http.response.status_code", 429),
			}
		case 4:
			p = "apollo"
			c.attrs = []attribute.KeyValue{
				attribute.String("server.address", "api.apollo.io"), attribute.String("http.method", "POST"),
				attribute.Int("http.status_code", 200),
			}
		}
		w := want[p]
		w[0]++
		w[1] += in
		if c.failed {
			w[2]++
		}
		want[p] = w
		out = append(out, c)
	}
	return out, want
}

func emit(tp *sdktrace.TracerProvider, calls []call) {
	tracer := tp.Tracer("e2e")
	for _, c := range calls {
		_, span := tracer.Start(context.Background(), "api call", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(c.attrs...))
		if c.failed {
			span.SetStatus(codes.Error, "too many requests")
		}
		span.End()
	}
}

// TestEndToEnd sends spans with the OpenTelemetry Go SDK over OTLP/HTTP and
// OTLP/gRPC to the built binary running configs/local.yaml, and reads the
// rows back through the ClickHouse HTTP interface.
func TestEndToEnd(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	ctx := contextTimeout(t, 2*time.Minute)

	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("deployment.environment.name", "prod"))
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col.otlpHTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(col.otlpGRPC), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	calls, want := sdkCalls(1000)
	for i, exp := range []sdktrace.SpanExporter{httpExp, grpcExp} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		half := calls[i*500 : (i+1)*500]
		emit(tp, half)
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatalf("exporter %d: %v", i, err)
		}
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1000", 20*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	out, err := col.query("SELECT provider, count(), sum(input_tokens), countIf(status = 'error') FROM nexus.api_calls " +
		"WHERE service = 'checkout' AND environment = 'prod' GROUP BY provider ORDER BY provider FORMAT JSONCompactEachRow")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][3]int64{}
	for _, line := range strings.Split(out, "\n") {
		var row []any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		var v [3]int64
		for i := range 3 {
			fmt.Sscan(fmt.Sprint(row[i+1]), &v[i])
		}
		got[row[0].(string)] = v
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("per provider (calls, input tokens, errors):\n got %v\nwant %v", got, want)
	}
	// Every call is priced or marked unpriced, never a silent $0: OpenAI
	// from the catalog (gpt-4o-mini: $0.15 in, $0.60 out per 1M), Exa
	// search at $0.007 a request, the rest (an OpenRouter model of a vendor
	// Nexus has no prices for, HTTP calls without a known route) unpriced,
	// and Twilio's 429s refused: a known $0, which Twilio does not bill.
	out, err = col.query("SELECT provider, cost_status, count(), toString(sum(ifNull(cost_usd, 0))) FROM nexus.api_calls " +
		"GROUP BY provider, cost_status ORDER BY provider, cost_status FORMAT CSV")
	if err != nil {
		t.Fatal(err)
	}
	wantCost := "\"apollo\",\"unpriced\",200,\"0\"\n\"exa\",\"computed\",200,\"1.4\"\n" +
		"\"openai\",\"computed\",200,\"0.020325\"\n\"openrouter\",\"unpriced\",200,\"0\"\n\"twilio\",\"refused\",200,\"0\""
	if out != wantCost {
		t.Fatalf("cost by provider:\n%s\nwant\n%s", out, wantCost)
	}
	// Error classification survives the trip.
	if out, _ := col.query("SELECT DISTINCT error_class FROM nexus.api_calls WHERE provider = 'twilio'"); out != "rate_limited" {
		t.Fatalf("twilio error class = %q, want rate_limited", out)
	}
}

// readmeSpan is the OTLP/JSON body the README's quickstart curl sends.
func readmeSpan(t *testing.T) []byte {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The body sits between the markers in the README so that this test
	// sends exactly what users copy.
	s := string(readme)
	const begin, end = "<<OTLP\n", "\nOTLP\n"
	i := strings.Index(s, begin)
	j := strings.Index(s[i+len(begin):], end)
	if i < 0 || j < 0 {
		t.Fatal("README has no OTLP/JSON example between <<OTLP and OTLP markers")
	}
	body := s[i+len(begin) : i+len(begin)+j]
	now := time.Now().UnixNano()
	body = strings.ReplaceAll(body, "$(($(date +%s%N)+850000000))", fmt.Sprint(now+850_000_000))
	body = strings.ReplaceAll(body, "$(date +%s%N)", fmt.Sprint(now))
	if !json.Valid([]byte(body)) {
		t.Fatalf("README OTLP example is not valid JSON after substitution:\n%s", body)
	}
	return []byte(body)
}

// TestQuickstartSpanVisibleWithinTwoSeconds posts the README's OTLP/JSON
// span to :4318/v1/traces and expects the README's count query to see it
// within 2 s. Malformed OTLP is refused without harming the collector.
func TestQuickstartSpanVisibleWithinTwoSeconds(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()

	post := func(contentType string, body []byte) int {
		resp, err := http.Post("http://"+col.otlpHTTP+"/v1/traces", contentType, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, bad := range []struct{ ct, body string }{
		{"application/json", `{"resourceSpans": [ {"scopeSpans": "nope"`},
		{"application/x-protobuf", "\xff\xff\xff\x01garbage"},
	} {
		if code := post(bad.ct, []byte(bad.body)); code != http.StatusBadRequest {
			t.Fatalf("malformed %s: HTTP %d, want 400", bad.ct, code)
		}
	}
	if code := post("application/json", readmeSpan(t)); code != http.StatusOK {
		t.Fatalf("README span: HTTP %d", code)
	}
	took, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1", 2*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	t.Logf("README span queryable after %s", took)
	// 176 uncached × $0.15 + 1024 cached × $0.075 + 80 × $0.60 per 1M.
	out, err := col.query("SELECT provider, model, input_tokens, output_tokens, cached_input_tokens, duration_ns, cost_status, cost_usd FROM nexus.api_calls")
	if err != nil {
		t.Fatal(err)
	}
	if out != "openai\tgpt-4o-mini-2024-07-18\t1200\t80\t1024\t850000000\tcomputed\t0.0001512" {
		t.Fatalf("README span stored as %q", out)
	}
}

// TestRestartKeepsData stops the collector with SIGTERM and starts it again
// on the same data directory: it exits cleanly and the rows are still there.
func TestRestartKeepsDataAndRefusesSecondProcess(t *testing.T) {
	dir := t.TempDir()
	col := newCollector(t, dir)
	col.start()
	if code := postJSON(t, col, readmeSpan(t)); code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// A second process on the same data directory is refused, and says why.
	second := newCollector(t, dir)
	second.run()
	if err := second.wait(60 * time.Second); err == nil {
		t.Fatalf("second collector on a held data directory started\n%s", second.out)
	}
	if !strings.Contains(second.out.String(), "in use by another process") {
		t.Fatalf("second collector's error does not say the directory is in use:\n%s", second.out)
	}

	if err := col.stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, col.out)
	}
	again := newCollector(t, dir)
	again.start()
	if out, err := again.query("SELECT count() FROM nexus.api_calls"); err != nil || out != "1" {
		t.Fatalf("after restart: %q, %v", out, err)
	}
	// Migrations ran once, not twice.
	if out, _ := again.query("SELECT count() FROM nexus.schema_migrations"); out == "0" {
		t.Fatalf("no migrations recorded")
	}
}

func postJSON(tb testing.TB, col *collector, body []byte) int {
	tb.Helper()
	resp, err := http.Post("http://"+col.otlpHTTP+"/v1/traces", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBadStartup: what a user sees when the config or the engine is wrong.
func TestBadStartup(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{
			name: "unknown config key",
			args: []string{"--set=extensions::chstore::embedded::datadir=/tmp/x"},
			want: []string{"datadir"},
		},
		{
			name: "invalid value",
			args: []string{"--set=extensions::chstore::mode=cloud"},
			want: []string{"mode", "cloud"},
		},
		{
			name: "engine library missing",
			args: []string{"--set=extensions::chstore::embedded::library_path=/nonexistent/libchdb.so"},
			want: []string{"/nonexistent/libchdb.so", "make engine", "CHDB_LIB_PATH"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := newCollector(t, t.TempDir())
			col.run(c.args...)
			if err := col.wait(60 * time.Second); err == nil {
				t.Fatalf("collector started\n%s", col.out)
			}
			for _, w := range c.want {
				if !strings.Contains(col.out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, col.out)
				}
			}
		})
	}
	// `validate` names the key too, without starting anything.
	cmd := exec.Command(binary(t), "validate", "--config", newCollector(t, t.TempDir()).config,
		"--set=exporters::nexus::sending_queue::queue_sise=10")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "queue_sise") {
		t.Fatalf("validate: err %v, output:\n%s", err, out)
	}
}
