package insights

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/store"
)

// tokenGroup is the token traffic of one resolved model (and operation).
type tokenGroup struct {
	provider, operation       string
	model                     pricing.Model
	calls, input, cached, out uint64
	unpriced                  uint64
	recorded                  decimal.Decimal
	names                     modelNames
}

func (g *tokenGroup) add(o *tokenGroup) {
	g.calls, g.input, g.cached, g.out, g.unpriced = g.calls+o.calls, g.input+o.input, g.cached+o.cached, g.out+o.out, g.unpriced+o.unpriced
	g.recorded = g.recorded.Add(o.recorded)
	for n, c := range o.names {
		g.names.add(n, c)
	}
}

// tokenGroups reads the window's token traffic per provider, model and
// operation, the models merged by resolved name. Calls without tokens are
// left out: a refusal or a call cut before its usage says nothing about
// answer lengths or prompts.
func (s *Service) tokenGroups(ctx context.Context, w insightWindow) ([]*tokenGroup, error) {
	where, params := w.callsWhereAnyModel("provider IN ({direct:String}, {gateway:String}) AND model != '' AND input_tokens + output_tokens > 0 AND " + billedOnly)
	params["direct"], params["gateway"] = directSeller(), gateway()
	type key struct{ provider, name, operation string }
	byKey := map[key]*tokenGroup{}
	var out []*tokenGroup
	err := s.scanRows(ctx, "SELECT provider, model, operation, count(), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), "+
		"countIf(cost_usd IS NULL), CAST(sum(ifNull(cost_usd, toDecimal64(0, 12))) AS Decimal(38, 12)) FROM "+s.store.Database()+
		".api_calls WHERE "+where+" GROUP BY provider, model, operation ORDER BY provider, model, operation", params,
		func(rows store.Rows) error {
			var raw string
			g := &tokenGroup{names: modelNames{}}
			if err := rows.Scan(&g.provider, &raw, &g.operation, &g.calls, &g.input, &g.cached, &g.out, &g.unpriced, &g.recorded); err != nil {
				return err
			}
			g.model = w.cat.ResolveModel(g.provider, raw)
			if !w.modelMatches(g.provider, raw, g.model) {
				return nil
			}
			g.names.add(raw, g.calls)
			k := key{g.provider, g.model.Name, g.operation}
			if s := byKey[k]; s != nil {
				s.add(g)
				return nil
			}
			byKey[k] = g
			out = append(out, g)
			return nil
		})
	return out, err
}

