package nexusapiextension

import (
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Forecast methods, as reported in answers.
const (
	methodLinear   = "linear_trend" // least squares over the daily series
	methodMean     = "mean_daily"   // mean of a series too short for a trend
	methodBurnRate = "burn_rate"    // spent so far per elapsed day
	methodActual   = "actual"       // the period is over: nothing to project
)

// minTrendDays is the shortest series a line is fitted to: two points
// always fit exactly and say little about a trend.
const minTrendDays = 3

// forecastFormula spells the projection so that a reviewer can redo it
// from the answer's own fields.
const forecastFormula = "projectedRemaining = todayRemainingFraction × f(n) + Σ f(n+j) for j = 1…fullDaysRemaining, " +
	"f(x) = max(0, intercept + slope × x), x = 0 the first day of dailySeries, n = its length (today); " +
	"a flat method has slope 0 and intercept its daily rate"

// line is f(x) = max(0, intercept + slope·x) in dollars per day; spend
// cannot be negative, so a falling trend stops at zero.
type line struct{ slope, intercept *big.Rat }

func (l line) at(x int) *big.Rat {
	v := new(big.Rat).Mul(l.slope, new(big.Rat).SetInt64(int64(x)))
	v.Add(v, l.intercept)
	if v.Sign() < 0 {
		return new(big.Rat)
	}
	return v
}

// fitLine is the least-squares line through (x, ys[x]), x = 0…n-1, in
// exact rationals: slope = Σ(x-x̄)(y-ȳ) / Σ(x-x̄)², intercept = ȳ - slope·x̄.
// It needs at least two points.
func fitLine(ys []*big.Rat) line {
	n := int64(len(ys))
	xbar := big.NewRat(n-1, 2)
	ybar := new(big.Rat)
	for _, y := range ys {
		ybar.Add(ybar, y)
	}
	ybar.Quo(ybar, big.NewRat(n, 1))
	sxy, sxx := new(big.Rat), new(big.Rat)
	for i, y := range ys {
		dx := new(big.Rat).Sub(big.NewRat(int64(i), 1), xbar)
		dy := new(big.Rat).Sub(y, ybar)
		sxy.Add(sxy, new(big.Rat).Mul(dx, dy))
		sxx.Add(sxx, new(big.Rat).Mul(dx, dx))
	}
	slope := new(big.Rat).Quo(sxy, sxx)
	intercept := new(big.Rat).Sub(ybar, new(big.Rat).Mul(slope, xbar))
	return line{slope: slope, intercept: intercept}
}

func flat(rate *big.Rat) line { return line{slope: new(big.Rat), intercept: rate} }

func mean(ys []*big.Rat) *big.Rat {
	s := new(big.Rat)
	for _, y := range ys {
		s.Add(s, y)
	}
	return s.Quo(s, big.NewRat(int64(len(ys)), 1))
}

// projectRemaining sums l over the days ahead: the rest of today
// (todayLeft of it, at x = n) and fullDays whole days after it.
func (l line) projectRemaining(n int, todayLeft *big.Rat, fullDays int) *big.Rat {
	sum := new(big.Rat).Mul(todayLeft, l.at(n))
	for j := 1; j <= fullDays; j++ {
		sum.Add(sum, l.at(n+j))
	}
	return sum
}

// calendar places now among the calendar days of loc. Periods are
// counted in calendar days, so a week is 7 days even across a DST change,
// and the fraction of today is of today's real length.
type calendar struct {
	loc        *time.Location
	now        time.Time
	todayStart time.Time
	todayEnd   time.Time
	todayLeft  *big.Rat // fraction of today still to come
}

func newCalendar(now time.Time, loc *time.Location) calendar {
	y, m, d := now.In(loc).Date()
	c := calendar{loc: loc, now: now, todayStart: time.Date(y, m, d, 0, 0, 0, 0, loc), todayEnd: time.Date(y, m, d+1, 0, 0, 0, 0, loc)}
	c.todayLeft = big.NewRat(int64(c.todayEnd.Sub(now)), int64(c.todayEnd.Sub(c.todayStart)))
	return c
}

// daysBetween counts calendar days from the day of a to the day of b in loc.
func daysBetween(a, b time.Time, loc *time.Location) int {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return int(time.Date(by, bm, bd, 12, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 12, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

type dailyPoint struct {
	Date  string `json:"date"`
	Cost  string `json:"cost"`
	Calls uint64 `json:"calls"`
	cost  *big.Rat
}

// dailySeries lists the calendar days of [from, to) in loc (both local
// midnights) with their spend, zero-filled.
func dailySeries(by map[string]costAgg, from, to time.Time, loc *time.Location) []dailyPoint {
	var out []dailyPoint
	y, m, d := from.In(loc).Date()
	for i := 0; ; i++ {
		t := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !t.Before(to) {
			return out
		}
		key := t.Format(time.DateOnly)
		agg := by[key]
		out = append(out, dailyPoint{Date: key, Cost: money(agg.Cost), Calls: agg.Calls, cost: agg.Cost.Rat()})
	}
}

// trimLeading drops the days before the first day with any call: days
// before usage began would read as a rising trend that is not there.
func trimLeading(s []dailyPoint) []dailyPoint {
	for i, p := range s {
		if p.Calls > 0 {
			return s[i:]
		}
	}
	return s[:0]
}

func costs(s []dailyPoint) []*big.Rat {
	out := make([]*big.Rat, len(s))
	for i, p := range s {
		out[i] = p.cost
	}
	return out
}

// projection is a forecast with every input that produced it.
type projection struct {
	Method                 string       `json:"method"`
	Formula                string       `json:"formula,omitempty"`
	DailySeries            []dailyPoint `json:"dailySeries"`
	Slope                  *string      `json:"slope"`
	Intercept              *string      `json:"intercept"`
	TodayRemainingFraction string       `json:"todayRemainingFraction"`
	FullDaysRemaining      int          `json:"fullDaysRemaining"`
	DaysRemaining          string       `json:"daysRemaining"`
	ProjectedRemaining     string       `json:"projectedRemaining"`
	remaining              *big.Rat
}

// project forecasts the spend from now to end (a local midnight) from the
// series of complete days before today: a least-squares line when the
// series has minTrendDays days, else the fallback daily rate, named by
// fallbackMethod.
func project(series []dailyPoint, c calendar, end time.Time, fallbackMethod string, fallbackRate *big.Rat) projection {
	p := projection{Formula: forecastFormula, DailySeries: series, TodayRemainingFraction: c.todayLeft.FloatString(6)}
	if series == nil {
		p.DailySeries = []dailyPoint{}
	}
	var l line
	if len(series) >= minTrendDays {
		p.Method, l = methodLinear, fitLine(costs(series))
	} else {
		p.Method, l = fallbackMethod, flat(fallbackRate)
	}
	slope, intercept := l.slope.FloatString(6), l.intercept.FloatString(6)
	p.Slope, p.Intercept = &slope, &intercept
	p.FullDaysRemaining = max(0, daysBetween(c.todayStart, end, c.loc)-1)
	p.DaysRemaining = new(big.Rat).Add(c.todayLeft, big.NewRat(int64(p.FullDaysRemaining), 1)).FloatString(6)
	p.remaining = l.projectRemaining(len(series), c.todayLeft, p.FullDaysRemaining)
	p.ProjectedRemaining = p.remaining.FloatString(6)
	return p
}

// --- /costs/forecast ---

type forecastData struct {
	Month       string `json:"month"`
	Timezone    string `json:"timezone"`
	AsOf        string `json:"asOf"`
	MonthStart  string `json:"monthStart"`
	MonthEnd    string `json:"monthEnd"`
	Complete    bool   `json:"complete"`
	Days        int    `json:"days"`
	MonthToDate string `json:"monthToDate"`
	projection
	ProjectedTotal string `json:"projectedTotal"`
}

const (
	defaultForecastDays = 14
	maxForecastDays     = 90
)

// costForecast projects the month's spend at its end: month-to-date plus
// the projection of the days left (see project), fitted on the last `days`
// complete days before today, in the configured time zone. A past month
// is complete: its total is what was spent.
func (a *api) costForecast(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	now := time.Now()
	var details []FieldError
	for _, name := range []string{"from", "to"} {
		if q.Has(name) {
			details = append(details, FieldError{Field: name, Message: "not accepted: the forecast covers a calendar month (use month=YYYY-MM)"})
		}
	}
	var scope filters
	if details == nil {
		var fErr *APIError
		scope, fErr = a.parseFilters(r, time.Hour)
		if fErr != nil {
			details = append(details, fErr.Details...)
		}
	}
	days := defaultForecastDays
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxForecastDays {
			details = append(details, FieldError{Field: "days", Message: "must be a whole number from 1 to " + strconv.Itoa(maxForecastDays)})
		} else {
			days = n
		}
	}
	c := newCalendar(now, a.loc)
	y, m, _ := now.In(a.loc).Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, a.loc)
	if v := q.Get("month"); v != "" {
		t, err := time.ParseInLocation("2006-01", v, a.loc)
		switch {
		case err != nil:
			details = append(details, FieldError{Field: "month", Message: "must be a month as YYYY-MM, e.g. 2026-11"})
		case t.After(now):
			details = append(details, FieldError{Field: "month", Message: "is in the future"})
		case now.Sub(t) > a.cfg.MaxRange:
			details = append(details, FieldError{Field: "month", Message: "older than the data is kept (" + a.cfg.MaxRange.String() + ")"})
		default:
			monthStart = t
		}
	}
	if details != nil {
		return badRequest("invalid forecast query", details...)
	}
	monthEnd := time.Date(monthStart.Year(), monthStart.Month()+1, 1, 0, 0, 0, 0, a.loc)
	out := forecastData{Month: monthStart.Format("2006-01"), Timezone: a.loc.String(), AsOf: now.In(a.loc).Format(time.RFC3339Nano),
		MonthStart: monthStart.Format(time.RFC3339), MonthEnd: monthEnd.Format(time.RFC3339), Days: days}

	if !now.Before(monthEnd) {
		by, err := a.dailyCosts(r.Context(), scope, monthStart, monthEnd, a.loc)
		if err != nil {
			return a.costError(r, "cost forecast", "month", err)
		}
		mtd := decimal.Zero
		for _, agg := range by {
			mtd = mtd.Add(agg.Cost)
		}
		out.Complete, out.MonthToDate, out.ProjectedTotal = true, money(mtd), mtd.StringFixed(6)
		out.projection = projection{Method: methodActual, DailySeries: dailySeries(by, monthStart, monthEnd, a.loc),
			TodayRemainingFraction: "0.000000", DaysRemaining: "0.000000", ProjectedRemaining: "0.000000"}
		writeData(w, http.StatusOK, out, nil)
		return nil
	}

	trainStart := time.Date(c.todayStart.Year(), c.todayStart.Month(), c.todayStart.Day()-days, 0, 0, 0, 0, a.loc)
	from := monthStart
	if trainStart.Before(from) {
		from = trainStart
	}
	by, err := a.dailyCosts(r.Context(), scope, from, now, a.loc)
	if err != nil {
		// The training window is what reaches furthest back.
		return a.costError(r, "cost forecast", "days", err)
	}
	mtd := decimal.Zero
	for day, agg := range by {
		if day >= monthStart.Format(time.DateOnly) {
			mtd = mtd.Add(agg.Cost)
		}
	}
	// Under minTrendDays days the mean of those days; with no complete day
	// of usage at all, the only rate there is: month-to-date over the
	// month's elapsed (calendar) days.
	elapsed := new(big.Rat).Sub(big.NewRat(int64(daysBetween(monthStart, c.todayStart, a.loc)+1), 1), c.todayLeft)
	burn := new(big.Rat)
	if elapsed.Sign() > 0 {
		burn.Quo(mtd.Rat(), elapsed)
	}
	series := trimLeading(dailySeries(by, trainStart, c.todayStart, a.loc))
	fallback, rate := methodBurnRate, burn
	if len(series) > 0 {
		fallback, rate = methodMean, mean(costs(series))
	}
	out.projection = project(series, c, monthEnd, fallback, rate)
	out.MonthToDate = money(mtd)
	out.ProjectedTotal = new(big.Rat).Add(mtd.Rat(), out.remaining).FloatString(6)
	writeData(w, http.StatusOK, out, nil)
	return nil
}
