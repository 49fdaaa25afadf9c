package storetest

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/store"
)

// Call is one stored call for tests; zero fields get sensible values.
type Call struct {
	At          time.Time
	Duration    time.Duration // 100ms if zero
	Provider    string
	Model       string
	Operation   string
	Service     string
	Environment string
	Status      string // "ok" (default) or "error"
	ErrorClass  string
	HTTPStatus  uint16 // 200, or 500 for an error, if zero
	Input       uint64
	Output      uint64
	Cached      uint64
	Reasoning   uint64
	// Cost is the call's price as a decimal string; "" stores it unpriced.
	Cost    string
	Anomaly bool
	// Attribution; Tenant "" is the default tenant.
	Tenant, Customer, User, Team, Feature string
	Tags                                  map[string]string
}

// SeedCalls inserts calls into api_calls of s the way the exporter does
// (same table, same materialized views feeding the rollups).
func SeedCalls(t testing.TB, s store.Store, calls ...Call) {
	t.Helper()
	ctx := context.Background()
	b, err := s.PrepareBatch(ctx, "api_calls", []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"request_model", "span_name", "http_status", "status", "error_class",
		"input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens",
		"cost_usd", "cost_status", "unpriced_reason", "pricing_version", "anomaly_score", "is_anomaly",
		"trace_id", "span_id", "tenant", "customer", "user", "team", "feature", "tags",
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if c.Status == "" {
			c.Status = "ok"
		}
		if c.HTTPStatus == 0 {
			c.HTTPStatus = 200
			if c.Status == "error" {
				c.HTTPStatus = 500
			}
		}
		if c.Duration == 0 {
			c.Duration = 100 * time.Millisecond
		}
		var cost any
		status, reason := "unpriced", "no catalog price"
		if c.Cost != "" {
			d := decimal.RequireFromString(c.Cost)
			cost, status, reason = &d, "computed", ""
		}
		var score float32
		if c.Anomaly {
			score = 9
		}
		if c.Tenant == "" {
			c.Tenant = "default"
		}
		if c.Tags == nil {
			c.Tags = map[string]string{}
		}
		id := fmt.Sprintf("%016x", c.At.UnixNano()+int64(i))
		if err := b.Append(c.At.UTC(), uint64(c.Duration), c.Service, c.Environment, c.Provider, c.Operation, c.Model,
			c.Model, c.Operation+" "+c.Model, c.HTTPStatus, c.Status, c.ErrorClass,
			c.Input, c.Output, c.Cached, c.Reasoning,
			cost, status, reason, "test", score, c.Anomaly,
			hex.EncodeToString([]byte(id)), id, tenantOr(c.Tenant), c.Customer, c.User, c.Team, c.Feature, tagsOf(c.Tags)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
}

func tenantOr(t string) string {
	if t == "" {
		return "default"
	}
	return t
}

func tagsOf(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ErrorCalls is n priced chat calls of provider from at on, a millisecond
// apart, the first bad of them server errors.
func ErrorCalls(at time.Time, provider string, n, bad int) []Call {
	calls := make([]Call, n)
	for i := range calls {
		calls[i] = Call{At: at.Add(time.Duration(i) * time.Millisecond), Provider: provider, Model: "gpt-4o", Operation: "chat", Cost: "0.01"}
		if i < bad {
			calls[i].Status, calls[i].ErrorClass = "error", "server_error"
		}
	}
	return calls
}

// SeedHealth stores a provider check at at into provider_health: a 401
// answer of 12.5ms, its message "check "+class.
func SeedHealth(t testing.TB, s store.Store, at time.Time, provider string, up bool, class string) {
	t.Helper()
	ctx := context.Background()
	b, err := s.PrepareBatch(ctx, "provider_health", store.ProviderHealthColumns)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(at.UTC(), provider, up, class, uint16(401), 12.5, "check "+class); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
}
