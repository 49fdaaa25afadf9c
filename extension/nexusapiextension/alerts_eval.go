package nexusapiextension

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/notify"
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
	al *alerting
	// now is the evaluator's clock; tests replace it to step through time.
	now func() time.Time

	mu     sync.Mutex // one evaluation at a time
	states map[string]map[string]*instState
	// rules is the last definition seen of every rule with states, so
	// that a deleted rule's alerts can still be resolved in its name.
	rules map[string]*alertRule
	// failing is each failing rule's last error, logged when it changes
	// rather than on every tick.
	failing map[string]string
	// out is the events the evaluation in progress decided on, under mu;
	// they are rendered, written and announced after mu is released
	// (deliver), so that nothing a rule's author wrote runs under it.
	out []pendingEvent

	cancel context.CancelFunc
	done   chan struct{}
}

func newEvaluator(al *alerting) *evaluator {
	return &evaluator{al: al, now: time.Now, states: map[string]map[string]*instState{},
		rules: map[string]*alertRule{}, failing: map[string]string{}}
}

func (e *evaluator) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		t := time.NewTicker(e.al.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.evaluateOnce(ctx)
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
	evs, err := e.al.readEvents(ctx, eventSelect+" FROM "+e.al.a.store.Database()+".alert_events FINAL"+
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
			stub := &alertRule{ID: ev.RuleID, Name: ev.RuleName, Kind: ev.Kind, Severity: ev.Severity, Enabled: true}
			for _, d := range ev.Deliveries {
				stub.Channels = append(stub.Channels, d.Channel)
			}
			e.rules[ev.RuleID] = stub
		}
		n++
	}
	if n > 0 {
		e.al.a.logger.Info("recovered alert states", zap.Int("instances", n))
	}
	return nil
}

// evaluateOnce runs every rule once at the evaluator's now: it decides
// the state changes, then delivers their events. It is called from one
// goroutine at a time (the evaluator's loop, or a test stepping it), so
// one evaluation's events are delivered before the next one decides.
func (e *evaluator) evaluateOnce(ctx context.Context) {
	e.deliver(ctx, e.decide(ctx))
}

// decide evaluates every rule and moves their instances through their
// states, collecting the events to deliver.
func (e *evaluator) decide(ctx context.Context) []pendingEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() { e.out = nil }()
	now := e.now().UTC().Truncate(time.Millisecond)
	rules, err := e.al.allRules(ctx)
	if err != nil {
		// Without the list a deleted rule cannot be told from a missing
		// read: nothing changes this tick.
		e.al.a.logger.Warn("cannot read alert rules; evaluation skipped", zap.Error(err))
		return nil
	}
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

