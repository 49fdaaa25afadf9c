package openrouter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

const (
	openRouterTestAPIKey  = "sk-or-v1-TESTSECRETinference0123456789"
	openRouterTestMgmtKey = "sk-or-v1-TESTSECRETmanagement987654321"
)

// openRouterTestSecrets are what no error or message may show.
var openRouterTestSecrets = []string{"TESTSECRET", openRouterTestAPIKey, openRouterTestMgmtKey}

var (
	openRouterTestFrom = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	openRouterTestNow  = time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
	openRouterTestD2   = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	openRouterTestD3   = openRouterTestD2.Add(24 * time.Hour)
)

// openRouterTestKeyUncapped is the documented /key answer of a key without
// a limit.
const openRouterTestKeyUncapped = `{"data":{"label":"nexus-prod","limit":null,"limit_reset":null,"expires_at":null,"is_management_key":false,"limit_remaining":null,"usage":12.5,"usage_daily":0.25,"usage_weekly":3.75,"usage_monthly":10.0,"byok_usage":0,"is_free_tier":false,"free_model_daily_requests":{"used":3,"limit":1000,"remaining":997}}}`

const openRouterTestKeyCapped = `{"data":{"label":"nexus-prod","limit":50,"limit_reset":"monthly","expires_at":null,"is_management_key":false,"limit_remaining":37.5,"usage":12.5,"usage_daily":0.25,"usage_weekly":3.75,"usage_monthly":12.5,"byok_usage":0,"is_free_tier":false,"free_model_daily_requests":null}}`

const openRouterTestCredits = `{"data":{"total_credits":100.5,"total_usage":37.123456789}}`

const openRouterTestActivity = `{"data":[
 {"date":"2026-03-01","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini-2024-07-18","endpoint_id":"e1","provider_name":"OpenAI","usage":9.9,"byok_usage_inference":0,"requests":99,"prompt_tokens":9,"completion_tokens":9,"reasoning_tokens":0},
 {"date":"2026-03-02","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini-2024-07-18","endpoint_id":"e1","provider_name":"OpenAI","usage":0.0123,"byok_usage_inference":0,"requests":10,"prompt_tokens":1000,"completion_tokens":200,"reasoning_tokens":0},
 {"date":"2026-03-02","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini-2024-07-18","endpoint_id":"e2","provider_name":"OpenAI","usage":0.0077,"byok_usage_inference":0,"requests":5,"prompt_tokens":500,"completion_tokens":100,"reasoning_tokens":0},
 {"date":"2026-03-03 00:00:00","model":"anthropic/claude-sonnet-4","model_permaslug":"anthropic/claude-4-sonnet-20250522","endpoint_id":"e3","provider_name":"Anthropic","usage":1.5,"byok_usage_inference":null,"requests":2,"prompt_tokens":300,"completion_tokens":150,"reasoning_tokens":null},
 {"date":"2026-03-04","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini-2024-07-18","endpoint_id":"e1","provider_name":"OpenAI","usage":7,"byok_usage_inference":0,"requests":7,"prompt_tokens":7,"completion_tokens":7,"reasoning_tokens":0},
 {"date":null,"model":"x","provider_name":"X","usage":1}
]}`

func newOpenRouterTestPoller(srv *clienttest.Server, cfg ClientConfig) *Client {
	cfg.BaseURL = srv.URL
	return NewClient(cfg, srv.Client())
}

// openRouterTestAPI answers the documented payloads: /key for any key,
// /credits and /activity for the management key only.
func openRouterTestAPI(t *testing.T, keyBody string) *clienttest.Server {
	return clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		mgmt := r.Header.Get("Authorization") == "Bearer "+openRouterTestMgmtKey
		switch r.URL.Path {
		case "/key":
			clienttest.JSON(w, 200, keyBody)
		case "/credits", "/activity":
			if !mgmt {
				clienttest.JSON(w, 403, `{"error":{"code":403,"message":"Only management keys can fetch credits"}}`)
				return
			}
			if r.URL.Path == "/credits" {
				clienttest.JSON(w, 200, openRouterTestCredits)
			} else {
				clienttest.JSON(w, 200, openRouterTestActivity)
			}
		default:
			t.Errorf("unexpected request %s", r.URL)
			w.WriteHeader(404)
		}
	})
}

