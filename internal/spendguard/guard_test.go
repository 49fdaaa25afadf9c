package spendguard

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var (
	t0    = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	month = [2]time.Time{t0, t0.AddDate(0, 1, 0)}
)

func usd(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func budget(id string, action Action, amount string, scope Scope) Budget {
	return Budget{ID: id, Tenant: "default", Name: id, Scope: scope, Action: action, Amount: usd(amount), Start: month[0], End: month[1]}
}

func TestBlockRefusesPastTheAmount(t *testing.T) {
	g := New(5 * time.Second)
	g.SetBudgets([]Budget{budget("b1", Block, "0.01", Scope{Provider: "openai"})})
	openai := Call{Provider: "openai", Model: "gpt-4o"}
	var held []*Reservation
	for i := range 10 {
		d, r := g.Reserve(openai, usd("0.001"))
		if d.Refused != nil || r == nil {
			t.Fatalf("call %d refused with $%s of $0.01 held", i+1, usd("0.001").Mul(decimal.NewFromInt(int64(i))))
		}
		held = append(held, r)
	}
	d, r := g.Reserve(openai, usd("0.001"))
	if d.Refused == nil || r != nil || d.Refused.BudgetID != "b1" || !d.Refused.Reserved.Equal(usd("0.01")) {
		t.Fatalf("the 11th call at the amount: %+v %v", d, r)
	}
	// Another provider is out of scope.
	if d, _ := g.Reserve(Call{Provider: "exa"}, usd("5")); d.Refused != nil {
		t.Fatalf("an exa call refused by an openai budget: %+v", d.Refused)
	}
	// Settling below the worst case frees the difference; releasing frees
	// it all; a second settle of the same call counts nothing.
	held[0].Settle(usd("0.0004"), t0)
	held[0].Settle(usd("0.0009"), t0)
	held[1].Release()
	st := g.Statuses("default")[0]
	if !st.Spent.Equal(usd("0.0004")) || !st.Reserved.Equal(usd("0.008")) || !st.Remaining.Equal(usd("0.0016")) {
		t.Fatalf("after one settle and one release: %+v", st)
	}
	if d, r := g.Reserve(openai, usd("0.0016")); d.Refused != nil || r == nil {
		t.Fatalf("exactly the headroom refused: %+v", d.Refused)
	}
	if d, _ := g.Reserve(openai, usd("0.000000000001")); d.Refused == nil {
		t.Fatal("a pico-dollar past the amount passed")
	}
}

// Calls in flight at once never take a blocking budget past its amount
// while their actual cost is at most their worst case, and the budget is
// not refused early: at least amount ÷ worst calls pass.
func TestConcurrentCallsNeverOvershoot(t *testing.T) {
	g := New(5 * time.Second)
	g.SetBudgets([]Budget{budget("b1", Block, "1", Scope{Customer: "acme"})})
	worst := usd("0.013")
	var passed, refused atomic.Int64
	var mu sync.Mutex
	spent := decimal.Zero
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 200 {
				d, res := g.Reserve(Call{Provider: "openai", Customer: "acme"}, worst)
				if d.Refused != nil {
					refused.Add(1)
					continue
				}
				passed.Add(1)
				if r.IntN(5) == 0 {
					res.Release() // failed before the provider
					continue
				}
				actual := worst.Mul(decimal.NewFromFloat(r.Float64()).Round(6))
				mu.Lock()
				spent = spent.Add(actual)
				mu.Unlock()
				res.Settle(actual, t0)
			}
		}()
	}
	wg.Wait()
	st := g.Statuses("default")[0]
	if !st.Spent.Equal(spent) || !st.Reserved.IsZero() {
		t.Fatalf("counter %+v, settled %s", st, spent)
	}
	if spent.GreaterThan(usd("1")) {
		t.Fatalf("overshoot: $%s spent of $1", spent)
	}
	if passed.Load() < 76 || refused.Load() == 0 {
		t.Fatalf("%d passed, %d refused: the budget refused early or never", passed.Load(), refused.Load())
	}
	t.Logf("%d passed, %d refused, $%s spent of $1", passed.Load(), refused.Load(), spent)
}

// A worst case that was wrong overshoots by exactly what it was wrong by,
// the package's documented bound.
func TestOvershootIsTheWorstCaseError(t *testing.T) {
	g := New(time.Second)
	g.SetBudgets([]Budget{budget("b1", Block, "0.01", Scope{})})
	var rs []*Reservation
	for range 10 {
		_, r := g.Reserve(Call{Provider: "openai"}, usd("0.001"))
		rs = append(rs, r)
	}
	for i, r := range rs {
		actual := usd("0.001")
		if i < 3 {
			actual = usd("0.0025") // a model that answered past the estimate
		}
		r.Settle(actual, t0)
	}
	st := g.Statuses("")[0]
	if !st.Spent.Equal(usd("0.0145")) || !st.Spent.Sub(st.Amount).Equal(usd("0.0015").Mul(decimal.NewFromInt(3))) {
		t.Fatalf("spent %s: want the amount + 3 × $0.0015", st.Spent)
	}
	if d, _ := g.Reserve(Call{Provider: "openai"}, decimal.Zero); d.Refused == nil {
		t.Fatal("a call passed a budget already over")
	}
}

