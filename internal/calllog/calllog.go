// Package calllog reads the log of API calls as stored: pages of the calls
// themselves, newest first, and statistics over a range (counts, errors,
// tokens, exact cost, latency percentiles), read from raw calls or the hour
// rollup as the range and filters allow. It reads through internal/schema
// and returns domain errors (internal/domainerr), never transport ones.
package calllog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

const (
	// MaxOffset bounds how many calls a page may skip: the engine reads
	// and drops every skipped row, so a deep page costs as much as reading
	// all the rows before it.
	MaxOffset = 100000
	// rawStatsSpan is the longest range whose stats are read from raw calls
	// (exact); longer ranges read the hour rollup.
	rawStatsSpan = 24 * time.Hour
)

// GroupNames are what stats may be grouped by, and a tag's values
// ("tag.<name>"); a request's groupBy only reaches SQL as a column the
// schema names (schema.GroupColumn), a tag's name as a parameter.
var GroupNames = []string{"provider", "model", "operation", "service", "environment", "team", "feature", "customer", "user"}

// Service reads the calls of one store.
type Service struct{ store store.Store }

// New is a Service over s.
func New(s store.Store) *Service { return &Service{store: s} }

// Tokens are a call's (or a sum of calls') tokens by kind, as stored:
// cached and cache-write tokens are part of input, reasoning part of output.
type Tokens struct {
	Input           uint64 `json:"input"`
	Output          uint64 `json:"output"`
	CachedInput     uint64 `json:"cachedInput"`
	CacheWriteInput uint64 `json:"cacheWriteInput"`
	Reasoning       uint64 `json:"reasoning"`
}

// Call is one stored API call.
type Call struct {
	Timestamp    string  `json:"timestamp"`
	DurationMs   float64 `json:"durationMs"`
	Provider     string  `json:"provider"`
	Model        string  `json:"model"`
	RequestModel string  `json:"requestModel"`
	Operation    string  `json:"operation"`
	Service      string  `json:"service"`
	Environment  string  `json:"environment"`
	HTTPStatus   uint16  `json:"httpStatus"`
	Status       string  `json:"status"`
	ErrorClass   string  `json:"errorClass"`
	ErrorType    string  `json:"errorType"`
	Tokens       Tokens  `json:"tokens"`
	// CostUSD is null when the call is unpriced: an unknown price is not $0.
	CostUSD        *string `json:"costUsd"`
	CostStatus     string  `json:"costStatus"`
	UnpricedReason string  `json:"unpricedReason"`
	PricingVersion string  `json:"pricingVersion"`
	// CostReason says how a refused call's known $0 was decided.
	CostReason   string  `json:"costReason,omitempty"`
	AnomalyScore float64 `json:"anomalyScore"`
	Anomaly      bool    `json:"anomaly"`
	TraceID      string  `json:"traceId"`
	SpanID       string  `json:"spanId"`
}

// Filter is the filters only raw calls carry (the rollups have no
// status, anomaly or cost-status dimension).
type Filter struct {
	Status   string // "", "ok" or "error"
	Anomaly  *bool
	Unpriced *bool
}

// Any tells whether a raw-only filter is set.
func (c Filter) Any() bool { return c.Status != "" || c.Anomaly != nil || c.Unpriced != nil }

// where adds the raw-only filters to a condition on api_calls.
func (c Filter) where(cond string, params store.Params) string {
	conds := []string{cond}
	if c.Status != "" {
		conds = append(conds, "status = {status:String}")
		params["status"] = c.Status
	}
	if c.Anomaly != nil {
		conds = append(conds, "is_anomaly = {anomaly:Bool}")
		params["anomaly"] = strconv.FormatBool(*c.Anomaly)
	}
	if c.Unpriced != nil {
		// cost_status, not cost_usd IS NULL: the rollups count unpriced
		// calls by cost_status, and both must agree.
		conds = append(conds, "(cost_status = 'unpriced') = {unpriced:Bool}")
		params["unpriced"] = strconv.FormatBool(*c.Unpriced)
	}
	return strings.Join(conds, " AND ")
}

// CheckRawKept refuses a range reaching back further than raw calls are
// kept: the rows before that are gone, and an answer without them would
// look complete. Rollup-backed reads (costs, long-range stats) answer older
// ranges.
func (s *Service) CheckRawKept(from time.Time) error {
	keep := schema.RetentionOf(s.store).Raw()
	if keep > 0 && from.Before(time.Now().Add(-keep)) {
		return domainerr.Invalid("range older than the raw calls are kept", domainerr.Field{Field: "from",
			Message: fmt.Sprintf("raw calls are kept for %s: ask for a later from, or use /costs for older totals", schema.FormatDuration(keep))})
	}
	return nil
}

// List is the calls of f and cf, newest first, the page of limit calls
// after offset, and how many there are in all. A range older than the raw
// calls are kept is refused (CheckRawKept).
func (s *Service) List(ctx context.Context, f schema.Filter, cf Filter, offset int64, limit int) ([]Call, int64, error) {
	if err := s.CheckRawKept(f.From); err != nil {
		return nil, 0, err
	}
	cond, params := f.Where("timestamp")
	cond = cf.where(cond, params)
	table := schema.Table(s.store, schema.TableCalls)
	total, err := schema.Count(ctx, s.store, "SELECT count() FROM "+table+" WHERE "+cond, params)
	if err != nil {
		return nil, 0, fmt.Errorf("count calls: %w", err)
	}
	out := []Call{} // an empty page is [], not null
	if offset >= total {
		return out, total, nil
	}
	params["limit"] = strconv.Itoa(limit)
	params["offset"] = strconv.FormatInt(offset, 10)
	// span_id breaks timestamp ties so that pages never overlap or skip.
	rows, err := s.store.Query(ctx, "SELECT timestamp, duration_ns, provider, model, request_model, operation,"+
		" service, environment, http_status, status, error_class, error_type,"+
		" input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,"+
		" cost_usd, cost_status, unpriced_reason, pricing_version, cost_reason, anomaly_score, is_anomaly, trace_id, span_id"+
		" FROM "+table+" WHERE "+cond+
		" ORDER BY timestamp DESC, span_id DESC LIMIT {limit:UInt32} OFFSET {offset:UInt64}", params)
	if err != nil {
		return nil, 0, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Call
		var ts time.Time
		var durNs uint64
		var cost *decimal.Decimal
		var score float32
		if err := rows.Scan(&ts, &durNs, &c.Provider, &c.Model, &c.RequestModel, &c.Operation,
			&c.Service, &c.Environment, &c.HTTPStatus, &c.Status, &c.ErrorClass, &c.ErrorType,
			&c.Tokens.Input, &c.Tokens.Output, &c.Tokens.CachedInput, &c.Tokens.CacheWriteInput, &c.Tokens.Reasoning,
			&cost, &c.CostStatus, &c.UnpricedReason, &c.PricingVersion, &c.CostReason, &score, &c.Anomaly, &c.TraceID, &c.SpanID); err != nil {
			return nil, 0, fmt.Errorf("read calls: %w", err)
		}
		c.Timestamp = ts.UTC().Format(time.RFC3339Nano)
		c.DurationMs = float64(durNs) / 1e6
		if cost != nil {
			v := cost.String()
			c.CostUSD = &v
		}
		// Printed at float32 precision, so 0.1 stays 0.1 and not 0.10000000149.
		c.AnomalyScore, _ = strconv.ParseFloat(strconv.FormatFloat(float64(score), 'g', -1, 32), 64)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read calls: %w", err)
	}
	return out, total, nil
}
