package nexusapiextension

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/configtest"
	provider "github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"

	"github.com/nexus-otel/nexus/internal/providerstatus"
)

// Secrets of the fake providers, distinctive so that a leak is found by
// searching for them.
const (
	secretOpenAI      = "sk-proj-SECRET-openai-0001"
	secretOpenRouter  = "sk-or-v1-SECRET-openrouter-0002"
	secretExa         = "exa-SECRET-0003"
	secretTwilioToken = "twilio-SECRET-token-0004"
	secretApollo      = "apollo-SECRET-0005"
)

var allSecrets = []string{secretOpenAI, secretOpenRouter, secretExa, secretTwilioToken, secretApollo}

// withProviders configures every provider but Exa against srv; Exa is left
// without credentials, the not-configured case.
func withProviders(srv *providertest.Server) func(*Config) {
	return func(cfg *Config) {
		p := &cfg.Providers
		p.OpenAI.Endpoint, p.OpenAI.APIKey = srv.OpenAI(), secretOpenAI
		p.OpenRouter.Endpoint, p.OpenRouter.APIKey = srv.OpenRouter(), secretOpenRouter
		p.Twilio.Endpoint, p.Twilio.AccountSID, p.Twilio.AuthToken = srv.Twilio(), "AC1", secretTwilioToken
		p.Apollo.Endpoint, p.Apollo.APIKey = srv.Apollo(), secretApollo
	}
}

func TestProviderTestHealthy(t *testing.T) {
	srv := providertest.New(t)
	ta := startAPI(t, "api_prov_healthy", withProviders(srv))
	editor := ta.key(roleEditor)

	e := ta.do("POST", "/api/v1/providers/openai/test", editor, nil)
	if e.status != 200 {
		t.Fatalf("test openai: %d %+v", e.status, e.Error)
	}
	var res providerstatus.CheckResult
	e.decode(t, &res)
	if res.Provider != provider.OpenAI || !res.Up || res.Class != "ok" || res.HTTPStatus == nil || *res.HTTPStatus != 200 ||
		res.LatencyMs <= 0 || res.CheckedAt == "" {
		t.Fatalf("healthy check: %s", e.Data)
	}
	// The fake's GET /models announces 5000 requests, 4999 left.
	if len(res.RateLimits) != 1 || res.RateLimits[0].Scope != "requests" || *res.RateLimits[0].Limit != 5000 ||
		*res.RateLimits[0].Remaining != 4999 || *res.RateLimits[0].Headroom != 0.9998 {
		t.Fatalf("rate limits: %s", e.Data)
	}
	if n := srv.Requests("/openai/v1/models"); n != 1 {
		t.Fatalf("%d calls to /models, want the one check", n)
	}

	// The manual check is in the history, as the receiver's checks are.
	if got := storetest.Scalar(t, ta.store, "SELECT concat(toString(count()), ' ', toString(any(up)), ' ', any(class), ' ',"+
		" toString(any(http_status)), ' ', toString(any(latency_ms) > 0)) FROM api_prov_healthy.provider_health WHERE provider = 'openai'"); got != "1 true ok 200 1" {
		t.Fatalf("provider_health after the check: %q", got)
	}
	if got := storetest.Scalar(t, ta.store, "SELECT arrayStringConcat(groupArray(concat(name, '=', toString(value))), ',') FROM "+
		"(SELECT name, value FROM api_prov_healthy.provider_gauges WHERE provider = 'openai' AND scope = 'requests' ORDER BY name)"); got != "ratelimit_limit=5000,ratelimit_remaining=4999" {
		t.Fatalf("provider_gauges after the check: %q", got)
	}

	// ... and the list shows it as the latest health.
	var list []providerstatus.Status
	ta.do("GET", "/api/v1/providers", editor, nil).decode(t, &list)
	openai := findProvider(t, list, provider.OpenAI)
	if openai.Health == nil || !openai.Health.Up || openai.Health.Class != "ok" || openai.Health.LastCheck != res.CheckedAt {
		t.Fatalf("listed health %+v, want the manual check at %s", openai.Health, res.CheckedAt)
	}
	if len(openai.RateLimits) != 1 || *openai.RateLimits[0].Headroom != 0.9998 {
		t.Fatalf("listed rate limits: %+v", openai.RateLimits)
	}

	// Every configured provider passes against the fake.
	for _, name := range []string{provider.OpenRouter, provider.Twilio, provider.Apollo} {
		var r providerstatus.CheckResult
		e := ta.do("POST", "/api/v1/providers/"+name+"/test", editor, nil)
		e.decode(t, &r)
		if e.status != 200 || !r.Up || r.Class != "ok" {
			t.Errorf("%s: %d %s", name, e.status, e.Data)
		}
	}
}

