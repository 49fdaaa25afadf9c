package spend

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// Concurrent summaries of different customers over the same range are
// answered by shared queries; each still gets exactly its own customer's
// figures, the same as asked alone, for a batch of any size.
func TestCustomerReadsBatched(t *testing.T) {
	s, _ := storetest.Start(t, "spend_batched")
	svc := New(s, time.UTC, 10*time.Second)
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	var calls []storetest.Call
	for i := range 40 {
		for j := 0; j <= i%5; j++ {
			calls = append(calls, storetest.Call{At: d.Add(time.Duration(i*j+1) * time.Hour), Provider: []string{"openai", "exa"}[j%2],
				Model: "m", Cost: fmt.Sprintf("0.%02d", i+1), Customer: fmt.Sprintf("c%d", i), User: fmt.Sprintf("u%d", j)})
		}
	}
	storetest.SeedCalls(t, s, calls...)
	f := func(c string) schema.Filter {
		return schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant, Customer: c}, From: d.Add(-7 * time.Hour), To: d.Add(50 * time.Hour)}
	}
	alone := map[string][]CostGroup{}
	for i := range 40 {
		c := fmt.Sprintf("c%d", i)
		g, err := svc.Summary(t.Context(), f(c), "provider")
		if err != nil {
			t.Fatal(err)
		}
		alone[c] = g
	}
	if g := alone["c4"]; len(g) != 2 || g[0].Group != "openai" || g[0].Cost != "0.15" || g[0].Calls != 3 || g[1].Cost != "0.1" {
		t.Fatalf("c4 alone: %+v", g)
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := fmt.Sprintf("c%d", (i+round)%40)
				g, err := svc.Summary(t.Context(), f(c), "provider")
				if err != nil {
					t.Error(err)
					return
				}
				if fmt.Sprint(g) != fmt.Sprint(alone[c]) {
					t.Errorf("%s together: %+v, alone %+v", c, g, alone[c])
				}
			}()
		}
		wg.Wait()
	}
	// A customer with no calls is an empty answer, not another's.
	if g, err := svc.Summary(t.Context(), f("nobody"), "provider"); err != nil || len(g) != 0 {
		t.Errorf("nobody: %+v %v", g, err)
	}
	// By user within a customer: batched on the customer, grouped by user.
	g, err := svc.Summary(t.Context(), f("c4"), "user")
	if err != nil || len(g) != 5 {
		t.Errorf("c4 by user: %+v %v", g, err)
	}
}

// A range's two edges are read in one query of the recent calls; each
// keeps the range's scope: another customer's or tenant's call at either
// edge never counts.
func TestRangeEdgesKeepTheScope(t *testing.T) {
	s, _ := storetest.Start(t, "spend_edges")
	svc := New(s, time.UTC, 10*time.Second)
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	var calls []storetest.Call
	for _, at := range []time.Duration{-3 * time.Hour, 12 * time.Hour, 49 * time.Hour} {
		calls = append(calls,
			storetest.Call{At: d.Add(at), Provider: "openai", Model: "m", Cost: "1", Customer: "a"},
			storetest.Call{At: d.Add(at), Provider: "openai", Model: "m", Cost: "10", Customer: "b"},
			storetest.Call{At: d.Add(at), Provider: "openai", Model: "m", Cost: "100", Customer: "a", Tenant: "acme"})
	}
	storetest.SeedCalls(t, s, calls...)
	g, err := svc.Summary(t.Context(), schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant, Customer: "a"},
		From: d.Add(-7 * time.Hour), To: d.Add(50 * time.Hour)}, "provider")
	if err != nil || len(g) != 1 || g[0].Cost != "3" || g[0].Calls != 3 {
		t.Fatalf("customer a over both edges and a day: %+v %v", g, err)
	}
}
