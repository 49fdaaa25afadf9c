package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const ingestAdminKey = "nxs_e2e_ingest_admin_0123456789abcdefghijklm"

// withIngestAuth is configs/local.yaml with ingest keys required: the
// nexusingestauth authenticator on both OTLP protocols, and an apiproxy
// receiver using it, with OpenAI pointed at upstream.
func withIngestAuth(t *testing.T, col *collector, upstream string) {
	t.Helper()
	b, err := os.ReadFile(col.config)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b)
	auth := "        auth:\n          authenticator: nexusingestauth\n"
	cfg := strings.NewReplacer(
		"        endpoint: "+col.otlpGRPC+"\n", "        endpoint: "+col.otlpGRPC+"\n"+auth,
		"        endpoint: "+col.otlpHTTP+"\n", "        endpoint: "+col.otlpHTTP+"\n"+auth,
		"extensions:\n", "extensions:\n  nexusingestauth:\n    refresh_interval: 300ms\n",
		"extensions: [health_check, file_storage, chstore, nexusapi]", "extensions: [health_check, file_storage, chstore, nexusapi, nexusingestauth]",
		"receivers:\n", "receivers:\n  apiproxy:\n    endpoint: "+col.proxy+"\n    auth:\n      authenticator: nexusingestauth\n    openai:\n      endpoint: "+upstream+"/v1\n",
		"receivers: [otlp]", "receivers: [otlp, apiproxy]",
	).Replace(raw)
	for _, want := range []string{"grpc:\n        endpoint: " + col.otlpGRPC + "\n" + auth, "http:\n        endpoint: " + col.otlpHTTP + "\n" + auth, "receivers: [otlp, apiproxy]"} {
		if !strings.Contains(cfg, want) {
			t.Fatalf("configs/local.yaml changed shape: cannot add %q", want)
		}
	}
	if err := os.WriteFile(col.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// claimed is one OpenAI call of a sender claiming tenant "intruder".
func claimed(name string) []sdktrace.ReadOnlySpan {
	now := time.Now()
	var tid trace.TraceID
	copy(tid[:], name+"-0123456789abcdef")
	return tracetest.SpanStubs{{
		Name:        name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{9, 8, 7, 6, 5, 4, 3, 2}, TraceFlags: trace.FlagsSampled}),
		SpanKind:    trace.SpanKindClient, StartTime: now.Add(-time.Second), EndTime: now,
		Attributes: []attribute.KeyValue{
			attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.Int("gen_ai.usage.input_tokens", 1000),
			attribute.Int("gen_ai.usage.output_tokens", 500), attribute.String("nexus.tenant", "intruder"),
		},
		Resource: resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("nexus.tenant", "intruder")),
	}}.Snapshots()
}

func exportGRPC(ctx context.Context, col *collector, headers map[string]string, name string) error {
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(col.otlpGRPC), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		return err
	}
	defer exp.Shutdown(ctx)
	return exp.ExportSpans(ctx, claimed(name))
}

func exportHTTP(ctx context.Context, col *collector, headers map[string]string, name string) error {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col.otlpHTTP), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(headers), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		return err
	}
	defer exp.Shutdown(ctx)
	return exp.ExportSpans(ctx, claimed(name))
}

