package apiusagereceiver

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap/zaptest"

	"github.com/nexus-otel/nexus/exporter/nexusexporter"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// This test drives the nexus exporter from here, downstream, as the cost
// processor's store tests do: the exporter reads the metrics' names from
// internal/semconv and so imports no receiver.

func TestMain(m *testing.M) { storetest.Main(m) }

// TestRepolledBucketsReplace runs the real apiusage receiver against the
// fake provider APIs, polling the same settled day again and again, into
// the real store: the stored totals are those of one poll, however many
// polls there were, and the reconciliation view compares them with the cost
// computed from spans. Everything the receiver polled is its tenant's.
func TestRepolledBucketsReplace(t *testing.T) {
	s, h := storetest.Start(t, "exp_usage")
	ctx := context.Background()
	srv := providertest.New(t)

	exp := newExporterForMetrics(t, h)
	rf := NewFactory()
	rcfg := rf.CreateDefaultConfig().(*Config)
	rcfg.CollectionInterval = 50 * time.Millisecond
	rcfg.InitialDelay = 0
	// The fake's settled day lies in the past: reach back far enough.
	rcfg.Lookback = time.Since(providertest.Day) + 48*time.Hour
	rcfg.Overlap = rcfg.Lookback
	rcfg.Tenant = "acme"
	rcfg.OpenAI.AdminKey, rcfg.OpenAI.Endpoint, rcfg.OpenAI.BucketWidth = "sk-admin-x", srv.OpenAI(), "1d"
	rcfg.OpenAI.UsageTypes = []string{"completions"}
	rcfg.OpenRouter.ManagementKey, rcfg.OpenRouter.Endpoint = "sk-or-v1-m", srv.OpenRouter()
	rcfg.Twilio.AccountSID, rcfg.Twilio.AuthToken, rcfg.Twilio.Endpoint = "AC1", "tok", srv.Twilio()
	rcv, err := rf.CreateMetrics(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	// At least three polls of every provider.
	deadline := time.Now().Add(20 * time.Second)
	for storetest.Scalar(t, s, "SELECT toString(count() = 3 AND min(n) >= 3) FROM "+
		"(SELECT count() AS n FROM exp_usage.provider_health GROUP BY provider)") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("three polls of each provider did not land in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := rcv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Several polls wrote the same buckets; FINAL keeps the latest of each.
	if raw, final := storetest.Scalar(t, s, "SELECT toString(count()) FROM exp_usage.provider_usage"),
		storetest.Scalar(t, s, "SELECT toString(count()) FROM exp_usage.provider_usage FINAL"); raw == final {
		t.Logf("parts already merged: %s rows", raw)
	}
	got := storetest.Scalar(t, s, `SELECT arrayStringConcat(groupArray(concat(provider, '=', toString(v))), ' ') FROM
		(SELECT provider, sum(value) AS v FROM exp_usage.provider_usage FINAL
		 WHERE kind = 'cost_usd' AND bucket_start = '2026-11-25 00:00:00' GROUP BY provider ORDER BY provider)`)
	want := "openai=" + providertest.OpenAICostUSD + " openrouter=" + providertest.OpenRouterCostUSD + " twilio=" + providertest.TwilioCostUSD
	if got != want {
		t.Fatalf("billed cost after repeated polls: %s, want %s", got, want)
	}
	// Gauges are a time series: every poll adds a point, the latest wins.
	if v := storetest.Scalar(t, s, "SELECT toString(argMax(value, ts)) FROM exp_usage.provider_gauges WHERE provider = 'openrouter' AND name = 'balance_usd'"); v != "92.5" {
		t.Fatalf("openrouter balance %s", v)
	}

	for _, table := range []string{"provider_usage", "provider_gauges", "provider_health"} {
		if got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupUniqArray(tenant), ',') FROM exp_usage."+table); got != "acme" {
			t.Fatalf("tenants of %s: %q, want acme", table, got)
		}
	}

	// Reconciliation: a computed cost of $1 for OpenAI on the same day, of
	// the same tenant (the view compares a tenant's bill with its calls).
	b, err := s.PrepareBatch(ctx, "api_calls", []string{"timestamp", "provider", "cost_usd", "cost_status", "tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(providertest.Day.Add(time.Hour), "openai", decimal.NewFromInt(1), "computed", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	rec := storetest.Scalar(t, s, "SELECT toString(tuple(day, provider, billed_usd, computed_usd, difference_usd)) FROM exp_usage.cost_reconciliation")
	if rec != "('2026-11-25','openai',1.234567,1,-0.234567)" {
		t.Fatalf("reconciliation: %s", rec)
	}
}

// newExporterForMetrics starts a nexus exporter for metrics on the store h
// offers, with the exporter's defaults.
func newExporterForMetrics(t *testing.T, h storetest.Host) exporter.Metrics {
	t.Helper()
	f := nexusexporter.NewFactory()
	set := exportertest.NewNopSettings(f.Type())
	set.Logger = zaptest.NewLogger(t)
	exp, err := f.CreateMetrics(context.Background(), set, f.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return exp
}
