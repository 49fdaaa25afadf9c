package apollo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// ClientConfig configures the Apollo poller.
type ClientConfig struct {
	BaseURL string // default https://api.apollo.io/api/v1
	APIKey  string // a master key for usage stats; any key for the check
}

// Client polls Apollo's usage_stats/api_usage_stats: per endpoint and window
// (minute, hour, day) the limit and what is left of it. Apollo has no usage
// buckets and no credit balance, so Poll.Usage and Poll.Gauges stay empty;
// credits are counted from observed calls elsewhere.
//
// Poll.RateLimits holds one RateLimit per endpoint and window, Endpoint
// "people/match" (api/v1/ prefix stripped, resource and action joined),
// Remaining = limit − consumed clamped at 0 (left_over is unreliable and
// is used only when limit or consumed is missing), followed by what the
// response headers announce (RateLimits, Endpoint "").
type Client struct {
	c *provider.Client
}

// NewClient returns an Apollo poller.
func NewClient(cfg ClientConfig, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = BaseURL
	}
	key := cfg.APIKey
	return &Client{c: &provider.Client{Provider: Name, BaseURL: base, HTTP: httpClient,
		Auth: func(r *http.Request) { r.Header.Set("x-api-key", key) }, Secrets: []string{key}}}
}

// Provider implements Poller.
func (a *Client) Provider() string { return Name }

const apolloUsagePath = "/usage_stats/api_usage_stats"

type apolloWindow struct {
	Limit    any `json:"limit"`
	Consumed any `json:"consumed"`
	LeftOver any `json:"left_over"`
}

type apolloStat struct {
	Minute *apolloWindow `json:"minute"`
	Hour   *apolloWindow `json:"hour"`
	Day    *apolloWindow `json:"day"`
}

// Poll implements Poller. from and now are not used: the stats are the
// current windows. A 403 (not a master key) is auth_failed with a message
// saying so.
func (a *Client) Poll(ctx context.Context, _, _ time.Time) (provider.Poll, error) {
	var raw map[string]json.RawMessage
	resp, err := a.c.Do(ctx, http.MethodPost, apolloUsagePath, nil, struct{}{}, &raw)
	var p provider.Poll
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Status == http.StatusForbidden {
			pe.Class = provider.ClassAuthFailed
			msg := "usage stats need a master API key"
			if pe.Message != "" {
				msg += " (Apollo said: " + pe.Message + ")"
			}
			pe.Message = provider.Clip(msg)
		}
		if resp != nil {
			p.RateLimits = RateLimits(resp.Header)
		}
		return p, err
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		var st apolloStat
		dec := json.NewDecoder(bytes.NewReader(raw[k]))
		dec.UseNumber()
		if err := dec.Decode(&st); err != nil {
			bad++
			continue
		}
		ep := apolloEndpoint(k)
		for _, w := range []struct {
			scope string
			win   *apolloWindow
		}{{"minute", st.Minute}, {"hour", st.Hour}, {"day", st.Day}} {
			if rl, ok := apolloRateLimit(w.scope, ep, w.win); ok {
				p.RateLimits = append(p.RateLimits, rl)
			}
		}
	}
	p.RateLimits = append(p.RateLimits, RateLimits(resp.Header)...)
	if bad > 0 && bad == len(keys) {
		return p, &provider.Error{Provider: Name, Op: "POST " + apolloUsagePath, Status: resp.Status,
			Class: provider.ClassBadResponse, Message: "no usage stats entry has minute/hour/day windows"}
	}
	return p, nil
}

// apolloEndpoint turns a usage-stats key, a JSON-encoded
// ["api/v1/people","match"], into "people/match". A key that is not a JSON
// array of strings is used as it is, with the same prefix stripped.
func apolloEndpoint(key string) string {
	var parts []string
	if err := json.Unmarshal([]byte(key), &parts); err != nil || len(parts) == 0 {
		parts = []string{key}
	}
	var out []string
	for i, s := range parts {
		s = strings.Trim(strings.TrimSpace(s), "/")
		if i == 0 {
			s = strings.TrimPrefix(s, "api/v1/")
			if s == "api/v1" {
				s = ""
			}
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

func apolloRateLimit(scope, endpoint string, w *apolloWindow) (provider.RateLimit, bool) {
	if w == nil {
		return provider.RateLimit{}, false
	}
	limit, used, left := apolloInt(w.Limit), apolloInt(w.Consumed), apolloInt(w.LeftOver)
	rl := provider.RateLimit{Scope: scope, Endpoint: endpoint, Limit: limit, Remaining: left}
	if limit >= 0 && used >= 0 {
		rl.Remaining = max(limit-used, 0)
	}
	if rl.Limit < 0 && rl.Remaining < 0 {
		return provider.RateLimit{}, false
	}
	return rl, true
}

// apolloInt reads a count (number or numeric string); -1 when absent,
// unreadable, negative or beyond int64.
func apolloInt(v any) int64 {
	d, ok := provider.Quantity(v)
	if !ok || d.GreaterThan(decimal.NewFromInt(math.MaxInt64)) {
		return -1
	}
	return d.IntPart()
}

// Check implements Poller: GET /auth/health → {"is_logged_in":true}. A
// false (or missing) is_logged_in is a refused key.
func (a *Client) Check(ctx context.Context) provider.Check {
	var h struct {
		IsLoggedIn *bool `json:"is_logged_in"`
	}
	resp, err := a.c.Do(ctx, http.MethodGet, "/auth/health", nil, nil, &h)
	ch := provider.CheckOf(resp, err)
	if resp != nil {
		ch.RateLimits = RateLimits(resp.Header)
	}
	if err != nil {
		return ch
	}
	switch {
	case h.IsLoggedIn == nil:
		ch.Up, ch.Class, ch.Message = false, provider.ClassBadResponse, "health answer has no is_logged_in"
	case !*h.IsLoggedIn:
		ch.Up, ch.Class, ch.Message = false, provider.ClassAuthFailed, "is_logged_in is false: key not accepted"
	}
	return ch
}
