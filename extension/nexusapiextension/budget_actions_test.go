package nexusapiextension

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/budgetevents"
)

// A budget's action: notify unless set, one of three, changed by PATCH;
// a warning or blocking budget whose scope no recent call matches is
// accepted with a warning that says so.
func TestBudgetActions(t *testing.T) {
	ta := startAPI(t, freshDB("api_budget_actions"), nil)
	editor := ta.key("editor")
	ta.seed(seedCall{At: time.Now().Add(-time.Hour), Provider: "openai", Cost: "0.5", Customer: "acme"})
	var b struct{ ID, Action string }

	e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "plain", "period": "monthly", "amountUsd": "10"})
	e.decode(t, &b)
	if e.status != 201 || b.Action != "notify" || len(e.Meta.Warnings) != 0 {
		t.Fatalf("default action: %d %+v %v", e.status, b, e.Meta.Warnings)
	}
	e = ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "bad", "period": "monthly", "amountUsd": "10", "action": "stop"})
	if e.status != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "action" {
		t.Fatalf("unknown action: %d %+v", e.status, e.Error)
	}
	e = ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "acme cap", "period": "monthly", "amountUsd": "10",
		"action": "block", "scope": map[string]string{"customer": "acme"}})
	e.decode(t, &b)
	if e.status != 201 || b.Action != "block" || len(e.Meta.Warnings) != 0 {
		t.Fatalf("block on a customer with calls: %d %+v %v", e.status, b, e.Meta.Warnings)
	}
	e = ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "typo cap", "period": "monthly", "amountUsd": "10",
		"action": "block", "scope": map[string]string{"customer": "acne"}})
	e.decode(t, &b)
	if e.status != 201 || len(e.Meta.Warnings) != 1 || !strings.Contains(e.Meta.Warnings[0], "no call of the last 30 days") {
		t.Fatalf("block matching nothing: %d %v", e.status, e.Meta.Warnings)
	}
	e = ta.do("PATCH", "/api/v1/budgets/"+b.ID, editor, map[string]any{"action": "warn", "scope": map[string]string{"customer": "acme"}})
	e.decode(t, &b)
	if e.status != 200 || b.Action != "warn" || len(e.Meta.Warnings) != 0 {
		t.Fatalf("patched to warn on acme: %d %+v %v", e.status, b, e.Meta.Warnings)
	}
	ta.do("GET", "/api/v1/budgets/"+b.ID, ta.key("viewer"), nil).decode(t, &b)
	if b.Action != "warn" {
		t.Fatalf("stored action %q", b.Action)
	}
}

// The proxy's events of a budget, newest first and paged; another
// tenant's budget is a 404; a scope filter is refused by name.
func TestBudgetEventsListed(t *testing.T) {
	ta := startAPI(t, freshDB("api_budget_events"), nil)
	var b struct{ ID string }
	ta.do("POST", "/api/v1/budgets", ta.key("editor"), map[string]any{"name": "cap", "period": "monthly", "amountUsd": "1",
		"action": "block"}).decode(t, &b)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var evs []budgetevents.Event
	for i := range 3 {
		evs = append(evs, budgetevents.Event{ID: "bev_" + strconv.Itoa(i), Tenant: "default", At: now.Add(time.Duration(i-10) * time.Minute),
			BudgetID: b.ID, BudgetName: "cap", Action: budgetevents.Block, Provider: "openai",
			WorstCaseUSD: decimal.RequireFromString("0.00099"), RemainingUSD: decimal.RequireFromString("0.0004")})
	}
	if err := budgetevents.Write(context.Background(), ta.store, evs); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		ID, Action, WorstCaseUSD string
		At                       time.Time
	}
	e := ta.do("GET", "/api/v1/budgets/"+b.ID+"/events?limit=2", ta.key("viewer"), nil)
	e.decode(t, &got)
	if e.status != 200 || e.Pagination.Total != 3 || len(got) != 2 || got[0].ID != "bev_2" || got[0].WorstCaseUSD != "0.00099" {
		t.Fatalf("events: %d %+v %+v", e.status, e.Pagination, got)
	}
	if e := ta.do("GET", "/api/v1/budgets/"+b.ID+"/events?customer=acme", ta.key("viewer"), nil); e.status != 400 || e.Error.Details[0].Field != "customer" {
		t.Fatalf("scoped: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/budgets/bud_nope/events", ta.key("viewer"), nil); e.status != 404 {
		t.Fatalf("no such budget: %d", e.status)
	}
}
