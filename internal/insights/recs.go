package insights

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Every Recommendation reads the raw calls rather than the rollups: the
// figures it rests on (cached tokens per model, per-call prices, usage_units)
// are not all in the rollups, and a window then has no bucket edges to
// round to.

// callsWhere is the scoped window on api_calls plus extra conditions.
func (w insightWindow) callsWhere(extra string) (string, store.Params) {
	where, params := w.f.Where("timestamp")
	if extra != "" {
		where += " AND " + extra
	}
	return where, params
}

// twilioRecommendations: SMS averaging well over one segment each.
func (s *Service) twilioRecommendations(ctx context.Context, w insightWindow) ([]Recommendation, error) {
	biller := segmentBiller()
	if !advisedFor(biller, w.f.Provider) {
		return nil, nil
	}
	where, params := w.callsWhere("provider = {advised:String} AND usage_units['sms_segments'] > 0 AND " + billedOnly)
	params["advised"] = biller
	type grp struct {
		operation                 string
		messages, segments, pSegs uint64
		pCost                     decimal.Decimal
	}
	var groups []grp
	err := s.scanRows(ctx, "SELECT operation, count(), sum(usage_units['sms_segments']), sumIf(usage_units['sms_segments'], cost_usd IS NOT NULL), "+
		"CAST(sum(ifNull(cost_usd, toDecimal64(0, 12))) AS Decimal(38, 12)) FROM "+s.store.Database()+".api_calls WHERE "+where+
		" GROUP BY operation ORDER BY operation", params, func(rows store.Rows) error {
		var g grp
		if err := rows.Scan(&g.operation, &g.messages, &g.segments, &g.pSegs, &g.pCost); err != nil {
			return err
		}
		groups = append(groups, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	limit := decimal.NewFromFloat(s.cfg.TwilioSegments.MaxSegmentsPerMessage)
	var out []Recommendation
	for _, g := range groups {
		if g.messages < uint64(s.cfg.MinCalls) || !u64(g.segments).GreaterThan(limit.Mul(u64(g.messages))) {
			continue
		}
		extra := g.segments - g.messages
		var saving, perSegment decimal.Decimal
		source := "the calls' own cost per segment"
		switch {
		case g.pSegs > 0:
			// What these messages actually paid per segment: the catalog
			// has one default SMS price, destinations differ.
			perSegment = g.pCost.DivRound(u64(g.pSegs), pricing.Scale)
			saving = g.pCost.Mul(u64(extra)).DivRound(u64(g.pSegs), pricing.Scale)
		default:
			res := w.cat.Price(biller, "", g.operation, "", w.f.To, &pricing.Usage{pricing.SMSSegments: 1})
			if res.Status != pricing.Computed {
				source = "none: no cost recorded and no catalog price"
				break
			}
			perSegment, source = picoUSD(res.Cost), "the pricing catalog (default destination)"
			saving = perSegment.Mul(u64(extra))
		}
		out = append(out, Recommendation{
			ID: kindTwilioSegments + ":" + g.operation, Kind: kindTwilioSegments, Provider: biller, Operation: g.operation,
			Title: fmt.Sprintf("Messages average %s SMS segments", decRatio(u64(g.segments), u64(g.messages))),
			Action: "Shorten the texts, or replace characters outside GSM-7 (curly quotes, emoji, accented letters) that switch a " +
				"message to UCS-2 and cut a segment from 153 to 67 characters.",
			saving: saving,
			Evidence: map[string]any{
				"messages": g.messages, "segments": g.segments, "segmentsPerMessage": decRatio(u64(g.segments), u64(g.messages)),
				"maxSegmentsPerMessage": limit.String(), "extraSegments": extra, "usdPerSegment": perSegment.String(),
				"priceSource": source,
			},
			Confidence: "medium",
			ConfidenceNote: "The saving assumes every message fits one segment, which only shorter texts or GSM-7-only " +
				"characters achieve; message bodies are not stored, so the cause is inferred.",
		})
	}
	return out, nil
}

// apolloRecommendations: credits per endpoint against what is left, with
// the date they run out at the window's rate. Saving is 0: spending fewer
// credits is a product decision Nexus cannot price.
func (s *Service) apolloRecommendations(ctx context.Context, w insightWindow) ([]Recommendation, error) {
	biller := creditBiller()
	if !advisedFor(biller, w.f.Provider) {
		return nil, nil
	}
	byOp, err := s.apolloCredits(ctx, w, w.f)
	if err != nil || len(byOp) == 0 {
		return nil, err
	}
	var total decimal.Decimal
	for _, e := range byOp {
		total = total.Add(e.credits)
	}
	if !total.IsPositive() {
		return nil, nil
	}
	remaining, source, err := s.apolloRemaining(ctx, w)
	if err != nil || source == "" {
		return nil, err
	}
	span := w.f.To.Sub(w.f.From)
	perDay := total.Mul(decimal.NewFromInt(int64(24*time.Hour))).DivRound(decimal.NewFromInt(int64(span)), 4)
	// Seconds until exhaustion at the window's rate.
	secs := remaining.Mul(decimal.NewFromInt(int64(span / time.Second))).Div(total).Floor()
	if !remaining.IsPositive() {
		secs = decimal.Zero
	}
	exhaust := w.f.To.Add(time.Duration(secs.IntPart()) * time.Second)
	within := s.cfg.ApolloCredits.ExhaustionWithin
	if exhaust.After(w.f.To.Add(within)) {
		return nil, nil
	}
	endpoints := make([]map[string]any, 0, len(byOp))
	for _, e := range byOp {
		endpoints = append(endpoints, map[string]any{"operation": e.operation, "calls": e.calls, "credits": e.credits.String(),
			"share": decRatio(e.credits, total), "callsWithoutReportedCredits": e.unreported})
	}
	return []Recommendation{{
		ID: kindApolloCredits, Kind: kindApolloCredits, Provider: biller,
		Title:  "Apollo credits run out on " + exhaust.Format(time.DateOnly) + " at the current rate",
		Action: fmt.Sprintf("Review the endpoints that burn most credits (%s first), cache enrichment results, or raise the plan.", byOp[0].operation),
		saving: decimal.Zero,
		Evidence: map[string]any{
			"creditsInWindow": total.String(), "creditsPerDay": perDay.String(), "remainingCredits": remaining.String(),
			"remainingSource": source, "projectedExhaustion": exhaust.Format(time.RFC3339), "exhaustionWithin": within.String(),
			"endpoints": endpoints,
		},
		Confidence: "medium",
		ConfidenceNote: "A straight-line projection of the window's rate. Credits of calls that did not report them are the " +
			"catalog's per-call figure. No saving is claimed: which lookups to drop is not Nexus's to judge.",
	}}, nil
}

type apolloOp struct {
	operation         string
	calls, unreported uint64
	credits           decimal.Decimal
}

// apolloCredits sums credits per endpoint over f; a call that did not
// report its credits counts the catalog's credits per call for its
// endpoint, as the cost processor prices it. Refused calls consume none.
func (s *Service) apolloCredits(ctx context.Context, w insightWindow, f schema.Filter) ([]apolloOp, error) {
	where, params := f.Where("timestamp")
	params["advised"] = creditBiller()
	var out []apolloOp
	err := s.scanRows(ctx, "SELECT operation, count(), sum(usage_units['credits']), countIf(usage_units['credits'] = 0) FROM "+
		s.store.Database()+".api_calls WHERE "+where+" AND provider = {advised:String} AND "+billedOnly+" GROUP BY operation", params, func(rows store.Rows) error {
		var e apolloOp
		var reported uint64
		if err := rows.Scan(&e.operation, &e.calls, &reported, &e.unreported); err != nil {
			return err
		}
		e.credits = u64(reported).Add(catalogCredits(w.cat, e.operation, f.To).Mul(u64(e.unreported)))
		out = append(out, e)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].credits.Cmp(out[j].credits); c != 0 {
			return c > 0
		}
		return out[i].operation < out[j].operation
	})
	return out, err
}

// catalogCredits is the catalog's credits per call to an Apollo endpoint
// in effect at t (0 when it has none), looked up as Price looks it up.
func catalogCredits(cat *pricing.Catalog, operation string, t time.Time) decimal.Decimal {
	c, ok := cat.EndpointCredits(operation, t)
	if !ok {
		return decimal.Zero
	}
	return picoUSD(c) // credits in 1e-12, the scale of Money
}

// apolloRemaining is what is left of the plan at the window's end: the
// latest apollo credits_remaining gauge, else the configured monthly plan
// less the credits used since the UTC month began. source is "" when
// neither is known.
func (s *Service) apolloRemaining(ctx context.Context, w insightWindow) (decimal.Decimal, string, error) {
	var remaining decimal.Decimal
	found := false
	err := s.scanRows(ctx, "SELECT argMax(value, ts), count() FROM "+s.store.Database()+".provider_gauges "+
		"WHERE provider = {advised:String} AND name = 'credits_remaining' AND ts <= {to:DateTime64(3, 'UTC')}"+
		" AND ({tenant:String} = '' OR tenant = {tenant:String})",
		store.Params{"to": w.f.To.Format("2006-01-02 15:04:05.000"), "advised": creditBiller(), "tenant": w.f.Tenant}, func(rows store.Rows) error {
			var n uint64
			if err := rows.Scan(&remaining, &n); err != nil {
				return err
			}
			found = n > 0
			return nil
		})
	if err != nil || found {
		return remaining, "provider_gauges apollo credits_remaining", err
	}
	plan := s.cfg.ApolloCredits.PlanCredits
	if plan <= 0 {
		return decimal.Zero, "", nil
	}
	to := w.f.To
	// The caller's tenant's credits: another tenant's use is not this one's.
	month := schema.Filter{Scope: schema.Scope{Tenant: w.f.Tenant, Provider: creditBiller()}, From: time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC), To: to}
	ops, err := s.apolloCredits(ctx, w, month)
	if err != nil {
		return decimal.Zero, "", err
	}
	remaining = decimal.NewFromInt(plan)
	for _, e := range ops {
		remaining = remaining.Sub(e.credits)
	}
	return remaining, "insights.apollo_credits.plan_credits less credits used this UTC month", nil
}

// keyRecommendations: configured providers with no calls in the window, and
// providers whose key checks have failed authentication for a while.
func (s *Service) keyRecommendations(ctx context.Context, w insightWindow) ([]Recommendation, error) {
	if w.scoped {
		return nil, nil
	}
	db := s.store.Database()
	// Every read here is the caller's tenant's ("" for every tenant).
	params := store.Params{"from": w.f.From.Format("2006-01-02 15:04:05.000"), "to": w.f.To.Format("2006-01-02 15:04:05.000"),
		"tenant": w.f.Tenant}
	used := map[string]uint64{}
	last := map[string]time.Time{}
	err := s.scanRows(ctx, "SELECT provider, countIf(timestamp >= {from:DateTime64(3, 'UTC')}), max(timestamp) FROM "+db+
		".api_calls WHERE timestamp < {to:DateTime64(3, 'UTC')} AND ({tenant:String} = '' OR tenant = {tenant:String}) GROUP BY provider", params, func(rows store.Rows) error {
		var p string
		var n uint64
		var t time.Time
		if err := rows.Scan(&p, &n, &t); err != nil {
			return err
		}
		used[p], last[p] = n, t
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Recommendation
	for _, p := range providers.All {
		if (w.f.Provider != "" && w.f.Provider != p.Name) || !s.configured(p.Name) || used[p.Name] > 0 {
			continue
		}
		var lastCall any
		if t, ok := last[p.Name]; ok {
			lastCall = t.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, Recommendation{
			ID: kindIdleKey + ":" + p.Name, Kind: kindIdleKey, Provider: p.Name,
			Title:  p.Name + " is configured but had no calls in the window",
			Action: "Remove or revoke the " + p.Name + " credentials if nothing uses them any more: an unused key is only a liability.",
			saving: decimal.Zero,
			Evidence: map[string]any{"configured": true, "callsInWindow": 0, "lastCallAt": lastCall,
				"windowDays": decRatio(decimal.NewFromInt(int64(w.f.To.Sub(w.f.From))), decimal.NewFromInt(int64(24*time.Hour)))},
			Confidence:     "high",
			ConfidenceNote: "Counts the calls Nexus observed; traffic that is not instrumented or proxied is invisible to it.",
		})
	}

	// A failing streak is the auth_failed checks after the provider's last
	// check of any other class.
	err = s.scanRows(ctx, "SELECT h.provider, min(h.ts), max(h.ts), count(), argMax(h.http_status, h.ts), argMax(h.message, h.ts) FROM "+db+
		".provider_health AS h INNER JOIN (SELECT provider, maxIf(ts, class != 'auth_failed') AS last_other FROM "+db+
		".provider_health WHERE ts < {to:DateTime64(3, 'UTC')} AND ({tenant:String} = '' OR tenant = {tenant:String}) GROUP BY provider) AS o ON h.provider = o.provider "+
		"WHERE h.ts < {to:DateTime64(3, 'UTC')} AND ({tenant:String} = '' OR h.tenant = {tenant:String}) AND h.class = 'auth_failed' AND h.ts > o.last_other GROUP BY h.provider ORDER BY h.provider",
		params, func(rows store.Rows) error {
			var p, msg string
			var first, lastFail time.Time
			var n uint64
			var status uint16
			if err := rows.Scan(&p, &first, &lastFail, &n, &status, &msg); err != nil {
				return err
			}
			dur := lastFail.Sub(first)
			if (w.f.Provider != "" && w.f.Provider != p) || dur < s.cfg.Keys.FailingFor {
				return nil
			}
			out = append(out, Recommendation{
				ID: kindFailingKey + ":" + p, Kind: kindFailingKey, Provider: p,
				Title:  fmt.Sprintf("%s key checks have failed authentication since %s", p, first.UTC().Format(time.RFC3339)),
				Action: "Rotate or fix the " + p + " credentials in the collector config, or remove the provider block if it is no longer used.",
				saving: decimal.Zero,
				Evidence: map[string]any{"failingSince": first.UTC().Format(time.RFC3339Nano), "lastCheck": lastFail.UTC().Format(time.RFC3339Nano),
					"failedChecks": n, "failingFor": dur.String(), "minFailingFor": s.cfg.Keys.FailingFor.String(),
					"lastHttpStatus": status, "lastMessage": msg},
				Confidence:     "high",
				ConfidenceNote: "Every key check since the first failure answered auth_failed.",
			})
			return nil
		})
	return out, err
}