func TestWarnTellsWhatIsLeft(t *testing.T) {
	g := New(time.Second)
	g.SetBudgets([]Budget{budget("w", Warn, "2", Scope{Team: "growth"}), budget("n", Notify, "0.01", Scope{})})
	d, r := g.Reserve(Call{Provider: "openai", Team: "growth"}, usd("0.5"))
	if d.Refused != nil || len(d.Warnings) != 1 || !d.Warnings[0].Remaining.Equal(usd("1.5")) {
		t.Fatalf("warn decision: %+v", d)
	}
	r.Settle(usd("1.75"), t0)
	d, r = g.Reserve(Call{Provider: "openai", Team: "growth"}, usd("0.5"))
	if d.Refused != nil || r == nil || !d.Warnings[0].Remaining.IsZero() {
		t.Fatalf("a warn budget over its amount still passes, with nothing left: %+v", d)
	}
	if n := len(g.Statuses("default")); n != 1 {
		t.Fatalf("notify budgets are not the guard's: %d kept", n)
	}
}

func TestScopes(t *testing.T) {
	g := New(time.Second)
	g.SetBudgets([]Budget{
		budget("tag", Block, "0", Scope{TagKey: "region", TagValue: "eu"}),
		{ID: "acme", Tenant: "acme", Action: Block, Amount: decimal.Zero, Start: month[0], End: month[1]},
	})
	for _, c := range []struct {
		call    Call
		refused string
	}{
		{Call{Provider: "openai", Tags: map[string]string{"region": "eu"}}, "tag"},
		{Call{Provider: "openai", Tags: map[string]string{"region": "us"}}, ""},
		{Call{Provider: "openai"}, ""},
		{Call{Tenant: "acme", Provider: "exa", Tags: map[string]string{"region": "eu"}}, "acme"},
		{Call{Tenant: "globex", Provider: "exa"}, ""},
	} {
		d, _ := g.Reserve(c.call, usd("0.01"))
		got := ""
		if d.Refused != nil {
			got = d.Refused.BudgetID
		}
		if got != c.refused {
			t.Errorf("%+v: refused by %q, want %q", c.call, got, c.refused)
		}
	}
}

// The store's figure replaces what it holds; what was settled within
// the ingest lag before the read stays counted on top.
func TestReconcile(t *testing.T) {
	g := New(10 * time.Second)
	g.SetBudgets([]Budget{budget("b1", Block, "10", Scope{})})
	_, r := g.Reserve(Call{Provider: "openai"}, usd("1"))
	r.Settle(usd("0.75"), t0)
	g.Observe(Call{Provider: "exa"}, usd("0.25"), t0.Add(20*time.Second))
	// Read 5 s after both: either may not be stored yet.
	g.Reconcile("default", "b1", usd("3"), t0.Add(25*time.Second))
	if st := g.Statuses("default")[0]; !st.Spent.Equal(usd("3.25")) {
		t.Fatalf("spent %s: want the store's 3 + the 0.25 observed within the lag", st.Spent)
	}
	g.Reconcile("default", "b1", usd("4"), t0.Add(time.Minute))
	if st := g.Statuses("default")[0]; !st.Spent.Equal(usd("4")) {
		t.Fatalf("spent %s: want the store's figure alone past the lag", st.Spent)
	}
}

// A budget renamed or switched from warn to block keeps its counter; a
// new period or scope starts afresh.
func TestSetBudgetsKeepsCounters(t *testing.T) {
	g := New(time.Second)
	b := budget("b1", Warn, "10", Scope{Provider: "openai"})
	g.SetBudgets([]Budget{b})
	_, r := g.Reserve(Call{Provider: "openai"}, usd("1"))
	r.Settle(usd("2"), t0)
	b.Name, b.Action = "renamed", Block
	g.SetBudgets([]Budget{b})
	if st := g.Statuses("")[0]; !st.Spent.Equal(usd("2")) || st.Name != "renamed" {
		t.Fatalf("after a rename: %+v", st)
	}
	b.Start, b.End = month[1], month[1].AddDate(0, 1, 0)
	g.SetBudgets([]Budget{b})
	if st := g.Statuses("")[0]; !st.Spent.IsZero() {
		t.Fatalf("a new period kept the old spend: %+v", st)
	}
}