func TestProviderTestFailingKey(t *testing.T) {
	srv := providertest.New(t)
	ta := startAPI(t, "api_prov_fail", func(cfg *Config) {
		withProviders(srv)(cfg)
		// The block's own client timeout, shorter than the API's bound on
		// a check, keeps the silent-provider case quick.
		cfg.Providers.OpenRouter.Timeout = time.Second
	})
	editor := ta.key(roleEditor)
	// A provider that echoes the refused key back in its error.
	srv.Fail("/apollo", providertest.Fault{Status: http.StatusUnauthorized,
		Body: `{"message":"invalid api key ` + secretApollo + `"}`})

	e := ta.do("POST", "/api/v1/providers/apollo/test", editor, nil)
	if e.status != 200 {
		t.Fatalf("test apollo: %d %+v", e.status, e.Error)
	}
	var res providerstatus.CheckResult
	e.decode(t, &res)
	if res.Up || res.Class != provider.ClassAuthFailed || res.HTTPStatus == nil || *res.HTTPStatus != 401 {
		t.Fatalf("refused key: %s", e.Data)
	}
	if strings.Contains(res.Message, secretApollo) || !strings.Contains(res.Message, "invalid api key") {
		t.Fatalf("message %q: want the provider's words without the key", res.Message)
	}
	if got := storetest.Scalar(t, ta.store, "SELECT concat(toString(up), ' ', class, ' ', toString(http_status), ' ', "+
		"toString(position(message, '"+secretApollo+"') = 0)) FROM api_prov_fail.provider_health WHERE provider = 'apollo'"); got != "false auth_failed 401 1" {
		t.Fatalf("stored check: %q", got)
	}

	// A provider that never answers is a timeout, not a hung request.
	srv.Heal()
	srv.SetDelay(time.Minute)
	began := time.Now()
	e = ta.do("POST", "/api/v1/providers/openrouter/test", editor, nil)
	e.decode(t, &res)
	if e.status != 200 || res.Up || res.Class != provider.ClassTimeout || res.HTTPStatus != nil {
		t.Fatalf("silent provider: %d %s", e.status, e.Data)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("silent provider answered after %s, want about the block's 1s timeout", took)
	}
}

func TestProviderTestRefusals(t *testing.T) {
	srv := providertest.New(t)
	ta := startAPI(t, "api_prov_refuse", withProviders(srv))
	editor, viewer := ta.key(roleEditor), ta.key(roleViewer)

	for _, c := range []struct {
		name, path, key string
		status          int
		code, mention   string
	}{
		{"unknown provider", "/api/v1/providers/acme/test", editor, 404, "NOT_FOUND", "openai, openrouter, exa, twilio, apollo"},
		{"not configured", "/api/v1/providers/exa/test", editor, 409, "CONFLICT", "providers.exa"},
		{"viewer", "/api/v1/providers/openai/test", viewer, 403, "FORBIDDEN", "editor"},
		{"no key", "/api/v1/providers/openai/test", "", 401, "UNAUTHORIZED", "Bearer"},
	} {
		e := ta.do("POST", c.path, c.key, nil)
		if e.status != c.status || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.mention) {
			t.Errorf("%s: %d %+v, want %d %s mentioning %q", c.name, e.status, e.Error, c.status, c.code, c.mention)
		}
	}
	if e := ta.do("GET", "/api/v1/providers", "", nil); e.status != 401 {
		t.Errorf("list without a key: %d", e.status)
	}
	if n := srv.Requests("/"); n != 0 {
		t.Fatalf("refused requests still called providers %d times", n)
	}
	if got := storetest.Scalar(t, ta.store, "SELECT count() FROM api_prov_refuse.provider_health"); got != "0" {
		t.Fatalf("refused requests wrote %s health rows", got)
	}
}

