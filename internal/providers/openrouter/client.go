package openrouter

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// ClientConfig configures the OpenRouter poller.
type ClientConfig struct {
	// BaseURL is the API root, default https://openrouter.ai/api/v1.
	BaseURL string
	// APIKey is an inference key: GET /key reports its usage and limit.
	APIKey string
	// ManagementKey, when set, also reads /credits and /activity (and
	// /key when there is no APIKey).
	ManagementKey string
	// Account labels every record; default the key's label from /key,
	// else "openrouter".
	Account string
}

// Client polls OpenRouter's /key, /credits and /activity.
type Client struct {
	cfg     ClientConfig
	key     *provider.Client // APIKey, or ManagementKey when only that is set
	keyMgmt bool             // key uses the management key
	mgmt    *provider.Client // nil without a management key
}

// NewClient returns an OpenRouter poller. A nil httpClient means a
// default client; timeouts come from the contexts passed to Poll and Check.
func NewClient(cfg ClientConfig, httpClient *http.Client) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = BaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	r := &Client{cfg: cfg}
	keyFor := cfg.APIKey
	if keyFor == "" {
		keyFor, r.keyMgmt = cfg.ManagementKey, true
	}
	secrets := []string{cfg.APIKey, cfg.ManagementKey}
	r.key = &provider.Client{Provider: Name, BaseURL: cfg.BaseURL, HTTP: httpClient, Auth: provider.Bearer(keyFor), Secrets: secrets}
	if cfg.ManagementKey != "" {
		r.mgmt = &provider.Client{Provider: Name, BaseURL: cfg.BaseURL, HTTP: httpClient, Auth: provider.Bearer(cfg.ManagementKey), Secrets: secrets}
	}
	return r
}

// Provider implements Poller.
func (r *Client) Provider() string { return Name }

type openRouterKeyData struct {
	Label           any `json:"label"`
	Limit           any `json:"limit"`
	LimitReset      any `json:"limit_reset"`
	LimitRemaining  any `json:"limit_remaining"`
	Usage           any `json:"usage"`
	UsageDaily      any `json:"usage_daily"`
	UsageWeekly     any `json:"usage_weekly"`
	UsageMonthly    any `json:"usage_monthly"`
	BYOKUsage       any `json:"byok_usage"`
	BYOKUsageDaily  any `json:"byok_usage_daily"`
	BYOKUsageWeekly any `json:"byok_usage_weekly"`
	BYOKUsageMonth  any `json:"byok_usage_monthly"`
	FreeRequests    *struct {
		Remaining any `json:"remaining"`
	} `json:"free_model_daily_requests"`
}

type openRouterCredits struct {
	TotalCredits any `json:"total_credits"`
	TotalUsage   any `json:"total_usage"`
}

// openRouterRun is the state of one poll.
type openRouterRun struct {
	r          *Client
	rateLimits []provider.RateLimit
	errs       []error
}

// do calls path and keeps the rate limits of a 429 answer (OpenRouter sends
// them with nothing else); the error is scrubbed of credentials.
func (run *openRouterRun) do(ctx context.Context, c *provider.Client, path string, out any) error {
	resp, err := c.Do(ctx, http.MethodGet, path, nil, nil, out)
	if resp != nil && resp.Status == http.StatusTooManyRequests {
		if rl := RateLimits(resp.Header); len(rl) > 0 {
			run.rateLimits = rl
		}
	}
	if err != nil {
		err = openai.Scrub(err, run.r.cfg.APIKey, run.r.cfg.ManagementKey)
		run.errs = append(run.errs, err)
	}
	return err
}

// Poll reads the key's usage and limit from /key and, with a management
// key, the account's credits from /credits and per day × model usage from
// /activity. /activity is read once without date (it answers the last 30
// completed UTC days) and the days from the one holding from up to
// yesterday are kept: one request instead of one per day.
//
// A rate limit, a timeout or a network failure stops the poll; other
// failures are collected and the other endpoints still read, since they may
// use another key. What was read comes back with the error.
func (r *Client) Poll(ctx context.Context, from, now time.Time) (provider.Poll, error) {
	run := &openRouterRun{r: r}
	var p provider.Poll
	account := r.cfg.Account
	done := func() (provider.Poll, error) {
		p.RateLimits = run.rateLimits
		return p, provider.JoinErrors(run.errs)
	}

	var key struct {
		Data *openRouterKeyData `json:"data"`
	}
	if err := run.do(ctx, r.key, "/key", &key); err != nil {
		if openRouterStops(ctx, err, r.keyMgmt) {
			return done()
		}
	} else if key.Data == nil {
		run.errs = append(run.errs, &provider.Error{Provider: Name, Op: "GET /key", Status: http.StatusOK,
			Class: provider.ClassBadResponse, Message: "no data in answer"})
	} else {
		if account == "" {
			account = r.label(key.Data.Label)
		}
		p.Gauges = append(p.Gauges, openRouterKeyGauges(key.Data, account)...)
	}
	if account == "" {
		account = Name
	}
	if r.mgmt == nil {
		return done()
	}

	var credits struct {
		Data *openRouterCredits `json:"data"`
	}
	if err := run.do(ctx, r.mgmt, "/credits", &credits); err != nil {
		if openRouterStops(ctx, err, true) {
			return done()
		}
	} else if credits.Data == nil {
		run.errs = append(run.errs, &provider.Error{Provider: Name, Op: "GET /credits", Status: http.StatusOK,
			Class: provider.ClassBadResponse, Message: "no data in answer"})
	} else {
		total, tok := provider.Decimal(credits.Data.TotalCredits)
		used, uok := provider.Decimal(credits.Data.TotalUsage)
		if tok {
			p.Gauges = append(p.Gauges, provider.Gauge{Name: "credits_total_usd", Account: account, Value: total})
		}
		if uok {
			p.Gauges = append(p.Gauges, provider.Gauge{Name: "credits_used_usd", Account: account, Value: used})
		}
		if tok && uok {
			p.Gauges = append(p.Gauges, provider.Gauge{Name: "balance_usd", Account: account, Value: total.Sub(used)})
		}
	}

	var activity struct {
		Data []map[string]any `json:"data"`
	}
	if err := run.do(ctx, r.mgmt, "/activity", &activity); err == nil {
		p.Usage = openRouterActivity(activity.Data, account, from, now)
	}
	return done()
}

