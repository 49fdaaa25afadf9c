package nexusapiextension

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/spend"
)

// spendReader gives the alert engine's budget kinds what internal/spend
// knows of budgets. It is wiring, so it lives where both are assembled:
// alerting declares what it needs, spend does not know alerting exists.
type spendReader struct{ spend *spend.Service }

var _ alerting.SpendReader = spendReader{}

func (s spendReader) BudgetExists(ctx context.Context, tenant, id string) (bool, error) {
	_, err := s.spend.Budget(ctx, tenant, id)
	if _, missing := domainerr.AsNotFound(err); missing {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read budget %s: %w", id, err)
	}
	return true, nil
}

func (s spendReader) BudgetStatuses(ctx context.Context, tenant, id string, now time.Time) ([]alerting.BudgetStatus, error) {
	budgets, err := s.spend.Budgets(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("read budgets: %w", err)
	}
	var out []alerting.BudgetStatus
	for _, b := range budgets {
		if id != "" && b.ID != id {
			continue
		}
		st, err := s.spend.BudgetStatusAt(ctx, b, now)
		if err != nil {
			return nil, fmt.Errorf("budget %s status: %w", b.ID, err)
		}
		spent, err := decimal.NewFromString(st.Spent)
		if err != nil {
			return nil, fmt.Errorf("budget %s spent %q: %w", b.ID, st.Spent, err)
		}
		forecast, err := decimal.NewFromString(st.Forecast)
		if err != nil {
			return nil, fmt.Errorf("budget %s forecast %q: %w", b.ID, st.Forecast, err)
		}
		tag := b.Scope.Tag
		if tag == nil {
			tag = &spend.Tag{}
		}
		out = append(out, alerting.BudgetStatus{ID: b.ID, Name: b.Name, Period: b.Period,
			Customer: b.Scope.Customer, User: b.Scope.User, Team: b.Scope.Team, Feature: b.Scope.Feature,
			TagKey: tag.Key, TagValue: tag.Value,
			Scope:  alerting.Scope{Provider: b.Scope.Provider, Model: b.Scope.Model, Service: b.Scope.Service, Environment: b.Scope.Environment},
			Amount: b.Amount(), Thresholds: b.Thresholds, PeriodStart: st.PeriodStart, PeriodEnd: st.PeriodEnd,
			Spent: spent, Forecast: forecast})
	}
	return out, nil
}
