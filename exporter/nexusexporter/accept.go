package nexusexporter

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// reason says why a row was not stored; it is the reason attribute of
// nexus_exporter_rows_refused.
type reason string

const (
	// reasonMissingTime: the time is 0 (unset by the sender).
	reasonMissingTime reason = "missing_time"
	// reasonTooOld: older than accepted_time.max_age (the raw table's
	// retention would delete it at once; its month partition may be one
	// of dozens a single request creates).
	reasonTooOld reason = "too_old"
	// reasonInFuture: later than now + accepted_time.max_future.
	reasonInFuture reason = "in_future"
	// reasonOutOfRange: past what the columns and rollups can hold
	// (DateTime ends in 2106), where no window applies.
	reasonOutOfRange reason = "out_of_range"
	// reasonInvalid: a value does not fit its column (e.g. a cost beyond
	// the column's precision); found before sending.
	reasonInvalid reason = "invalid"
	// reasonRefusedByEngine: the engine refused the row as data; the
	// block it was in was bisected down to it and the rest stored.
	reasonRefusedByEngine reason = "refused_by_engine"
)

// defaultMaxAge is accepted_time.max_age when neither the config nor the
// store says: the default retention of api_calls.
const defaultMaxAge = 90 * 24 * time.Hour

// maxStorable bounds every time the exporter stores: DateTime columns and
// the rollups' DateTime buckets end on 2106-02-07 and wrap past it (2200
// lands in 2063). The first of that year keeps a margin for bucketing.
var maxStorable = uint64(time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())

// window is the accepted range of times of one push. It is fixed once per
// push so that every row of a request is judged against the same now.
// Bounds are in Unix nanoseconds, as OTLP sends times, so that a time past
// 2262 (beyond time.Time's nanosecond range) is judged, not wrapped.
type window struct {
	from uint64 // 0: no lower bound but a time being set
	to   uint64
	// toIsLimit: to is maxStorable, not now + max_future.
	toIsLimit bool
}

// newWindow is the window at now for calls up to maxAge old (0: no age
// bound) and maxFuture ahead.
func newWindow(now time.Time, maxAge, maxFuture time.Duration) window {
	w := storable()
	if future := now.Add(maxFuture); future.Before(time.Unix(0, int64(maxStorable))) {
		w.to, w.toIsLimit = uint64(future.UnixNano()), false
	}
	if maxAge > 0 {
		if from := now.Add(-maxAge).UnixNano(); from > 0 {
			w.from = uint64(from)
		}
	}
	return w
}

// storable is the window of what can be stored at all, for times that may
// be old or ahead (a provider's usage history, an open bucket's end).
func storable() window { return window{to: maxStorable, toIsLimit: true} }

// noAge is w without its lower bound, for data that is legitimately old
// (providers' usage history) but still must be set and not ahead.
func (w window) noAge() window { w.from = 0; return w }

// check judges one time.
func (w window) check(ts pcommon.Timestamp) reason {
	t := uint64(ts)
	switch {
	case t == 0:
		return reasonMissingTime
	case t < w.from:
		return reasonTooOld
	case t > w.to && w.toIsLimit:
		return reasonOutOfRange
	case t > w.to:
		return reasonInFuture
	}
	return ""
}

// checkSpan judges a call by its start, and by its end when set: a call
// cannot have ended in the future, and an end far ahead would put a
// latency of decades into the rollups.
func (w window) checkSpan(start, end pcommon.Timestamp) reason {
	if r := w.check(start); r != "" {
		return r
	}
	if end != 0 && uint64(end) > w.to {
		return w.check(end)
	}
	return ""
}

// maxAge is accepted_time.max_age as configured, else the retention the
// store reports for api_calls (0 when it keeps rows for ever), else the
// default.
func (e *nexusExporter) maxAge() time.Duration {
	if a := e.cfg.AcceptedTime.MaxAge; a > 0 {
		return a
	}
	if e.retention != nil {
		if keep, ok := e.retention.Retention(apiCalls.name); ok {
			return keep
		}
	}
	return defaultMaxAge
}