func openRouterAssertGauges(t *testing.T, got, want []provider.Gauge) {
	t.Helper()
	f := func(g provider.Gauge) string {
		return fmt.Sprintf("{%s window=%q acct=%q %s}", g.Name, g.Window, g.Account, g.Value.String())
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("gauge[%d] missing, want %s", i, f(want[i]))
		case i >= len(want):
			t.Errorf("gauge[%d] unexpected: %s", i, f(got[i]))
		default:
			g, w := got[i], want[i]
			if g.Name != w.Name || g.Window != w.Window || g.Account != w.Account || !g.Value.Equal(w.Value) || g.Value.String() != w.Value.String() {
				t.Errorf("gauge[%d]\n got %s\nwant %s", i, f(g), f(w))
			}
		}
	}
}

func openRouterTestGauge(name, window, account, v string) provider.Gauge {
	return provider.Gauge{Name: name, Window: window, Account: account, Value: clienttest.Dec(v)}
}

func TestOpenRouterPollInferenceKeyUncapped(t *testing.T) {
	srv := openRouterTestAPI(t, openRouterTestKeyUncapped)
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey}).Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	if err != nil {
		t.Fatal(err)
	}
	g := func(name, window, v string) provider.Gauge { return openRouterTestGauge(name, window, "nexus-prod", v) }
	// limit and limit_remaining are null: no limit_usd, no remaining_usd
	openRouterAssertGauges(t, poll.Gauges, []provider.Gauge{
		g("usage_usd", "total", "12.5"),
		g("usage_usd", "day", "0.25"),
		g("usage_usd", "week", "3.75"),
		g("usage_usd", "month", "10"),
		g("byok_usage_usd", "total", "0"),
		g("free_requests_remaining", "day", "997"),
	})
	if len(poll.Usage) != 0 || len(poll.RateLimits) != 0 {
		t.Errorf("poll %+v", poll)
	}
	// an inference key never calls /credits or /activity
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/key" || reqs[0].Auth != "Bearer "+openRouterTestAPIKey {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestOpenRouterPollWithManagementKey(t *testing.T) {
	srv := openRouterTestAPI(t, openRouterTestKeyCapped)
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey, ManagementKey: openRouterTestMgmtKey}).
		Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	if err != nil {
		t.Fatal(err)
	}
	g := func(name, window, v string) provider.Gauge { return openRouterTestGauge(name, window, "nexus-prod", v) }
	openRouterAssertGauges(t, poll.Gauges, []provider.Gauge{
		g("usage_usd", "total", "12.5"),
		g("usage_usd", "day", "0.25"),
		g("usage_usd", "week", "3.75"),
		g("usage_usd", "month", "12.5"),
		g("limit_usd", "month", "50"),
		g("remaining_usd", "month", "37.5"),
		g("byok_usage_usd", "total", "0"),
		g("credits_total_usd", "", "100.5"),
		g("credits_used_usd", "", "37.123456789"),
		g("balance_usd", "", "63.376543211"),
	})
	u := func(day time.Time, kind, v, model, prov string) provider.Usage {
		return provider.Usage{Start: day, End: day.Add(24 * time.Hour), Account: "nexus-prod", Kind: kind, Value: clienttest.Dec(v), Model: model, Category: prov}
	}
	// 2026-03-01 is before the day holding from, 2026-03-04 is not complete,
	// two endpoints of one model add up, nulls are skipped
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{
		u(openRouterTestD2, "cost_usd", "0.02", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD2, "requests", "15", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD2, "input_tokens", "1500", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD2, "output_tokens", "300", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD2, "reasoning_tokens", "0", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD2, "byok_cost_usd", "0", "openai/gpt-4o-mini", "OpenAI"),
		u(openRouterTestD3, "cost_usd", "1.5", "anthropic/claude-sonnet-4", "Anthropic"),
		u(openRouterTestD3, "requests", "2", "anthropic/claude-sonnet-4", "Anthropic"),
		u(openRouterTestD3, "input_tokens", "300", "anthropic/claude-sonnet-4", "Anthropic"),
		u(openRouterTestD3, "output_tokens", "150", "anthropic/claude-sonnet-4", "Anthropic"),
	})
	reqs := srv.Requests()
	want := []clienttest.Request{
		{Path: "/key", Auth: "Bearer " + openRouterTestAPIKey},
		{Path: "/credits", Auth: "Bearer " + openRouterTestMgmtKey},
		{Path: "/activity", Auth: "Bearer " + openRouterTestMgmtKey},
	}
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v", reqs)
	}
	for i := range want {
		// /activity is read once, without date
		if reqs[i].Path != want[i].Path || reqs[i].Auth != want[i].Auth || len(reqs[i].Query) != 0 {
			t.Errorf("request %d = %+v, want %+v", i, reqs[i], want[i])
		}
	}
}

