package alerting

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
)

// ruleTimeout bounds one rule's queries: a slow rule must not hold up the
// others past the next tick.
const ruleTimeout = 30 * time.Second

// eventWriteTimeout bounds writing one event.
const eventWriteTimeout = 10 * time.Second

// observation is what a rule measured for one instance.
type observation struct {
	key       string            // the instance, stable across evaluations
	labels    map[string]string // what the instance is: provider, budget, …
	value     decimal.Decimal
	threshold decimal.Decimal
	breach    bool
	summary   string // the measurement in words, for the default message
}

// instState is an instance that is not ok: pending or firing.
type instState struct {
	state        string
	startedAt    time.Time
	lastNotified time.Time
	seq          int  // announcements of this firing episode so far
	acked        bool // someone acknowledged the episode: no more reminders
	labels       map[string]string
	value        decimal.Decimal
	threshold    decimal.Decimal
	summary      string
}

// evaluator runs every rule on an interval and turns what they measure
// into events and notifications. Its state is in memory and recovered
// from alert_events at start.
type evaluator struct {
	en *Engine

	mu     sync.Mutex // one evaluation at a time
	states map[string]map[string]*instState
	// rules is the last definition seen of every rule with states, so
	// that a deleted rule's alerts can still be resolved in its name.
	rules map[string]*Rule
	// failing is each failing rule's last error, logged when it changes
	// rather than on every tick.
	failing map[string]string
	// out is the events the evaluation in progress decided on, under mu;
	// they are rendered, written and announced after mu is released
	// (deliver), so that nothing a rule's author wrote runs under it.
	out []pendingEvent

	// callRules tells whether an enabled call rule exists: only then does
	// live evaluation (live.go) watch the feed. rulesChanged wakes the
	// loop when a rule is written.
	callRules    atomic.Bool
	rulesChanged chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

func newEvaluator(en *Engine) *evaluator {
	return &evaluator{en: en, states: map[string]map[string]*instState{},
		rules: map[string]*Rule{}, failing: map[string]string{}, rulesChanged: make(chan struct{}, 1)}
}

// ruleWritten tells the loop a rule changed, without waiting.
func (e *evaluator) ruleWritten() {
	select {
	case e.rulesChanged <- struct{}{}:
	default:
	}
}

func (e *evaluator) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	l := newLive(e)
	go func() {
		defer close(e.done)
		defer l.close()
		t := time.NewTicker(e.en.cfg.Interval)
		defer t.Stop()
		l.reload(ctx)
		// One goroutine runs the ticks and the early evaluations, so that
		// one evaluation's events are delivered before the next decides.
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// The clock now, not the tick's: a tick that waited
				// behind a slow evaluation must not measure the past.
				e.evaluateAt(ctx, time.Now())
				l.refresh()
			case <-l.watch.C:
				l.called()
			case <-l.timer.C:
				l.due(ctx)
			case <-e.rulesChanged:
				l.reload(ctx)
			}
		}
	}()
}

func (e *evaluator) shutdown() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
	}
}

// recoverState reads the latest event of every instance: those pending or
// firing carry on where they were, so a restart neither announces a firing
// alert again nor forgets to resolve it.
func (e *evaluator) recoverState(ctx context.Context) error {
	evs, err := e.en.readEvents(ctx, eventSelect+" FROM "+e.en.store.Database()+".alert_events FINAL"+
		" ORDER BY rule_id, instance, at DESC, notify_seq DESC LIMIT 1 BY rule_id, instance", nil)
	if err != nil {
		return fmt.Errorf("recover alert states: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range evs {
		if ev.State != statePending && ev.State != stateFiring {
			continue
		}
		st := &instState{state: ev.State, startedAt: ev.StartedAt, seq: ev.Notification, labels: ev.Labels,
			value: ev.Value, threshold: ev.Threshold, summary: ev.Message}
		if ev.State == stateFiring {
			st.lastNotified = ev.At
		}
		if e.states[ev.RuleID] == nil {
			e.states[ev.RuleID] = map[string]*instState{}
		}
		e.states[ev.RuleID][ev.Instance] = st
		if _, ok := e.rules[ev.RuleID]; !ok {
			// Until the rule is read again: enough to resolve its alerts
			// in its name, on the channels it last announced on, if it has
			// gone meanwhile.
			stub := &Rule{ID: ev.RuleID, Name: ev.RuleName, Kind: ev.Kind, Severity: ev.Severity, Enabled: true}
			for _, d := range ev.Deliveries {
				stub.Channels = append(stub.Channels, d.Channel)
			}
			e.rules[ev.RuleID] = stub
		}
		n++
	}
	if n > 0 {
		e.en.logger.Info("recovered alert states", zap.Int("instances", n))
	}
	return nil
}

// evaluateAt runs every rule once as at now: it decides the state
// changes, then delivers their events. It is called from one goroutine at
// a time (the evaluator's loop, or a test stepping its clock), so one
// evaluation's events are delivered before the next one decides.
func (e *evaluator) evaluateAt(ctx context.Context, now time.Time) {
	e.deliver(ctx, e.decide(ctx, now))
}

// decide evaluates every rule and moves their instances through their
// states, collecting the events to deliver.
func (e *evaluator) decide(ctx context.Context, now time.Time) []pendingEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() { e.out = nil }()
	now = now.UTC().Truncate(time.Millisecond)
	rules, err := e.en.allRules(ctx, "")
	if err != nil {
		// Without the list a deleted rule cannot be told from a missing
		// read: nothing changes this tick.
		e.en.logger.Warn("cannot read alert rules; evaluation skipped", zap.Error(err))
		return nil
	}
	e.callRules.Store(hasCallRules(rules))
	live := make(map[string]bool, len(rules))
	for _, r := range rules {
		live[r.ID] = true
		e.rules[r.ID] = r
		if !r.Enabled {
			e.closeRule(ctx, r, now, "the rule was disabled")
			continue
		}
		e.evaluateRule(ctx, r, now)
	}
	for id, r := range e.rules {
		if !live[id] {
			e.closeRule(ctx, r, now, "the rule was deleted")
			delete(e.rules, id)
			delete(e.failing, id)
		}
	}
	return e.out
}

