package nexusapiextension

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/store"
)

// What the alert engine (alerts*.go, alerts_test.go) still finds in this
// package of what moved to the domain packages — internal/spend (budgets,
// their status, text validation), internal/schema (gauge names, array
// parameters, the health class of a passed check), internal/apikeys (the
// name of the key that acknowledges) — and the store helpers only it uses
// now (count, live, oldestFirst). Each is a thin forward or a copy of what
// was here; the file goes when alerting moves to internal/alerting and
// calls those packages itself.

// Rate-limit gauge names and array parameters (internal/schema).
const (
	gaugeRateLimitLimit     = schema.GaugeRateLimitLimit
	gaugeRateLimitRemaining = schema.GaugeRateLimitRemaining
	classOK                 = schema.HealthClassOK
)

func stringArrayParam(vs []string) string { return schema.StringArrayParam(vs) }

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
	if _, missing := domainerr.AsNotFound(err); missing {
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

// keyStore is the API's keys (apikeys.Store) with, for the alert engine's
// acknowledgements (alerts_events.go reads keys.mu and keys.byID to name
// the key that acknowledged), a copy of them by id that the store keeps
// current on every change. The copy goes when alerting asks apikeys.
type keyStore struct {
	*apikeys.Store
	mu   sync.RWMutex
	byID map[string]apiKey
}

func newKeyStore(s store.Store) *keyStore {
	ks := &keyStore{byID: map[string]apiKey{}}
	ks.Store = apikeys.NewStore(s, func(byID map[string]apikeys.Key) {
		ks.mu.Lock()
		ks.byID = byID
		ks.mu.Unlock()
	})
	return ks
}

// oldestFirst orders alert rules by creation time, then id, so that their
// pages are stable.
func oldestFirst[T any](items []T, key func(T) (time.Time, string)) {
	sort.Slice(items, func(i, j int) bool {
		ti, idi := key(items[i])
		tj, idj := key(items[j])
		return ti.Before(tj) || (ti.Equal(tj) && idi < idj)
	})
}

// live keeps the items not deleted, oldest first.
func live[T any](all []T, deleted func(T) bool, key func(T) (time.Time, string)) []T {
	out := all[:0]
	for _, it := range all {
		if !deleted(it) {
			out = append(out, it)
		}
	}
	oldestFirst(out, key)
	return out
}

// count runs a query answering one count.
func (a *api) count(ctx context.Context, q string, params store.Params) (int64, error) {
	rows, err := a.store.Query(ctx, q, params)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return int64(n), rows.Err()
}