func TestOpenRouterPollManagementKeyOnly(t *testing.T) {
	srv := openRouterTestAPI(t, `{"data":{"label":"ops-mgmt","limit":null,"limit_reset":null,"is_management_key":true,"limit_remaining":null,"usage":0,"usage_daily":0,"usage_weekly":0,"usage_monthly":0,"byok_usage":0,"is_free_tier":false}}`)
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{ManagementKey: openRouterTestMgmtKey, Account: "team-a"}).
		Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Auth != "Bearer "+openRouterTestMgmtKey {
			t.Errorf("%s with %q", r.Path, r.Auth)
		}
	}
	if got := srv.Paths(); !slices.Equal(got, []string{"/key", "/credits", "/activity"}) {
		t.Fatalf("requests %v", got)
	}
	if len(poll.Gauges) != 8 || len(poll.Usage) != 10 {
		t.Fatalf("gauges %d usage %d", len(poll.Gauges), len(poll.Usage))
	}
	for _, g := range poll.Gauges {
		if g.Account != "team-a" { // configured account wins over the label
			t.Errorf("gauge %+v", g)
		}
	}
	for _, u := range poll.Usage {
		if u.Account != "team-a" {
			t.Errorf("usage %+v", u)
		}
	}
}

func TestOpenRouterPollRefusedInferenceKeyStillReadsCredits(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/key":
			clienttest.JSON(w, 401, `{"error":{"code":401,"message":"User not found for key `+openRouterTestAPIKey+`"}}`)
		case "/credits":
			clienttest.JSON(w, 200, openRouterTestCredits)
		case "/activity":
			clienttest.JSON(w, 200, `{"data":[]}`)
		}
	})
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey, ManagementKey: openRouterTestMgmtKey}).
		Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	clienttest.AssertClass(t, err, provider.ClassAuthFailed)
	clienttest.AssertNoSecret(t, openRouterTestSecrets, err.Error())
	g := func(name, v string) provider.Gauge { return openRouterTestGauge(name, "", "openrouter", v) }
	openRouterAssertGauges(t, poll.Gauges, []provider.Gauge{g("credits_total_usd", "100.5"), g("credits_used_usd", "37.123456789"), g("balance_usd", "63.376543211")})
	if got := srv.Paths(); !slices.Equal(got, []string{"/key", "/credits", "/activity"}) {
		t.Fatalf("requests %v", got)
	}
}

func TestOpenRouterPollOutOfCredits(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		clienttest.JSON(w, 402, `{"error":{"code":402,"message":"Key sk-or-v1-TES...321 is out of credits","metadata":{"limit_source":"key"}}}`)
	})
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey}).Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	clienttest.AssertClass(t, err, provider.ClassQuotaExhausted)
	var pe *provider.Error
	errors.As(err, &pe)
	if pe.Status != 402 || pe.Provider != Name || pe.Op != "GET /key" {
		t.Errorf("error %+v", pe)
	}
	clienttest.AssertNoSecret(t, openRouterTestSecrets, err.Error())
	if len(poll.Gauges) != 0 || len(srv.Requests()) != 1 {
		t.Fatalf("poll %+v requests %v", poll, srv.Paths())
	}
}

func TestOpenRouterPollRateLimited(t *testing.T) {
	reset := time.Now().Add(30 * time.Second)
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "20")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.UnixMilli(), 10))
		w.Header().Set("Retry-After", "3")
		clienttest.JSON(w, 429, `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-min","metadata":{"headers":{"X-RateLimit-Limit":"20"}}}}`)
	})
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey, ManagementKey: openRouterTestMgmtKey}).
		Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	clienttest.AssertClass(t, err, provider.ClassRateLimited)
	var pe *provider.Error
	errors.As(err, &pe)
	if pe.RetryAfter != 3*time.Second || pe.Status != 429 {
		t.Errorf("error %+v", pe)
	}
	if len(poll.RateLimits) != 1 {
		t.Fatalf("rate limits %+v", poll.RateLimits)
	}
	rl := poll.RateLimits[0]
	if rl.Scope != "requests" || rl.Limit != 20 || rl.Remaining != 0 || rl.Reset <= 20*time.Second || rl.Reset > 30*time.Second {
		t.Errorf("rate limit %+v", rl)
	}
	// a rate limit stops the poll: no /credits, no /activity
	if got := srv.Paths(); !slices.Equal(got, []string{"/key"}) {
		t.Fatalf("requests %v", got)
	}
}

