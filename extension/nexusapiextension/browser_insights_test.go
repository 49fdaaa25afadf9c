package nexusapiextension

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/browsertest"
)

// The insights page shows each recommendation with its monthly saving
// exactly as the API computes it and its evidence, and this week's trends
// against last week's.
func TestConsoleInsights(t *testing.T) {
	ta := startAPI(t, freshDB("console_insights"), nil)
	now := time.Now().UTC()
	// Right-sizing: 20 gpt-4o chats with short answers, this week; and
	// last week a tenth of the spend, so the trend is +900%.
	ta.seed(many(20, now.Add(-26*time.Hour), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Input: 300, Output: 20, Cost: "0.00095"})...)
	ta.seed(many(2, now.Add(-8*24*time.Hour), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Input: 300, Output: 20, Cost: "0.00095"})...)
	recs, _ := recommendations(t, ta, ta.key("viewer"))
	var want string
	for _, r := range recs {
		if r.Kind == "model_right_sizing" {
			want = r.MonthlySavingUSD
		}
	}
	if want == "" {
		t.Fatalf("the seed makes no right-sizing recommendation: %+v", recs)
	}

	ctx := browserContext(t)
	signInBrowser(t, ctx, ta.base, "admin@localhost", testAdminPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(ta.base+"/insights"),
		chromedp.WaitVisible(chromedp.CSS(`#recs li[data-kind="model_right_sizing"]`)),
		chromedp.WaitVisible(chromedp.CSS("#trends tbody tr"))); err != nil {
		t.Fatal(err)
	}
	card, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#recs li[data-kind="model_right_sizing"] .saving`)))
	if err != nil || !strings.HasPrefix(card, "$"+want+" a month") {
		t.Fatalf("saving shown %q, the API's %q (%v)", card, want, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#recs li[data-kind="model_right_sizing"] summary`))); err != nil {
		t.Fatal(err)
	}
	ev, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#recs li[data-kind="model_right_sizing"] .evidence`)))
	if err != nil || ev == "" {
		t.Fatalf("evidence %q %v", ev, err)
	}
	row, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelector("#trends tbody tr").cells].map((c) => c.textContent)`, chromedp.EvalAsValue))
	if err != nil || len(row) != 7 || row[0] != "openai" || row[1] != "gpt-4o" || row[2] != "0.019" || row[3] != "+900%" {
		t.Fatalf("trend row %q %v", row, err)
	}
	browsertest.CheckAccessibility(t, ctx, "/insights")
}
