// Package insights turns what the store holds into advice: recommendations
// that would save money (a cheaper model for short answers, prompt caching,
// OpenRouter routing, Twilio segment inflation, Apollo credit burn, idle and
// failing keys), each with the figures it rests on, and trends comparing a
// period with the one before it. It reads through internal/schema and
// returns domain errors (internal/domainerr), never transport ones.
package insights

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Service makes recommendations and trends over one store.
type Service struct {
	store store.Store
	// cfg is read on every request, never written: the extension's
	// config, which tests adjust between requests.
	cfg *Config
	// configured tells whether a provider has credentials here: only
	// those can have an idle key.
	configured func(provider string) bool
	// recent reuses the answers of reads without a range (recent.go).
	recent recentMemo
	now    func() time.Time
}

// New is a Service over s with the thresholds of cfg; configured says which
// providers have credentials configured.
func New(s store.Store, cfg *Config, configured func(provider string) bool) *Service {
	svc := &Service{store: s, cfg: cfg, configured: configured, now: time.Now}
	svc.recent.bgCtx, svc.recent.stop = context.WithCancel(context.Background())
	return svc
}

// money renders an exact amount, without trailing zeros.
func money(d decimal.Decimal) string { return d.String() }

// Recommendation kinds, in the order they are listed on equal savings.
const (
	kindModelRightSizing = "model_right_sizing"
	kindPromptCaching    = "prompt_caching"
	kindOpenRouterRoute  = "openrouter_routing"
	kindTwilioSegments   = "twilio_segment_inflation"
	kindApolloCredits    = "apollo_credit_burn"
	kindIdleKey          = "idle_key"
	kindFailingKey       = "failing_key"
)

// RecommendationKinds are the kinds of recommendation, in the order they
// are listed on equal savings.
var RecommendationKinds = []string{kindModelRightSizing, kindPromptCaching, kindOpenRouterRoute, kindTwilioSegments,
	kindApolloCredits, kindIdleKey, kindFailingKey}

// savingsMonth is what a window's saving is scaled to.
const savingsMonth = 30 * 24 * time.Hour

// Recommendation is one suggestion with the figures it rests on. Money is
// exact decimal strings; MonthlySavingUSD alone is rounded (to cents).
type Recommendation struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Provider  string `json:"provider"`
	Model     string `json:"model,omitempty"`
	Operation string `json:"operation,omitempty"`
	Title     string `json:"title"`
	Action    string `json:"action"`
	// WindowSavingUSD is the saving over the window, exact;
	// MonthlySavingUSD scales it to 30 days and rounds to cents.
	WindowSavingUSD  string         `json:"windowSavingUsd"`
	MonthlySavingUSD string         `json:"monthlySavingUsd"`
	Evidence         map[string]any `json:"evidence"`
	Confidence       string         `json:"confidence"`
	ConfidenceNote   string         `json:"confidenceNote"`

	saving decimal.Decimal
	order  int
}

// Recommendations is the answer of a recommendations read: every
// recommendation, biggest saving first; the caller pages them.
type Recommendations struct {
	From            string           `json:"from"`
	To              string           `json:"to"`
	CatalogVersion  string           `json:"catalogVersion"`
	Recommendations []Recommendation `json:"recommendations"`
}

// insightWindow is what every Recommendation is computed over.
type insightWindow struct {
	f   schema.Filter
	cat *pricing.Catalog
	// scoped is true when a filter narrower than the provider is set: the
	// key checks are per provider and say nothing about one service.
	scoped bool
}

func (w insightWindow) monthly(saving decimal.Decimal) string {
	span := decimal.NewFromInt(int64(w.f.To.Sub(w.f.From)))
	return saving.Mul(decimal.NewFromInt(int64(savingsMonth))).DivRound(span, 2).StringFixed(2)
}

