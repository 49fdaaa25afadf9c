package nexusapiextension

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// A person with roles in two tenants switches between them: the overview's
// figures and its live ticker follow the tenant shown, and another
// tenant's call never appears.
func TestConsoleTenantSwitch(t *testing.T) {
	ta := startAPI(t, freshDB("console_tenants"), nil)
	if e := ta.do("POST", "/api/v1/tenants", ta.admin, map[string]any{"id": "acme", "name": "Acme"}); e.status != 201 {
		t.Fatalf("create tenant: %d %+v", e.status, e.Error)
	}
	ta.person("two@example.com", "default", roleViewer, "acme", roleEditor)
	at := time.Now().Add(-time.Minute)
	if at.Month() != time.Now().Month() {
		at = time.Now()
	}
	ta.seed(seedCall{At: at, Provider: "openai", Cost: "1.25"}, seedCall{At: at, Tenant: "acme", Provider: "exa", Cost: "0.07"})
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "two@example.com", consolePassword)
	month := func() string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`main[data-state="ready"]`))); err != nil {
			t.Fatal(err)
		}
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#month")))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Without a default tenant in their preferences, the first by name.
	if m := month(); m != "$0.07" {
		t.Fatalf("acme's month: %q", m)
	}
	pick(t, ctx, "tenant", "default")
	if m := month(); m != "$1.25" {
		t.Fatalf("the default tenant's month: %q", m)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#user")))
	if err != nil || !strings.Contains(who, "(viewer)") {
		t.Fatalf("role shown in the default tenant: %q %v", who, err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`#live[data-state="open"]`))); err != nil {
		t.Fatal(err)
	}
	cost := "0.01"
	for _, tenant := range []string{"default", "acme"} {
		ta.api.feed.Publish(livefeed.CallEvent(&livefeed.Call{Tenant: tenant, Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
			Provider: "from-" + tenant, Status: "ok", CostUSD: &cost, CostStatus: "priced"}))
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#live li[data-provider="from-default"]`))); err != nil {
		t.Fatalf("the default tenant's call not shown: %v", err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#live li[data-provider="from-acme"]').length`, chromedp.EvalAsValue))
	if err != nil || n != 0 {
		t.Fatalf("acme's call shown in the default tenant's ticker (%d, %v)", n, err)
	}
}

// A person's time zone preference, picked in the header, is kept and
// every time is shown in it.
func TestConsoleTimeZone(t *testing.T) {
	ta := startAPI(t, freshDB("console_tz"), nil)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	ta.seed(seedCall{At: at, Provider: "openai", Cost: "0.5"})
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	pick(t, ctx, "tz", "Asia/Tokyo")
	if err := chromedp.Do(ctx, chromedp.Navigate(ta.base+"/calls"), chromedp.WaitVisible(chromedp.CSS("#calls tbody tr"))); err != nil {
		t.Fatal(err)
	}
	var people []struct {
		Email       string
		Preferences struct {
			TimeZone string `json:"time_zone"`
		}
	}
	ta.do("GET", "/api/v1/users", ta.admin, nil).decode(t, &people)
	if len(people) != 1 || people[0].Preferences.TimeZone != "Asia/Tokyo" {
		t.Fatalf("preference stored: %+v", people)
	}
	// Tokyo is UTC+9 all year.
	want := at.Add(9 * time.Hour).Format("3:04:05 PM")
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#calls tbody tr td")))
	if err != nil || !strings.Contains(got, want) {
		t.Fatalf("call time %q, want it in Tokyo time %q (%v)", got, want, err)
	}
}

// pick chooses value in the select with id as a person would, and waits
// for the page it reloads.
func pick(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { window.picked = true; const s = document.getElementById("`+id+`");
		s.value = "`+value+`"; s.dispatchEvent(new Event("change")); return true })()`, chromedp.EvalAsValue)); err != nil {
		t.Fatal(err)
	}
	// The reload drops the marker; until it has, evaluating may meet the
	// page going away.
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.picked && document.readyState === "complete"`, chromedp.EvalAsValue))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("picking %s %s: the page did not reload (%v)", id, value, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