// TestIngestKeys runs the binary with ingest keys required: a key made
// through the API stores OTLP (gRPC and HTTP) and proxied calls in its
// tenant whatever the sender claims, the proxy never forwards the key; no
// key, an unknown key and — after revocation through the API — the
// revoked key are refused, and nothing refused is stored.
func TestIngestKeys(t *testing.T) {
	var mu sync.Mutex
	var upstreamSaw []http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamSaw = append(upstreamSaw, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatAnswer))
	}))
	defer upstream.Close()
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_KEY=" + ingestAdminKey}
	withIngestAuth(t, col, upstream.URL)
	col.start()
	ctx := contextTimeout(t, 2*time.Minute)

	status, _, body := apiDo(t, col, ingestAdminKey, "POST", "/api/v1/ingest-keys", map[string]string{"name": "checkout"})
	var created struct {
		Data struct{ ID, Tenant, Key string }
	}
	if status != 201 || json.Unmarshal(body, &created) != nil || !strings.HasPrefix(created.Data.Key, "nxi_") || created.Data.Tenant != "default" {
		t.Fatalf("create ingest key: %d %s", status, body)
	}
	secret := created.Data.Key
	if status, _, body := apiDo(t, col, ingestAdminKey, "GET", "/api/v1/ingest-keys", nil); status != 200 ||
		!strings.Contains(string(body), created.Data.ID) || strings.Contains(string(body), secret) {
		t.Fatalf("list ingest keys: %d %s", status, body)
	}
	// The authenticator reads the new key at its next refresh.
	deadline := time.Now().Add(10 * time.Second)
	for exportGRPC(ctx, col, map[string]string{"authorization": "Bearer " + secret}, "grpc") != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the new key was not accepted in 10s\n%s", col.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := exportHTTP(ctx, col, map[string]string{"X-Nexus-Ingest-Key": secret}, "http"); err != nil {
		t.Fatalf("OTLP/HTTP with the key: %v", err)
	}
	if err := exportGRPC(ctx, col, nil, "no-key"); err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("OTLP/gRPC without a key: %v", err)
	}
	if err := exportHTTP(ctx, col, map[string]string{"Authorization": "Bearer nxi_" + strings.Repeat("x", 43)}, "unknown"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("OTLP/HTTP with an unknown key: %v", err)
	}

	proxied := func(key string) int {
		req, _ := http.NewRequest("POST", "http://"+col.proxy+"/openai/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
		req.Header.Set("Authorization", "Bearer sk-app-own-key")
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("X-Nexus-Ingest-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := proxied("nxi_wrong"); s != 401 {
		t.Fatalf("proxy with a wrong key: %d", s)
	}
	if s := proxied(""); s != 401 {
		t.Fatalf("proxy without a key: %d", s)
	}
	if s := proxied(secret); s != 200 {
		t.Fatalf("proxy with the key: %d", s)
	}
	mu.Lock()
	if len(upstreamSaw) != 1 || upstreamSaw[0].Get("X-Nexus-Ingest-Key") != "" || upstreamSaw[0].Get("Authorization") != "Bearer sk-app-own-key" {
		t.Fatalf("the provider saw %d calls: %v", len(upstreamSaw), upstreamSaw)
	}
	mu.Unlock()

	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "3", 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	if got, err := col.query("SELECT arrayStringConcat(arraySort(groupArray(concat(tenant, ':', span_name))), ',') FROM nexus.api_calls"); err != nil ||
		got != "default:chat gpt-4o-mini,default:grpc,default:http" {
		t.Fatalf("stored %q (%v)", got, err)
	}

	if status, _, body := apiDo(t, col, ingestAdminKey, "DELETE", "/api/v1/ingest-keys/"+created.Data.ID, nil); status != 200 ||
		!strings.Contains(string(body), "revokedAt") {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, _, _ := apiDo(t, col, ingestAdminKey, "DELETE", "/api/v1/ingest-keys/ik_nope", nil); status != 404 {
		t.Fatalf("revoke an unknown key: %d", status)
	}
	// Well past the refresh interval (300ms): every collector has read it.
	time.Sleep(2 * time.Second)
	if err := exportGRPC(ctx, col, map[string]string{"authorization": "Bearer " + secret}, "after-revoke"); err == nil ||
		!strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("OTLP/gRPC with the revoked key: %v", err)
	}
	if s := proxied(secret); s != 401 {
		t.Fatalf("proxy with the revoked key: %d", s)
	}
	time.Sleep(500 * time.Millisecond)
	if got, err := col.query("SELECT count() FROM nexus.api_calls WHERE span_name = 'after-revoke' OR tenant != 'default'"); err != nil || got != "0" {
		t.Fatalf("stored after revocation or in a claimed tenant: %q (%v)", got, err)
	}
}
