// Package browsertest starts headless Chromium for the console's tests:
// Debian's chromium (which `make test` installs when it is missing),
// driven over the DevTools protocol by chromedp.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// AxeEnv names axe-core's script (default .cache/axe/axe.min.js of the
// repository, which `make test` fetches: scripts/fetch-axe.sh).
const AxeEnv = "NEXUS_AXE"

// axeInRepository is .cache/axe/axe.min.js of the repository the test runs
// in: the nearest folder up from the working directory (a package's) that
// holds go.mod.
func axeInRepository() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "axe", "axe.min.js")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Violation is one rule axe-core found broken on a page.
type Violation struct {
	ID, Impact, Help string
	Nodes            int
}

// CheckAccessibility runs axe-core on the page ctx shows and fails the
// test on every serious or critical violation.
func CheckAccessibility(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	found, err := Accessibility(ctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	for _, v := range found {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: accessibility: %s (%s, %d elements): %s", page, v.ID, v.Impact, v.Nodes, v.Help)
		} else {
			t.Logf("%s: accessibility (%s): %s", page, v.Impact, v.ID)
		}
	}
}

// Accessibility is what axe-core finds broken on the page ctx shows.
func Accessibility(ctx context.Context) ([]Violation, error) {
	path := os.Getenv(AxeEnv)
	if path == "" {
		path = axeInRepository()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("axe-core is needed for the accessibility check (%w): run  ./scripts/fetch-axe.sh  (make test does)", err)
	}
	// Run through the DevTools protocol: the page's Content-Security-Policy
	// does not apply to it, and the page itself loads nothing new.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+";true", chromedp.EvalAsValue)); err != nil {
		return nil, fmt.Errorf("load axe-core: %w", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](`(async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return r.violations.map((v) => ({ID: v.id, Impact: v.impact || "", Help: v.help, Nodes: v.nodes.length}));
	})()`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	return found, nil
}
