package alerting

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/store"
)

// Live evaluation: the rules measured from calls (callKinds) are
// evaluated again as soon as new calls are stored in their scope, not
// only on the interval, so that a breach is announced within a second or
// two of its calls. The store stays the only source of figures: an early
// evaluation is the tick's evaluation of fewer rules.
//
// The live feed says when calls arrive, the store what changed. The
// evaluator asks the feed for one call at a time (livefeed.Watcher), so
// the cost processor builds a call for it about twice a second under
// load, not for every call. Once a call is seen, a sweep compares the
// minute rollup of the last minutes with the previous sweep: the buckets
// that changed name the scopes with new calls, and only the call rules
// over those scopes are evaluated. Sweeps repeat every livePeriod while
// buckets keep changing (calls meanwhile are not watched, the store
// counts them), then the watcher is armed again, with one last sweep
// liveSettleMax later for the calls built before it was.
//
// What this does not see is left to the interval: calls stored by
// another collector while this one's feed is quiet, calls timestamped
// before the sweep's window, calls that take more than about
// liveSettle + liveRetries×liveRetry to be stored (an exporter batching
// for longer).
const (
	// liveSettle is how long after a call is seen the store is first
	// asked: the exporter's batch flush (flush_timeout, 200 ms in the
	// shipped configs) and its insert.
	liveSettle = 250 * time.Millisecond
	// liveRetry and liveRetries bound the wait for a seen call that is not
	// stored yet.
	liveRetry   = 250 * time.Millisecond
	liveRetries = 6
	// livePeriod is the least time between two sweeps that found calls:
	// at most one early evaluation per rule per period.
	livePeriod = 500 * time.Millisecond
	// liveSettleMax is when the last sweep runs after the watcher is
	// armed again.
	liveSettleMax = 750 * time.Millisecond
	// maxLiveBuckets bounds one sweep's memory; past it every call rule
	// counts as changed.
	maxLiveBuckets = 20000
)

// callKinds are the kinds measured from the calls' minute rollup.
var callKinds = map[string]bool{KindCostOverWindow: true, KindErrorRate: true, KindLatencyP95: true,
	KindAnomaly: true, KindUnpriced: true}

// bucketKey is a minute bucket of the rollup and its dimensions.
type bucketKey struct {
	ts, tenant                                       string
	provider, model, operation, service, environment string
	team, feature                                    string
}

// live is the evaluator's live state; only the evaluator's loop uses it.
type live struct {
	e       *evaluator
	watch   *livefeed.Watcher
	timer   *time.Timer
	waiting bool // a sweep is scheduled
	seen    bool // a call was seen that no sweep has found yet
	tries   int
	final   bool // the scheduled sweep is the one after arming
	last    map[bucketKey]string
}

func newLive(e *evaluator) *live {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &live{e: e, watch: e.en.feed.Watch(livefeed.KindCall), timer: t, last: map[bucketKey]string{}}
}

func (l *live) close() {
	l.timer.Stop()
	l.watch.Close()
}

// schedule runs a sweep after d.
func (l *live) schedule(d time.Duration) {
	l.waiting = true
	l.timer.Reset(d)
}

// refresh arms the watcher when call rules exist and nothing is under way,
// and disarms it when there are none: an installation without call rules
// never makes the cost processor build a call for alerting.
func (l *live) refresh() {
	switch {
	case !l.e.callRules.Load():
		l.watch.Disarm()
	case !l.waiting:
		l.watch.Arm()
	}
}

// reload reads whether call rules exist (a rule was written) and arms or
// disarms the watcher accordingly.
func (l *live) reload(ctx context.Context) {
	rules, err := l.e.en.allRules(ctx, "")
	if err != nil {
		l.e.en.logger.Debug("live alert evaluation: cannot read rules", zap.Error(err))
		return
	}
	l.e.callRules.Store(hasCallRules(rules))
	l.refresh()
}

// called: a call was seen (the watcher is disarmed by then).
func (l *live) called() {
	l.seen, l.tries, l.final = true, 0, false
	if !l.waiting {
		l.schedule(liveSettle)
	}
}

// due runs the scheduled sweep and decides what comes next.
func (l *live) due(ctx context.Context) {
	l.waiting = false
	began := time.Now()
	found := l.sweep(ctx, began)
	switch {
	case !l.e.callRules.Load():
		l.seen, l.final = false, false
		l.refresh()
	case found:
		l.seen, l.tries, l.final = false, 0, false
		l.schedule(max(livePeriod-time.Since(began), time.Millisecond))
	case l.seen && l.tries < liveRetries:
		l.tries++
		l.schedule(liveRetry)
	case !l.final && l.e.callRules.Load():
		l.seen, l.final = false, true
		l.watch.Arm()
		l.schedule(liveSettleMax)
	default:
		l.seen, l.final = false, false
		l.refresh()
	}
}

