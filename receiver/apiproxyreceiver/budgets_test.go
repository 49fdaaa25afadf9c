package apiproxyreceiver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/sdkload"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/spendguard"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// Fifty streamed calls at once through the official OpenAI SDK against a
// blocking budget of $0.01, each able to cost about $0.001: what they
// cost stays within the amount, the refused ones get the budget's error
// in the SDK, which does not retry them, and the provider never sees them.
func TestBlockingBudgetHoldsUnderConcurrency(t *testing.T) {
	s, h := storetest.Start(t, "proxy_budget_block_"+strconv.FormatInt(time.Now().UnixNano(), 36))
	ctx := context.Background()
	sp := spend.New(s, time.UTC, 10*time.Second)
	name, period, amount, action := "OpenAI cap", "monthly", []byte(`"0.01"`), "block"
	provider := "openai"
	if _, err := sp.CreateBudget(ctx, "default", spend.BudgetInput{Name: &name, Period: &period, AmountUSD: amount, Action: &action,
		Scope: &spend.BudgetScopeInput{Provider: &provider}}); err != nil {
		t.Fatal(err)
	}
	// Each answer reports 150 prompt and 1,500 completion tokens; the
	// request asks for at most 1,600: its worst case is about $0.001.
	usage := `{"prompt_tokens":150,"completion_tokens":1500,"total_tokens":1650}`
	var reached atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		time.Sleep(30 * time.Millisecond) // many in flight at once
		serveStream(w, []string{
			`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}],"usage":null}` + "\n\n",
			`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":` + usage + `}` + "\n\n",
			"data: [DONE]\n\n",
		}, 0)
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Budgets.Enforce = true
	}, withHost(h))

	cat, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	var u pricing.Usage
	u[pricing.InputTokens], u[pricing.OutputTokens] = 150, 1500
	one := decimal.New(int64(cat.Price("openai", "gpt-4o-mini", "", "", time.Now(), &u).Cost), -pricing.Scale)

	out := sdkload.Stream(ctx, tp.url+"/openai/v1", 50, "gpt-4o-mini", 1600)
	for _, err := range out.Other {
		t.Errorf("neither passed nor refused by the budget: %v", err)
	}
	passed, refused := out.Passed, out.Refused
	spent := one.Mul(decimal.NewFromInt(passed))
	t.Logf("%d passed ($%s each, $%s in all), %d refused", passed, one, spent, refused)
	if spent.GreaterThan(decimal.RequireFromString("0.01")) {
		t.Fatalf("overshoot: %d calls cost $%s of a $0.01 budget", passed, spent)
	}
	if passed == 0 || refused == 0 || passed+refused != 50 {
		t.Fatalf("%d passed, %d refused", passed, refused)
	}
	if n := out.Sent; n != 50 {
		t.Fatalf("the SDK sent %d requests for 50 calls: it retried a refusal", n)
	}
	if n := reached.Load(); n != passed {
		t.Fatalf("the provider saw %d calls, %d passed", n, passed)
	}
	// Reservations are settled as the emitter reads the answers.
	var st []spendguard.Status
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = tp.rcv.proxy.enforcer.guard.Statuses("default"); len(st) == 1 && st[0].Reserved.IsZero() {
			break
		}
	}
	if len(st) != 1 || !st[0].Reserved.IsZero() || !st[0].Spent.Equal(spent) {
		t.Fatalf("guard after the calls: %+v, want $%s settled and nothing held", st, spent)
	}
	// Each refusal is a stored event (the writer flushes every second).
	var page budgetevents.Page
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if page, err = budgetevents.List(ctx, s, "", st[0].BudgetID, time.Now().Add(-time.Minute), time.Now().Add(time.Minute), 0, 100); err == nil &&
			page.Total == refused {
			break
		}
	}
	if page.Total != refused || page.Events[0].Action != budgetevents.Block || page.Events[0].Model != "gpt-4o-mini" {
		t.Fatalf("stored events: %d (%v), %d refused; first %+v", page.Total, err, refused, page.Events)
	}
}

// A warning budget lets calls pass and tells what is left in headers.
func TestWarningBudgetTellsWhatIsLeft(t *testing.T) {
	s, h := storetest.Start(t, "proxy_budget_warn_"+strconv.FormatInt(time.Now().UnixNano(), 36))
	sp := spend.New(s, time.UTC, 10*time.Second)
	name, period, action := "OpenAI watch", "monthly", "warn"
	b, err := sp.CreateBudget(context.Background(), "default", spend.BudgetInput{Name: &name, Period: &period, AmountUSD: []byte(`"5"`), Action: &action})
	if err != nil {
		t.Fatal(err)
	}
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Budgets.Enforce = true
	}, withHost(h))
	resp, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions",
		`{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"Hello"}]}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get(headerBudget) != b.ID {
		t.Fatalf("%d %s %v", resp.StatusCode, body, resp.Header)
	}
	left, err := decimal.NewFromString(resp.Header.Get(headerBudgetRemaining))
	if err != nil || !left.LessThan(decimal.NewFromInt(5)) || !left.GreaterThan(decimal.RequireFromString("4.99")) {
		t.Fatalf("remaining %q (%v): want $5 less this call's worst case", resp.Header.Get(headerBudgetRemaining), err)
	}
	// A body nested 8 million deep is forwarded under the defaults (the
	// provider judges it): reading it once overflowed the budget check's
	// stack, which ended the collector.
	resp, body = do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", `{"model":"gpt-4o-mini","x":`+strings.Repeat("[", 8<<20), nil)
	if resp.StatusCode != 200 || resp.Header.Get(headerBudget) != b.ID {
		t.Fatalf("deep body: %d %.200s", resp.StatusCode, body)
	}
}

func TestBudgetsConfigRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*BudgetsConfig)
		want   string
	}{
		{"refresh", func(b *BudgetsConfig) { b.Refresh = time.Millisecond }, "budgets.refresh"},
		{"lag", func(b *BudgetsConfig) { b.IngestLag = -time.Second }, "budgets.ingest_lag"},
		{"tokens", func(b *BudgetsConfig) { b.DefaultMaxOutputTokens = 0 }, "budgets.default_max_output_tokens"},
		{"negative", func(b *BudgetsConfig) { b.UnpricedWorstCaseUSD = "-1" }, "budgets.unpriced_worst_case_usd"},
		{"precise", func(b *BudgetsConfig) { b.UnpricedWorstCaseUSD = "0.0000000000001" }, "budgets.unpriced_worst_case_usd"},
		{"words", func(b *BudgetsConfig) { b.UnpricedWorstCaseUSD = "five cents" }, "budgets.unpriced_worst_case_usd"},
	} {
		cfg := createDefaultConfig().(*Config)
		c.mutate(&cfg.Budgets)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := createDefaultConfig().(*Config).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