// openRouterStops says whether a failed call ends the poll: a rate limit,
// a timeout or a network failure would hit the next call too, and so would
// a refused key when the next call uses the same (management) key.
func openRouterStops(ctx context.Context, err error, sameKeyNext bool) bool {
	if ctx.Err() != nil {
		return true
	}
	switch provider.ClassOf(err) {
	case provider.ClassRateLimited, provider.ClassTimeout, provider.ClassNetwork:
		return true
	case provider.ClassAuthFailed:
		return sameKeyNext
	}
	return false
}

// label is the account label from /key's label, unless it is missing or
// holds one of the configured keys.
func (r *Client) label(v any) string {
	s := strings.TrimSpace(provider.Str(v))
	for _, k := range []string{r.cfg.APIKey, r.cfg.ManagementKey} {
		if k != "" && strings.Contains(s, k) {
			return ""
		}
	}
	return s
}

// openRouterWindow maps limit_reset to a gauge window: a limit that never
// resets caps the total.
func openRouterWindow(v any) string {
	switch s := strings.ToLower(strings.TrimSpace(provider.Str(v))); s {
	case "":
		return "total"
	case "daily", "day":
		return "day"
	case "weekly", "week":
		return "week"
	case "monthly", "month":
		return "month"
	default:
		return s
	}
}

// openRouterKeyGauges turns /key's data into gauges; null fields (an
// uncapped key's limit and limit_remaining) are skipped.
func openRouterKeyGauges(d *openRouterKeyData, account string) []provider.Gauge {
	var out []provider.Gauge
	add := func(name, window string, v any) {
		if x, ok := provider.Decimal(v); ok {
			out = append(out, provider.Gauge{Name: name, Window: window, Account: account, Value: x})
		}
	}
	add("usage_usd", "total", d.Usage)
	add("usage_usd", "day", d.UsageDaily)
	add("usage_usd", "week", d.UsageWeekly)
	add("usage_usd", "month", d.UsageMonthly)
	limitWindow := openRouterWindow(d.LimitReset)
	add("limit_usd", limitWindow, d.Limit)
	add("remaining_usd", limitWindow, d.LimitRemaining)
	add("byok_usage_usd", "total", d.BYOKUsage)
	add("byok_usage_usd", "day", d.BYOKUsageDaily)
	add("byok_usage_usd", "week", d.BYOKUsageWeekly)
	add("byok_usage_usd", "month", d.BYOKUsageMonth)
	if d.FreeRequests != nil {
		add("free_requests_remaining", "day", d.FreeRequests.Remaining)
	}
	return out
}

// openRouterActivityKinds maps /activity's row fields to Usage kinds.
var openRouterActivityKinds = []struct{ field, kind string }{
	{"usage", "cost_usd"},
	{"requests", "requests"},
	{"prompt_tokens", "input_tokens"},
	{"completion_tokens", "output_tokens"},
	{"reasoning_tokens", "reasoning_tokens"},
	{"byok_usage_inference", "byok_cost_usd"},
}

// openRouterActivity turns /activity rows into daily Usage by model and
// provider, for the completed days from the one holding from to the one
// before now. Rows of one day, model and provider (several endpoints) add
// up; null fields are skipped.
func openRouterActivity(rows []map[string]any, account string, from, now time.Time) []provider.Usage {
	first := from.UTC().Truncate(24 * time.Hour)
	today := now.UTC().Truncate(24 * time.Hour)
	var set provider.UsageSet
	for _, row := range rows {
		day, ok := openRouterDay(provider.Str(row["date"]))
		if !ok || day.Before(first) || !day.Before(today) {
			continue
		}
		for _, k := range openRouterActivityKinds {
			read := provider.Quantity
			if strings.HasSuffix(k.kind, "_usd") {
				read = provider.Decimal // money may be negative (a refund)
			}
			v, ok := read(row[k.field])
			if !ok {
				continue
			}
			set.Sum(provider.Usage{Start: day, End: day.Add(24 * time.Hour), Account: account, Kind: k.kind, Value: v,
				Model: provider.Str(row["model"]), Category: provider.Str(row["provider_name"])})
		}
	}
	return set.List()
}

// openRouterDay reads a date as YYYY-MM-DD, possibly followed by a time
// ("2026-03-01 00:00:00", RFC 3339): the day is what counts.
func openRouterDay(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s[:10])
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// Check calls GET /key, the cheapest authenticated call (any key); a 429
// reports the rate limits.
func (r *Client) Check(ctx context.Context) provider.Check {
	if r.cfg.APIKey == "" && r.cfg.ManagementKey == "" {
		return provider.Check{Class: provider.ClassClientError, Message: "no OpenRouter key configured"}
	}
	return provider.CheckCall(ctx, r.key, "/key", nil, func(h http.Header) []provider.RateLimit {
		return RateLimits(h) // present only on a 429
	}, func(err error) error { return openai.Scrub(err, r.cfg.APIKey, r.cfg.ManagementKey) })
}