func (e *evaluator) evaluateRule(ctx context.Context, r *alertRule, now time.Time) {
	log := e.al.a.logger.With(zap.String("rule_id", r.ID), zap.String("kind", r.Kind))
	defer func() {
		if p := recover(); p != nil {
			log.Error("alert rule evaluation panicked; the other rules go on", zap.Any("panic", p))
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, ruleTimeout)
	defer cancel()
	obs, err := e.al.observe(rctx, r, now)
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
func (e *evaluator) apply(ctx context.Context, r *alertRule, obs []observation, now time.Time) {
	cur := e.states[r.ID]
	if cur == nil {
		cur = map[string]*instState{}
		e.states[r.ID] = cur
	}
	obs = capInstances(r, obs, cur, e.al.cfg.MaxInstancesPerRule)
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
			every := e.al.cfg.RenotifyInterval
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
func (e *evaluator) end(ctx context.Context, r *alertRule, key string, st *instState, now time.Time, note string) {
	if st.state == stateFiring {
		e.emit(ctx, r, key, st, stateResolved, now, true, note)
	} else {
		e.emit(ctx, r, key, st, stateOK, now, false, note)
	}
}

// closeRule ends every instance of a rule that no longer runs.
func (e *evaluator) closeRule(ctx context.Context, r *alertRule, now time.Time, why string) {
	for key, st := range e.states[r.ID] {
		e.end(ctx, r, key, st, now, why)
	}
	delete(e.states, r.ID)
}

// acknowledged tells whether someone acknowledged the firing episode, in
// any of its announcements; an error counts as not (better one reminder
// too many than a silent alert).
func (e *evaluator) acknowledged(ctx context.Context, r *alertRule, key string, st *instState) bool {
	if st.acked {
		return true
	}
	n, err := e.al.a.count(ctx, "SELECT countIf(acked_at IS NOT NULL) FROM (SELECT acked_at FROM "+e.al.a.store.Database()+
		".alert_events FINAL WHERE rule_id = {rule:String} AND instance = {instance:String} AND state = 'firing'"+
		" AND started_at = {started:DateTime64(3, 'UTC')})", map[string]string{"rule": r.ID, "instance": key,
		"started": st.startedAt.UTC().Format("2006-01-02 15:04:05.000")})
	if err != nil {
		e.al.a.logger.Warn("cannot read whether an alert was acknowledged", zap.String("rule_id", r.ID), zap.Error(err))
		return false
	}
	st.acked = n > 0
	return st.acked
}

// pendingEvent is an event decided on and not yet delivered: its message
// is still to be rendered.
type pendingEvent struct {
	rule     *alertRule
	ev       *alertEvent
	summary  string // the default message
	link     string
	external []string // channels the dispatcher delivers to
}

// emit decides one event: the state change of an instance, with what is
// needed to render, record and announce it after the evaluation.
func (e *evaluator) emit(_ context.Context, r *alertRule, key string, st *instState, state string, now time.Time, announce bool, note string) {
	al := e.al
	ev := &alertEvent{ID: newID("alev_"), RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Instance: key, Labels: st.labels,
		State: state, Severity: r.Severity, Value: st.value, Threshold: st.threshold, StartedAt: st.startedAt, At: now,
		DedupKey: dedupKey(r.ID, key, state, st.startedAt, st.seq), Deliveries: []delivery{}}
	if ev.Labels == nil {
		ev.Labels = map[string]string{}
	}
	var external []string
	if announce {
		ev.Notification = st.seq
		for _, ch := range r.Channels {
			if al.inApp[ch] {
				// Stored and streamed right here: that is the delivery.
				ev.Deliveries = append(ev.Deliveries, delivery{Channel: ch, Status: notify.DeliverySent, Attempts: 1, At: now})
				continue
			}
			ev.Deliveries = append(ev.Deliveries, delivery{Channel: ch, Status: notify.DeliveryPending, At: now})
			external = append(external, ch)
		}
		slices.SortFunc(ev.Deliveries, func(a, b delivery) int { return strings.Compare(a.Channel, b.Channel) })
	}
	e.out = append(e.out, pendingEvent{rule: r, ev: ev, summary: defaultMessage(r, state, st.summary, note),
		link: al.link(ev.ID), external: external})
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
	al, r, ev := e.al, p.rule, p.ev
	defer func() {
		if v := recover(); v != nil {
			al.a.logger.Error("delivering an alert event panicked; the other events go on",
				zap.String("rule_id", r.ID), zap.String("event_id", ev.ID), zap.Any("panic", v))
		}
	}()
	ev.Message = al.message(ctx, r, ev, p.summary, p.link)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventWriteTimeout)
	defer cancel()
	if err := al.writeEvent(wctx, ev); err != nil {
		// Still announced: a notification matters more than its record.
		al.a.logger.Error("cannot record alert event", zap.String("rule_id", r.ID), zap.String("state", ev.State), zap.Error(err))
	}
	al.publish(ev)
	al.a.logger.Info("alert "+ev.State, zap.String("rule_id", r.ID), zap.String("instance", ev.Instance), zap.String("event_id", ev.ID),
		zap.String("value", ev.Value.String()), zap.String("threshold", ev.Threshold.String()))
	if len(p.external) > 0 && al.dispatcher != nil {
		al.deliv.track(ev)
		al.dispatcher.Notify(notify.Notification{
			DedupKey: ev.DedupKey, EventID: ev.ID, RuleID: r.ID, RuleName: r.Name, State: ev.State, Severity: r.Severity,
			Title: r.Name, Message: ev.Message, Labels: ev.Labels, Value: eventValue(r, ev.Instance, ev.Value),
			Threshold: eventValue(r, ev.Instance, ev.Threshold), StartsAt: ev.StartedAt, At: ev.At, Link: p.link,
		}, p.external)
	}
}

// link is where a notification points for event id; "" without
// link_base_url.
func (al *alerting) link(id string) string {
	base := al.cfg.LinkBaseURL
	switch {
	case base == "":
		return ""
	case strings.Contains(base, "{event_id}"):
		return strings.ReplaceAll(base, "{event_id}", id)
	}
	return strings.TrimRight(base, "/") + "/api/v1/alerts/events/" + id
}

// defaultMessage is the measurement with what happened to it.
func defaultMessage(r *alertRule, state, summary, note string) string {
	if note != "" && (state == stateResolved || state == stateOK) && summary == "" {
		summary = note
	}
	var def string
	switch state {
	case statePending:
		def = "pending for " + fmtDuration(r.For) + ": " + summary
	case stateFiring:
		def = summary
		if note != "" {
			def = note + ": " + summary
		}
	case stateResolved, stateOK:
		prefix := "resolved"
		if state == stateOK {
			prefix = "cleared before firing"
		}
		switch {
		case note != "":
			def = prefix + " (" + note + ")"
		default:
			def = prefix + ": " + summary
		}
	}
	return def
}

// message is the rule's template run on the event, or def when the rule
// has none, the event is the overflow of a capped rule (its own words say
// what a per-instance template cannot), or the run fails or overruns.
func (al *alerting) message(ctx context.Context, r *alertRule, ev *alertEvent, def, link string) string {
	if r.tmpl == nil || ev.Instance == overflowInstance {
		return def
	}
	data := templateData{Rule: templateRule{ID: r.ID, Name: r.Name, Kind: r.Kind, Severity: r.Severity}, State: ev.State,
		Value: formatValue(r, ev.Value), Threshold: formatValue(r, ev.Threshold), Labels: ev.Labels, Instance: ev.Instance,
		Summary: def, StartedAt: ev.StartedAt, At: ev.At, Link: link}
	if r.Window > 0 {
		data.Window = fmtDuration(r.Window)
	}
	out, err := al.render.run(ctx, r.tmpl, data)
	if err != nil {
		al.a.logger.Warn("alert message template failed; the default message is used", zap.String("rule_id", r.ID), zap.Error(err))
		return def
	}
	return out
}

// formatValue renders a value in its kind's unit: dollars, percent,
// milliseconds or a count.
func formatValue(r *alertRule, v decimal.Decimal) string {
	switch {
	case r.Kind == kindCostOverWindow, r.Kind == kindBudgetForecast, r.Kind == kindAnomaly && r.Mode == anomalySpend:
		return fmtUSD(v)
	case r.Kind == kindErrorRate, r.Kind == kindQuota && r.Source == quotaHeadroom, r.Kind == kindAnomaly && r.Mode == anomalyShare:
		return v.Mul(decimal.NewFromInt(100)).Round(2).String() + "%"
	case r.Kind == kindBudgetThreshold:
		return v.Round(2).String() + "%"
	case r.Kind == kindLatencyP95:
		return v.Round(1).String() + " ms"
	}
	return v.Round(2).String()
}

// fmtUSD is cents for amounts of a dollar and more, and the digits that
// matter below.
func fmtUSD(v decimal.Decimal) string {
	if v.Abs().GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return "$" + v.StringFixed(2)
	}
	return "$" + v.Round(6).String()
}
