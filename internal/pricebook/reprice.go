package pricebook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Re-pricing. A call stored unpriced, or computed from a list since
// corrected, gets the cost the catalog gives it now (with the lists in
// effect on its day). Its rows in api_calls and in the recent copies by
// customer and user are updated in place (a mutation, which the rollups'
// views never see), and every rollup is moved by the difference through
// api_call_corrections (0018), whose views fold a correction into each
// rollup the call is in: cost by the difference, the unpriced count by -1
// when an unpriced call gets a price, nothing else. Totals change by
// exactly the money moved, wherever they are read from.
//
// Each chunk writes its corrections first, with a de-duplication token
// made of the chunk's calls and costs, then updates the rows: a re-price
// interrupted between the two and run again finds the same calls at their
// old cost, writes the same corrections (dropped as a retry) and updates
// the rows. Reported costs are the provider's word and refused calls a
// known $0: neither is re-priced, nor is a failed call (whether it was
// billed was decided when it was seen, from what the row no longer holds).
// Twilio's destination country is not stored: a re-priced Twilio call gets
// its operation's default price (Twilio reports its prices; this matters
// only for calls whose report never came).

// RepriceRequest is which calls to re-price: a tenant's calls in
// [From, To), narrowed by the non-empty fields.
type RepriceRequest struct {
	From, To                                                time.Time
	Provider, Model, Service, Customer, User, Team, Feature string
}

// RepriceResult is what a re-price did.
type RepriceResult struct {
	// Examined calls are those in range and scope priced from the catalog
	// or unpriced.
	Examined int `json:"examined"`
	// Repriced calls got a new cost, of which NewlyPriced had none.
	Repriced    int `json:"repriced"`
	NewlyPriced int `json:"newlyPriced"`
	// StillUnpriced calls have no price in the catalog yet.
	StillUnpriced int `json:"stillUnpriced"`
	// Skipped calls could not be told apart from another stored call
	// (same trace, span and time): left as they are.
	Skipped int `json:"skipped"`
	// Moved is the money the re-priced calls' total changed by.
	Moved decimal.Decimal `json:"movedUsd"`
	// Version is the catalog version the calls were priced with.
	Version string `json:"pricingVersion"`
}

// MaxReprice is the most calls one re-price examines; a wider request is
// refused, to be split into narrower ranges.
const MaxReprice = 200_000

// repriceChunk is how many calls one mutation updates.
const repriceChunk = 2_000

// repriced is one call to correct.
type repriced struct {
	key, recentKey uint64
	at             time.Time
	dims           [9]string // provider, model, operation, service, environment, customer, user, team, feature
	tags           map[string]string
	cost, delta    pricing.Money
	wasUnpriced    bool
}

// Reprice re-prices tenant's calls of req with cat (the tenant's catalog).
func Reprice(ctx context.Context, s store.Store, cat *pricing.Catalog, tenant string, req RepriceRequest) (RepriceResult, error) {
	res := RepriceResult{Version: cat.Version(), Moved: decimal.Zero}
	if !req.From.Before(req.To) {
		return res, domainerr.Invalid("invalid range", domainerr.Field{Field: "to", Message: "must be after from"})
	}
	if err := rawHolds(ctx, s, tenant, req.From); err != nil {
		return res, err
	}
	calls, err := readRepriceable(ctx, s, tenant, req)
	if err != nil {
		return res, err
	}
	res.Examined = len(calls)
	var todo []repriced
	for _, c := range calls {
		if c.ambiguous {
			res.Skipped++
			continue
		}
		r := apicall.PriceUsage(cat, &c.call, c.r.at)
		if r.Status != pricing.Computed {
			if c.unpriced {
				res.StillUnpriced++
			}
			continue
		}
		if !c.unpriced && r.Cost == c.old {
			continue
		}
		c.r.cost, c.r.delta, c.r.wasUnpriced = r.Cost, r.Cost-c.old, c.unpriced
		todo = append(todo, c.r)
	}
	for start := 0; start < len(todo); start += repriceChunk {
		chunk := todo[start:min(start+repriceChunk, len(todo))]
		if err := correct(ctx, s, tenant, cat.Version(), chunk); err != nil {
			return res, err
		}
		for _, r := range chunk {
			res.Repriced++
			if r.wasUnpriced {
				res.NewlyPriced++
			}
			res.Moved = res.Moved.Add(r.delta.Decimal())
		}
	}
	return res, nil
}

