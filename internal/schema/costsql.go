package schema

import (
	"strconv"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// Key expressions over CostSource's columns. Every key is a String so that
// rows scan alike; the day key is the calendar date in {tz}, which is how
// Go names the same day (no instant arithmetic around DST).
const (
	KeyDay    = "toString(toDate(ts, {tz:String}))"
	KeyHour   = "toString(toUnixTimestamp(toStartOfHour(ts)))"
	KeyMinute = "toString(toUnixTimestamp(toStartOfMinute(ts)))"
)

// CostSums are the aggregate columns of a cost read over CostSource, in
// the order they scan: cost, calls, errors, unpriced, input and output
// tokens.
var CostSums = []string{"sum(cost_usd)", "sum(calls)", "sum(errors)", "sum(unpriced)", "sum(input_tokens)", "sum(output_tokens)"}

// CostSource renders the calls of segs within scope as one UNION ALL (see
// Cover), with the same columns whatever the table — ts, the scope
// columns, calls, errors, unpriced, input_tokens, output_tokens, cost_usd
// — and adds its parameters to params. Values only ever travel as
// parameters. An empty plan still needs a well-typed source with no rows:
// it reads the raw calls over [at, at).
func CostSource(s store.Store, scope Scope, segs []Segment, at time.Time, params store.Params) string {
	cond := scope.tenantCond(params)
	for _, name := range ScopeFields {
		if v := *scope.Field(name); v != "" {
			cond += " AND " + name + " = {" + name + ":String}"
			params[name] = v
		}
	}
	if len(segs) == 0 {
		segs = []Segment{{Grain: GrainRaw, From: at, To: at}}
	}
	if scope.Attributed() {
		// The provider rollups carry no customer, user or tag: the raw
		// calls answer the whole plan's range.
		segs = []Segment{{Grain: GrainRaw, From: segs[0].From, To: segs[len(segs)-1].To}}
	}
	rawCond := cond + scope.dimCond(params)
	parts := make([]string, 0, len(segs))
	for i, seg := range segs {
		p := "s" + strconv.Itoa(i)
		if seg.Grain == GrainRaw {
			params[p+"_from"] = seg.From.UTC().Format("2006-01-02 15:04:05.000000000")
			params[p+"_to"] = seg.To.UTC().Format("2006-01-02 15:04:05.000000000")
			parts = append(parts, "SELECT toDateTime(timestamp, 'UTC') AS ts, provider, model, operation, service, environment, "+
				"toUInt64(1) AS calls, toUInt64(status = 'error') AS errors, toUInt64(cost_status = 'unpriced') AS unpriced, "+
				"input_tokens, output_tokens, CAST(ifNull(cost_usd, toDecimal64(0, 12)) AS Decimal(38, 12)) AS cost_usd "+
				"FROM "+Table(s, TableCalls)+" WHERE timestamp >= {"+p+"_from:DateTime64(9, 'UTC')} AND timestamp < {"+p+"_to:DateTime64(9, 'UTC')}"+rawCond)
			continue
		}
		params[p+"_from"] = seg.From.UTC().Format(time.DateTime)
		params[p+"_to"] = seg.To.UTC().Format(time.DateTime)
		parts = append(parts, "SELECT ts, provider, model, operation, service, environment, "+
			"toUInt64(calls) AS calls, toUInt64(errors) AS errors, toUInt64(unpriced) AS unpriced, "+
			"toUInt64(input_tokens) AS input_tokens, toUInt64(output_tokens) AS output_tokens, CAST(cost_usd AS Decimal(38, 12)) AS cost_usd "+
			"FROM "+Table(s, Grains[seg.Grain].Table)+" WHERE ts >= {"+p+"_from:DateTime('UTC')} AND ts < {"+p+"_to:DateTime('UTC')}"+cond)
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")"
}
