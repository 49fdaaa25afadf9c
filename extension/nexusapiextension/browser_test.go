package nexusapiextension

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/browsertest"
	"github.com/nexus-otel/nexus/internal/livefeed"
)

// browserContext starts headless Chromium for one test.
func browserContext(t *testing.T) context.Context { return browsertest.Start(t, 60*time.Second) }

// A person opens the console, is sent to sign in, signs in with the first
// admin's password, and sees the month's seeded spend exactly as the API
// sums it, by provider; a call published on the live feed appears on the
// overview within a second; a wrong password is shown at the form.
func TestConsoleSignInAndOverview(t *testing.T) {
	ta := startAPI(t, freshDB("console_overview"), nil)
	now := time.Now()
	at := now.Add(-time.Minute)
	if at.Month() != now.Month() {
		at = now
	}
	ta.seed(seedCall{At: at, Provider: "openai", Model: "gpt-4o-mini", Cost: "0.000123456789"},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o-mini", Cost: "1.5"},
		seedCall{At: at, Provider: "exa", Cost: "0.005"})
	ctx := browserContext(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
		chromedp.SendKeys(chromedp.CSS("#email"), "admin@localhost"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	); err != nil {
		t.Fatal(err)
	}
	wrong, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#error")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wrong, "wrong email or password") {
		t.Fatalf("refusal shown: %q", wrong)
	}
	browsertest.CheckAccessibility(t, ctx, "/sign-in (refused)")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), testAdminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#month[data-state="ready"]`)),
	); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	month, calls, table := text("#month"), text("#calls"), text("#by-provider tbody")
	if month != "$1.505123456789" || !strings.Contains(table, "openai") || !strings.Contains(table, "exa") {
		t.Fatalf("month %q, by provider %q", month, table)
	}
	if at.YearDay() == now.YearDay() && calls != "3" {
		t.Fatalf("calls today %q", calls)
	}
	browsertest.CheckAccessibility(t, ctx, "/ (overview)")

	// The live ticker: a call on the feed shows within a second.
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`#live[data-state="open"]`))); err != nil {
		t.Fatal(err)
	}
	cost := "0.42"
	sent := time.Now()
	ta.api.feed.Publish(livefeed.CallEvent(&livefeed.Call{Tenant: "default", Timestamp: sent.UTC().Format(time.RFC3339Nano),
		Provider: "twilio", Status: "ok", CostUSD: &cost, CostStatus: "priced"}))
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#live li[data-provider="twilio"]`))); err != nil {
		t.Fatalf("the live call did not show within a second: %v", err)
	}
	t.Logf("live call shown %s after publishing", time.Since(sent))
}

// consolePassword is the password of the people the console tests create.
const consolePassword = "a console passphrase"

// person creates a user with a role in each tenant (pairs of tenant and
// role) and consolePassword.
func (ta *testAPI) person(email string, tenantRoles ...string) {
	ta.t.Helper()
	roles := map[string]string{}
	for i := 0; i+1 < len(tenantRoles); i += 2 {
		roles[tenantRoles[i]] = tenantRoles[i+1]
	}
	if e := ta.do("POST", "/api/v1/users", ta.admin, map[string]any{"email": email, "name": email,
		"password": consolePassword, "roles": roles}); e.status != 201 {
		ta.t.Fatalf("create %s: %d %+v", email, e.status, e.Error)
	}
}

// signInBrowser opens the console as email and waits for the overview.
func signInBrowser(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	browsertest.SignIn(t, ctx, base, email, password)
}