func (e *evaluator) evaluateRule(ctx context.Context, r *Rule, now time.Time) {
	log := e.en.logger.With(zap.String("rule_id", r.ID), zap.String("kind", r.Kind))
	defer func() {
		if p := recover(); p != nil {
			log.Error("alert rule evaluation panicked; the other rules go on", zap.Any("panic", p))
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, ruleTimeout)
	defer cancel()
	obs, err := observe(rctx, e.en.src, r, now)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		// Its alerts keep their state: a failed query says nothing about
		// whether the condition still holds.
		if msg := err.Error(); e.failing[r.ID] != msg {
			log.Warn("alert rule evaluation failed; its alerts keep their state", zap.Error(err))
			e.failing[r.ID] = msg
		}
		return
	}
	if _, was := e.failing[r.ID]; was {
		log.Info("alert rule evaluates again")
		delete(e.failing, r.ID)
	}
	if len(obs) == 0 {
		log.Debug("alert rule matched no data")
	}
	e.apply(ctx, r, obs, now)
}

// apply moves each instance through its states. An instance that was
// pending or firing and is no longer observed is treated as no data: the
// condition does not hold.
func (e *evaluator) apply(ctx context.Context, r *Rule, obs []observation, now time.Time) {
	cur := e.states[r.ID]
	if cur == nil {
		cur = map[string]*instState{}
		e.states[r.ID] = cur
	}
	obs = capInstances(r, obs, cur, e.en.cfg.MaxInstancesPerRule)
	seen := make(map[string]bool, len(obs))
	for _, o := range obs {
		seen[o.key] = true
		st := cur[o.key]
		if !o.breach {
			if st != nil {
				st.value, st.threshold, st.summary = o.value, o.threshold, o.summary
				e.end(ctx, r, o.key, st, now, "")
				delete(cur, o.key)
			}
			continue
		}
		if st == nil {
			st = &instState{state: statePending, startedAt: now}
			cur[o.key] = st
			st.labels, st.value, st.threshold, st.summary = o.labels, o.value, o.threshold, o.summary
			if r.For > 0 {
				e.emit(ctx, r, o.key, st, statePending, now, false, "")
				continue
			}
		}
		st.labels, st.value, st.threshold, st.summary = o.labels, o.value, o.threshold, o.summary
		switch st.state {
		case statePending:
			if now.Sub(st.startedAt) >= r.For {
				st.state, st.seq, st.lastNotified = stateFiring, 1, now
				e.emit(ctx, r, o.key, st, stateFiring, now, true, "")
			}
		case stateFiring:
			every := e.en.cfg.RenotifyInterval
			if every > 0 && now.Sub(st.lastNotified) >= every && !e.acknowledged(ctx, r, o.key, st) {
				st.seq++
				st.lastNotified = now
				e.emit(ctx, r, o.key, st, stateFiring, now, true,
					fmt.Sprintf("still firing since %s", st.startedAt.Format(time.RFC3339)))
			}
		}
	}
	for key, st := range cur {
		if !seen[key] {
			e.end(ctx, r, key, st, now, "no data in the window")
			delete(cur, key)
		}
	}
	if len(cur) == 0 {
		delete(e.states, r.ID)
	}
}

// end closes an instance: a firing one is resolved (and announced), a
// pending one goes back to ok.
func (e *evaluator) end(ctx context.Context, r *Rule, key string, st *instState, now time.Time, note string) {
	if st.state == stateFiring {
		e.emit(ctx, r, key, st, stateResolved, now, true, note)
	} else {
		e.emit(ctx, r, key, st, stateOK, now, false, note)
	}
}

// closeRule ends every instance of a rule that no longer runs.
func (e *evaluator) closeRule(ctx context.Context, r *Rule, now time.Time, why string) {
	for key, st := range e.states[r.ID] {
		e.end(ctx, r, key, st, now, why)
	}
	delete(e.states, r.ID)
}

