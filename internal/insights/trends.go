package insights

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

var trendPeriods = map[string]time.Duration{"day": 24 * time.Hour, "week": 7 * 24 * time.Hour}

// TrendPeriods and TrendSorts are the periods trends compare and what
// they can be sorted by.
var TrendPeriods = []string{"day", "week"}

var TrendSorts = []string{"spend", "calls", "errorRate", "p95"}

// trendPlaces is the precision of percentages that do not terminate
// (1/3 → "33.3333"); those that do within it are exact ("12.5").
const trendPlaces = 4

// TrendMetric compares one figure across the two periods. Values are
// decimal strings; null where the figure is undefined (no calls, so no
// error rate or latency). Change is the relative change in percent; with a
// zero or undefined baseline there is nothing to divide by, so it is null
// and New says the figure appeared.
type TrendMetric struct {
	Current  *string `json:"current"`
	Previous *string `json:"previous"`
	Delta    *string `json:"delta"`
	Change   *string `json:"change"`
	New      bool    `json:"new"`

	sortKey decimal.Decimal
}

// TrendRow is one provider and model across the two periods.
type TrendRow struct {
	Provider     string      `json:"provider"`
	Model        string      `json:"model"`
	Spend        TrendMetric `json:"spendUsd"`
	Calls        TrendMetric `json:"calls"`
	ErrorRate    TrendMetric `json:"errorRatePct"`
	P95LatencyMs TrendMetric `json:"p95LatencyMs"`
}

// TrendSpan is one period.
type TrendSpan struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Trends is the answer of a trends read; the caller pages Rows.
type Trends struct {
	Period   string     `json:"period"`
	At       string     `json:"at"`
	Sort     string     `json:"sort"`
	Current  TrendSpan  `json:"current"`
	Previous TrendSpan  `json:"previous"`
	Rows     []TrendRow `json:"rows"`
}

func newTrend(cur, prev *decimal.Decimal) TrendMetric {
	var m TrendMetric
	str := func(d decimal.Decimal) *string { s := d.String(); return &s }
	if cur != nil {
		m.Current = str(*cur)
		m.sortKey = cur.Abs()
	}
	if prev != nil {
		m.Previous = str(*prev)
	}
	if cur != nil && prev != nil {
		d := cur.Sub(*prev)
		m.Delta, m.sortKey = str(d), d.Abs()
	}
	switch {
	case prev != nil && !prev.IsZero() && cur != nil:
		m.Change = str(cur.Sub(*prev).Mul(decimal.NewFromInt(100)).DivRound(*prev, trendPlaces))
	case cur != nil && !cur.IsZero():
		m.New = true
	}
	return m
}

type periodAgg struct {
	calls, errors uint64
	cost          decimal.Decimal
	p95           float64
}

func (p *periodAgg) values() (spend, calls, errRate, p95 *decimal.Decimal) {
	if p == nil {
		z, zc := decimal.Zero, decimal.Zero
		return &z, &zc, nil, nil
	}
	s, c := p.cost, decimal.NewFromUint64(p.calls)
	spend, calls = &s, &c
	if p.calls > 0 {
		e := decimal.NewFromUint64(p.errors).Mul(decimal.NewFromInt(100)).DivRound(c, trendPlaces)
		errRate = &e
		if !math.IsNaN(p.p95) && !math.IsInf(p.p95, 0) {
			l := decimal.NewFromFloat(p.p95).Round(3)
			p95 = &l
		}
	}
	return spend, calls, errRate, p95
}

// Trends compares the period ("day" or "week") ending at at (truncated to
// the UTC day) with the one before it, per provider and model, from the
// day rollup: whole UTC days need nothing finer. Rows are sorted by the
// largest movers of sortBy (one of TrendSorts). A previous period older
// than the day rollup keeps is refused, naming at.
func (s *Service) Trends(ctx context.Context, scope schema.Scope, at time.Time, period, sortBy string) (Trends, error) {
	span := trendPeriods[period]
	end := at.Truncate(24 * time.Hour)
	cur, prev := end.Add(-span), end.Add(-2*span)
	// A customer's, user's or tag's trends come from that dimension's own
	// day rollup; a combination no rollup holds has no day rows to compare.
	fam := schema.FamilyOf(scope)
	if fam == schema.FamilyRaw {
		return Trends{}, domainerr.Invalid("no daily rollup holds these filters together", domainerr.Field{Field: "customer",
			Message: "trends take at most one of customer, user and a tag"})
	}
	table := fam.Table(schema.GrainDay)
	horizon := schema.RetentionOf(s.store).Horizons(time.Now())
	if h := horizon.OfTable(table); !h.IsZero() && prev.Before(h) {
		return Trends{}, domainerr.Invalid("period older than the store keeps", domainerr.Field{Field: "at",
			Message: "the previous period starts before the day rollup's retention"})
	}

	f := schema.Filter{Scope: scope, From: prev, To: end}
	where, params := f.WhereIn(fam, "ts")
	params["cur"] = cur.Format(time.DateTime)
	type key struct{ provider, model string }
	aggs := map[key]*[2]*periodAgg{}
	err := s.scanRows(ctx, "SELECT provider, model, ts >= {cur:DateTime('UTC')} AS is_cur, sum(calls), sum(errors), "+
		"CAST(sum(cost_usd) AS Decimal(38, 12)), quantileTDigestMerge(0.95)(latency_ms) FROM "+schema.Table(s.store, table)+
		" WHERE "+where+" GROUP BY provider, model, is_cur", params, func(rows store.Rows) error {
		var k key
		var isCur uint8
		p := &periodAgg{}
		if err := rows.Scan(&k.provider, &k.model, &isCur, &p.calls, &p.errors, &p.cost, &p.p95); err != nil {
			return err
		}
		if aggs[k] == nil {
			aggs[k] = &[2]*periodAgg{}
		}
		aggs[k][isCur] = p
		return nil
	})
	if err != nil {
		return Trends{}, fmt.Errorf("read trends: %w", err)
	}

	rows := make([]TrendRow, 0, len(aggs))
	for k, pair := range aggs {
		ps, pc, pe, pl := pair[0].values()
		cs, cc, ce, cl := pair[1].values()
		if cs.IsZero() && ps.IsZero() && cc.IsZero() && pc.IsZero() {
			continue
		}
		rows = append(rows, TrendRow{Provider: k.provider, Model: k.model,
			Spend: newTrend(cs, ps), Calls: newTrend(cc, pc), ErrorRate: newTrend(ce, pe), P95LatencyMs: newTrend(cl, pl)})
	}
	metric := func(row *TrendRow) decimal.Decimal {
		switch sortBy {
		case "calls":
			return row.Calls.sortKey
		case "errorRate":
			return row.ErrorRate.sortKey
		case "p95":
			return row.P95LatencyMs.sortKey
		}
		return row.Spend.sortKey
	}
	// Largest movers first; ties by name so that pages are stable.
	sort.Slice(rows, func(i, j int) bool {
		if c := metric(&rows[i]).Cmp(metric(&rows[j])); c != 0 {
			return c > 0
		}
		if rows[i].Provider != rows[j].Provider {
			return rows[i].Provider < rows[j].Provider
		}
		return rows[i].Model < rows[j].Model
	})
	return Trends{Period: period, At: at.Format(time.RFC3339Nano), Sort: sortBy,
		Current:  TrendSpan{From: cur.Format(time.RFC3339), To: end.Format(time.RFC3339)},
		Previous: TrendSpan{From: prev.Format(time.RFC3339), To: cur.Format(time.RFC3339)},
		Rows:     rows}, nil
}
