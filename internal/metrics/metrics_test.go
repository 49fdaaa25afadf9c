package metrics

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// seeded is a store with calls on two whole UTC days and a partial one,
// for customers acme and beta, users u1 and u2, tagged env=prod or not.
func seeded(t *testing.T) (*Service, time.Time) {
	t.Helper()
	s, _ := storetest.Start(t, "metrics_shapes")
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	prod := map[string]string{"env": "prod"}
	storetest.SeedCalls(t, s,
		storetest.Call{At: d.Add(time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.10", Duration: 100 * time.Millisecond, Customer: "acme", User: "u1", Tags: prod},
		storetest.Call{At: d.Add(2 * time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.20", Duration: 200 * time.Millisecond, Customer: "acme", User: "u1", Status: "error"},
		storetest.Call{At: d.Add(3 * time.Hour), Provider: "openai", Model: "gpt-4o-mini", Operation: "chat", Cost: "0.30", Duration: 300 * time.Millisecond, Customer: "acme", User: "u2", Tags: prod, Input: 10, Output: 5},
		storetest.Call{At: d.Add(25 * time.Hour), Provider: "anthropic", Model: "claude", Operation: "chat", Cost: "1.05", Duration: 50 * time.Millisecond, Customer: "beta", User: "u2", Input: 100, Output: 20},
		storetest.Call{At: d.Add(26 * time.Hour), Provider: "anthropic", Model: "claude", Operation: "chat", Cost: "0.01", Duration: 50 * time.Millisecond, Customer: "beta", User: "u2"},
		// The partial day before: read from raw calls.
		storetest.Call{At: d.Add(-6 * time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.005", Duration: 100 * time.Millisecond, Customer: "acme", User: "u1", Tags: map[string]string{"env": "dev"}},
		// Another tenant's call is never counted.
		storetest.Call{At: d.Add(time.Hour), Tenant: "other", Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "99", Customer: "acme", User: "u1"},
	)
	return New(s), d
}

func run(t *testing.T, svc *Service, q Query) Result {
	t.Helper()
	res, err := svc.Run(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestShapes(t *testing.T) {
	svc, d := seeded(t)
	f := schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant}, From: d.Add(-12 * time.Hour), To: d.Add(48 * time.Hour)}

	t.Run("aggregate", func(t *testing.T) {
		res := run(t, svc, Query{Filter: f})
		if len(res.Rows) != 1 || res.Source != schema.TableCalls1d {
			t.Fatalf("%+v", res)
		}
		v := res.Rows[0].Values
		if v["cost"] != "1.665" || v["calls"] != uint64(6) || v["errors"] != uint64(1) || v["tokens"] != uint64(135) ||
			v["input_tokens"] != uint64(110) || v["error_rate"] != 1.0/6 {
			t.Errorf("values %v", v)
		}
	})

	t.Run("by customer, from its rollup", func(t *testing.T) {
		res := run(t, svc, Query{Filter: f, GroupBy: []string{"customer"}, Metrics: []string{"cost", "calls", "latency_p50"}})
		if res.Source != schema.TableCallsCustomer1d || len(res.Rows) != 2 {
			t.Fatalf("%+v", res)
		}
		b, a := res.Rows[0], res.Rows[1]
		if b.Group["customer"] != "beta" || b.Values["cost"] != "1.06" || b.Values["calls"] != uint64(2) ||
			a.Group["customer"] != "acme" || a.Values["cost"] != "0.605" || a.Values["calls"] != uint64(4) {
			t.Errorf("rows %+v", res.Rows)
		}
		// Both of beta's calls took 50 ms: the t-digest is within 1%.
		if p, ok := b.Values["latency_p50"].(float64); !ok || math.Abs(p-50) > 0.5 {
			t.Errorf("beta p50 %v", b.Values["latency_p50"])
		}
		if _, ok := a.Values["errors"]; ok {
			t.Error("a metric not asked for")
		}
	})

	t.Run("top by calls", func(t *testing.T) {
		res := run(t, svc, Query{Filter: f, GroupBy: []string{"customer"}, Top: 1, Sort: "calls", Metrics: []string{"calls"}})
		if !res.Truncated || len(res.Rows) != 1 || res.Rows[0].Group["customer"] != "acme" {
			t.Errorf("%+v", res)
		}
	})

	t.Run("two dimensions, daily series of the top one", func(t *testing.T) {
		res := run(t, svc, Query{Filter: f, GroupBy: []string{"customer", "model"}, Step: "1d", Top: 1, Metrics: []string{"cost", "calls"}})
		if len(res.Rows) != 1 || !res.Truncated {
			t.Fatalf("%+v", res)
		}
		r := res.Rows[0]
		if r.Group["customer"] != "beta" || r.Group["model"] != "claude" || len(r.Points) != 3 {
			t.Fatalf("%+v", r)
		}
		if r.Points[0].Values["cost"] != "0" || r.Points[1].Values["cost"] != "0" || r.Points[2].Values["cost"] != "1.06" ||
			r.Points[2].TS != d.Add(24*time.Hour).Format(time.RFC3339) {
			t.Errorf("points %+v", r.Points)
		}
	})

	t.Run("tag values", func(t *testing.T) {
		res := run(t, svc, Query{Filter: f, GroupBy: []string{"tag.env"}, Metrics: []string{"cost"}})
		if res.Source != schema.TableCallsTag1d || len(res.Rows) != 2 || res.Rows[0].Group["tag.env"] != "prod" ||
			res.Rows[0].Values["cost"] != "0.4" || res.Rows[1].Values["cost"] != "0.005" {
			t.Errorf("%+v", res)
		}
		ff := f
		ff.TagKey, ff.TagValue = "env", "prod"
		res = run(t, svc, Query{Filter: ff, Metrics: []string{"calls"}})
		if res.Rows[0].Values["calls"] != uint64(2) {
			t.Errorf("tag filter %+v", res)
		}
	})

	t.Run("customer and user only in raw calls", func(t *testing.T) {
		ff := f
		ff.Customer = "acme"
		res := run(t, svc, Query{Filter: ff, GroupBy: []string{"user"}, Metrics: []string{"cost", "calls"}})
		if res.Source != schema.TableCalls || len(res.Rows) != 2 || res.Rows[0].Group["user"] != "u1" ||
			res.Rows[0].Values["cost"] != "0.305" || res.Rows[0].Values["calls"] != uint64(3) || res.Rows[1].Values["cost"] != "0.3" {
			t.Errorf("%+v", res)
		}
	})

	t.Run("hourly series from the calls rollups", func(t *testing.T) {
		ff := f
		ff.From, ff.To = d, d.Add(4*time.Hour)
		res := run(t, svc, Query{Filter: ff, Step: "1h", Metrics: []string{"calls", "latency_p99"}})
		pts := res.Rows[0].Points
		if len(pts) != 4 || pts[0].Values["calls"] != uint64(0) || pts[0].Values["latency_p99"] != nil ||
			pts[3].Values["calls"] != uint64(1) {
			t.Fatalf("%+v", pts)
		}
		if p := pts[3].Values["latency_p99"].(float64); math.Abs(p-300) > 3 {
			t.Errorf("p99 %v", p)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		_, err := svc.Run(context.Background(), Query{Filter: f, GroupBy: []string{"colour"}, Metrics: []string{"cost", "joy"}, Step: "2h"})
		e, ok := domainerr.AsInvalid(err)
		if !ok || len(e.Fields) != 3 || e.Fields[0].Field != "metrics" || e.Fields[1].Field != "groupBy" || e.Fields[2].Field != "step" {
			t.Errorf("%v", err)
		}
		_, err = svc.Run(context.Background(), Query{Filter: f, GroupBy: []string{"tag.a", "tag.b", "model"}})
		if e, ok := domainerr.AsInvalid(err); !ok || len(e.Fields) != 2 {
			t.Errorf("%v", err)
		}
	})
}
