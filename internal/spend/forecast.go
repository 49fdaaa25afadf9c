package spend

import (
	"context"
	"math/big"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/schema"
)

// Forecast methods, as reported in answers (method).
const (
	MethodLinear   = "linear_trend" // least squares over the daily series
	MethodMean     = "mean_daily"   // mean of a series too short for a trend
	MethodBurnRate = "burn_rate"    // spent so far per elapsed day
	MethodActual   = "actual"       // the period is over: nothing to project
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

// DailyPoint is one calendar day of spend.
type DailyPoint struct {
	Date  string `json:"date"`
	Cost  string `json:"cost"`
	Calls uint64 `json:"calls"`
	cost  *big.Rat
}

// dailySeries lists the calendar days of [from, to) in loc (both local
// midnights) with their spend, zero-filled.
func dailySeries(by map[string]CostAgg, from, to time.Time, loc *time.Location) []DailyPoint {
	var out []DailyPoint
	y, m, d := from.In(loc).Date()
	for i := 0; ; i++ {
		t := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !t.Before(to) {
			return out
		}
		key := t.Format(time.DateOnly)
		agg := by[key]
		out = append(out, DailyPoint{Date: key, Cost: Money(agg.Cost), Calls: agg.Calls, cost: agg.Cost.Rat()})
	}
}

// trimLeading drops the days before the first day with any call: days
// before usage began would read as a rising trend that is not there.
func trimLeading(s []DailyPoint) []DailyPoint {
	for i, p := range s {
		if p.Calls > 0 {
			return s[i:]
		}
	}
	return s[:0]
}

func costs(s []DailyPoint) []*big.Rat {
	out := make([]*big.Rat, len(s))
	for i, p := range s {
		out[i] = p.cost
	}
	return out
}

// Projection is a forecast with every input that produced it.
type Projection struct {
	Method                 string       `json:"method"`
	Formula                string       `json:"formula,omitempty"`
	DailySeries            []DailyPoint `json:"dailySeries"`
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
func project(series []DailyPoint, c calendar, end time.Time, fallbackMethod string, fallbackRate *big.Rat) Projection {
	p := Projection{Formula: forecastFormula, DailySeries: series, TodayRemainingFraction: c.todayLeft.FloatString(6)}
	if series == nil {
		p.DailySeries = []DailyPoint{}
	}
	var l line
	if len(series) >= minTrendDays {
		p.Method, l = MethodLinear, fitLine(costs(series))
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

// --- month forecast ---

// Forecast is a month's spend projected at its end.
type Forecast struct {
	Month       string `json:"month"`
	Timezone    string `json:"timezone"`
	AsOf        string `json:"asOf"`
	MonthStart  string `json:"monthStart"`
	MonthEnd    string `json:"monthEnd"`
	Complete    bool   `json:"complete"`
	Days        int    `json:"days"`
	MonthToDate string `json:"monthToDate"`
	Projection
	ProjectedTotal string `json:"projectedTotal"`
}

// Forecast days: how many complete days before today the projection is
// fitted on.
const (
	DefaultForecastDays = 14
	MaxForecastDays     = 90
)

// MonthForecast projects the spend of scope in the month starting at
// monthStart (a local midnight in the default zone) at its end:
// month-to-date plus the projection of the days left (see project), fitted
// on the last days complete days before today. A past month is complete:
// its total is what was spent. A range the store no longer answers exactly
// is a *schema.NotKeptError naming the input that reached back: month for
// a past month, days (the training window) otherwise.
func (s *Service) MonthForecast(ctx context.Context, scope schema.Scope, monthStart time.Time, days int, now time.Time) (Forecast, error) {
	loc := s.loc
	c := newCalendar(now, loc)
	monthEnd := time.Date(monthStart.Year(), monthStart.Month()+1, 1, 0, 0, 0, 0, loc)
	out := Forecast{Month: monthStart.Format("2006-01"), Timezone: loc.String(), AsOf: now.In(loc).Format(time.RFC3339Nano),
		MonthStart: monthStart.Format(time.RFC3339), MonthEnd: monthEnd.Format(time.RFC3339), Days: days}

	if !now.Before(monthEnd) {
		by, err := s.DailyCosts(ctx, scope, monthStart, monthEnd, loc)
		if err != nil {
			return Forecast{}, notKeptInput(err, "month")
		}
		mtd := decimal.Zero
		for _, agg := range by {
			mtd = mtd.Add(agg.Cost)
		}
		out.Complete, out.MonthToDate, out.ProjectedTotal = true, Money(mtd), mtd.StringFixed(6)
		out.Projection = Projection{Method: MethodActual, DailySeries: dailySeries(by, monthStart, monthEnd, loc),
			TodayRemainingFraction: "0.000000", DaysRemaining: "0.000000", ProjectedRemaining: "0.000000"}
		return out, nil
	}

	trainStart := time.Date(c.todayStart.Year(), c.todayStart.Month(), c.todayStart.Day()-days, 0, 0, 0, 0, loc)
	from := monthStart
	if trainStart.Before(from) {
		from = trainStart
	}
	by, err := s.DailyCosts(ctx, scope, from, now, loc)
	if err != nil {
		// The training window is what reaches furthest back.
		return Forecast{}, notKeptInput(err, "days")
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
	elapsed := new(big.Rat).Sub(big.NewRat(int64(daysBetween(monthStart, c.todayStart, loc)+1), 1), c.todayLeft)
	burn := new(big.Rat)
	if elapsed.Sign() > 0 {
		burn.Quo(mtd.Rat(), elapsed)
	}
	series := trimLeading(dailySeries(by, trainStart, c.todayStart, loc))
	fallback, rate := MethodBurnRate, burn
	if len(series) > 0 {
		fallback, rate = MethodMean, mean(costs(series))
	}
	out.Projection = project(series, c, monthEnd, fallback, rate)
	out.MonthToDate = Money(mtd)
	out.ProjectedTotal = new(big.Rat).Add(mtd.Rat(), out.remaining).FloatString(6)
	return out, nil
}
