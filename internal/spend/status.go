package spend

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/shopspring/decimal"
)

// PeriodBounds is the calendar period of now in loc: today, this week
// (from Monday) or this month, from local midnight to local midnight.
func PeriodBounds(period string, now time.Time, loc *time.Location) (start, end time.Time) {
	local := now.In(loc)
	y, m, d := local.Date()
	switch period {
	case "daily":
		return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case "weekly":
		back := (int(local.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc), time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	}
	return time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
}

// BudgetStatus is where a budget stands in its current period.
type BudgetStatus struct {
	BudgetID    string `json:"budgetId"`
	Name        string `json:"name"`
	Period      string `json:"period"`
	Timezone    string `json:"timezone"`
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	AsOf        string `json:"asOf"`
	AmountUSD   string `json:"amountUsd"`
	Spent       string `json:"spent"`
	Remaining   string `json:"remaining"`
	// PercentUsed is rounded to 2 decimals for display; thresholdsCrossed
	// compares exactly.
	PercentUsed           float64    `json:"percentUsed"`
	ElapsedDays           string     `json:"elapsedDays"`
	BurnRatePerDay        string     `json:"burnRatePerDay"`
	Forecast              string     `json:"forecast"`
	ForecastExceedsAmount bool       `json:"forecastExceedsAmount"`
	Thresholds            []int      `json:"thresholds"`
	ThresholdsCrossed     []int      `json:"thresholdsCrossed"`
	ForecastDetail        Projection `json:"forecastDetail"`
}

// BudgetStatusAt is where b stands at now: spend of its current period,
// burn rate, and the forecast at the period's end (project over the
// period's complete days, falling back to the burn rate). Days are
// calendar days in the budget's zone: elapsed + remaining days is the
// period's length in days.
func (s *Service) BudgetStatusAt(ctx context.Context, b Budget, now time.Time) (BudgetStatus, error) {
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return BudgetStatus{}, fmt.Errorf("budget %s: time zone: %w", b.ID, err)
	}
	start, end := PeriodBounds(b.Period, now, loc)
	c := newCalendar(now, loc)
	by, err := s.DailyCosts(ctx, b.scope(), start, now, loc)
	if err != nil {
		return BudgetStatus{}, err
	}
	spent := decimal.Zero
	for _, agg := range by {
		spent = spent.Add(agg.Cost)
	}
	elapsed := new(big.Rat).Sub(big.NewRat(int64(daysBetween(start, c.todayStart, loc)+1), 1), c.todayLeft)
	burn := new(big.Rat)
	if elapsed.Sign() > 0 {
		burn.Quo(spent.Rat(), elapsed)
	}
	proj := project(trimLeading(dailySeries(by, start, c.todayStart, loc)), c, end, MethodBurnRate, burn)
	proj.Formula = ""
	forecast := new(big.Rat).Add(spent.Rat(), proj.remaining)

	hundred := decimal.NewFromInt(100)
	pct, _ := spent.Mul(hundred).Div(b.amount).Float64()
	crossed := []int{}
	for _, t := range b.Thresholds {
		if spent.Mul(hundred).Cmp(b.amount.Mul(decimal.NewFromInt(int64(t)))) >= 0 {
			crossed = append(crossed, t)
		}
	}
	return BudgetStatus{
		BudgetID: b.ID, Name: b.Name, Period: b.Period, Timezone: b.Timezone,
		PeriodStart: start.Format(time.RFC3339), PeriodEnd: end.Format(time.RFC3339), AsOf: now.In(loc).Format(time.RFC3339Nano),
		AmountUSD: b.AmountUSD, Spent: Money(spent), Remaining: Money(b.amount.Sub(spent)),
		PercentUsed:           math.Round(pct*100) / 100,
		ElapsedDays:           elapsed.FloatString(6),
		BurnRatePerDay:        burn.FloatString(6),
		Forecast:              forecast.FloatString(6),
		ForecastExceedsAmount: forecast.Cmp(b.amount.Rat()) > 0,
		Thresholds:            b.Thresholds, ThresholdsCrossed: crossed,
		ForecastDetail: proj,
	}, nil
}

// BudgetStatus is where budget id of tenant stands now; a
// *domainerr.NotFoundError for no such budget.
func (s *Service) BudgetStatus(ctx context.Context, tenant, id string, now time.Time) (BudgetStatus, error) {
	b, err := s.Budget(ctx, tenant, id)
	if err != nil {
		return BudgetStatus{}, err
	}
	return s.BudgetStatusAt(ctx, b, now)
}
