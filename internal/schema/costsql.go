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

// SourceOpts widen CostSource beyond the cost columns.
type SourceOpts struct {
	// GroupTag is the tag whose value column tag holds ("" none); only the
	// calls carrying it are read (see GroupColumn).
	GroupTag string
	// Latency adds the columns anomalies and latency, a
	// quantileTDigest(Float64) state of the calls' latency in ms.
	Latency bool
	// Members, DimCustomer or DimUser, reads the calls of a set of that
	// dimension's values, the parameter members (Array(String)), rather
	// than the scope's one value: one read answering many requests that
	// differ only by it. The segments must be of a family holding it.
	Members string
}

// CostSource renders the calls of segs within scope as one UNION ALL (see
// Cover, CoverFamily), with the same columns whatever the table — ts, the
// scope columns (ScopeFields), customer, user and tag (empty where the
// family does not hold them), calls, errors, unpriced, input_tokens,
// output_tokens, cost_usd, and with opts.Latency anomalies and latency —
// and adds its parameters to params. Values only ever travel as
// parameters. An empty plan still needs a well-typed source with no rows:
// it reads the raw calls over [at, at).
func CostSource(s store.Store, scope Scope, segs []Segment, at time.Time, opts SourceOpts, params store.Params) string {
	if len(segs) == 0 {
		segs = []Segment{{Grain: GrainRaw, From: at, To: at}}
	}
	dims := ", " + strings.Join(ScopeFields, ", ") + ", "
	parts := make([]string, 0, len(segs))
	// Raw segments of one table (a range's two edges) are one read with
	// both time ranges: each table read costs fixed work however few rows
	// it finds.
	rawRanges := map[string][]string{}
	for i, seg := range segs {
		if seg.Grain != GrainRaw {
			continue
		}
		p := "s" + strconv.Itoa(i)
		params[p+"_from"] = seg.From.UTC().Format("2006-01-02 15:04:05.000000000")
		params[p+"_to"] = seg.To.UTC().Format("2006-01-02 15:04:05.000000000")
		rawRanges[seg.Table()] = append(rawRanges[seg.Table()],
			"timestamp >= {"+p+"_from:DateTime64(9, 'UTC')} AND timestamp < {"+p+"_to:DateTime64(9, 'UTC')}")
	}
	for i, seg := range segs {
		p := "s" + strconv.Itoa(i)
		fam := seg.Family
		if seg.Grain == GrainRaw && fam.Table(GrainRaw) == "" {
			fam = FamilyRaw
		}
		cond := scope.Cond(fam, params)
		if opts.Members == DimCustomer || opts.Members == DimUser {
			cond += " AND " + opts.Members + " IN {members:Array(String)}"
		}
		cols := []string{"''", "''", "''"} // customer, user, tag
		switch fam {
		case FamilyRaw:
			cols[0], cols[1] = DimCustomer, DimUser
		case FamilyCustomer:
			cols[0] = DimCustomer
		case FamilyUser:
			cols[1] = DimUser
		}
		if opts.GroupTag != "" {
			expr, c := GroupColumn(fam, TagPrefix+opts.GroupTag, params)
			if expr == "" {
				expr, c = "''", " AND 0"
			}
			cols[2], cond = expr, cond+c
		}
		attr := cols[0] + " AS customer, " + cols[1] + " AS user, " + cols[2] + " AS tag, "
		if seg.Grain == GrainRaw {
			ranges, first := rawRanges[seg.Table()]
			if !first {
				continue // read with the table's first raw segment
			}
			delete(rawRanges, seg.Table())
			lat := ""
			if opts.Latency {
				lat = ", toUInt64(is_anomaly) AS anomalies, initializeAggregation('quantileTDigestState', toFloat64(duration_ns) / 1e6) AS latency"
			}
			parts = append(parts, "SELECT toDateTime(timestamp, 'UTC') AS ts"+dims+attr+
				"toUInt64(1) AS calls, toUInt64(status = 'error') AS errors, toUInt64(cost_status = 'unpriced') AS unpriced, "+
				"input_tokens, output_tokens, CAST(ifNull(cost_usd, toDecimal64(0, 12)) AS Decimal(38, 12)) AS cost_usd"+lat+
				" FROM "+Table(s, seg.Table())+" WHERE (("+strings.Join(ranges, ") OR (")+"))"+cond)
			continue
		}
		params[p+"_from"] = seg.From.UTC().Format(time.DateTime)
		params[p+"_to"] = seg.To.UTC().Format(time.DateTime)
		lat := ""
		if opts.Latency {
			lat = ", toUInt64(anomalies) AS anomalies, latency_ms AS latency"
		}
		parts = append(parts, "SELECT ts"+dims+attr+
			"toUInt64(calls) AS calls, toUInt64(errors) AS errors, toUInt64(unpriced) AS unpriced, "+
			"toUInt64(input_tokens) AS input_tokens, toUInt64(output_tokens) AS output_tokens, CAST(cost_usd AS Decimal(38, 12)) AS cost_usd"+lat+
			" FROM "+Table(s, seg.Table())+" WHERE ts >= {"+p+"_from:DateTime('UTC')} AND ts < {"+p+"_to:DateTime('UTC')}"+cond)
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")"
}