// An editor sees a firing alert on the console and acknowledges it; the
// event records who (their email).
func TestConsoleAcknowledgesAnAlert(t *testing.T) {
	ta := startAlertAPI(t, freshDB("console_alerts"), nil)
	ta.seedFiringAlert(ta.key("editor"))
	ta.person("oncall@example.com", "default", roleEditor)
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "oncall@example.com", consolePassword)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS("#firing li button")),
		chromedp.Click(chromedp.CSS("#firing li button")),
		chromedp.WaitVisible(chromedp.CSS("#firing li .acked")),
	); err != nil {
		t.Fatal(err)
	}
	acked, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#firing li .acked")))
	if err != nil || !strings.Contains(acked, "oncall@example.com") {
		t.Fatalf("acknowledgement shown: %q %v", acked, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/alerts")
	evs := ta.events("state=firing")
	if len(evs) != 1 || evs[0].AckedBy != "oncall@example.com" {
		t.Fatalf("stored acknowledgement: %+v", evs)
	}
}

// The costs page answers any range and dimension from its URL (so a view
// can be shared), totals exactly, and its CSV holds the same rows.
func TestConsoleCosts(t *testing.T) {
	ta := startAPI(t, freshDB("console_costs"), nil)
	day := time.Now().Add(-24 * time.Hour)
	ta.seed(seedCall{At: day, Provider: "openai", Model: "gpt-4o", Cost: "0.25", Customer: "acme"},
		seedCall{At: day, Provider: "openai", Model: "gpt-4o", Cost: "0.000000000001", Customer: "acme"},
		seedCall{At: day, Provider: "exa", Cost: "1.75", Customer: "globex, inc."})
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	from, to := day.AddDate(0, 0, -1).Format(time.DateOnly), time.Now().Format(time.DateOnly)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/costs?groupBy=customer&from="+from+"&to="+to),
		chromedp.WaitVisible(chromedp.CSS("#costs tbody tr")),
	); err != nil {
		t.Fatal(err)
	}
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#total")))
	if err != nil || total != "$2.000000000001" {
		t.Fatalf("total %q %v", total, err)
	}
	csv, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#csv"), "data-csv"))
	if err != nil || !strings.Contains(csv.Value, "customer,cost_usd,calls") || !strings.Contains(csv.Value, "acme,0.250000000001,2") ||
		!strings.Contains(csv.Value, `"globex, inc.",1.75,1`) {
		t.Fatalf("csv %q %v", csv.Value, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/costs")
}

// screenshotsEnv, when set, is where TestConsoleScreenshots leaves its
// PNGs (make screenshots: docs/screenshots); otherwise a temporary folder.
const screenshotsEnv = "NEXUS_SCREENSHOTS_DIR"

// Every page renders over seeded data at 1280 px and on a phone's width;
// each screenshot is a PNG (the README shows them).
func TestConsoleScreenshots(t *testing.T) {
	ta := startAlertAPI(t, freshDB("console_screens"), nil)
	now := time.Now()
	var calls []seedCall
	for i := range 60 {
		at := now.Add(-time.Duration(i) * 7 * time.Hour)
		calls = append(calls,
			seedCall{At: at, Provider: "openai", Model: "gpt-4o-mini", Cost: "0.0125", Customer: []string{"acme", "globex", "initech"}[i%3], Team: "growth"},
			seedCall{At: at, Provider: "exa", Cost: "0.005", Customer: "acme", Team: "search"},
			seedCall{At: at, Provider: "twilio", Cost: "0.0079", Customer: "globex", Team: "notify"})
	}
	ta.seed(calls...)
	editor := ta.key("editor")
	ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "OpenAI monthly", "scope": map[string]string{"provider": "openai"},
		"period": "monthly", "amountUsd": "1"})
	ta.seedFiringAlert(editor)

	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	shots := []struct{ name, path, ready string }{
		{"overview", "/", `main[data-state="ready"]`},
		{"costs", "/costs?groupBy=customer", `main[data-state="ready"]`},
		{"calls", "/calls", "#calls tbody tr"},
		{"budgets", "/budgets", "#budgets li .spent"},
		{"alerts", "/alerts", "#firing li"},
		{"providers", "/providers", `main[data-state="ready"]`},
		{"insights", "/insights", "#trends tbody tr"},
		{"admin", "/admin", `#audit[data-state="ready"]`},
	}
	for _, width := range []int64{1280, 390} {
		for _, s := range shots {
			png, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(ta.base+s.path),
					chromedp.WaitVisible(chromedp.CSS(s.ready))); err != nil {
					return nil, err
				}
				return chromedp.FullScreenshot(100)(ctx, tg)
			})
			if err != nil {
				t.Fatalf("%s at %d px: %v", s.name, width, err)
			}
			if len(png) < 1000 || string(png[1:4]) != "PNG" {
				t.Fatalf("%s at %d px: not a PNG (%d bytes)", s.name, width, len(png))
			}
			if width < 600 {
				// On a phone the whole page, header too, fits the screen
				// and reads as well as at full width.
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`, chromedp.EvalAsValue))
				if err != nil || wide > int(width) {
					over, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter((e) =>
						e.getBoundingClientRect().right > innerWidth && !(e.parentElement && e.parentElement.closest(".scroll"))).slice(0, 5).map((e) => e.tagName + "#" + e.id + "." + e.className)`, chromedp.EvalAsValue))
					t.Errorf("%s at %d px is %d px wide (%v): %v", s.name, width, wide, err, over)
				}
				browsertest.CheckAccessibility(t, ctx, s.path+" (phone)")
			}
			name := s.name
			if width < 600 {
				name += "-phone"
			}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Sign-in last: a fresh profile is signed out.
	out := browserContext(t)
	png, err := chromedp.Run(out, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 700), chromedp.Navigate(ta.base+"/sign-in"),
			chromedp.WaitVisible(chromedp.CSS("#sign-in"))); err != nil {
			return nil, err
		}
		return chromedp.FullScreenshot(100)(ctx, tg)
	})
	if err != nil || string(png[1:4]) != "PNG" {
		t.Fatalf("sign-in screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sign-in.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// seedFiringAlert makes an error-rate rule on openai fire: errors before
// and after its one-minute "for".
func (ta *testAPI) seedFiringAlert(editor string) {
	ta.t.Helper()
	ta.createRule(editor, map[string]any{"name": "OpenAI errors", "kind": "error_rate", "scope": map[string]string{"provider": "openai"},
		"threshold": "0.2", "window": "5m", "for": "1m", "minCalls": 5, "severity": "critical", "channels": []string{"inapp"}})
	t0 := time.Now().UTC().Truncate(time.Minute)
	ta.errorsAt(t0.Add(-20*time.Second), "openai", 10, 5)
	ta.evalAt(t0)
	ta.errorsAt(t0.Add(50*time.Second), "openai", 5, 5)
	ta.evalAt(t0.Add(time.Minute))
}

// The calls page lists the newest first, filters from its URL, and shows
// a call's detail: tokens by kind, cost and how it was priced, ids.
func TestConsoleCalls(t *testing.T) {
	ta := startAPI(t, freshDB("console_calls"), nil)
	now := time.Now()
	ta.seed(seedCall{At: now.Add(-time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "0.0042", Input: 1200, Cached: 200, Output: 300, Reasoning: 50},
		seedCall{At: now.Add(-2 * time.Hour), Provider: "exa", Cost: "0.005"},
		seedCall{At: now.Add(-3 * time.Hour), Provider: "openai", Model: "gpt-4o", Status: "error"})
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/calls?provider=openai"),
		chromedp.WaitVisible(chromedp.CSS("#calls tbody tr")),
	); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#calls tbody tr")].map((r) => r.cells[1].textContent + "/" + r.cells[4].textContent)`, chromedp.EvalAsValue))
	if err != nil || strings.Join(rows, ",") != "openai/ok,openai/error" {
		t.Fatalf("rows %v %v", rows, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#calls tbody tr button")), chromedp.WaitVisible(chromedp.CSS("#detail"))); err != nil {
		t.Fatal(err)
	}
	d, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#detail-list")))
	if err != nil || !strings.Contains(d, "input 1200 (cached 200") || !strings.Contains(d, "reasoning 50") || !strings.Contains(d, "$0.0042") {
		t.Fatalf("detail %q %v", d, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/calls")
}
