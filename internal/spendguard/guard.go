// Package spendguard decides, on the proxy's request path, whether a call
// in a budget's scope may go ahead. It decides in memory: each budget's
// spend is the store's figure at the last reconciliation plus what this
// collector settled since, plus what calls in flight have reserved.
//
// A call reserves its worst-case cost before it is forwarded, and settles
// its actual cost (or releases the reservation) when it ends. A blocking
// budget refuses a call whose reservation would take spend + reserved past
// the amount; the check and the reservation are one step under one lock,
// so calls in flight at once cannot all pass on the same headroom.
//
// # Overshoot
//
// On one collector, with every call in a blocking budget's scope reserved
// here, spend never exceeds the amount by more than
//
//	Σ max(0, actual − reserved)   over the calls whose worst case was wrong
//	+ the scope's calls this collector did not reserve (Observe: other
//	  routes, instrumented apps), counted when they are seen
//
// because every successful Reserve leaves stored + settled + reserved ≤
// amount, and settling a call whose actual cost is at most its worst case
// cannot raise that sum. With several collectors, each learns the others'
// spend only through the store: add what the others spend in the scope
// during one reconciliation interval plus the store's ingest lag.
//
// Reconciliation never lowers the count below the truth on this
// collector: calls settled within the ingest lag before the store was
// read stay counted on top of the store's figure, even though the figure
// may hold some of them already. That errs towards refusing early, by at
// most the scope's spend in one lag, never towards overshooting.
package spendguard

import (
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Action is what a budget does about spend in its scope.
type Action string

const (
	// Notify only alerts (the budget's thresholds); the guard ignores it.
	Notify Action = "notify"
	// Warn lets calls pass, telling what is left.
	Warn Action = "warn"
	// Block refuses calls that would take spend past the amount.
	Block Action = "block"
)

// Budget is a budget as the guard enforces it, for its current period.
type Budget struct {
	ID, Tenant, Name string
	Scope            Scope
	Action           Action
	Amount           decimal.Decimal
	// Start and End are the current period, [Start, End).
	Start, End time.Time
}

// sameCounter tells whether b counts the same calls over the same period
// as a: its counter carries over a change of name or action.
func (b Budget) sameCounter(a Budget) bool {
	return b.ID == a.ID && b.Tenant == a.Tenant && b.Scope == a.Scope && b.Start.Equal(a.Start) && b.End.Equal(a.End)
}

// Status is what a budget has left, as a decision saw it.
type Status struct {
	BudgetID, Name string
	Action         Action
	Amount         decimal.Decimal
	// Spent is settled spend; Reserved what calls in flight hold.
	Spent, Reserved decimal.Decimal
	// Remaining is Amount − Spent − Reserved, never below zero.
	Remaining decimal.Decimal
}

// Guard holds the counters of the warn and block budgets.
type Guard struct {
	mu       sync.Mutex
	byTenant map[string][]*counter
	// lag is the longest a call settled here takes to be readable in the
	// store (the exporter's batching and queue).
	lag time.Duration
}

type counter struct {
	b Budget
	// stored is the store's spend in the period at the last
	// reconciliation; recent the settlements since that the store may
	// not hold yet.
	stored decimal.Decimal
	recent []settlement
	// recentSum is the sum of recent, kept as they come: the request
	// path reads it, reconciliation rebuilds it.
	recentSum decimal.Decimal
	reserved  decimal.Decimal
}

func (c *counter) settle(s settlement) {
	c.recent = append(c.recent, s)
	c.recentSum = c.recentSum.Add(s.cost)
}

type settlement struct {
	at   time.Time
	cost decimal.Decimal
}

// New returns a guard without budgets. lag is the store's ingest lag.
func New(lag time.Duration) *Guard {
	return &Guard{byTenant: map[string][]*counter{}, lag: lag}
}

// SetBudgets replaces the budgets. A budget that counts the same calls
// over the same period as before keeps its counter (spend, reservations);
// a new one, or one whose period rolled over, starts at zero until the
// store is read for it. Notify budgets are not kept.
func (g *Guard) SetBudgets(budgets []Budget) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := map[string]*counter{}
	for _, cs := range g.byTenant {
		for _, c := range cs {
			old[c.b.ID] = c
		}
	}
	next := map[string][]*counter{}
	for _, b := range budgets {
		if b.Action != Warn && b.Action != Block {
			continue
		}
		c := old[b.ID]
		if c == nil || !c.b.sameCounter(b) {
			c = &counter{}
		}
		c.b = b
		next[b.Tenant] = append(next[b.Tenant], c)
	}
	g.byTenant = next
}