// rawHolds refuses a range that starts before the raw calls kept while
// the rollups still hold calls there: those can no longer be re-priced.
func rawHolds(ctx context.Context, s store.Store, tenant string, from time.Time) error {
	q := "SELECT toString(toUnixTimestamp(min(timestamp))), toString(count()) FROM " + schema.Table(s, schema.TableCalls) +
		" WHERE tenant = {tenant:String}"
	first, n, err := twoStrings(ctx, s, q, store.Params{"tenant": tenant})
	if err != nil {
		return fmt.Errorf("read the raw calls' first day: %w", err)
	}
	sec, _ := strconv.ParseInt(first, 10, 64)
	oldest := time.Unix(sec, 0).UTC()
	if n == "0" {
		oldest = time.Now().UTC()
	}
	if !from.Before(oldest) {
		return nil
	}
	q = "SELECT toString(count()), '' FROM " + schema.Table(s, schema.TableCalls1d) +
		" WHERE tenant = {tenant:String} AND ts >= toStartOfDay({from:DateTime('UTC')}) AND ts < toStartOfDay({oldest:DateTime('UTC')}) AND calls > 0"
	held, _, err := twoStrings(ctx, s, q, store.Params{"tenant": tenant, "from": from.UTC().Format(time.DateTime),
		"oldest": oldest.Format(time.DateTime)})
	if err != nil {
		return fmt.Errorf("read the rollups before the raw calls: %w", err)
	}
	if held != "0" {
		return domainerr.Invalid("the range starts before the raw calls kept",
			domainerr.Field{Field: "from", Message: fmt.Sprintf("the raw calls start on %s; the calls before are in the rollups only and cannot be re-priced",
				oldest.Format(time.DateOnly))})
	}
	return nil
}

// twoStrings reads the first row of a query of two String columns.
func twoStrings(ctx context.Context, s store.Store, q string, params store.Params) (string, string, error) {
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	var a, b string
	if rows.Next() {
		if err := rows.Scan(&a, &b); err != nil {
			return "", "", err
		}
	}
	return a, b, rows.Err()
}

// stored is a call read for re-pricing.
type stored struct {
	call      apicall.Call
	r         repriced
	old       pricing.Money
	unpriced  bool
	ambiguous bool
}

