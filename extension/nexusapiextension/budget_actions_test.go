package nexusapiextension

import (
	"strings"
	"testing"
	"time"
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
