package nexusapiextension

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// chromiumEnv names the browser the console tests drive (default Debian's
// chromium, which `make test` installs when it is missing).
const chromiumEnv = "NEXUS_CHROMIUM"

// browserContext starts headless Chromium for one test.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv(chromiumEnv)
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("the console tests need Chromium at %s (set %s to another): run  apt-get install -y chromium  (make test does)", exe, chromiumEnv)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		// This machine's network is closed: no background connections.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

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

	// The live ticker: a call on the feed shows within a second.
	time.Sleep(300 * time.Millisecond) // the stream opens after the figures
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
