// Package metrics answers /api/v1/metrics: one query shape over the calls'
// rollups — which metrics, grouped by up to two dimensions (the scope
// columns, the attribution ones, a tag's values), as one aggregate or a
// series at a step, optionally only the top N groups by one metric. It
// plans its reads like every cost read (schema.FamilyOf, CoverFamily):
// whole buckets from the coarsest rollup holding the dimensions, raw calls
// for the edges. It returns domain errors, never transport ones.
package metrics

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Names are the metrics a query can ask for, in the order answers list
// them. Latencies are milliseconds from the rollups' t-digests (about 1%
// off); counts, tokens and cost are exact.
var Names = []string{"calls", "errors", "error_rate", "latency_p50", "latency_p95", "latency_p99",
	"tokens", "input_tokens", "output_tokens", "cost"}

// Steps are the steps of a series; "" is one aggregate over the range.
var Steps = []string{"1m", "1h", "1d"}

var stepWidth = map[string]time.Duration{"1m": time.Minute, "1h": time.Hour, "1d": 24 * time.Hour}

// Groups are the dimensions a query can group by, besides tag.<name>.
var Groups = []string{"provider", "model", "operation", "service", "environment", "team", "feature", "customer", "user"}

// Limits of a query.
const (
	MaxGroupBy = 2
	// MaxPoints bounds a series' buckets, MaxTop the groups of an answer:
	// more than a chart or a table shows.
	MaxPoints = 2000
	MaxTop    = 10000
	// DefaultTop is how many groups an answer holds when top is not given.
	DefaultTop = 1000
)

// sortExpr is the SQL of each metric over the source's aggregated
// columns, for ORDER BY: fixed text, never a request's.
var sortExpr = map[string]string{
	"calls":         "n",
	"errors":        "e",
	"error_rate":    "e / greatest(n, 1)",
	"latency_p50":   "quantileTDigestMerge(0.5)(latency)",
	"latency_p95":   "quantileTDigestMerge(0.95)(latency)",
	"latency_p99":   "quantileTDigestMerge(0.99)(latency)",
	"tokens":        "ti + tout",
	"input_tokens":  "ti",
	"output_tokens": "tout",
	"cost":          "c",
}

// Query is one metrics request.
type Query struct {
	schema.Filter
	Metrics []string // nil: all of Names
	GroupBy []string // up to MaxGroupBy of Groups or tag.<name>
	Step    string   // "" or one of Steps
	Top     int      // groups kept (0: DefaultTop), by Sort descending
	Sort    string   // one of Names ("" : cost)
}

// Check names every bad field of q; the API reports them all at once.
func (q *Query) Check() []domainerr.Field {
	var out []domainerr.Field
	for _, m := range q.Metrics {
		if !slices.Contains(Names, m) {
			out = append(out, domainerr.Field{Field: "metrics", Message: "unknown metric " + strconv.Quote(m) + ": one of " + strings.Join(Names, ", ")})
			break
		}
	}
	if len(q.GroupBy) > MaxGroupBy {
		out = append(out, domainerr.Field{Field: "groupBy", Message: fmt.Sprintf("at most %d dimensions", MaxGroupBy)})
	}
	tags := 0
	for i, g := range q.GroupBy {
		if _, ok := schema.IsTagGroup(g); ok {
			tags++
		} else if !slices.Contains(Groups, g) {
			out = append(out, domainerr.Field{Field: "groupBy", Message: "unknown dimension " + strconv.Quote(g) + ": one of " + strings.Join(Groups, ", ") + ", tag.<name>"})
		}
		if slices.Contains(q.GroupBy[:i], g) {
			out = append(out, domainerr.Field{Field: "groupBy", Message: "dimension " + strconv.Quote(g) + " given twice"})
		}
	}
	if tags > 1 {
		out = append(out, domainerr.Field{Field: "groupBy", Message: "at most one tag"})
	}
	if q.Step != "" && !slices.Contains(Steps, q.Step) {
		out = append(out, domainerr.Field{Field: "step", Message: "one of " + strings.Join(Steps, ", ") + ", or none for one aggregate"})
	}
	if q.Top < 0 || q.Top > MaxTop {
		out = append(out, domainerr.Field{Field: "top", Message: fmt.Sprintf("between 1 and %d", MaxTop)})
	}
	if q.Sort != "" && !slices.Contains(Names, q.Sort) {
		out = append(out, domainerr.Field{Field: "sort", Message: "one of " + strings.Join(Names, ", ")})
	}
	if q.Step != "" && out == nil {
		w := stepWidth[q.Step]
		if n := q.To.Sub(q.From.Truncate(w)) / w; n > MaxPoints {
			out = append(out, domainerr.Field{Field: "step", Message: fmt.Sprintf("step %s over this range gives more than %d points: use a coarser step or a shorter range", q.Step, MaxPoints)})
		}
	}
	return out
}

// Values are a group's (or a bucket's) metrics, only those asked for.
// Latencies are null without calls; cost is an exact decimal string.
type Values map[string]any

// Point is one bucket of a series.
type Point struct {
	TS     string `json:"ts"`
	Values Values `json:"values"`
}

// Row is one group: its dimension values (absent without groupBy), its
// metrics over the range, and with a step its series, every bucket filled.
type Row struct {
	Group  map[string]string `json:"group,omitempty"`
	Values Values            `json:"values"`
	Points []Point           `json:"points,omitempty"`
}

// Result is the answer of a query.
type Result struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Step    string   `json:"step,omitempty"`
	GroupBy []string `json:"groupBy,omitempty"`
	Metrics []string `json:"metrics"`
	Sort    string   `json:"sort"`
	// Source is the rollup family read (its day table), or api_calls
	// when no rollup holds the dimensions together.
	Source string `json:"source"`
	// Truncated says more groups exist than the answer holds (top).
	Truncated bool  `json:"truncated"`
	Rows      []Row `json:"rows"`
}

// Service answers metrics queries over one store.
type Service struct{ store store.Store }

// New is a Service over s.
func New(s store.Store) *Service { return &Service{store: s} }
