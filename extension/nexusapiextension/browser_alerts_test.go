package nexusapiextension

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/browsertest"
)

// An editor creates an alert rule on the console, sees a refused
// threshold at its field, edits the rule, and a viewer sees the rules
// without an editor.
func TestConsoleAlertRules(t *testing.T) {
	ta := startAPI(t, freshDB("console_rules"), nil)
	ta.person("ed@example.com", "default", roleEditor)
	ta.person("vi@example.com", "default", roleViewer)
	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "ed@example.com", consolePassword)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ta.base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS("#rule-form")),
		chromedp.SendKeys(chromedp.CSS("#r-name"), "OpenAI errors"),
		chromedp.SendKeys(chromedp.CSS("#r-provider"), "openai"),
		chromedp.SendKeys(chromedp.CSS("#r-threshold"), "7"),
		chromedp.SendKeys(chromedp.CSS("#r-window"), "5m"),
		chromedp.Click(chromedp.CSS("#rule-save")),
		chromedp.WaitVisible(chromedp.CSS(`#r-threshold[aria-invalid="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#r-threshold-error")))
	if err != nil || msg == "" {
		t.Fatalf("threshold refusal at its field: %q %v", msg, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/alerts (refused threshold)")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#r-threshold"), "0.25"),
		chromedp.Click(chromedp.CSS("#rule-save")),
		chromedp.WaitVisible(chromedp.CSS("#rules tbody tr[data-rule]")),
	); err != nil {
		t.Fatal(err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#rules tbody tr[data-rule]")))
	if err != nil || !strings.Contains(row, "OpenAI errors") || !strings.Contains(row, "provider=openai") || !strings.Contains(row, "0.25") {
		t.Fatalf("rule listed: %q %v", row, err)
	}
	// Edit: the form fills from the rule; a new threshold is stored.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#rules tbody tr[data-rule] button")),
		chromedp.WaitVisible(chromedp.CSS("#rule-cancel")),
		chromedp.SetValue(chromedp.CSS("#r-threshold"), "0.5"),
		chromedp.Click(chromedp.CSS("#rule-save")),
		chromedp.WaitNotVisible(chromedp.CSS("#rule-cancel")),
	); err != nil {
		t.Fatal(err)
	}
	var rules []struct {
		Name, Threshold string
		Scope           map[string]any
	}
	ta.do("GET", "/api/v1/alerts/rules", ta.admin, nil).decode(t, &rules)
	if len(rules) != 1 || rules[0].Threshold != "0.5" || rules[0].Scope["provider"] != "openai" {
		t.Fatalf("stored rules after the edit: %+v", rules)
	}
	browsertest.CheckAccessibility(t, ctx, "/alerts (rules)")

	vctx := browserContext(t)
	signInBrowser(t, vctx, ta.base, "vi@example.com", consolePassword)
	if err := chromedp.Do(vctx, chromedp.Navigate(ta.base+"/alerts"), chromedp.WaitVisible(chromedp.CSS("#rules tbody tr[data-rule]")),
		chromedp.WaitNotVisible(chromedp.CSS("#rule-editor"))); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(vctx, chromedp.Evaluate[int](`document.querySelectorAll("#rules button").length`, chromedp.EvalAsValue))
	if err != nil || n != 0 {
		t.Fatalf("a viewer is offered %d rule buttons (%v)", n, err)
	}
}
