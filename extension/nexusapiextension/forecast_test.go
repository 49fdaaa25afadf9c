package nexusapiextension

import (
	"math/big"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/spend"
)

func forecast(t *testing.T, ta *testAPI, kv ...string) spend.Forecast {
	t.Helper()
	e := ta.do("GET", costQuery("/api/v1/costs/forecast", kv...), ta.admin, nil)
	if e.status != 200 {
		t.Fatalf("forecast %v: %d %+v", kv, e.status, e.Error)
	}
	var d spend.Forecast
	e.decode(t, &d)
	return d
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

// A past month is complete: its total is what was spent, to the digit.
func TestCostForecastPastMonth(t *testing.T) {
	ta := startAPI(t, freshDB("api_forecast_past"), nil)
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	next := month.AddDate(0, 1, 0)
	ta.seed(
		seedCall{At: month, Provider: "openai", Cost: "1.000000000001"},
		seedCall{At: month.AddDate(0, 0, 4).Add(10 * time.Hour), Provider: "openai", Cost: "2.5"},
		seedCall{At: next.Add(-time.Millisecond), Provider: "openai", Cost: "0.25"},
		seedCall{At: month.AddDate(0, 0, 4), Provider: "exa", Cost: "9"},
		seedCall{At: next, Provider: "openai", Cost: "100"},
		seedCall{At: month.Add(-time.Millisecond), Provider: "openai", Cost: "100"},
	)
	d := forecast(t, ta, "month", month.Format("2006-01"), "provider", "openai")
	days := next.Sub(month) / (24 * time.Hour)
	if !d.Complete || d.Method != spend.MethodActual || d.MonthToDate != "3.750000000001" || d.ProjectedTotal != "3.750000" ||
		d.ProjectedRemaining != "0.000000" || d.Slope != nil || len(d.DailySeries) != int(days) ||
		d.MonthStart != month.Format(time.RFC3339) || d.MonthEnd != next.Format(time.RFC3339) {
		t.Fatalf("past month: %+v", d)
	}
	if p := d.DailySeries[0]; p.Date != month.Format(time.DateOnly) || p.Cost != "1.000000000001" || p.Calls != 1 {
		t.Errorf("first day: %+v", p)
	}
	if p := d.DailySeries[4]; p.Cost != "2.5" {
		t.Errorf("fifth day: %+v", p)
	}
	if p := d.DailySeries[days-1]; p.Cost != "0.25" {
		t.Errorf("last day: %+v", p)
	}
	if d := forecast(t, ta, "month", month.Format("2006-01")); d.MonthToDate != "12.750000000001" {
		t.Errorf("unscoped: %s", d.MonthToDate)
	}
}

// The current month, in a zone half an hour off UTC: month-to-date plus a
// least-squares line over the last complete days, checked against the
// arithmetic done by hand.
func TestCostForecastCurrentMonth(t *testing.T) {
	// Its figures depend on today: if the day changes mid-run, it runs again.
	for attempt := 1; !runCostForecastCurrentMonth(t); attempt++ {
		if attempt == 2 {
			t.Fatal("the day changed twice while the test ran")
		}
	}
}

// runCostForecastCurrentMonth is one run of TestCostForecastCurrentMonth; it answers false when
// the day changed while it ran.
func runCostForecastCurrentMonth(t *testing.T) bool {
	ta := startAPI(t, freshDB("api_forecast_now"), func(c *Config) { c.TimeZone = "Asia/Kolkata" })
	loc := ta.api.loc
	now := time.Now()
	y, m, dd := now.In(loc).Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	noon := func(back int) time.Time { return time.Date(y, m, dd-back, 12, 0, 0, 0, loc) }

	// The last five complete days spent 3, 1, 4, 1, 5 on openai:
	// x̄ = 2, ȳ = 2.8, Σ(x-x̄)(y-ȳ) = 4, Σ(x-x̄)² = 10, so slope = 0.4 and
	// intercept = 2.8 - 0.4·2 = 2. Exa spent 7 a day, openai 100 the day
	// before the window, and 0.5 so far today.
	ys := []string{"3", "1", "4", "1", "5"}
	type spent struct {
		at   time.Time
		cost string
	}
	openai := []spent{{noon(6), "100"}, {today.Add(now.Sub(today) / 2), "0.5"}}
	for i, y := range ys {
		openai = append(openai, spent{noon(5 - i), y})
	}
	var calls []seedCall
	for _, s := range openai {
		calls = append(calls, seedCall{At: s.at, Provider: "openai", Cost: s.cost})
	}
	for i := range ys {
		calls = append(calls, seedCall{At: noon(5 - i), Provider: "exa", Cost: "7"})
	}
	ta.seed(calls...)
	mtd := new(big.Rat)
	for _, s := range openai {
		if !s.at.Before(monthStart) {
			mtd.Add(mtd, rat(s.cost))
		}
	}

	d := forecast(t, ta, "provider", "openai", "days", "5")
	asOf, err := time.Parse(time.RFC3339Nano, d.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if asOf.Before(now) || asOf.Sub(now) > time.Minute {
		t.Fatalf("asOf %s, test's now %s", asOf, now)
	}
	if asOf.In(loc).Day() != dd {
		return false // the day changed in Kolkata while the test ran: run again, all on the new day
	}
	todayEnd := time.Date(y, m, dd+1, 0, 0, 0, 0, loc)
	frac := big.NewRat(int64(todayEnd.Sub(asOf)), int64(todayEnd.Sub(today)))
	k := time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day() - dd // whole days after today
	// f(x) = 2 + 0.4x; today is x = 5: f(5) = 4, then f(5+j) = 4 + 0.4j.
	remaining := new(big.Rat).Mul(frac, rat("4"))
	for j := 1; j <= k; j++ {
		remaining.Add(remaining, new(big.Rat).Add(rat("4"), new(big.Rat).Mul(rat("0.4"), big.NewRat(int64(j), 1))))
	}
	total := new(big.Rat).Add(mtd, remaining)

	if d.Complete || d.Method != spend.MethodLinear || *d.Slope != "0.400000" || *d.Intercept != "2.000000" || d.Days != 5 ||
		d.FullDaysRemaining != k || d.TodayRemainingFraction != frac.FloatString(6) ||
		d.DaysRemaining != new(big.Rat).Add(frac, big.NewRat(int64(k), 1)).FloatString(6) ||
		d.ProjectedRemaining != remaining.FloatString(6) || d.ProjectedTotal != total.FloatString(6) {
		t.Fatalf("forecast: %+v\nwant mtd %s remaining %s total %s k %d frac %s", d, mtd.FloatString(6), remaining.FloatString(6), total.FloatString(6), k, frac.FloatString(6))
	}
	if rat(d.MonthToDate).Cmp(mtd) != 0 {
		t.Errorf("month to date %s, want %s", d.MonthToDate, mtd.FloatString(6))
	}
	if len(d.DailySeries) != 5 {
		t.Fatalf("series: %+v", d.DailySeries)
	}
	for i, p := range d.DailySeries {
		if p.Cost != ys[i] || p.Date != noon(5-i).Format(time.DateOnly) {
			t.Errorf("day %d: %+v, want %s on %s", i, p, ys[i], noon(5-i).Format(time.DateOnly))
		}
	}

	// Scope matters: exa adds 7 a day, which moves the intercept only.
	if d := forecast(t, ta, "days", "5"); *d.Slope != "0.400000" || *d.Intercept != "9.000000" {
		t.Errorf("unscoped: slope %s intercept %s", *d.Slope, *d.Intercept)
	}
	// Under three days, the mean: the last two days spent 1 and 5.
	d = forecast(t, ta, "provider", "openai", "days", "2")
	asOf, _ = time.Parse(time.RFC3339Nano, d.AsOf)
	frac = big.NewRat(int64(todayEnd.Sub(asOf)), int64(todayEnd.Sub(today)))
	remaining = new(big.Rat).Mul(rat("3"), new(big.Rat).Add(frac, big.NewRat(int64(k), 1)))
	if d.Method != spend.MethodMean || *d.Slope != "0.000000" || *d.Intercept != "3.000000" || d.ProjectedRemaining != remaining.FloatString(6) {
		t.Errorf("mean: %+v, want remaining %s", d, remaining.FloatString(6))
	}
	// Nothing in scope: nothing projected.
	if d := forecast(t, ta, "model", "openai' OR 1=1 --"); d.Method != spend.MethodBurnRate || d.MonthToDate != "0" || d.ProjectedTotal != "0.000000" {
		t.Errorf("empty scope: %+v", d)
	}
	return true
}

func TestCostForecastBadRequests(t *testing.T) {
	ta := startAPI(t, freshDB("api_forecast_bad"), nil)
	if e := ta.do("GET", "/api/v1/costs/forecast", "", nil); e.status != 401 {
		t.Errorf("no key: %d", e.status)
	}
	next := time.Now().UTC().AddDate(0, 2, 0).Format("2006-01")
	for _, c := range []struct {
		kv    []string
		field string
	}{
		{[]string{"month", "2026-13"}, "month"},
		{[]string{"month", "November"}, "month"},
		{[]string{"month", next}, "month"},
		{[]string{"month", "2019-01"}, "month"},
		{[]string{"days", "0"}, "days"},
		{[]string{"days", "91"}, "days"},
		{[]string{"days", "x"}, "days"},
		{[]string{"from", "2026-10-01T00:00:00Z"}, "from"},
		{[]string{"provider", string([]byte{'a', 1})}, "provider"},
	} {
		e := ta.do("GET", costQuery("/api/v1/costs/forecast", c.kv...), ta.admin, nil)
		if e.status != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != c.field {
			t.Errorf("%v: %d %+v", c.kv, e.status, e.Error)
		}
	}
}
