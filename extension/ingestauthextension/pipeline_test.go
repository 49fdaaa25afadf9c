package ingestauthextension

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nexus-otel/nexus/exporter/nexusexporter"
	"github.com/nexus-otel/nexus/internal/ingestkeys"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
	"github.com/nexus-otel/nexus/processor/costprocessor"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// pipeline is the OTLP receiver (gRPC and HTTP) authenticating with
// nexusingestauth, the cost processor and the nexus exporter, on the real
// store: what an installation with ingest keys runs.
type pipeline struct {
	store        store.Store
	keys         *ingestkeys.Service
	grpc, http   string
	refreshEvery time.Duration
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPipeline starts the components, seed first: keys seed made before
// the authenticator starts are known from its first read.
func startPipeline(t *testing.T, db string, seed func(*ingestkeys.Service)) *pipeline {
	t.Helper()
	ctx := context.Background()
	s, h := storetest.Start(t, db)
	p := &pipeline{store: s, keys: ingestkeys.New(s), grpc: freeAddr(t), http: freeAddr(t), refreshEvery: 200 * time.Millisecond}
	seed(p.keys)
	start := func(c component.Component) {
		t.Helper()
		if err := c.Start(ctx, h); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	}

	af := NewFactory()
	acfg := af.CreateDefaultConfig().(*Config)
	acfg.RefreshInterval = p.refreshEvery
	auth, err := af.Create(ctx, extensiontest.NewNopSettings(af.Type()), acfg)
	if err != nil {
		t.Fatal(err)
	}
	start(auth)
	h.Extensions[component.NewID(af.Type())] = auth

	ef := nexusexporter.NewFactory()
	exp, err := ef.CreateTraces(ctx, exportertest.NewNopSettings(ef.Type()), ef.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	start(exp)
	pf := costprocessor.NewFactory()
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), exp)
	if err != nil {
		t.Fatal(err)
	}
	start(proc)
	rf := otlpreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig()
	auth0 := map[string]any{"authenticator": TypeStr}
	if err := confmap.NewFromStringMap(map[string]any{"protocols": map[string]any{
		"grpc": map[string]any{"endpoint": p.grpc, "auth": auth0},
		"http": map[string]any{"endpoint": p.http, "auth": auth0},
	}}).Unmarshal(rcfg); err != nil {
		t.Fatal(err)
	}
	rcv, err := rf.CreateTraces(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, proc)
	if err != nil {
		t.Fatal(err)
	}
	start(rcv)
	return p
}

// spans is one GenAI call of a sender that claims to be tenant globex, on
// its resource and on the span.
func spans(name string) []sdktrace.ReadOnlySpan {
	now := time.Now()
	var tid trace.TraceID
	copy(tid[:], name+"-0123456789abcdef")
	return tracetest.SpanStubs{{
		Name:        name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled}),
		SpanKind:    trace.SpanKindClient,
		StartTime:   now.Add(-time.Second), EndTime: now,
		Attributes: []attribute.KeyValue{
			attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.Int("gen_ai.usage.input_tokens", 1000),
			attribute.Int("gen_ai.usage.output_tokens", 500), attribute.String("nexus.tenant", "globex"),
		},
		Resource: resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("nexus.tenant", "globex")),
	}}.Snapshots()
}

func (p *pipeline) sendGRPC(t *testing.T, headers map[string]string, name string) error {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(p.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exp.ExportSpans(ctx, spans(name))
}

func (p *pipeline) sendHTTP(t *testing.T, headers map[string]string, name string) error {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(p.http), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(headers), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exp.ExportSpans(ctx, spans(name))
}

// stored is tenant:span_name of every stored call, sorted.
func (p *pipeline) stored(t *testing.T) string {
	t.Helper()
	return storetest.Scalar(t, p.store, "SELECT arrayStringConcat(arraySort(groupArray(concat(tenant, ':', span_name))), ',') FROM "+
		p.store.Database()+".api_calls")
}

func (p *pipeline) waitStored(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := p.stored(t); got != want; got = p.stored(t) {
		if time.Now().After(deadline) {
			t.Fatalf("stored %q, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func refusedGRPC(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted over gRPC", what)
	}
	// The SDK exporter wraps the status; its text names the code.
	if s, ok := status.FromError(err); !(ok && s.Code() == codes.Unauthenticated) && !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("%s: gRPC error %v, want Unauthenticated", what, err)
	}
}

func refusedHTTP(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("%s: HTTP export error %v, want 401", what, err)
	}
}

// TestIngestKeyDecidesTheTenant: a key of tenant acme stores acme's calls,
// over gRPC (Bearer, lower-case metadata) and HTTP (X-Nexus-Ingest-Key),
// although the sender claims globex on the resource and the span. An
// unknown key, no key, an API key and a revoked key are refused with the
// OTLP authentication error and store nothing.
func TestIngestKeyDecidesTheTenant(t *testing.T) {
	var acme, revoked, revokedID string
	p := startPipeline(t, "ingestauth_tenant", func(keys *ingestkeys.Service) {
		var err error
		if acme, _, err = keys.Create(context.Background(), "acme", "web"); err != nil {
			t.Fatal(err)
		}
		var k ingestkeys.Key
		if revoked, k, err = keys.Create(context.Background(), "globex", "leaked"); err != nil {
			t.Fatal(err)
		}
		revokedID = k.ID
	})

	// The key about to be revoked works until then.
	if err := p.sendHTTP(t, map[string]string{"X-Nexus-Ingest-Key": revoked}, "before-revoke"); err != nil {
		t.Fatal(err)
	}
	p.waitStored(t, "globex:before-revoke")
	if err := p.keys.Revoke(context.Background(), "globex", revokedID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * p.refreshEvery)

	for what, h := range map[string]map[string]string{
		"unknown key": {"authorization": "Bearer " + ingestkeys.Prefix + strings.Repeat("A", 43)},
		"no key":      {},
		"api key":     {"authorization": "Bearer nxs_" + strings.Repeat("A", 43)},
		"revoked key": {"authorization": "Bearer " + revoked},
	} {
		refusedGRPC(t, what, p.sendGRPC(t, h, "refused-grpc"))
	}
	for what, h := range map[string]map[string]string{
		"unknown key":  {"X-Nexus-Ingest-Key": ingestkeys.Prefix + strings.Repeat("A", 43)},
		"no key":       {},
		"revoked key":  {"Authorization": "Bearer " + revoked},
		"other scheme": {"Authorization": "Basic " + acme},
	} {
		refusedHTTP(t, what, p.sendHTTP(t, h, "refused-http"))
	}

	if err := p.sendGRPC(t, map[string]string{"authorization": "Bearer " + acme}, "grpc"); err != nil {
		t.Fatalf("gRPC with acme's key: %v", err)
	}
	if err := p.sendHTTP(t, map[string]string{"x-nexus-ingest-key": acme}, "http"); err != nil {
		t.Fatalf("HTTP with acme's key: %v", err)
	}
	p.waitStored(t, "acme:grpc,acme:http,globex:before-revoke")
	// Nothing refused lands late.
	time.Sleep(300 * time.Millisecond)
	if got := p.stored(t); got != "acme:grpc,acme:http,globex:before-revoke" {
		t.Fatalf("stored %q after the refused exports", got)
	}
}
