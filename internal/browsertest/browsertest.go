// Package browsertest starts headless Chromium for the console's tests:
// Debian's chromium (which `make test` installs when it is missing),
// driven over the DevTools protocol by chromedp.
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Env names the browser to drive (default /usr/bin/chromium).
const Env = "NEXUS_CHROMIUM"

// Start opens a fresh browser profile for one test and returns its tab's
// context, ended with the test (or after within).
func Start(t testing.TB, within time.Duration) context.Context {
	t.Helper()
	exe := os.Getenv(Env)
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("the console tests need Chromium at %s (set %s to another): run  apt-get install -y chromium  (make test does)", exe, Env)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		// The network here is closed: no background connections.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// SignIn opens the console at base as email and waits for the overview's
// figures.
func SignIn(t testing.TB, ctx context.Context, base, email, password string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/sign-in"),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#month[data-state="ready"]`)),
	); err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}
