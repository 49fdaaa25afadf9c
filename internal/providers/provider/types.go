package provider

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Usage is one usage or cost figure for one bucket of time, as the provider
// reports it. Polling the same bucket again yields the same Usage with a
// possibly newer Value: storage replaces, never adds.
type Usage struct {
	Start, End time.Time // the provider's own bucket bounds
	Account    string    // organisation, account SID, key label…
	// Kind says what Value counts: "cost_usd" (money, exact), or a quantity
	// such as "input_tokens", "output_tokens", "cached_input_tokens",
	// "requests", "credits", or a provider's own unit ("sms", "calls").
	Kind  string
	Value decimal.Decimal
	// Dimensions that split the bucket: project, model, line_item,
	// category, api_key (absent when not grouped).
	Project, Model, LineItem, Category, APIKey string
}

// Gauge is a point-in-time figure: a balance, a spending limit, what is left
// of it, usage so far in a window.
type Gauge struct {
	Name    string // balance_usd, limit_usd, remaining_usd, usage_usd, credits_total_usd, …
	Window  string // day, week, month, total, "" when none
	Account string
	Value   decimal.Decimal
}

// RateLimit is the headroom a provider's response headers announce.
type RateLimit struct {
	Scope     string // requests, tokens, minute, hour, day
	Endpoint  string // the endpoint the limit belongs to, where it varies by endpoint
	Limit     int64  // -1 when not announced
	Remaining int64  // -1 when not announced
	Reset     time.Duration
}

// Check is the outcome of a provider's cheapest authenticated call.
type Check struct {
	Up         bool
	Class      string // Class* ("" = ok)
	HTTPStatus int
	Latency    time.Duration
	Message    string // short, never containing credentials
	RateLimits []RateLimit
}

// Poll is what one poll of a provider found.
type Poll struct {
	Usage      []Usage
	Gauges     []Gauge
	RateLimits []RateLimit
}

// Poller is one provider's client as the receiver uses it.
type Poller interface {
	// Provider is the provider's name (openai.Name, …).
	Provider() string
	// Poll fetches usage buckets starting at or after from, and current
	// gauges. A partial result comes with the error that cut it short.
	Poll(ctx context.Context, from, now time.Time) (Poll, error)
	// Check runs the key check.
	Check(ctx context.Context) Check
}
