package nexusapiextension

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/store"
)

// alerting is the alert rules, their evaluator and the notifications: the
// rules API and events API on every collector; the evaluator and the
// dispatcher only where alerting.evaluate is set.
type alerting struct {
	a *api
	// ruleWrites serialises the read-check-write of rule changes, as
	// api.budgetWrites does for budgets.
	ruleWrites sync.Mutex
	cfg        AlertingConfig
	rules      []*alertRule // from the config, in order; read-only
	// channels are the names a rule may list; inApp those of them that
	// are delivered by storing and streaming the event.
	channels map[string]bool
	inApp    map[string]bool

	dispatcher *notify.Dispatcher
	deliv      *deliveryLog
	eval       *evaluator
	tail       *eventTail

	// eventWrites keeps this process's read-modify-writes of an event
	// (delivery progress, acknowledgement) from interleaving.
	eventWrites sync.Mutex
	stopOnce    sync.Once

	// render runs message templates, bounded (tmplguard.go).
	render *renderer
	// badTemplates are the stored rules whose refused template was
	// logged, with the text logged, so that it is logged once.
	badTmplMu    sync.Mutex
	badTemplates map[string]string
}

func (a *api) alertRoutes() {
	// a.alerts is set in Start before the server serves; the closures
	// read it then, not now.
	h := func(f func(*alerting) handlerFunc) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) *APIError { return f(a.alerts)(w, r) }
	}
	a.route("GET /api/v1/alerts/rules", roleViewer, h(func(al *alerting) handlerFunc { return al.listRules }))
	a.route("POST /api/v1/alerts/rules", roleEditor, h(func(al *alerting) handlerFunc { return al.createRule }))
	a.route("GET /api/v1/alerts/rules/{id}", roleViewer, h(func(al *alerting) handlerFunc { return al.getRule }))
	a.route("PUT /api/v1/alerts/rules/{id}", roleEditor, h(func(al *alerting) handlerFunc { return al.replaceRule }))
	a.route("PATCH /api/v1/alerts/rules/{id}", roleEditor, h(func(al *alerting) handlerFunc { return al.patchRule }))
	a.route("DELETE /api/v1/alerts/rules/{id}", roleEditor, h(func(al *alerting) handlerFunc { return al.deleteRule }))
	a.route("GET /api/v1/alerts/events", roleViewer, h(func(al *alerting) handlerFunc { return al.listEvents }))
	a.route("GET /api/v1/alerts/events/{id}", roleViewer, h(func(al *alerting) handlerFunc { return al.getEvent }))
	a.route("POST /api/v1/alerts/events/{id}/ack", roleEditor, h(func(al *alerting) handlerFunc { return al.ackEvent }))
}

// startAlerting checks the config rules and the alert tables, and where
// this collector evaluates, builds the channels, recovers the alerts'
// state and starts the evaluator.
func (a *api) startAlerting(ctx context.Context, host component.Host) error {
	cfg := a.cfg.Alerting
	rules, err := cfg.buildRules("alerting.")
	if err != nil {
		return err
	}
	al := &alerting{a: a, cfg: cfg, rules: rules, channels: cfg.channelNames(), inApp: map[string]bool{inAppChannel: true},
		render: newRenderer(), badTemplates: map[string]string{}}
	external := map[string]notify.ChannelConfig{}
	for name, ch := range cfg.Channels {
		if ch.Type == notify.TypeInApp {
			al.inApp[name] = true
			continue
		}
		external[name] = ch
	}
	if _, err := al.readRules(ctx, ""); err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	a.alerts = al
	if !cfg.Evaluate {
		al.tail = newEventTail(al)
		al.tail.start()
		a.logger.Info("alert evaluation is off here (alerting.evaluate: false); events of the evaluating collector are streamed")
		return nil
	}
	built, err := notify.BuildWithHost(ctx, external, host, a.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("alerting: %w", err)
	}
	eval := newEvaluator(al)
	if err := eval.recoverState(ctx); err != nil {
		return err
	}
	// Nothing fails past here: stopAlerting stops exactly what is set.
	al.deliv = newDeliveryLog(al)
	go al.deliv.run()
	al.dispatcher = notify.NewDispatcher(built, al.deliv.onDelivery, a.logger.With(zap.String("component", "notify")))
	al.eval = eval
	al.eval.start()
	a.logger.Info("alert evaluator started", zap.Duration("interval", cfg.Interval), zap.Int("config_rules", len(rules)),
		zap.Int("channels", len(built)))
	return nil
}

// stopAlerting stops evaluating, gives queued notifications until ctx
// ends, and records their last delivery status.
func (a *api) stopAlerting(ctx context.Context) error {
	al := a.alerts
	if al == nil {
		return nil
	}
	var err error
	al.stopOnce.Do(func() {
		if al.tail != nil {
			al.tail.shutdown()
		}
		if al.eval != nil {
			al.eval.shutdown()
		}
		if al.dispatcher != nil {
			err = al.dispatcher.Shutdown(ctx)
		}
		if al.deliv != nil {
			close(al.deliv.stop)
			<-al.deliv.done
		}
	})
	return err
}

// --- streaming another collector's events ---

// tailSlack is how far back each read of new events reaches before the
// last one seen: an event is stamped with the evaluator's clock when it
// is made, and written an instant later.
const tailSlack = time.Minute

// eventTail puts on this collector's live feed the events the evaluating
// collector writes, so that a stream client gets alerts whichever
// collector the load balancer sent it to.
type eventTail struct {
	al     *alerting
	since  time.Time
	seen   map[string]time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func newEventTail(al *alerting) *eventTail {
	return &eventTail{al: al, since: time.Now().UTC(), seen: map[string]time.Time{}}
}

func (t *eventTail) start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(t.al.cfg.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// One poll never outlasts the next tick by much: a slow
				// store must not pile polls up.
				pctx, pcancel := context.WithTimeout(ctx, max(t.al.cfg.Interval, 5*time.Second))
				t.poll(pctx)
				pcancel()
			}
		}
	}()
}

func (t *eventTail) shutdown() {
	t.cancel()
	<-t.done
}

func (t *eventTail) poll(ctx context.Context) {
	from := t.since.Add(-tailSlack)
	evs, err := t.al.readEvents(ctx, eventSelect+" FROM "+t.al.table("alert_events")+" FINAL"+
		" WHERE at > {from:DateTime64(3, 'UTC')} ORDER BY at, id", store.Params{"from": from.Format(milliLayout)})
	if err != nil {
		if ctx.Err() == nil {
			t.al.a.logger.Debug("cannot read new alert events for the stream", zap.Error(err))
		}
		return
	}
	for _, e := range evs {
		if _, ok := t.seen[e.ID]; ok {
			continue
		}
		t.seen[e.ID] = e.At
		t.al.publish(e)
		if e.At.After(t.since) {
			t.since = e.At
		}
	}
	for id, at := range t.seen {
		if at.Before(from) {
			delete(t.seen, id)
		}
	}
}
