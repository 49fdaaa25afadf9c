package nexusapiextension

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// seedCall is one stored call for tests; zero fields get sensible values.
type seedCall struct {
	At          time.Time
	Duration    time.Duration
	Provider    string
	Model       string
	Operation   string
	Service     string
	Environment string
	Status      string // "ok" (default) or "error"
	ErrorClass  string
	HTTPStatus  uint16
	Input       uint64
	Output      uint64
	Cached      uint64
	Reasoning   uint64
	// Cost is the call's price as a decimal string; "" stores it unpriced.
	Cost    string
	Anomaly bool
}

// seed inserts calls into api_calls the way the exporter does (same table,
// same materialized views feeding the rollups).
func (ta *testAPI) seed(calls ...seedCall) {
	ta.t.Helper()
	ctx := context.Background()
	b, err := ta.store.PrepareBatch(ctx, "api_calls", []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"request_model", "span_name", "http_status", "status", "error_class",
		"input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens",
		"cost_usd", "cost_status", "unpriced_reason", "pricing_version", "anomaly_score", "is_anomaly",
		"trace_id", "span_id",
	})
	if err != nil {
		ta.t.Fatal(err)
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
		id := fmt.Sprintf("%016x", c.At.UnixNano()+int64(i))
		if err := b.Append(c.At.UTC(), uint64(c.Duration), c.Service, c.Environment, c.Provider, c.Operation, c.Model,
			c.Model, c.Operation+" "+c.Model, c.HTTPStatus, c.Status, c.ErrorClass,
			c.Input, c.Output, c.Cached, c.Reasoning,
			cost, status, reason, "test", score, c.Anomaly,
			hex.EncodeToString([]byte(id)), id); err != nil {
			ta.t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		ta.t.Fatal(err)
	}
}