// sweep finds the call rules over scopes whose buckets changed since the
// last sweep and evaluates them; it tells whether any bucket changed.
func (l *live) sweep(ctx context.Context, now time.Time) bool {
	en := l.e.en
	rules, err := en.allRules(ctx, "")
	if err != nil {
		en.logger.Debug("live alert sweep: cannot read rules", zap.Error(err))
		return false
	}
	var calls []*Rule
	for _, r := range rules {
		if r.Enabled && callKinds[r.Kind] {
			calls = append(calls, r)
		}
	}
	l.e.callRules.Store(len(calls) > 0)
	if len(calls) == 0 {
		return false
	}
	changed, all, err := l.changes(ctx, now)
	if err != nil {
		en.logger.Debug("live alert sweep: cannot read the minute rollup", zap.Error(err))
		return false
	}
	if len(changed) == 0 && !all {
		return false
	}
	var due []*Rule
	for _, r := range calls {
		if all || anyInScope(r, changed) {
			due = append(due, r)
		}
	}
	if len(due) > 0 {
		l.e.deliver(ctx, l.e.decideRules(ctx, now, due))
	}
	return true
}

// changes reads the minute buckets since the start of the previous minute
// and returns those that are new or differ from the last sweep; all is
// set when there are too many to tell.
func (l *live) changes(ctx context.Context, now time.Time) (changed []bucketKey, all bool, err error) {
	src := l.e.en.src
	params := store.Params{"from": now.Add(-time.Minute).UTC().Truncate(time.Minute).Format(secondLayout),
		"limit": fmt.Sprint(maxLiveBuckets + 1)}
	rows, err := src.store.Query(ctx, "SELECT toString(ts), tenant, provider, model, operation, service, environment,"+
		" team, feature, toString(sum(calls)) || '/' || toString(sum(cost_usd)) FROM "+src.table("api_calls_1m")+
		" WHERE ts >= {from:DateTime('UTC')} GROUP BY ts, tenant, provider, model, operation, service, environment,"+
		" team, feature LIMIT {limit:UInt64}", params)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	next := make(map[bucketKey]string, len(l.last))
	for rows.Next() {
		var k bucketKey
		var v string
		if err := rows.Scan(&k.ts, &k.tenant, &k.provider, &k.model, &k.operation, &k.service, &k.environment,
			&k.team, &k.feature, &v); err != nil {
			return nil, false, fmt.Errorf("scan a minute bucket: %w", err)
		}
		if len(next) == maxLiveBuckets {
			all = true
			break
		}
		next[k] = v
		if l.last[k] != v {
			changed = append(changed, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	l.last = next
	return changed, all, nil
}

// anyInScope tells whether a changed bucket is in r's tenant and scope.
// The rollup has no customer, user or tag: a rule narrowed by them is
// evaluated on any change in its other fields (one evaluation too many
// rather than one too few).
func anyInScope(r *Rule, changed []bucketKey) bool {
	s := r.Scope
	for _, k := range changed {
		if k.tenant == r.tenant() && (s.Provider == "" || s.Provider == k.provider) && (s.Model == "" || s.Model == k.model) &&
			(s.Operation == "" || s.Operation == k.operation) && (s.Service == "" || s.Service == k.service) &&
			(s.Environment == "" || s.Environment == k.environment) && (s.Team == "" || s.Team == k.team) &&
			(s.Feature == "" || s.Feature == k.feature) {
			return true
		}
	}
	return false
}

// hasCallRules tells whether rules hold an enabled call rule.
func hasCallRules(rules []*Rule) bool {
	for _, r := range rules {
		if r.Enabled && callKinds[r.Kind] {
			return true
		}
	}
	return false
}

// decideRules evaluates rules (enabled ones, just read) as at now, as
// decide does for every rule; rules deleted or disabled meanwhile are the
// next tick's.
func (e *evaluator) decideRules(ctx context.Context, now time.Time, rules []*Rule) []pendingEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() { e.out = nil }()
	now = now.UTC().Truncate(time.Millisecond)
	for _, r := range rules {
		e.rules[r.ID] = r
		e.evaluateRule(ctx, r, now)
	}
	return e.out
}
