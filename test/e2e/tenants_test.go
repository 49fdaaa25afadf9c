package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// apiData calls the REST API (apiDo) and decodes the envelope's data into
// out when the call succeeded.
func apiData(t *testing.T, col *collector, method, key, path string, body, out any) int {
	t.Helper()
	code, _, raw := apiDo(t, col, key, method, path, body)
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: HTTP %d %v: %s", method, path, code, err, raw)
	}
	if env.Success && out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return code
}

// tenantSpans records calls as the SDK would send them, with a resource
// that claims another tenant: the claim must never count.
func tenantSpans(t *testing.T, calls []call, claim string) []sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("nexus.tenant", claim))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(res))
	emit(tp, calls)
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rec.Ended()
}

// streamCalls counts the call events a key's live stream gets.
type streamCalls struct {
	mu     sync.Mutex
	events []string
}

func (s *streamCalls) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func openCallStream(t *testing.T, ctx context.Context, col *collector, key string) *streamCalls {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+col.api+"/api/v1/stream?kinds=call", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, resp)
	}
	s := &streamCalls{}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				s.mu.Lock()
				s.events = append(s.events, data)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// TestTenantsEndToEnd runs configs/tenants.yaml on the built binary with
// two tenants. Each proves itself with its own ingest key — acme through
// the OpenTelemetry Go SDK (claiming to be globex in its attributes),
// globex through the SDK and the proxy — and each tenant's API key, live
// stream and ClickHouse credentials see exactly its own calls and totals.
func TestTenantsEndToEnd(t *testing.T) {
	const admin = "nxs_e2e_tenants_admin_0123456789abcdefghijkl"
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Nexus-Ingest-Key") != "" {
			t.Errorf("the provider got the ingest key")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatAnswer))
	}))
	defer upstream.Close()

	col := newCollector(t, t.TempDir())
	col.file = "tenants.yaml"
	col.config = localConfig(t, col)
	col.env = []string{"NEXUS_ADMIN_KEY=" + admin, "NEXUS_OPENAI_BASE_URL=" + upstream.URL + "/v1",
		"NEXUS_CH_USER=operator", "NEXUS_CH_PASSWORD=op-secret", "NEXUS_CH_ACME_PASSWORD=acme-secret", "NEXUS_CH_GLOBEX_PASSWORD=globex-secret"}
	col.start()
	col.user, col.password = "operator", "op-secret"

	// The installation admin makes the tenants and a key for each; each
	// tenant's admin makes its own ingest key.
	keys, ingest := map[string]string{}, map[string]string{}
	for _, tenant := range []string{"acme", "globex"} {
		if code := apiData(t, col, "POST", admin, "/api/v1/tenants", map[string]string{"id": tenant, "name": strings.ToUpper(tenant)}, nil); code != 201 {
			t.Fatalf("create tenant %s: HTTP %d", tenant, code)
		}
		var k struct {
			Key string `json:"key"`
		}
		if code := apiData(t, col, "POST", admin, "/api/v1/keys", map[string]string{"name": tenant + " admin", "role": "admin", "tenant": tenant}, &k); code != 201 || k.Key == "" {
			t.Fatalf("create %s key: HTTP %d", tenant, code)
		}
		keys[tenant] = k.Key
		var ik struct {
			Key string `json:"key"`
		}
		if code := apiData(t, col, "POST", k.Key, "/api/v1/ingest-keys", map[string]string{"name": "checkout"}, &ik); code != 201 || !strings.HasPrefix(ik.Key, "nxi_") {
			t.Fatalf("create %s ingest key: HTTP %d %q", tenant, code, ik.Key)
		}
		ingest[tenant] = ik.Key
	}
	if code := apiData(t, col, "POST", keys["acme"], "/api/v1/tenants", map[string]string{"id": "evil", "name": "Evil"}, nil); code != 403 {
		t.Fatalf("a tenant admin made a tenant: HTTP %d", code)
	}

	ctx := contextTimeout(t, 90*time.Second)
	streams := map[string]*streamCalls{"acme": openCallStream(t, ctx, col, keys["acme"]), "globex": openCallStream(t, ctx, col, keys["globex"])}
	time.Sleep(200 * time.Millisecond)

	grpcExporter := func(key string) *otlptrace.Exporter {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(col.otlpGRPC), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithHeaders(map[string]string{"authorization": "Bearer " + key}), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
		return exp
	}
	// New ingest keys are seen within the authenticator's refresh.
	acmeCalls, _ := sdkCalls(25)
	acmeSpans := tenantSpans(t, acmeCalls, "globex")
	acmeExp := grpcExporter(ingest["acme"])
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		err := acmeExp.ExportSpans(ctx, acmeSpans)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acme's ingest key never accepted: %v\n%s", err, col.out)
		}
	}
	globexCalls, _ := sdkCalls(10)
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col.otlpHTTP), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer " + ingest["globex"]}), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer httpExp.Shutdown(context.Background())
	if err := httpExp.ExportSpans(ctx, tenantSpans(t, globexCalls, "acme")); err != nil {
		t.Fatalf("globex over OTLP/HTTP: %v", err)
	}
	for range 3 {
		client := openai.NewClient(option.WithBaseURL("http://"+col.proxy+"/openai/v1"), option.WithAPIKey("sk-globex"),
			option.WithHeader("X-Nexus-Ingest-Key", ingest["globex"]))
		if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		}); err != nil {
			t.Fatalf("globex through the proxy: %v", err)
		}
	}
	// Keys that prove nothing are refused, and nothing they send is kept.
	if err := grpcExporter("nxi_unknown0000000000000000000000000000000").ExportSpans(ctx, acmeSpans); err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("unknown ingest key over gRPC: %v", err)
	}
	if err := grpcExporter(keys["acme"]).ExportSpans(ctx, acmeSpans); err == nil {
		t.Fatal("an API key was taken as an ingest key")
	}
	bad := openai.NewClient(option.WithBaseURL("http://"+col.proxy+"/openai/v1"), option.WithAPIKey("sk-x"),
		option.WithHeader("X-Nexus-Ingest-Key", "nxi_forged"), option.WithMaxRetries(0))
	if _, err := bad.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("forged ingest key through the proxy: %v", err)
	}

	want := map[string]int{"acme": 25, "globex": 13}
	// An insert writes api_calls first, then each rollup its views feed.
	for _, q := range []string{"SELECT count() FROM nexus.api_calls", "SELECT sum(calls) FROM nexus.api_calls_1m",
		"SELECT sum(calls) FROM nexus.api_calls_1d", "SELECT sum(calls) FROM nexus.api_calls_customer_1d"} {
		if _, err := col.waitForCount(q, "38", 15*time.Second); err != nil {
			t.Fatalf("%v\n%s", err, col.out)
		}
	}
	out, err := col.query("SELECT tenant, count() FROM nexus.api_calls GROUP BY tenant ORDER BY tenant")
	if err != nil || out != "acme\t25\nglobex\t13" {
		t.Fatalf("rows by tenant (operator): %q %v", out, err)
	}

	to := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	rangeQ := fmt.Sprintf("from=%s&to=%s", to.Add(-24*time.Hour).Format(time.RFC3339), to.Format(time.RFC3339))
	for tenant, n := range want {
		// What the operator's SQL says the tenant spent, to the cent and below.
		total, err := col.query("SELECT toString(sum(ifNull(cost_usd, 0))) FROM nexus.api_calls WHERE tenant = '" + tenant + "'")
		if err != nil {
			t.Fatal(err)
		}
		var summary []struct {
			Cost  string `json:"cost"`
			Calls uint64 `json:"calls"`
		}
		if code := apiData(t, col, "GET", keys[tenant], "/api/v1/costs/summary?"+rangeQ, nil, &summary); code != 200 {
			t.Fatalf("%s summary: HTTP %d", tenant, code)
		}
		var calls uint64
		sum := decimal.Zero
		for _, g := range summary {
			sum, calls = sum.Add(decimal.RequireFromString(g.Cost)), calls+g.Calls
		}
		if calls != uint64(n) || !sum.Equal(decimal.RequireFromString(total)) {
			t.Errorf("%s's API sees %d calls, $%s; it made %d, $%s", tenant, calls, sum, n, total)
		}
		var list []json.RawMessage
		if code := apiData(t, col, "GET", keys[tenant], "/api/v1/calls?limit=100&"+rangeQ, nil, &list); code != 200 || len(list) != n {
			t.Errorf("%s's /calls: HTTP %d, %d calls, want %d", tenant, code, len(list), n)
		}
		// The tenant's ClickHouse credentials: the engine filters every
		// table to the tenant, whatever the SQL asks for.
		tc := *col
		tc.user, tc.password = tenant, tenant+"-secret"
		for q, w := range map[string]string{
			"SELECT count() FROM nexus.api_calls":                                                         fmt.Sprint(n),
			"SELECT toString(sum(ifNull(cost_usd, 0))) FROM nexus.api_calls":                              total,
			"SELECT count() FROM nexus.api_calls WHERE tenant != '" + tenant + "'":                        "0",
			"SELECT sum(calls) FROM nexus.api_calls_1d":                                                   fmt.Sprint(n),
			"SELECT count() FROM (SELECT * FROM nexus.api_calls UNION ALL SELECT * FROM nexus.api_calls)": fmt.Sprint(2 * n),
			"SELECT count() FROM merge('nexus', '^api_calls$')":                                           fmt.Sprint(n),
		} {
			got, err := tc.query(q)
			if err != nil || got != w {
				t.Errorf("%s over ClickHouse: %s = %q (%v), want %q", tenant, q, got, err, w)
			}
		}
		if got := streams[tenant].count(); got != n {
			t.Errorf("%s's stream got %d calls, want %d", tenant, got, n)
		}
	}

	// A tenant's ids are not even visible to another tenant.
	var budget struct {
		ID string `json:"id"`
	}
	if code := apiData(t, col, "POST", keys["globex"], "/api/v1/budgets", map[string]any{"name": "monthly", "period": "monthly", "amountUsd": "50"}, &budget); code != 201 {
		t.Fatalf("globex budget: HTTP %d", code)
	}
	if code := apiData(t, col, "GET", keys["acme"], "/api/v1/budgets/"+budget.ID, nil, nil); code != 404 {
		t.Fatalf("acme reading globex's budget: HTTP %d", code)
	}
	if code := apiData(t, col, "DELETE", keys["acme"], "/api/v1/budgets/"+budget.ID, nil, nil); code != 404 {
		t.Fatalf("acme deleting globex's budget: HTTP %d", code)
	}
	if code := apiData(t, col, "GET", keys["globex"], "/api/v1/budgets/"+budget.ID, nil, nil); code != 200 {
		t.Fatalf("globex reading its budget: HTTP %d", code)
	}
}
