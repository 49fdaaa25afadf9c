package schema

import (
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// callTables are the calls' tables from the raw calls to the coarsest
// rollup: index g+1 is grain g, index 0 the raw calls; the attribution
// families' tables follow.
var callTables = [...]string{TableCalls, TableCalls1m, TableCalls1h, TableCalls1d,
	TableCallsCustomer1d, TableCallsUser1d, TableCallsTag1d, TableCallsCustomer1h, TableCallsUser1h,
	TableCallsByCustomer, TableCallsByUser}

// tableIndex is the index of table in callTables, -1 for another table.
func tableIndex(table string) int {
	for i, t := range callTables {
		if t == table {
			return i
		}
	}
	return -1
}

// Retention is how long the calls' tables keep rows (zero: for ever).
type Retention struct {
	keep [len(callTables)]time.Duration
}

// RetentionOf reads the retention from its source: the store's retention
// settings (store.RetentionReporter, the chstore extension's retention:
// block that also set the tables' TTLs), not the TTL text of the tables.
// A store that does not report one is taken to keep everything.
func RetentionOf(s store.Store) Retention {
	var r Retention
	rr, ok := s.(store.RetentionReporter)
	if !ok {
		return r
	}
	for i, t := range callTables {
		if d, ok := rr.Retention(t); ok {
			r.keep[i] = d
		}
	}
	return r
}

// NewRetention is a retention of raw calls and of each grain, finest first
// (tests, and stores configured elsewhere).
func NewRetention(raw, minute, hour, day time.Duration) Retention {
	return Retention{keep: [len(callTables)]time.Duration{raw, minute, hour, day}}
}

// Raw is how long the raw calls are kept (zero: for ever).
func (r Retention) Raw() time.Duration { return r.keep[0] }

// Horizons is, per calls table (index 0 the raw calls, g+1 grain g, then
// the attribution families' rollups), the time before which it may
// have dropped rows; the zero time when it keeps them for ever.
type Horizons [len(callTables)]time.Time

// Of is the horizon of grain g (GrainRaw for the raw calls).
func (h Horizons) Of(g int) time.Time { return h[g+1] }

// OfTable is the horizon of one of the calls' tables (zero for another).
func (h Horizons) OfTable(table string) time.Time {
	if i := tableIndex(table); i >= 0 {
		return h[i]
	}
	return time.Time{}
}

// Horizons places the retention at now.
func (r Retention) Horizons(now time.Time) Horizons {
	var out Horizons
	for i, d := range r.keep {
		if d > 0 {
			out[i] = now.Add(-d)
		}
	}
	return out
}