// TestListProviders seeds calls around the day and month boundaries of the
// API's time zone, checks and gauges, and reads them back. Kolkata
// (UTC+5:30) starts its days in the middle of a UTC hour, New York on one.
func TestListProviders(t *testing.T) {
	for _, tz := range []string{"America/New_York", "Asia/Kolkata"} {
		t.Run(tz, func(t *testing.T) {
			db := "api_prov_list_" + strings.ToLower(strings.NewReplacer("/", "_").Replace(tz))
			ta := startAPI(t, db, func(cfg *Config) {
				cfg.TimeZone = tz
				cfg.Providers.OpenRouter.APIKey = secretOpenRouter
			})
			loc, _ := time.LoadLocation(tz)
			now := time.Now().In(loc)
			today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
			month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
			firstOfMonth := today.Equal(month)

			ta.seed(
				// Today: one minute in, and later in the day.
				seedCall{At: today.Add(time.Minute), Provider: provider.OpenAI, Model: "gpt-4o-mini", Cost: "0.000123456789"},
				seedCall{At: today.Add(90 * time.Minute), Provider: provider.OpenAI, Model: "gpt-4o-mini", Cost: "1.5"},
				// The first minute of the month: month-to-date (and today on the 1st).
				seedCall{At: month.Add(time.Minute), Provider: provider.OpenAI, Model: "gpt-4o", Cost: "2.25"},
				// The last minute before today and before the month.
				seedCall{At: today.Add(-time.Minute), Provider: provider.OpenAI, Model: "gpt-4o", Cost: "10"},
				seedCall{At: month.Add(-time.Minute), Provider: provider.OpenAI, Model: "gpt-4o", Cost: "100"},
				// Tomorrow is not today.
				seedCall{At: today.AddDate(0, 0, 1).Add(time.Minute), Provider: provider.OpenAI, Model: "gpt-4o", Cost: "1000"},
				// An unpriced call adds nothing to spend but is counted.
				seedCall{At: today.Add(2 * time.Minute), Provider: provider.Twilio, Operation: "sms"},
			)
			wantToday, wantMonth := "1.500123456789", "3.750123456789"
			if !firstOfMonth {
				// The minute before today is this month too.
				wantMonth = "13.750123456789"
			} else {
				wantToday = "3.750123456789"
			}

			ctx := context.Background()
			old, recent := time.Now().Add(-2*time.Hour).UTC().Truncate(time.Millisecond), time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
			hb, err := ta.store.PrepareBatch(ctx, "provider_health", store.ProviderHealthColumns)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []struct {
				at      time.Time
				prov    string
				up      bool
				class   string
				status  uint16
				latency float64
				msg     string
			}{
				{old, provider.OpenRouter, true, "ok", 200, 80, ""},
				{recent, provider.OpenRouter, true, "rate_limited", 429, 12.5, "slow down"},
				{old, provider.OpenAI, false, "network_error", 0, 3, "connection refused"},
			} {
				if err := hb.Append(h.at, h.prov, h.up, h.class, h.status, h.latency, h.msg); err != nil {
					t.Fatal(err)
				}
			}
			if err := hb.Send(ctx); err != nil {
				t.Fatal(err)
			}
			gb, err := ta.store.PrepareBatch(ctx, "provider_gauges", store.ProviderGaugeColumns)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []struct {
				at                                         time.Time
				prov, account, name, window, scope, endpnt string
				value                                      string
			}{
				{old, provider.OpenRouter, "prod", "limit_usd", "monthly", "", "", "100"},
				{recent, provider.OpenRouter, "prod", "limit_usd", "monthly", "", "", "120"},
				{recent, provider.OpenRouter, "prod", "remaining_usd", "monthly", "", "", "42.5"},
				{recent, provider.OpenRouter, "openrouter", "balance_usd", "", "", "", "92.5"},
				{recent, provider.OpenRouter, "prod", "usage_usd", "day", "", "", "1.25"}, // spend, not a balance
				{old, provider.OpenRouter, "", "ratelimit_remaining", "", "requests", "", "199"},
				{recent, provider.OpenRouter, "", "ratelimit_remaining", "", "requests", "", "50"},
				{recent, provider.OpenRouter, "", "ratelimit_limit", "", "requests", "", "200"},
				{recent, provider.Apollo, "", "ratelimit_limit", "", "day", "people/match", "2000"},
				{recent, provider.Twilio, "AC1", "balance_usd", "", "", "", "87.65"},
			} {
				if err := gb.Append(g.at, g.prov, g.account, g.name, g.window, g.scope, g.endpnt, decimal.RequireFromString(g.value)); err != nil {
					t.Fatal(err)
				}
			}
			if err := gb.Send(ctx); err != nil {
				t.Fatal(err)
			}
			// Billed cost: the month's first day polled twice (the later poll
			// replaces the earlier), a bucket of last month, and a quantity.
			ub, err := ta.store.PrepareBatch(ctx, "provider_usage", []string{"provider", "account", "kind", "bucket_start", "bucket_end",
				"project", "model", "line_item", "category", "api_key", "value", "polled_at"})
			if err != nil {
				t.Fatal(err)
			}
			day1 := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
			lastMonth := day1.AddDate(0, -1, 0)
			for _, u := range []struct {
				kind   string
				start  time.Time
				value  string
				polled time.Time
			}{
				{"cost_usd", day1, "1.0", old},
				{"cost_usd", day1, "1.2", recent},
				{"cost_usd", lastMonth, "50", recent},
				{"input_tokens", day1, "1000", recent},
			} {
				if err := ub.Append(provider.OpenAI, "openai", u.kind, u.start, u.start.Add(24*time.Hour), "proj_1", "", "", "", "",
					decimal.RequireFromString(u.value), u.polled); err != nil {
					t.Fatal(err)
				}
			}
			if err := ub.Send(ctx); err != nil {
				t.Fatal(err)
			}

			e := ta.do("GET", "/api/v1/providers", ta.key(roleViewer), nil)
			if e.status != 200 {
				t.Fatalf("list: %d %+v", e.status, e.Error)
			}
			var list []providerstatus.Status
			e.decode(t, &list)
			if len(list) != len(provider.All) {
				t.Fatalf("%d providers listed, want every known one: %s", len(list), e.Data)
			}
			for i, p := range provider.All {
				if list[i].Name != p.Name || list[i].Configured != (p.Name == provider.OpenRouter) {
					t.Fatalf("entry %d: %s configured=%v", i, list[i].Name, list[i].Configured)
				}
			}

			openai := findProvider(t, list, provider.OpenAI)
			if openai.Spend.TodayUSD != wantToday || openai.Spend.MonthToDateUSD != wantMonth {
				t.Fatalf("openai spend today %s, month %s; want %s, %s", openai.Spend.TodayUSD, openai.Spend.MonthToDateUSD, wantToday, wantMonth)
			}
			if b := openai.Spend.BilledMonthToDateUSD; b == nil || *b != "1.2" {
				t.Fatalf("openai billed: %v, want 1.2", b)
			}
			if h := openai.Health; h == nil || h.Up || h.Class != "network_error" || h.HTTPStatus != nil {
				t.Fatalf("openai health: %+v", h)
			}

			twilio := findProvider(t, list, provider.Twilio)
			if twilio.Spend.TodayUSD != "0" || twilio.Spend.UnpricedCallsToday != 1 || twilio.Spend.UnpricedCallsMonthToDate != 1 ||
				twilio.Spend.BilledMonthToDateUSD != nil || twilio.Health != nil {
				t.Fatalf("twilio: %+v", twilio)
			}
			if len(twilio.Balances) != 1 || twilio.Balances[0].Name != "balance_usd" || twilio.Balances[0].Value != "87.65" {
				t.Fatalf("twilio balances: %+v", twilio.Balances)
			}

			or := findProvider(t, list, provider.OpenRouter)
			if h := or.Health; h == nil || !h.Up || h.Class != "rate_limited" || *h.HTTPStatus != 429 || h.LatencyMs != 12.5 ||
				h.Message != "slow down" || h.LastCheck != recent.Format(time.RFC3339Nano) {
				t.Fatalf("openrouter health, want the latest check: %+v", h)
			}
			var balances []string
			for _, b := range or.Balances {
				balances = append(balances, b.Name+"/"+b.Window+"="+b.Value)
			}
			if got := strings.Join(balances, " "); got != "balance_usd/=92.5 limit_usd/monthly=120 remaining_usd/monthly=42.5" {
				t.Fatalf("openrouter balances: %s", got)
			}
			if len(or.RateLimits) != 1 || *or.RateLimits[0].Limit != 200 || *or.RateLimits[0].Remaining != 50 ||
				*or.RateLimits[0].Headroom != 0.25 || or.RateLimits[0].At != recent.Format(time.RFC3339Nano) {
				t.Fatalf("openrouter rate limits: %+v", or.RateLimits)
			}
			apollo := findProvider(t, list, provider.Apollo)
			if len(apollo.RateLimits) != 1 || apollo.RateLimits[0].Endpoint != "people/match" || apollo.RateLimits[0].Remaining != nil ||
				apollo.RateLimits[0].Headroom != nil {
				t.Fatalf("apollo: a limit without remaining has no headroom: %+v", apollo.RateLimits)
			}
			if exa := findProvider(t, list, provider.Exa); exa.Health != nil || exa.Spend.MonthToDateUSD != "0" || len(exa.RateLimits) != 0 ||
				len(exa.Balances) != 0 || exa.Spend.BilledMonthToDateUSD != nil {
				t.Fatalf("exa, with nothing stored: %+v", exa)
			}
		})
	}
}