func readRepriceable(ctx context.Context, s store.Store, tenant string, req RepriceRequest) ([]stored, error) {
	params := store.Params{"tenant": tenant, "from": req.From.UTC().Format("2006-01-02 15:04:05.000000000"),
		"to": req.To.UTC().Format("2006-01-02 15:04:05.000000000")}
	where := []string{"tenant = {tenant:String}", "timestamp >= {from:DateTime64(9, 'UTC')}", "timestamp < {to:DateTime64(9, 'UTC')}",
		// A failed call's cost is settled by whether the provider performed
		// it, which the stored row no longer tells: it keeps its cost.
		"cost_status IN ('unpriced', 'computed')", "status != 'error'"}
	for col, v := range map[string]string{"provider": req.Provider, "model": req.Model, "service": req.Service, "customer": req.Customer,
		"user": req.User, "team": req.Team, "feature": req.Feature} {
		if v != "" {
			where = append(where, col+" = {"+col+":String}")
			params[col] = v
		}
	}
	q := "SELECT " + callKey + ", " + recentKey + ", timestamp, provider, model, operation, service, environment, customer, user, team, feature, tags, " +
		"service_tier, input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, toJSONString(usage_units), " +
		"toString(ifNull(cost_usd, toDecimal64(0, 12))), cost_status, countIf(1) OVER (PARTITION BY " + callKey + ") AS copies FROM " +
		schema.Table(s, schema.TableCalls) + " WHERE " + strings.Join(where, " AND ") + " LIMIT {limit:UInt32}"
	params["limit"] = strconv.Itoa(MaxReprice + 1)
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read the calls to re-price: %w", err)
	}
	defer rows.Close()
	var out []stored
	for rows.Next() {
		var c stored
		var units, cost, status string
		var copies uint64
		var st apicall.Stored
		d := &c.r.dims
		if err := rows.Scan(&c.r.key, &c.r.recentKey, &c.r.at, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7], &d[8], &c.r.tags,
			&st.ServiceTier, &st.InputTokens, &st.OutputTokens, &st.CachedInputTokens, &st.CacheWriteInputTokens, &st.ReasoningTokens,
			&units, &cost, &status, &copies); err != nil {
			return nil, fmt.Errorf("read the calls to re-price: %w", err)
		}
		old, err := pricing.ParseMoney(cost)
		if err != nil {
			return nil, fmt.Errorf("read the calls to re-price: stored cost %q: %w", cost, err)
		}
		if err := json.Unmarshal([]byte(units), &st.UsageUnits); err != nil {
			return nil, fmt.Errorf("read the calls to re-price: usage units %q: %w", units, err)
		}
		st.Provider, st.Model, st.Operation = d[0], d[1], d[2]
		c.call, c.old, c.unpriced, c.ambiguous = st.Call(), old, status == pricing.Unpriced.String(), copies > 1
		out = append(out, c)
		if len(out) > MaxReprice {
			return nil, domainerr.Invalid("too many calls to re-price at once",
				domainerr.Field{Field: "to", Message: fmt.Sprintf("the range holds more than %d calls to re-price: split it", MaxReprice)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the calls to re-price: %w", err)
	}
	return out, nil
}

// callKey tells a call's row in api_calls apart; recentKey its copies in
// the recent calls by customer and user, which keep no trace or span id.
const (
	callKey   = "cityHash64(trace_id, span_id, timestamp, tenant)"
	recentKey = "cityHash64(timestamp, tenant, provider, model, operation, service, status, cost_status, input_tokens, output_tokens, duration_ns)"
)

// correct writes one chunk's corrections, then updates its rows.
func correct(ctx context.Context, s store.Store, tenant, version string, chunk []repriced) error {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|", tenant, version)
	for _, r := range chunk {
		fmt.Fprintf(h, "%d:%d;", r.key, r.delta)
	}
	token := "reprice-" + hex.EncodeToString(h.Sum(nil)[:16])
	b, err := s.PrepareBatch(store.WithInsertSettings(ctx, store.DedupSettings(token)), "api_call_corrections",
		[]string{"timestamp", "tenant", "provider", "model", "operation", "service", "environment", "customer", "user", "team", "feature",
			"tags", "cost_delta", "unpriced_delta"})
	if err != nil {
		return fmt.Errorf("prepare re-pricing corrections: %w", err)
	}
	keys, recent, costs := make([]string, len(chunk)), make([]string, len(chunk)), make([]string, len(chunk))
	for i, r := range chunk {
		var unpriced int64
		if r.wasUnpriced {
			unpriced = -1
		}
		d := r.dims
		tags := r.tags
		if tags == nil {
			tags = map[string]string{}
		}
		if err := b.Append(r.at, tenant, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], tags, r.delta.Decimal(), unpriced); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append re-pricing correction: %w", err)
		}
		keys[i], recent[i], costs[i] = strconv.FormatUint(r.key, 10), strconv.FormatUint(r.recentKey, 10), r.cost.String()
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("store %d re-pricing corrections: %w", len(chunk), err)
	}
	params := store.Params{"tenant": tenant, "version": version, "keys": "[" + strings.Join(keys, ",") + "]",
		"recent": "[" + strings.Join(recent, ",") + "]", "costs": "[" + strings.Join(costs, ",") + "]"}
	// The WHERE picks the chunk's rows, so every row updated is re-priced.
	set := "cost_usd = transform(%s, {%s:Array(UInt64)}, {costs:Array(Decimal(18, 12))}, cost_usd), cost_status = 'computed'"
	stmts := []string{"ALTER TABLE " + schema.Table(s, schema.TableCalls) + " UPDATE " + fmt.Sprintf(set, callKey, "keys") +
		", unpriced_reason = '', pricing_version = {version:String}" +
		" WHERE tenant = {tenant:String} AND " + callKey + " IN {keys:Array(UInt64)} SETTINGS mutations_sync = 2"}
	for _, t := range []string{"api_calls_by_customer", "api_calls_by_user"} {
		stmts = append(stmts, "ALTER TABLE "+schema.Table(s, t)+" UPDATE "+fmt.Sprintf(set, recentKey, "recent")+
			" WHERE tenant = {tenant:String} AND "+recentKey+" IN {recent:Array(UInt64)} SETTINGS mutations_sync = 2")
	}
	for _, q := range stmts {
		if err := s.Exec(ctx, q, params); err != nil {
			return fmt.Errorf("update re-priced calls: %w", err)
		}
	}
	return nil
}
