package alerting

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// SpendReader is what the budget kinds need to know about budgets, which
// are not alerting's to read: the component that owns budgets implements
// it.
type SpendReader interface {
	// BudgetExists tells whether id is a live (not deleted) budget of
	// tenant.
	BudgetExists(ctx context.Context, tenant, id string) (bool, error)
	// BudgetStatuses is where the live budgets of tenant stand at now, in
	// their current period, oldest budget first; only budget id when id
	// is not "". Each budget's spend counts only its tenant's calls.
	BudgetStatuses(ctx context.Context, tenant, id string, now time.Time) ([]BudgetStatus, error)
}

// BudgetStatus is one budget in its current period.
type BudgetStatus struct {
	ID, Name, Period string
	// Scope is the budget's (it has no operation).
	Scope Scope
	// The budget's attribution dimensions, "" for any.
	Customer, User, Team, Feature, TagKey, TagValue string
	Amount                                          decimal.Decimal
	Thresholds                                      []int // whole percentages of Amount
	// PeriodStart and PeriodEnd are as GET /budgets/{id}/status shows them.
	PeriodStart, PeriodEnd string
	Spent                  decimal.Decimal
	// Forecast is the spend expected by the period's end.
	Forecast decimal.Decimal
}

// budgetSpec is what the budget kinds share: the budget's scope, no
// window, a budget to name.
func budgetSpec(t thresholdSpec) spec {
	return spec{scope: scopeBudget, budget: true, window: windowNone, threshold: t}
}

// budgetThreshold fires when a budget's spend this period crosses a
// percentage of it: the rule's, or each of the budget's own thresholds.
type budgetThreshold struct{}

func (budgetThreshold) name() string    { return KindBudgetThreshold }
func (budgetThreshold) unit(*Rule) unit { return unitPercent }
func (budgetThreshold) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return budgetSpec(thresholdSpec{lo: "1", hi: "1000", whole: true, unsetIsOK: true, what: "a whole percentage of the budget from 1 to 1000 (default: the budget's thresholds)"})
}

func (budgetThreshold) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	budgets, err := src.budgets(ctx, r, now)
	if err != nil {
		return nil, err
	}
	var out []observation
	for _, b := range budgets {
		thresholds := b.Thresholds
		if r.Threshold.IsPositive() {
			thresholds = []int{int(r.Threshold.IntPart())}
		}
		used := b.Spent.Mul(hundred).DivRound(b.Amount, 6)
		for _, t := range thresholds {
			td := decimal.NewFromInt(int64(t))
			l := budgetLabels(b)
			l["threshold_percent"] = strconv.Itoa(t)
			out = append(out, observation{key: budgetInstance(b) + ",threshold=" + strconv.Itoa(t), labels: l, value: used, threshold: td,
				// Compared exactly, as budget status does: spent×100 ≥ amount×t.
				breach: b.Spent.Mul(hundred).Cmp(b.Amount.Mul(td)) >= 0,
				summary: fmt.Sprintf("budget %q: %s of %s spent this %s period (%s%%), threshold %d%%",
					b.Name, fmtUSD(b.Spent), fmtUSD(b.Amount), b.Period, used.Round(2), t)})
		}
	}
	return out, nil
}

// budgetForecast fires before the breach: when the spend forecast by the
// period's end passes a percentage of the budget.
type budgetForecast struct{}

func (budgetForecast) name() string    { return KindBudgetForecast }
func (budgetForecast) unit(*Rule) unit { return unitUSD }
func (budgetForecast) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return budgetSpec(thresholdSpec{def: "100", lo: "1", hi: "1000", whole: true, what: "a whole percentage of the budget from 1 to 1000 the forecast must exceed"})
}

func (budgetForecast) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	budgets, err := src.budgets(ctx, r, now)
	if err != nil {
		return nil, err
	}
	out := make([]observation, 0, len(budgets))
	for _, b := range budgets {
		limit := b.Amount.Mul(r.Threshold).Div(hundred)
		out = append(out, observation{key: budgetInstance(b), labels: budgetLabels(b), value: b.Forecast.Round(thresholdDecimals), threshold: limit,
			breach: b.Forecast.GreaterThan(limit),
			summary: fmt.Sprintf("budget %q: forecast %s by the end of the %s period (%s), over %s (%s%% of %s); spent so far %s",
				b.Name, fmtUSD(b.Forecast), b.Period, b.PeriodEnd, fmtUSD(limit), r.Threshold, fmtUSD(b.Amount), fmtUSD(b.Spent))})
	}
	return out, nil
}

// budgets measures the rule's budget (or every budget) in its current
// period.
func (s *sources) budgets(ctx context.Context, r *Rule, now time.Time) ([]BudgetStatus, error) {
	if s.spend == nil {
		return nil, fmt.Errorf("%s rules need budgets, and none can be read here", r.Kind)
	}
	budgets, err := s.spend.BudgetStatuses(ctx, r.tenant(), r.BudgetID, now)
	if err != nil {
		return nil, fmt.Errorf("read budgets: %w", err)
	}
	return budgets, nil
}

// budgetInstance carries the period's start, so that a threshold crossed
// is announced once per period and the next period starts clean.
func budgetInstance(b BudgetStatus) string { return "budget=" + b.ID + ",period=" + b.PeriodStart }

func budgetLabels(b BudgetStatus) map[string]string {
	l := map[string]string{"budget_id": b.ID, "budget": b.Name, "period": b.Period, "period_start": b.PeriodStart}
	for k, v := range map[string]string{"provider": b.Scope.Provider, "model": b.Scope.Model,
		"service": b.Scope.Service, "environment": b.Scope.Environment, "customer": b.Customer, "user": b.User,
		"team": b.Team, "feature": b.Feature, "tag_key": b.TagKey, "tag_value": b.TagValue} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}