// Recommendations reads the window of f and makes the recommendations of
// kinds (all when empty). Recommendations read individual calls: a window
// reaching back past the raw calls' retention is refused, naming from.
func (s *Service) Recommendations(ctx context.Context, f schema.Filter, kinds map[string]bool) (Recommendations, error) {
	cat, err := pricing.Default()
	if err != nil {
		return Recommendations{}, fmt.Errorf("load pricing catalog: %w", err)
	}
	horizon := schema.RetentionOf(s.store).Horizons(time.Now())
	if h := horizon.Of(schema.GrainRaw); !h.IsZero() && f.From.Before(h) {
		return Recommendations{}, domainerr.Invalid("range older than the calls the store keeps", domainerr.Field{Field: "from",
			Message: "recommendations read individual calls, kept only since " + h.UTC().Format(time.RFC3339)})
	}
	win := insightWindow{f: f, cat: cat, scoped: f.Narrow()}
	want := func(k string) bool { return len(kinds) == 0 || kinds[k] }

	var recs []Recommendation
	steps := []struct {
		kinds []string
		what  string
		run   func(context.Context, insightWindow) ([]Recommendation, error)
	}{
		{[]string{kindModelRightSizing, kindPromptCaching}, "token recommendations", s.tokenRecommendations},
		{[]string{kindOpenRouterRoute}, "routing recommendations", s.routingRecommendations},
		{[]string{kindTwilioSegments}, "twilio recommendations", s.twilioRecommendations},
		{[]string{kindApolloCredits}, "apollo recommendations", s.apolloRecommendations},
		{[]string{kindIdleKey, kindFailingKey}, "key recommendations", s.keyRecommendations},
	}
	for _, st := range steps {
		needed := false
		for _, k := range st.kinds {
			needed = needed || want(k)
		}
		if !needed {
			continue
		}
		got, err := st.run(ctx, win)
		if err != nil {
			return Recommendations{}, fmt.Errorf("%s: %w", st.what, err)
		}
		for _, rec := range got {
			if want(rec.Kind) {
				recs = append(recs, rec)
			}
		}
	}
	order := map[string]int{}
	for i, k := range RecommendationKinds {
		order[k] = i
	}
	for i := range recs {
		recs[i].order = order[recs[i].Kind]
		recs[i].WindowSavingUSD = money(recs[i].saving)
		recs[i].MonthlySavingUSD = win.monthly(recs[i].saving)
	}
	// Biggest saving first; then a fixed order, so that pages are stable.
	sort.Slice(recs, func(i, j int) bool {
		if c := recs[i].saving.Cmp(recs[j].saving); c != 0 {
			return c > 0
		}
		if recs[i].order != recs[j].order {
			return recs[i].order < recs[j].order
		}
		return recs[i].ID < recs[j].ID
	})
	if recs == nil {
		recs = []Recommendation{}
	}
	return Recommendations{From: f.From.Format(time.RFC3339Nano), To: f.To.Format(time.RFC3339Nano),
		CatalogVersion: cat.Version(), Recommendations: recs}, nil
}

// --- pricing helpers ---

// tokenPrices are a model's catalog prices in USD per 1,000,000 tokens.
type tokenPrices struct {
	Input, Cached, Output decimal.Decimal
	HasCached             bool
	// Model and Effective say which list priced it, for the evidence.
	Model, Effective string
}

func picoUSD(m pricing.Money) decimal.Decimal { return decimal.New(int64(m), -pricing.Scale) }

// catalogTokenPrices reads a model's prices by pricing a million tokens of
// each kind: Price is the catalog's only lookup, and it resolves dated
// snapshots and vendor prefixes exactly as the cost processor does.
func catalogTokenPrices(cat *pricing.Catalog, prov, model string, at time.Time) (tokenPrices, bool) {
	var p tokenPrices
	in := cat.Price(prov, model, "", "", at, &pricing.Usage{pricing.InputTokens: 1_000_000})
	out := cat.Price(prov, model, "", "", at, &pricing.Usage{pricing.OutputTokens: 1_000_000})
	if in.Status != pricing.Computed || out.Status != pricing.Computed {
		return p, false
	}
	p.Input, p.Output, p.Model, p.Effective = picoUSD(in.Cost), picoUSD(out.Cost), in.Model, in.Effective
	cached := cat.Price(prov, model, "", "", at, &pricing.Usage{pricing.InputTokens: 1_000_000, pricing.CachedInputTokens: 1_000_000})
	if cached.Status == pricing.Computed {
		p.Cached, p.HasCached = picoUSD(cached.Cost), true
	}
	return p, true
}

var million = decimal.NewFromInt(1_000_000)

// cost is what the tokens cost at p (cached tokens are part of input).
// Cached tokens take the input price when the list has no cached price.
func (p tokenPrices) cost(input, cached, output uint64) decimal.Decimal {
	cachedPrice := p.Input
	if p.HasCached {
		cachedPrice = p.Cached
	}
	cached = min(cached, input)
	sum := decimal.NewFromUint64(input - cached).Mul(p.Input).
		Add(decimal.NewFromUint64(cached).Mul(cachedPrice)).
		Add(decimal.NewFromUint64(output).Mul(p.Output))
	return sum.Div(million) // exact: dividing by 10^6 only shifts the point
}

// ratio renders a/b as a decimal with 4 places (for evidence figures).
func decRatio(a, b decimal.Decimal) string {
	if b.IsZero() {
		return "0"
	}
	return a.DivRound(b, 4).String()
}

func u64(v uint64) decimal.Decimal { return decimal.NewFromUint64(v) }

// scanRows runs q and calls scan for each row.
func (s *Service) scanRows(ctx context.Context, q string, params store.Params, scan func(store.Rows) error) error {
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
