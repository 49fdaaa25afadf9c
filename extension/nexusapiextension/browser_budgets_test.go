package nexusapiextension

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/browsertest"
	"github.com/nexus-otel/nexus/internal/budgetevents"
)

// An editor creates a budget in the console: a refused amount is shown at
// its field, a good one appears in the list with its status; a viewer
// sees no editor and the server refuses the write the page never offers.
func TestConsoleBudgets(t *testing.T) {
	ta := startAPI(t, freshDB("console_budgets"), nil)
	ta.person("ed@example.com", "default", roleEditor)
	ta.person("vi@example.com", "default", roleViewer)
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "ed@example.com", consolePassword)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/budgets"),
		chromedp.WaitVisible(chromedp.CSS("#new-budget")),
		chromedp.SendKeys(chromedp.CSS("#b-name"), "OpenAI monthly"),
		chromedp.SendKeys(chromedp.CSS("#b-amount"), "a lot"),
		chromedp.SendKeys(chromedp.CSS("#b-provider"), "openai"),
		chromedp.Click(chromedp.CSS("#new-budget button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#b-amount[aria-invalid="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#b-amountUsd-error")))
	if err != nil || msg == "" {
		t.Fatalf("amount refusal at its field: %q %v", msg, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/budgets (refused amount)")
	// The person selects the refused amount and types another.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.getElementById("b-amount").value = ""; return true })()`, chromedp.EvalAsValue)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#b-amount"), "250"),
		chromedp.Click(chromedp.CSS("#new-budget button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#budgets li .spent")),
	); err != nil {
		t.Fatal(err)
	}
	spent, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#budgets li .spent")))
	if err != nil || !strings.Contains(spent, "of $250 this month") {
		t.Fatalf("budget shown: %q %v", spent, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/budgets")
	var list []struct{ Name, Action string }
	ta.do("GET", "/api/v1/budgets", ta.admin, nil).decode(t, &list)
	if len(list) != 1 || list[0].Name != "OpenAI monthly" || list[0].Action != "notify" {
		t.Fatalf("stored budgets: %+v", list)
	}
	// A blocking budget whose scope no call matches is kept, and the
	// person is told.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#b-name"), "Typo cap"),
		chromedp.SendKeys(chromedp.CSS("#b-amount"), "5"),
		chromedp.SendKeys(chromedp.CSS("#b-provider"), "opnai"),
		chromedp.SetValue(chromedp.CSS("#b-action"), "block"),
		chromedp.Click(chromedp.CSS("#new-budget button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#b-warning")),
	); err != nil {
		t.Fatal(err)
	}
	warned, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#b-warning")))
	if err != nil || !strings.Contains(warned, "no call of the last 30 days matches") {
		t.Fatalf("warning shown: %q %v", warned, err)
	}
	ta.do("GET", "/api/v1/budgets", ta.admin, nil).decode(t, &list)
	if len(list) != 2 || list[1].Action != "block" {
		t.Fatalf("stored budgets: %+v", list)
	}

	// The viewer: the list, no editor, and the write refused by the server.
	vctx := browserContext(t)
	signInBrowser(t, vctx, ta.base, "vi@example.com", consolePassword)
	if err := chromedp.Do(vctx, chromedp.Navigate(ta.base+"/budgets"), chromedp.WaitVisible(chromedp.CSS("#budgets li")),
		chromedp.WaitNotVisible(chromedp.CSS("#editor"))); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(vctx, chromedp.Evaluate[float64](`(async () => {
		const s = await (await fetch("/api/v1/auth/session")).json();
		const r = await fetch("/api/v1/budgets", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": s.data.csrfToken},
			body: JSON.stringify({name: "sneaky", period: "monthly", amountUsd: "1"})});
		return r.status;
	})()`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("viewer's write: %v %v", status, err)
	}
}

// An editor scopes a budget to a customer, sees the scope in words, and
// edits it in the same form: a refused amount is shown at its field, a
// good one shows with the new status.
func TestConsoleEditsABudget(t *testing.T) {
	ta := startAPI(t, freshDB("console_budget_edit"), nil)
	ta.person("ed@example.com", "default", roleEditor)
	at := time.Now().Add(-time.Minute)
	if at.Month() != time.Now().Month() {
		at = time.Now()
	}
	ta.seed(seedCall{At: at, Provider: "openai", Cost: "1", Customer: "acme"}, seedCall{At: at, Provider: "openai", Cost: "3", Customer: "globex"})
	ta.do("POST", "/api/v1/budgets", ta.key("editor"), map[string]any{"name": "All", "period": "monthly", "amountUsd": "100"})
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "ed@example.com", consolePassword)
	// card is the text of the budget's card once it has want.
	card := func(name, want string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Poll[string](`[...document.querySelectorAll("#budgets li")].map((li) => li.textContent)
			.find((s) => s.startsWith(`+strconv.Quote(name)+`) && s.includes(`+strconv.Quote(want)+`)) || null`, chromedp.WithPollingTimeout(10*time.Second)))
		if err != nil {
			t.Fatalf("budget %s showing %q: %v", name, want, err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/budgets"),
		chromedp.WaitVisible(chromedp.CSS("#new-budget")),
		chromedp.SendKeys(chromedp.CSS("#b-name"), "Acme"),
		chromedp.SendKeys(chromedp.CSS("#b-amount"), "10"),
		chromedp.SendKeys(chromedp.CSS("#b-customer"), "acme"),
		chromedp.Click(chromedp.CSS("#b-save")),
	); err != nil {
		t.Fatal(err)
	}
	card("All", "Scope: everything")
	card("Acme", "Scope: customer acme")
	card("Acme", "$1 of $10 this month (10%)")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Edit budget Acme"]`)),
		chromedp.WaitVisible(chromedp.CSS("#b-cancel")),
		chromedp.SetValue(chromedp.CSS("#b-amount"), "nope"),
		chromedp.Click(chromedp.CSS("#b-save")),
		chromedp.WaitVisible(chromedp.CSS(`#b-amount[aria-invalid="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	form, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["new-h", "b-save", "b-customer", "b-amountUsd-error"].map((id) => {
		const el = document.getElementById(id); return el.tagName === "INPUT" ? el.value : el.textContent; })`, chromedp.EvalAsValue))
	if err != nil || form[0] != "Edit budget Acme" || form[1] != "Save" || form[2] != "acme" || form[3] == "" {
		t.Fatalf("the form editing, refused: %q %v", form, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/budgets (edit refused)")

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#b-amount"), "2"),
		chromedp.Click(chromedp.CSS("#b-save")),
	); err != nil {
		t.Fatal(err)
	}
	card("Acme", "$1 of $2 this month (50%)")
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#new-h")))
	if err != nil || heading != "New budget" {
		t.Fatalf("heading after saving: %q %v", heading, err)
	}
	var list []struct {
		Name, AmountUSD string
		Scope           struct{ Customer string }
	}
	ta.do("GET", "/api/v1/budgets", ta.admin, nil).decode(t, &list)
	if len(list) != 2 || list[1].Name != "Acme" || list[1].AmountUSD != "2" || list[1].Scope.Customer != "acme" {
		t.Fatalf("stored budgets: %+v", list)
	}
	browsertest.CheckAccessibility(t, ctx, "/budgets (edited)")
}

// A blocking budget's refusals, as the proxy stores them, show under it
// on the budgets page with their count.
func TestConsoleBudgetEvents(t *testing.T) {
	ta := startAPI(t, freshDB("console_budget_events"), nil)
	var b struct{ ID string }
	ta.do("POST", "/api/v1/budgets", ta.key("editor"), map[string]any{"name": "cap", "period": "monthly", "amountUsd": "1",
		"action": "block"}).decode(t, &b)
	var evs []budgetevents.Event
	for i := range 3 {
		evs = append(evs, budgetevents.Event{Tenant: "default", At: time.Now().Add(-time.Duration(i+1) * time.Minute), BudgetID: b.ID,
			BudgetName: "cap", Action: budgetevents.Block, Provider: "openai", Model: "gpt-4o", Customer: "acme",
			WorstCaseUSD: decimal.RequireFromString("0.0125"), RemainingUSD: decimal.RequireFromString("0.004")})
	}
	if err := budgetevents.Write(context.Background(), ta.store, evs); err != nil {
		t.Fatal(err)
	}
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(ta.base+"/budgets"),
		chromedp.WaitReady(chromedp.CSS(`.budget-events[data-state="ready"]`)),
		chromedp.Click(chromedp.CSS(".budget-events summary"))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".budget-events")))
	if err != nil || !strings.Contains(text, "Calls refused, last 24 h: 3") || !strings.Contains(text, "openai gpt-4o for acme: could cost $0.0125, $0.004 left") {
		t.Fatalf("events shown: %q %v", text, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/budgets (events)")
}
