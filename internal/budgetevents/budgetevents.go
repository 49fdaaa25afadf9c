// Package budgetevents keeps what the proxy did about budgets, call by
// call: each call a blocking budget refused and each a warning budget let
// pass. The proxy writes them in batches off its request path; the API
// reads them per budget.
package budgetevents

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/ids"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Actions of an event.
const (
	Block = "block"
	Warn  = "warn"
)

// Event is one decision about one call.
type Event struct {
	ID         string    `json:"id"`
	Tenant     string    `json:"-"`
	At         time.Time `json:"at"`
	BudgetID   string    `json:"budgetId"`
	BudgetName string    `json:"budgetName"`
	Action     string    `json:"action"`
	Provider   string    `json:"provider"`
	Model      string    `json:"model,omitempty"`
	Service    string    `json:"service,omitempty"`
	Customer   string    `json:"customer,omitempty"`
	User       string    `json:"user,omitempty"`
	Team       string    `json:"team,omitempty"`
	Feature    string    `json:"feature,omitempty"`
	// WorstCaseUSD is what the call could have cost; RemainingUSD what
	// the budget had left when it was decided.
	WorstCaseUSD decimal.Decimal `json:"worstCaseUsd"`
	RemainingUSD decimal.Decimal `json:"remainingUsd"`
}

var columns = []string{"id", "tenant", "timestamp", "budget_id", "budget_name", "action", "provider", "model", "service",
	"customer", "user", "team", "feature", "worst_case_usd", "remaining_usd"}

// Writer batches events into the store. Add never blocks: when Capacity
// events wait already (the store is down or slow), the event is dropped
// and counted, as the proxy's spans are.
type Writer struct {
	store   store.Store
	logger  *zap.Logger
	queue   chan Event
	dropped atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// Capacity is how many events may wait for the store.
const Capacity = 65536

// flushEvery is how long events gather before a batch is written.
const flushEvery = time.Second

// NewWriter starts a writer into s.
func NewWriter(s store.Store, logger *zap.Logger) *Writer {
	w := &Writer{store: s, logger: logger, queue: make(chan Event, Capacity), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Add queues e, giving it an id and a time when it has none, and returns
// it as queued.
func (w *Writer) Add(e Event) Event {
	if e.ID == "" {
		e.ID = ids.New("bev_")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	select {
	case w.queue <- e:
	default:
		if n := w.dropped.Add(1); n == 1 || n%1000 == 0 {
			w.logger.Warn("budget events dropped: the store is behind", zap.Int64("dropped_total", n))
		}
	}
	return e
}

// Dropped is how many events were dropped.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Close writes what waits (until ctx ends) and stops.
func (w *Writer) Close(ctx context.Context) {
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
	case <-ctx.Done():
	}
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	var batch []Event
	for {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
			if len(batch) < 4096 {
				continue
			}
		case <-t.C:
		case <-w.stop:
			for len(w.queue) > 0 {
				batch = append(batch, <-w.queue)
			}
			w.write(batch)
			return
		}
		batch = w.write(batch)
	}
}

// write stores batch, trying a few times: the ids make a batch written
// twice count once. It returns the emptied batch.
func (w *Writer) write(batch []Event) []Event {
	if len(batch) == 0 {
		return batch
	}
	var err error
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = Write(ctx, w.store, batch)
		cancel()
		if err == nil {
			return batch[:0]
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	w.dropped.Add(int64(len(batch)))
	w.logger.Warn("budget events could not be stored", zap.Int("events", len(batch)), zap.Error(err))
	return batch[:0]
}

// Write stores events at once; one without an id is given one (a retry
// of the same events must carry the same ids to count once).
func Write(ctx context.Context, s store.Store, events []Event) error {
	b, err := s.PrepareBatch(ctx, schema.TableBudgetEvents, columns)
	if err != nil {
		return fmt.Errorf("write budget events: %w", err)
	}
	for _, e := range events {
		if e.ID == "" {
			e.ID = ids.New("bev_")
		}
		if err := b.Append(e.ID, tenantOr(e.Tenant), e.At.UTC(), e.BudgetID, e.BudgetName, e.Action, e.Provider, e.Model, e.Service,
			e.Customer, e.User, e.Team, e.Feature, e.WorstCaseUSD, e.RemainingUSD); err != nil {
			_ = b.Abort()
			return fmt.Errorf("write budget event %s: %w", e.ID, err)
		}
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write budget events: %w", err)
	}
	return nil
}

func tenantOr(t string) string {
	if t == "" {
		return schema.DefaultTenant
	}
	return t
}

// Page is a page of a budget's events, newest first, and how many there
// are in the range.
type Page struct {
	Events []Event
	Total  int64
}

// List reads budget's events of tenant in [from, to), newest first,
// limit from offset; a replayed batch counts once.
func List(ctx context.Context, s store.Store, tenant, budgetID string, from, to time.Time, offset, limit int) (Page, error) {
	params := store.Params{"tenant": tenantOr(tenant), "budget": budgetID,
		"from": from.UTC().Format("2006-01-02 15:04:05.000"), "to": to.UTC().Format("2006-01-02 15:04:05.000"),
		"offset": fmt.Sprint(offset), "limit": fmt.Sprint(limit)}
	t := schema.Table(s, schema.TableBudgetEvents)
	where := " WHERE tenant = {tenant:String} AND budget_id = {budget:String} AND timestamp >= {from:DateTime64(3, 'UTC')}" +
		" AND timestamp < {to:DateTime64(3, 'UTC')}"
	var page Page
	rows, err := s.Query(ctx, "SELECT uniqExact(id) FROM "+t+where, params)
	if err != nil {
		return page, fmt.Errorf("count budget events: %w", err)
	}
	for rows.Next() {
		var n uint64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return page, fmt.Errorf("count budget events: %w", err)
		}
		page.Total = int64(n)
	}
	rows.Close()
	rows, err = s.Query(ctx, "SELECT id, timestamp, budget_name, action, provider, model, service, customer, user, team, feature,"+
		" worst_case_usd, remaining_usd FROM "+t+" FINAL"+where+
		" ORDER BY timestamp DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt32}", params)
	if err != nil {
		return page, fmt.Errorf("read budget events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := Event{Tenant: tenantOr(tenant), BudgetID: budgetID}
		if err := rows.Scan(&e.ID, &e.At, &e.BudgetName, &e.Action, &e.Provider, &e.Model, &e.Service, &e.Customer, &e.User,
			&e.Team, &e.Feature, &e.WorstCaseUSD, &e.RemainingUSD); err != nil {
			return page, fmt.Errorf("read budget events: %w", err)
		}
		e.At = e.At.UTC()
		page.Events = append(page.Events, e)
	}
	return page, rows.Err()
}