// tokenRecommendations: model right-sizing per (provider, model,
// operation), prompt caching per (provider, model).
func (s *Service) tokenRecommendations(ctx context.Context, w insightWindow) ([]Recommendation, error) {
	groups, err := s.tokenGroups(ctx, w)
	if err != nil {
		return nil, err
	}
	cfg := s.cfg
	var out []Recommendation
	simple := map[string]bool{}
	for _, op := range cfg.RightSizing.Operations {
		simple[op] = true
	}
	pairs := rightSizingPairs(w.cat, cfg.RightSizing.Models)
	minCalls := uint64(cfg.MinCalls)
	maxOut := decimal.NewFromFloat(cfg.RightSizing.MaxAvgOutputTokens)
	for _, g := range groups {
		target := pairFor(pairs, g.provider, g.model)
		if !simple[g.operation] || target == "" || g.calls < minCalls || !u64(g.out).LessThan(maxOut.Mul(u64(g.calls))) ||
			w.cat.ResolveModel(g.provider, target).Name == g.model.Name {
			continue
		}
		model := g.model.Name
		cur, ok1 := catalogTokenPrices(w.cat, g.provider, model, w.f.To)
		alt, ok2 := catalogTokenPrices(w.cat, g.provider, target, w.f.To)
		if !ok1 || !ok2 {
			continue
		}
		now, then := cur.cost(g.input, g.cached, g.out), alt.cost(g.input, g.cached, g.out)
		saving := now.Sub(then)
		if !saving.IsPositive() {
			continue
		}
		out = append(out, Recommendation{
			ID: kindModelRightSizing + ":" + g.provider + ":" + model + ":" + g.operation, Kind: kindModelRightSizing,
			Provider: g.provider, Model: model, Operation: g.operation,
			Title:  fmt.Sprintf("%s %s calls return short answers: try %s", model, g.operation, target),
			Action: fmt.Sprintf("Serve these %s calls with %s (same provider) after checking its answers on a sample.", g.operation, target),
			saving: saving,
			Evidence: map[string]any{
				"calls": g.calls, "inputTokens": g.input, "cachedInputTokens": g.cached, "outputTokens": g.out,
				"avgOutputTokens": decRatio(u64(g.out), u64(g.calls)), "maxAvgOutputTokens": maxOut.String(),
				"recordedCostUsd": money(g.recorded), "unpricedCalls": g.unpriced, "models": g.names.list(),
				"catalogCostUsd": money(now), "alternativeModel": target, "alternativeCostUsd": money(then),
				"pricesPerMillionTokens": map[string]any{model: priceEvidence(cur), target: priceEvidence(alt)},
			},
			Confidence: "medium",
			ConfidenceNote: "Short outputs on a simple operation suggest classification-sized answers, but Nexus cannot judge answer " +
				"quality: the saving is exact for the same token counts at catalog prices, the switch itself needs testing.",
		})
	}

	// Prompt caching is a property of the prompts sent to a model, whatever
	// the operation, so operations are summed.
	type key struct{ provider, model string }
	byModel := map[key]*tokenGroup{}
	var keys []key
	for _, g := range groups {
		k := key{g.provider, g.model.Name}
		if byModel[k] == nil {
			byModel[k] = &tokenGroup{provider: g.provider, model: g.model, names: modelNames{}}
			keys = append(keys, k)
		}
		byModel[k].add(g)
	}
	pc := cfg.PromptCaching
	minIn, maxShare, share := decimal.NewFromFloat(pc.MinAvgInputTokens), decimal.NewFromFloat(pc.MaxCachedShare), decimal.NewFromFloat(pc.AchievableCachedShare)
	for _, k := range keys {
		g := byModel[k]
		if g.calls < minCalls || u64(g.input).LessThan(minIn.Mul(u64(g.calls))) || !u64(g.cached).LessThan(maxShare.Mul(u64(g.input))) {
			continue
		}
		p, ok := catalogTokenPrices(w.cat, g.provider, k.model, w.f.To)
		if !ok || !p.HasCached || !p.Cached.LessThan(p.Input) {
			continue
		}
		more := share.Mul(u64(g.input)).Sub(u64(g.cached))
		saving := more.Mul(p.Input.Sub(p.Cached)).Div(million)
		if !saving.IsPositive() {
			continue
		}
		out = append(out, Recommendation{
			ID: kindPromptCaching + ":" + g.provider + ":" + k.model, Kind: kindPromptCaching, Provider: g.provider, Model: k.model,
			Title: fmt.Sprintf("%s prompts are long but rarely cached (%s%% of input tokens)", k.model, decRatio(u64(g.cached).Mul(decimal.NewFromInt(100)), u64(g.input))),
			Action: "Put the unchanging part of each prompt (instructions, tools, examples) first and keep it byte-identical across calls, " +
				"so that the provider's prompt cache can serve it.",
			saving: saving,
			Evidence: map[string]any{
				"calls": g.calls, "inputTokens": g.input, "cachedInputTokens": g.cached,
				"avgInputTokens": decRatio(u64(g.input), u64(g.calls)), "minAvgInputTokens": minIn.String(),
				"cachedShare": decRatio(u64(g.cached), u64(g.input)), "maxCachedShare": maxShare.String(),
				"assumedAchievableCachedShare": share.String(), "additionalCachedTokens": more.String(),
				"pricesPerMillionTokens": priceEvidence(p), "recordedCostUsd": money(g.recorded), "models": g.names.list(),
			},
			Confidence: "low",
			ConfidenceNote: "How much of a prompt can be cached depends on how much of it repeats; the saving assumes " +
				share.String() + " of input tokens (insights.prompt_caching.achievable_cached_share) at the catalog's cached-input price.",
		})
	}
	return out, nil
}

func priceEvidence(p tokenPrices) map[string]any {
	e := map[string]any{"input": p.Input.String(), "output": p.Output.String(), "catalogModel": p.Model, "effective": p.Effective}
	if p.HasCached {
		e["cachedInput"] = p.Cached.String()
	}
	return e
}