// TestProviderSecretsNeverAnswered: no answer of the API carries a
// provider's key, whatever the providers say back.
func TestProviderSecretsNeverAnswered(t *testing.T) {
	srv := providertest.New(t)
	ta := startAPI(t, "api_prov_secrets", func(cfg *Config) {
		withProviders(srv)(cfg)
		cfg.Providers.Exa.Endpoint, cfg.Providers.Exa.APIKey = srv.Exa(), secretExa
	})
	editor := ta.key(roleEditor)
	raw := func(method, path string) string {
		req, err := http.NewRequest(method, ta.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+editor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var bodies []string
	for _, p := range provider.All {
		bodies = append(bodies, raw("POST", "/api/v1/providers/"+p.Name+"/test"))
	}
	// Every provider refuses, echoing what it was sent.
	for _, prefix := range []string{"/openai", "/openrouter", "/exa", "/twilio", "/apollo"} {
		srv.Fail(prefix, providertest.Fault{Status: http.StatusUnauthorized,
			Body: `{"error":{"message":"refused: ` + strings.Join(allSecrets, " ") + `"},"message":"` + strings.Join(allSecrets, " ") + `"}`})
	}
	for _, p := range provider.All {
		bodies = append(bodies, raw("POST", "/api/v1/providers/"+p.Name+"/test"))
	}
	bodies = append(bodies, raw("GET", "/api/v1/providers"))
	for _, b := range bodies {
		for _, s := range allSecrets {
			if strings.Contains(b, s) {
				t.Fatalf("a response carries a provider secret: %s", b)
			}
		}
	}
	if !strings.Contains(bodies[len(bodies)-2], "[redacted]") {
		t.Fatalf("the echoed keys were not visibly redacted: %s", bodies[len(bodies)-2])
	}
	if got := storetest.Scalar(t, ta.store, "SELECT toString(countIf(message LIKE '%SECRET%')) FROM api_prov_secrets.provider_health"); got != "0" {
		t.Fatalf("%s stored checks carry a secret", got)
	}
}

func TestConfigProviders(t *testing.T) {
	load := func(name string) (*Config, error) { return configtest.Load[*Config](t, NewFactory(), name) }
	cfg, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range provider.All {
		if cfg.Providers.Configured(p.Name) {
			t.Fatalf("the default config configures %s", p.Name)
		}
	}
	cfg, err = load("providers")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range provider.All {
		if !cfg.Providers.Configured(p.Name) {
			t.Errorf("%s not configured from the example", p.Name)
		}
	}
	if cfg.Providers.OpenAI.Endpoint != "http://127.0.0.1:9999/v1" || cfg.Providers.OpenAI.Timeout != 5*time.Second ||
		cfg.Providers.Twilio.AccountSID != "AC123" || strings.Contains(cfg.Providers.OpenAI.APIKey.String(), "sk-proj") {
		t.Fatalf("providers: %+v", cfg.Providers)
	}
	for name, want := range map[string]string{
		"bad_provider":         "providers.apollo.endpoint",
		"twilio_without_token": "providers.twilio.auth_token",
	} {
		_, err := load(name)
		if err == nil || strings.Count(err.Error(), want) != 1 {
			t.Errorf("%s: error %v does not name %q once", name, err, want)
		}
	}
}

func findProvider(t *testing.T, list []providerstatus.Status, name string) providerstatus.Status {
	t.Helper()
	for _, p := range list {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s not listed", name)
	return providerstatus.Status{}
}