func TestOpenRouterPollBadAnswers(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/key":
			clienttest.JSON(w, 200, `{"data":null}`)
		case "/credits":
			clienttest.JSON(w, 200, `{"data":{"total_credits":10,"total_usage":null}}`)
		case "/activity":
			clienttest.JSON(w, 200, `{"data":[{"date":"2026-03-03","model":"m",`)
		}
	})
	poll, err := newOpenRouterTestPoller(srv, ClientConfig{ManagementKey: openRouterTestMgmtKey}).
		Poll(context.Background(), openRouterTestFrom, openRouterTestNow)
	clienttest.AssertClass(t, err, provider.ClassBadResponse)
	// total_usage null: no used and no balance gauge, never a made-up 0
	openRouterAssertGauges(t, poll.Gauges, []provider.Gauge{openRouterTestGauge("credits_total_usd", "", "openrouter", "10")})
	if len(poll.Usage) != 0 || len(srv.Requests()) != 3 {
		t.Fatalf("poll %+v requests %v", poll, srv.Paths())
	}
}

func TestOpenRouterPollTimeout(t *testing.T) {
	srv := clienttest.NewServer(t, clienttest.Slow)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey, ManagementKey: openRouterTestMgmtKey}).
		Poll(ctx, openRouterTestFrom, openRouterTestNow)
	clienttest.AssertClass(t, err, provider.ClassTimeout)
	if len(srv.Requests()) != 1 {
		t.Fatalf("requests %v", srv.Paths())
	}
}

func TestOpenRouterDefaults(t *testing.T) {
	r := NewClient(ClientConfig{APIKey: "k"}, nil)
	if r.cfg.BaseURL != "https://openrouter.ai/api/v1" || r.Provider() != Name || r.mgmt != nil {
		t.Fatalf("defaults %+v", r.cfg)
	}
	var _ provider.Poller = r
}

func TestOpenRouterCheck(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		srv := openRouterTestAPI(t, openRouterTestKeyUncapped)
		ch := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey, ManagementKey: openRouterTestMgmtKey}).Check(context.Background())
		if !ch.Up || ch.Class != "" || ch.HTTPStatus != 200 || ch.Message != "" || len(ch.RateLimits) != 0 {
			t.Fatalf("check %+v", ch)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/key" || reqs[0].Auth != "Bearer "+openRouterTestAPIKey {
			t.Fatalf("requests %+v", reqs)
		}
	})
	t.Run("management key only", func(t *testing.T) {
		srv := openRouterTestAPI(t, openRouterTestKeyUncapped)
		ch := newOpenRouterTestPoller(srv, ClientConfig{ManagementKey: openRouterTestMgmtKey}).Check(context.Background())
		reqs := srv.Requests()
		if !ch.Up || len(reqs) != 1 || reqs[0].Auth != "Bearer "+openRouterTestMgmtKey {
			t.Fatalf("check %+v requests %+v", ch, reqs)
		}
	})
	t.Run("auth_failed", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 401, `{"error":{"code":401,"message":"User not found for key `+openRouterTestAPIKey+`"}}`)
		})
		ch := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey}).Check(context.Background())
		if ch.Up || ch.Class != provider.ClassAuthFailed || ch.HTTPStatus != 401 || ch.Message != "User not found for key [redacted]" {
			t.Fatalf("check %+v", ch)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-RateLimit-Limit", "20")
			w.Header().Set("X-RateLimit-Remaining", "0")
			clienttest.JSON(w, 429, `{"error":{"code":429,"message":"Rate limit exceeded"}}`)
		})
		ch := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey}).Check(context.Background())
		if !ch.Up || ch.Class != provider.ClassRateLimited || !slices.Equal(ch.RateLimits, []provider.RateLimit{{Scope: "requests", Limit: 20, Remaining: 0}}) {
			t.Fatalf("check %+v", ch)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := clienttest.NewServer(t, clienttest.Slow)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		ch := newOpenRouterTestPoller(srv, ClientConfig{APIKey: openRouterTestAPIKey}).Check(ctx)
		if ch.Up || ch.Class != provider.ClassTimeout || ch.HTTPStatus != 0 {
			t.Fatalf("check %+v", ch)
		}
		clienttest.AssertNoSecret(t, openRouterTestSecrets, ch.Message)
	})
}
