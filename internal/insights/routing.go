package insights

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/store"
)

// routeGroup is one OpenRouter model's priced calls: their cost and tokens,
// and the cheapest and dearest call per token.
type routeGroup struct {
	model          pricing.Model
	calls, tokens  uint64
	cost           decimal.Decimal
	loCost, hiCost decimal.Decimal
	loTok, hiTok   uint64
	names          modelNames
}

// merge adds o, keeping the cheapest and dearest call of both; the
// per-token prices are compared multiplied out, exactly.
func (g *routeGroup) merge(o *routeGroup) {
	g.calls, g.tokens, g.cost = g.calls+o.calls, g.tokens+o.tokens, g.cost.Add(o.cost)
	if o.loCost.Mul(u64(g.loTok)).LessThan(g.loCost.Mul(u64(o.loTok))) {
		g.loCost, g.loTok = o.loCost, o.loTok
	}
	if o.hiCost.Mul(u64(g.hiTok)).GreaterThan(g.hiCost.Mul(u64(o.hiTok))) {
		g.hiCost, g.hiTok = o.hiCost, o.hiTok
	}
	for n, c := range o.names {
		g.names.add(n, c)
	}
}

// routingRecommendations: an OpenRouter model's calls billed at different
// prices per token. OpenRouter routes one model to several upstream
// providers at different prices; provider preferences can pin the cheap ones.
// Calls are grouped by resolved model (openai/gpt-4o-2024-08-06 is
// openai/gpt-4o), never by family: snapshots with prices of their own, and
// :variants (:online adds a search fee), differ in price for reasons routing
// does not change.
func (s *Service) routingRecommendations(ctx context.Context, w insightWindow) ([]Recommendation, error) {
	gw := gateway()
	if !advisedFor(gw, w.f.Provider) {
		return nil, nil
	}
	where, params := w.callsWhereAnyModel("provider = {advised:String} AND cost_usd IS NOT NULL AND input_tokens + output_tokens > 0 AND " + billedOnly)
	params["advised"] = gw
	// The float ratio only picks the cheapest and dearest call; their
	// prices are then computed exactly from that call's cost and tokens.
	q := "SELECT model, count() AS c, sum(input_tokens + output_tokens) AS t, CAST(sum(assumeNotNull(cost_usd)) AS Decimal(38, 12)) AS s, " +
		"argMin((assumeNotNull(cost_usd), input_tokens + output_tokens), toFloat64(assumeNotNull(cost_usd)) / (input_tokens + output_tokens)) AS lo, " +
		"argMax((assumeNotNull(cost_usd), input_tokens + output_tokens), toFloat64(assumeNotNull(cost_usd)) / (input_tokens + output_tokens)) AS hi " +
		"FROM " + s.store.Database() + ".api_calls WHERE " + where + " GROUP BY model ORDER BY model"
	byName := map[string]*routeGroup{}
	var groups []*routeGroup
	err := s.scanRows(ctx, "SELECT model, c, t, s, lo.1, lo.2, hi.1, hi.2 FROM ("+q+")", params, func(rows store.Rows) error {
		var raw string
		g := &routeGroup{names: modelNames{}}
		if err := rows.Scan(&raw, &g.calls, &g.tokens, &g.cost, &g.loCost, &g.loTok, &g.hiCost, &g.hiTok); err != nil {
			return err
		}
		g.model = w.cat.ResolveModel(gw, raw)
		if !w.modelMatches(gw, raw, g.model) {
			return nil
		}
		g.names.add(raw, g.calls)
		if s := byName[g.model.Name]; s != nil {
			s.merge(g)
			return nil
		}
		byName[g.model.Name] = g
		groups = append(groups, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	spread := decimal.NewFromFloat(s.cfg.Routing.MinPriceSpread)
	thousand := decimal.NewFromInt(1000)
	var out []Recommendation
	for _, g := range groups {
		if g.calls < uint64(s.cfg.MinCalls) || !g.loCost.IsPositive() {
			continue
		}
		// hi/lo − 1 ≥ spread, multiplied out to stay exact.
		if g.hiCost.Mul(u64(g.loTok)).LessThan(spread.Add(decimal.NewFromInt(1)).Mul(g.loCost).Mul(u64(g.hiTok))) {
			continue
		}
		saving := g.cost.Mul(u64(g.loTok)).Sub(u64(g.tokens).Mul(g.loCost)).DivRound(u64(g.loTok), pricing.Scale)
		if !saving.IsPositive() {
			continue
		}
		model := g.model.Name
		lo1k := g.loCost.Mul(thousand).DivRound(u64(g.loTok), pricing.Scale)
		hi1k := g.hiCost.Mul(thousand).DivRound(u64(g.hiTok), pricing.Scale)
		out = append(out, Recommendation{
			ID: kindOpenRouterRoute + ":" + model, Kind: kindOpenRouterRoute, Provider: gw, Model: model,
			Title: fmt.Sprintf("%s is billed at up to %s%% more per token on some calls", model,
				decRatio(g.hiCost.Mul(u64(g.loTok)).Sub(g.loCost.Mul(u64(g.hiTok))).Mul(decimal.NewFromInt(100)), g.loCost.Mul(u64(g.hiTok)))),
			Action: "Set OpenRouter provider preferences (provider.order or sort: price) for this model so that requests go to " +
				"the upstream providers that bill it cheapest.",
			saving: saving,
			Evidence: map[string]any{
				"calls": g.calls, "tokens": g.tokens, "costUsd": money(g.cost), "models": g.names.list(),
				"cheapestUsdPer1kTokens": lo1k.String(), "dearestUsdPer1kTokens": hi1k.String(),
				"minPriceSpread": spread.String(), "costAtCheapestUsd": money(g.cost.Sub(saving)),
			},
			Confidence: "medium",
			ConfidenceNote: "Prices per token blend input and output tokens, so calls with a different input/output mix differ " +
				"in price even on one upstream; the saving assumes every token at the cheapest call's blended price.",
		})
	}
	return out, nil
}
