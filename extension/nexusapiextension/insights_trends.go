package nexusapiextension

import (
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

var trendPeriods = map[string]time.Duration{"day": 24 * time.Hour, "week": 7 * 24 * time.Hour}

var trendSorts = []string{"spend", "calls", "errorRate", "p95"}

// trendPlaces is the precision of percentages that do not terminate
// (1/3 → "33.3333"); those that do within it are exact ("12.5").
const trendPlaces = 4

// trendMetric compares one figure across the two periods. Values are
// decimal strings; null where the figure is undefined (no calls, so no
// error rate or latency). Change is the relative change in percent; with a
// zero or undefined baseline there is nothing to divide by, so it is null
// and New says the figure appeared.
type trendMetric struct {
	Current  *string `json:"current"`
	Previous *string `json:"previous"`
	Delta    *string `json:"delta"`
	Change   *string `json:"change"`
	New      bool    `json:"new"`

	sortKey decimal.Decimal
}

type trendRow struct {
	Provider     string      `json:"provider"`
	Model        string      `json:"model"`
	Spend        trendMetric `json:"spendUsd"`
	Calls        trendMetric `json:"calls"`
	ErrorRate    trendMetric `json:"errorRatePct"`
	P95LatencyMs trendMetric `json:"p95LatencyMs"`
}

type trendSpan struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type trendsData struct {
	Period   string     `json:"period"`
	At       string     `json:"at"`
	Sort     string     `json:"sort"`
	Current  trendSpan  `json:"current"`
	Previous trendSpan  `json:"previous"`
	Rows     []trendRow `json:"rows"`
}

func newTrend(cur, prev *decimal.Decimal) trendMetric {
	var m trendMetric
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

// insightTrends compares the period ending at `at` (truncated to the UTC
// day) with the one before it, per provider and model, from the day
// rollup: whole UTC days need nothing finer.
func (a *api) insightTrends(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	f, details := parseScope(q)
	var errs []*APIError
	if details != nil {
		errs = append(errs, badRequest("invalid filters", details...))
	}
	for _, name := range []string{"from", "to"} {
		if q.Get(name) != "" {
			errs = append(errs, badRequest("", FieldError{Field: name, Message: "not used: trends compare whole UTC periods ending at `at`"}))
		}
	}
	at := time.Now().UTC()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, badRequest("", FieldError{Field: "at", Message: "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"}))
		}
		at = t.UTC()
	}
	period := q.Get("period")
	if period == "" {
		period = "week"
	}
	errs = append(errs, oneOf("period", period, []string{"day", "week"}))
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "spend"
	}
	errs = append(errs, oneOf("sort", sortBy, trendSorts))
	pg, pErr := parsePage(r)
	errs = append(errs, pErr)
	if err := joinErrors(errs...); err != nil {
		return err
	}
	span := trendPeriods[period]
	end := at.Truncate(24 * time.Hour)
	cur, prev := end.Add(-span), end.Add(-2*span)
	horizon := schema.RetentionOf(a.store).Horizons(time.Now())
	if h := horizon.Of(schema.GrainDay); !h.IsZero() && prev.Before(h) {
		return badRequest("period older than the store keeps", FieldError{Field: "at", Message: "the previous period starts before the day rollup's retention"})
	}

	f.From, f.To = prev, end
	where, params := f.where("ts")
	params["cur"] = cur.Format(time.DateTime)
	type key struct{ provider, model string }
	aggs := map[key]*[2]*periodAgg{}
	err := a.scanRows(r.Context(), "SELECT provider, model, ts >= {cur:DateTime('UTC')} AS is_cur, sum(calls), sum(errors), "+
		"CAST(sum(cost_usd) AS Decimal(38, 12)), quantileTDigestMerge(0.95)(latency_ms) FROM "+a.store.Database()+
		".api_calls_1d WHERE "+where+" GROUP BY provider, model, is_cur", params, func(rows store.Rows) error {
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
		return a.storeError(r, "read trends", err)
	}

	rows := make([]trendRow, 0, len(aggs))
	for k, pair := range aggs {
		ps, pc, pe, pl := pair[0].values()
		cs, cc, ce, cl := pair[1].values()
		if cs.IsZero() && ps.IsZero() && cc.IsZero() && pc.IsZero() {
			continue
		}
		rows = append(rows, trendRow{Provider: k.provider, Model: k.model,
			Spend: newTrend(cs, ps), Calls: newTrend(cc, pc), ErrorRate: newTrend(ce, pe), P95LatencyMs: newTrend(cl, pl)})
	}
	metric := func(row *trendRow) decimal.Decimal {
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
	writeData(w, http.StatusOK, trendsData{Period: period, At: at.Format(time.RFC3339Nano), Sort: sortBy,
		Current:  trendSpan{From: cur.Format(time.RFC3339), To: end.Format(time.RFC3339)},
		Previous: trendSpan{From: prev.Format(time.RFC3339), To: cur.Format(time.RFC3339)},
		Rows:     paginate(rows, pg)}, pg.of(int64(len(rows))))
	return nil
}
