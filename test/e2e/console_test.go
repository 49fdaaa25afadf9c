package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/browsertest"
)

// The quickstart in a browser, on the built binary with the shipped
// config: sign in with the first admin's password, and a call sent over
// OTLP appears on the overview within a second of being sent.
func TestConsoleShowsACallSentOverOTLP(t *testing.T) {
	const password = "an e2e console passphrase"
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_PASSWORD=" + password}
	col.start()
	ctx := browsertest.Start(t, 90*time.Second)
	browsertest.SignIn(t, ctx, "http://"+col.api, "admin@localhost", password)
	// The ticker's stream opens once the figures are in.
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`#live[data-state="open"]`))); err != nil {
		t.Fatal(err)
	}

	sent := time.Now()
	if err := sendUntilAcked(contextTimeout(t, 10*time.Second), col.otlpHTTP, otlpBody("checkout", []string{spanJSON(1<<50, sent.UnixNano())})); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Second+time.Until(sent))
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#live li[data-provider="openai"]`))); err != nil {
		t.Fatalf("the call did not show on the overview within a second of being sent: %v", err)
	}
	t.Logf("call shown %s after it was sent", time.Since(sent))
}
