package nexusapiextension

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/spend"
)

// What the alert engine (alerts*.go) still calls here of what moved to
// internal/spend. Each forwards; they go when alerting moves to
// internal/alerting and calls spend itself.

// maxScopeValue is the longest scope value a budget or rule takes.
const maxScopeValue = spend.MaxScopeValue

// validText is spend.ValidText.
func validText(v string, limit int) bool { return spend.ValidText(v, limit) }

// budget is a budget as the alert engine reads it: amount and deleted are
// the fields it used before budgets moved.
type budget struct {
	spend.Budget
	amount  decimal.Decimal
	deleted bool
}

func viewBudget(b spend.Budget) budget { return budget{Budget: b, amount: b.Amount()} }

// liveBudgets is spend.Service.Budgets.
func (a *api) liveBudgets(ctx context.Context) ([]budget, error) {
	bs, err := a.spend.Budgets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]budget, len(bs))
	for i, b := range bs {
		out[i] = viewBudget(b)
	}
	return out, nil
}

// readBudgets is the live budget id, if any (spend.Service.Budget): the
// alert engine only asks whether it exists.
func (a *api) readBudgets(ctx context.Context, id string) ([]budget, error) {
	b, err := a.spend.Budget(ctx, id)
	if _, missing := domainNotFound(err); missing {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []budget{viewBudget(b)}, nil
}

// budgetStatusAt is spend.Service.BudgetStatusAt.
func (a *api) budgetStatusAt(ctx context.Context, b budget, now time.Time) (spend.BudgetStatus, error) {
	return a.spend.BudgetStatusAt(ctx, b.Budget, now)
}
