package spend

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Fingerprints of closed days. Every write that can change a closed day's
// figures reaches the tenant's day rollup api_calls_1d for that UTC day:
// a late call adds 1 to its calls (so calls only grow), and a re-pricing
// correction moves its cost and unpriced count in the row of the call's
// dimensions. A day's fingerprint is therefore its sums of calls, cost and
// unpriced, plus cost and unpriced weighted per row by a hash of the row's
// dimensions (mod a prime, never zero): any change confined to one
// dimension tuple changes it, and changes in several tuples that cancel
// out would have to cancel under two unrelated weightings too. Sums are
// unchanged by the engine's merges, so merges never invalidate anything.
// What it cannot see is two re-priced calls of the same day and dimension
// tuple moving by exactly opposite amounts in pico-USD while differing
// only by a dimension the day rollup has not: a cached read by tag would
// keep the old split between the two tags (a re-price is rarely so
// symmetric; a per-(tenant, day) write counter fed by views would close
// it). Reads by customer or user are not cached: a month of
// 100,000 customers asked at random misses nearly always, and the check
// made them slower (p95 117 → 168 ms, make bench-customers).
//
// Freshness: a request uses a fingerprint read that started after it
// arrived, or one that completed less than printFresh ago: a write through
// another process (late data) is seen at most that late, and a re-price
// through this one at once (Forget). Concurrent requests of a tenant share
// one read: a request joins the read gathering while one runs, as the
// batcher does (batch.go), and waits at most for two.

// fingerprintSQL reads a day's sums and its two weightings: primes near 10^6, so that a
// weighted cost stays far inside Decimal(38, 12).
const fingerprintSQL = "SELECT toString(toUnixTimestamp(ts)) AS d, toString(sum(calls)), toString(sum(unpriced)), toString(sum(cost_usd)), " +
	"toString(sum(cost_usd * (cityHash64(provider, model, operation, service, environment, team, feature) % 1000003 + 1))), " +
	"toString(sum(unpriced * (cityHash64(feature, team, environment, service, operation, model, provider) % 999983 + 1)))"

// printFresh is how long a completed read answers requests that arrive
// after it started: a dashboard's fifty panels asking at once share one
// read instead of queueing behind one each. A write elsewhere (late data
// from another collector) is then seen up to printFresh late; a re-price
// through this process forgets the tenant's reads at once (Forget).
const printFresh = 500 * time.Millisecond

// printer reads fingerprints, one read per tenant at a time.
type printer struct {
	mu      sync.Mutex
	tenants map[string]*printQueue
	// last is each tenant's latest completed read.
	last map[string]*printWave
}

type printQueue struct {
	next *printWave // gathering, not started; nil when none
}

// printWave is one read of a tenant's days [from, to), widened by each
// request joining it before it starts.
type printWave struct {
	from, to time.Time
	started  time.Time
	done     chan struct{}
	prints   map[int64]string
	err      error
}

// read is the fingerprint per UTC day (Unix seconds of its start; a day
// without rows has "") of tenant's days from from to to, read after the
// call.
func (p *printer) read(ctx context.Context, s *Service, tenant string, from, to time.Time) (map[int64]string, error) {
	p.mu.Lock()
	if p.tenants == nil {
		p.tenants, p.last = map[string]*printQueue{}, map[string]*printWave{}
	}
	if l := p.last[tenant]; l != nil && l.err == nil && time.Since(l.started) < printFresh && !from.Before(l.from) && !to.After(l.to) {
		p.mu.Unlock()
		return l.prints, nil
	}
	q, running := p.tenants[tenant]
	if !running {
		q = &printQueue{}
		p.tenants[tenant] = q
	}
	w := q.next
	if w == nil {
		w = &printWave{from: from, to: to, done: make(chan struct{})}
		q.next = w
	}
	w.from, w.to = minTime(w.from, from), maxTime(w.to, to)
	if !running {
		q.next = nil
		go p.launch(s, tenant, q, w)
	}
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-w.done:
	}
	return w.prints, w.err
}

// launch reads w, then each wave gathered meanwhile, until none is.
func (p *printer) launch(s *Service, tenant string, q *printQueue, w *printWave) {
	for w != nil {
		p.mu.Lock()
		from, to := w.from, w.to
		w.started = time.Now()
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), s.readTimeout)
		w.prints, w.err = s.readPrints(ctx, tenant, from, to)
		cancel()
		close(w.done)
		p.mu.Lock()
		if w.err == nil {
			p.last[tenant] = w
		}
		w, q.next = q.next, nil
		if w == nil {
			delete(p.tenants, tenant)
		}
		p.mu.Unlock()
	}
}

// Forget drops tenant's fingerprints read so far: the next cost read
// reads them again (called once a re-price through this process is done,
// so that the next answer holds it).
func (s *Service) Forget(tenant string) {
	s.prints.mu.Lock()
	delete(s.prints.last, tenant)
	s.prints.mu.Unlock()
}

func (s *Service) readPrints(ctx context.Context, tenant string, from, to time.Time) (map[int64]string, error) {
	params := store.Params{"p_from": from.UTC().Format(time.DateTime), "p_to": to.UTC().Format(time.DateTime)}
	q := fingerprintSQL + " FROM " + schema.Table(s.store, schema.TableCalls1d) +
		" WHERE ts >= {p_from:DateTime('UTC')} AND ts < {p_to:DateTime('UTC')}" + schema.Scope{Tenant: tenant}.Cond(schema.FamilyCalls, params) +
		" GROUP BY d"
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read closed days' fingerprints: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var d, calls, unpriced, cost, wcost, wunpriced string
		if err := rows.Scan(&d, &calls, &unpriced, &cost, &wcost, &wunpriced); err != nil {
			return nil, fmt.Errorf("read closed days' fingerprints: %w", err)
		}
		day, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read closed days' fingerprints: day %q: %w", d, err)
		}
		out[day] = calls + "/" + unpriced + "/" + cost + "/" + wcost + "/" + wunpriced
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read closed days' fingerprints: %w", err)
	}
	return out, nil
}
