package spendguard

import (
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
)

// The request path's cost: one decision and its settlement among 50
// budgets of the tenant, 5 of them in the call's scope.
func BenchmarkReserveSettle(b *testing.B) {
	g := New(0)
	var bs []Budget
	for i := range 50 {
		scope := Scope{Customer: "cust-" + strconv.Itoa(i)}
		if i < 5 {
			scope = Scope{Provider: "openai"}
		}
		bs = append(bs, budget("b"+strconv.Itoa(i), []Action{Warn, Block}[i%2], "1000000", scope))
	}
	g.SetBudgets(bs)
	call := Call{Provider: "openai", Model: "gpt-4o", Customer: "cust-42"}
	worst, actual := usd("0.0125"), usd("0.000875")
	b.ReportAllocs()
	for b.Loop() {
		d, r := g.Reserve(call, worst)
		if d.Refused != nil {
			b.Fatal("refused")
		}
		r.Settle(actual, t0)
		// Reconciliation keeps the settled list short.
		if len(g.byTenant["default"][0].recent) > 1000 {
			for _, c := range g.byTenant["default"] {
				g.Reconcile("default", c.b.ID, decimal.Zero, t0.AddDate(1, 0, 0))
			}
		}
	}
}