// acknowledged tells whether someone acknowledged the firing episode, in
// any of its announcements; an error counts as not (better one reminder
// too many than a silent alert).
func (e *evaluator) acknowledged(ctx context.Context, r *Rule, key string, st *instState) bool {
	if st.acked {
		return true
	}
	n, err := schema.Count(ctx, e.en.store, "SELECT countIf(acked_at IS NOT NULL) FROM (SELECT acked_at FROM "+e.en.store.Database()+
		".alert_events FINAL WHERE rule_id = {rule:String} AND instance = {instance:String} AND state = 'firing'"+
		" AND started_at = {started:DateTime64(3, 'UTC')})", map[string]string{"rule": r.ID, "instance": key,
		"started": st.startedAt.UTC().Format("2006-01-02 15:04:05.000")})
	if err != nil {
		e.en.logger.Warn("cannot read whether an alert was acknowledged", zap.String("rule_id", r.ID), zap.Error(err))
		return false
	}
	st.acked = n > 0
	return st.acked
}

// pendingEvent is an event decided on and not yet delivered: its message
// is still to be rendered.
type pendingEvent struct {
	rule     *Rule
	ev       *Event
	summary  string // the default message
	link     string
	external []string // channels the dispatcher delivers to
}

// emit decides one event: the state change of an instance, with what is
// needed to render, record and announce it after the evaluation.
func (e *evaluator) emit(_ context.Context, r *Rule, key string, st *instState, state string, now time.Time, announce bool, note string) {
	en := e.en
	ev := &Event{ID: newID("alev_"), Tenant: r.tenant(), RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Instance: key, Labels: st.labels,
		State: state, Severity: r.Severity, Value: st.value, Threshold: st.threshold, StartedAt: st.startedAt, At: now,
		DedupKey: DedupKey(r.ID, key, state, st.startedAt, st.seq), Deliveries: []Delivery{}}
	if ev.Labels == nil {
		ev.Labels = map[string]string{}
	}
	var external []string
	if announce {
		ev.Notification = st.seq
		for _, ch := range r.Channels {
			if en.inApp[ch] {
				// Stored and streamed right here: that is the delivery.
				ev.Deliveries = append(ev.Deliveries, Delivery{Channel: ch, Status: notify.DeliverySent, Attempts: 1, At: now})
				continue
			}
			ev.Deliveries = append(ev.Deliveries, Delivery{Channel: ch, Status: notify.DeliveryPending, At: now})
			external = append(external, ch)
		}
		slices.SortFunc(ev.Deliveries, func(a, b Delivery) int { return strings.Compare(a.Channel, b.Channel) })
	}
	e.out = append(e.out, pendingEvent{rule: r, ev: ev, summary: defaultMessage(r, state, st.summary, note),
		link: en.link(ev.ID), external: external})
}

// deliver renders each event's message, records the event, publishes it
// on the live feed and hands announcements to the dispatcher, which
// queues them without waiting. No evaluator lock is held: a template that
// overruns costs its deadline and gives the default message.
func (e *evaluator) deliver(ctx context.Context, evs []pendingEvent) {
	for _, p := range evs {
		e.deliverOne(ctx, p)
	}
}

// deliverOne delivers one event; a panic is logged and the next event
// goes on, as a panicking rule does not stop the others.
func (e *evaluator) deliverOne(ctx context.Context, p pendingEvent) {
	en, r, ev := e.en, p.rule, p.ev
	defer func() {
		if v := recover(); v != nil {
			en.logger.Error("delivering an alert event panicked; the other events go on",
				zap.String("rule_id", r.ID), zap.String("event_id", ev.ID), zap.Any("panic", v))
		}
	}()
	ev.Message = en.message(ctx, r, ev, p.summary, p.link)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventWriteTimeout)
	defer cancel()
	if err := en.writeEvent(wctx, ev); err != nil {
		// Still announced: a notification matters more than its record.
		en.logger.Error("cannot record alert event", zap.String("rule_id", r.ID), zap.String("state", ev.State), zap.Error(err))
	}
	en.publish(ev)
	en.logger.Info("alert "+ev.State, zap.String("rule_id", r.ID), zap.String("instance", ev.Instance), zap.String("event_id", ev.ID),
		zap.String("value", ev.Value.String()), zap.String("threshold", ev.Threshold.String()))
	if len(p.external) > 0 && en.dispatcher != nil {
		en.deliv.track(ev)
		en.dispatcher.Notify(notify.Notification{
			DedupKey: ev.DedupKey, EventID: ev.ID, RuleID: r.ID, RuleName: r.Name, State: ev.State, Severity: r.Severity,
			Title: r.Name, Message: ev.Message, Labels: ev.Labels, Value: eventValue(r, ev.Instance, ev.Value),
			Threshold: eventValue(r, ev.Instance, ev.Threshold), StartsAt: ev.StartedAt, At: ev.At, Link: p.link,
		}, p.external)
	}
}