// spent is the counter's settled spend.
func (c *counter) spent() decimal.Decimal { return c.stored.Add(c.recentSum) }

func (c *counter) status() Status {
	spent := c.spent()
	left := c.b.Amount.Sub(spent).Sub(c.reserved)
	if left.IsNegative() {
		left = decimal.Zero
	}
	return Status{BudgetID: c.b.ID, Name: c.b.Name, Action: c.b.Action, Amount: c.b.Amount, Spent: spent, Reserved: c.reserved, Remaining: left}
}

// Decision is what Reserve decided.
type Decision struct {
	// Refused is the blocking budget that refused the call; nil when the
	// call may go ahead.
	Refused *Status
	// Warnings are the warn budgets in the call's scope, after its
	// reservation.
	Warnings []Status
}

// Reserve decides c, whose cost is at most worst. When the call may go
// ahead, the reservation holds worst against every warn and block budget
// in its scope until it is settled or released; when refused, nothing is
// held and the reservation is nil.
func (g *Guard) Reserve(c Call, worst decimal.Decimal) (Decision, *Reservation) {
	if worst.IsNegative() {
		worst = decimal.Zero
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var in []*counter
	for _, ctr := range g.byTenant[c.tenant()] {
		if !ctr.b.Scope.Matches(c) {
			continue
		}
		if ctr.b.Action == Block && ctr.spent().Add(ctr.reserved).Add(worst).GreaterThan(ctr.b.Amount) {
			st := ctr.status()
			return Decision{Refused: &st}, nil
		}
		in = append(in, ctr)
	}
	var d Decision
	for _, ctr := range in {
		ctr.reserved = ctr.reserved.Add(worst)
		if ctr.b.Action == Warn {
			d.Warnings = append(d.Warnings, ctr.status())
		}
	}
	return d, &Reservation{g: g, counters: in, worst: worst}
}

// Reservation is one call's hold on its budgets.
type Reservation struct {
	g        *Guard
	counters []*counter
	worst    decimal.Decimal
	done     bool
}

// Settle ends the reservation with the call's actual cost, settled at at.
// Only the first Settle or Release of a reservation counts.
func (r *Reservation) Settle(actual decimal.Decimal, at time.Time) {
	r.end(&settlement{at: at, cost: actual})
}

// Release ends the reservation without cost: the call never reached the
// provider, or its cost will be counted when it is observed.
func (r *Reservation) Release() { r.end(nil) }

func (r *Reservation) end(s *settlement) {
	if r == nil {
		return
	}
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	for _, c := range r.counters {
		c.reserved = c.reserved.Sub(r.worst)
		if s != nil && !s.cost.IsZero() {
			c.settle(*s)
		}
	}
}

// Observe counts a call this collector did not reserve (an instrumented
// app's, seen on the live feed) against the budgets in its scope.
func (g *Guard) Observe(c Call, cost decimal.Decimal, at time.Time) {
	if cost.IsZero() {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, ctr := range g.byTenant[c.tenant()] {
		if ctr.b.Scope.Matches(c) {
			ctr.settle(settlement{at: at, cost: cost})
		}
	}
}

// Reconcile sets a budget's spend to the store's figure, read by a query
// that started at readAt. Settlements older than readAt − lag are in the
// figure; later ones stay counted on top of it (see the package comment).
func (g *Guard) Reconcile(tenant, budgetID string, spent decimal.Decimal, readAt time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cutoff := readAt.Add(-g.lag)
	for _, c := range g.byTenant[tenantOr(tenant)] {
		if c.b.ID != budgetID {
			continue
		}
		c.stored = spent
		kept, sum := c.recent[:0], decimal.Zero
		for _, s := range c.recent {
			if s.at.After(cutoff) {
				kept, sum = append(kept, s), sum.Add(s.cost)
			}
		}
		c.recent, c.recentSum = kept, sum
	}
}

// Statuses are the tenant's warn and block budgets as they stand.
func (g *Guard) Statuses(tenant string) []Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Status
	for _, c := range g.byTenant[tenantOr(tenant)] {
		out = append(out, c.status())
	}
	return out
}
