// Package alerting is Nexus's alert engine: the rule kinds (one type each,
// with its own validation and measurement), the evaluator that turns
// measurements into events (ok → pending → firing → resolved, announced
// once per state change), the events and their delivery log, and the
// wiring to the notification channels. Rules run on an interval; those
// measured from calls also run as their calls are stored (live.go). It knows nothing of HTTP: it
// returns domain errors (*ValidationError, ErrNotFound, ErrConflict) for
// the API to map.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/store"
)

// Settings is what the engine needs from outside.
type Settings struct {
	Config Config
	Store  store.Store
	Logger *zap.Logger
	// Telemetry and Host build the notification channels (a channel may
	// use an authenticator extension).
	Telemetry component.TelemetrySettings
	Host      component.Host
	// Feed carries events to live streams: the in-app channel's push.
	Feed *livefeed.Hub
	// Spend reads budgets for the budget kinds; nil refuses them at
	// evaluation.
	Spend SpendReader
	// Redact removes credentials from provider check messages; nil keeps
	// them as stored.
	Redact func(string) string
}

// Engine is the alert rules, their evaluator and the notifications: the
// rules and events on every collector; the evaluator and the dispatcher
// only where the config's evaluate is set.
type Engine struct {
	cfg       Config
	store     store.Store
	logger    *zap.Logger
	telemetry component.TelemetrySettings
	host      component.Host
	feed      *livefeed.Hub
	spend     SpendReader
	src       *sources

	// ruleWrites serialises the read-check-write of rule changes: the
	// table cannot enforce anything.
	ruleWrites sync.Mutex
	rules      []*Rule // from the config, in order; read-only
	// channels are the names a rule may list; inApp those of them that
	// are delivered by storing and streaming the event; external the
	// others, which the dispatcher delivers.
	channels map[string]bool
	inApp    map[string]bool
	external map[string]notify.ChannelConfig

	dispatcher *notify.Dispatcher
	deliv      *deliveryLog
	eval       *evaluator
	tail       *eventTail

	// eventWrites keeps this process's read-modify-writes of an event
	// (delivery progress, acknowledgement) from interleaving.
	eventWrites sync.Mutex
	stopOnce    sync.Once

	// render runs message templates, bounded (template.go).
	render *renderer
	// badTemplates are the stored rules whose refused template was
	// logged, with the text logged, so that it is logged once.
	badTmplMu    sync.Mutex
	badTemplates map[string]string
}

// New checks the config rules and builds an engine that is not started.
func New(set Settings) (*Engine, error) {
	if set.Store == nil || set.Feed == nil {
		return nil, errors.New("alerting: a store and a live feed are required")
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	cfg := set.Config
	rules, err := cfg.BuildRules("alerting.")
	if err != nil {
		return nil, err
	}
	en := &Engine{cfg: cfg, store: set.Store, logger: set.Logger, telemetry: set.Telemetry, host: set.Host, feed: set.Feed,
		spend: set.Spend, src: &sources{store: set.Store, spend: set.Spend, redact: set.Redact},
		rules: rules, channels: cfg.channelNames(), inApp: map[string]bool{InAppChannel: true},
		external: map[string]notify.ChannelConfig{}, render: newRenderer(), badTemplates: map[string]string{}}
	for name, ch := range cfg.Channels {
		if ch.Type == notify.TypeInApp {
			en.inApp[name] = true
			continue
		}
		en.external[name] = ch
	}
	return en, nil
}

// Start checks the alert tables, and where this collector evaluates,
// builds the channels, recovers the alerts' state and starts the
// evaluator; elsewhere it streams the evaluating collector's events.
// When it fails, nothing is left running.
func (en *Engine) Start(ctx context.Context) error {
	if _, err := en.readRules(ctx, "", ""); err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	if !en.cfg.Evaluate {
		en.tail = newEventTail(en)
		en.tail.start()
		en.logger.Info("alert evaluation is off here (alerting.evaluate: false); events of the evaluating collector are streamed")
		return nil
	}
	built, err := notify.BuildWithHost(ctx, en.external, en.host, en.telemetry)
	if err != nil {
		return fmt.Errorf("alerting: %w", err)
	}
	eval := newEvaluator(en)
	if err := eval.recoverState(ctx); err != nil {
		return err
	}
	// Nothing fails past here: Shutdown stops exactly what is set.
	en.deliv = newDeliveryLog(en)
	go en.deliv.run()
	en.dispatcher = notify.NewDispatcher(built, en.deliv.onDelivery, en.logger.With(zap.String("component", "notify")))
	en.eval = eval
	en.eval.start()
	en.logger.Info("alert evaluator started", zap.Duration("interval", en.cfg.Interval), zap.Int("config_rules", len(en.rules)),
		zap.Int("channels", len(built)))
	return nil
}

// Shutdown stops evaluating, gives queued notifications until ctx ends,
// and records their last delivery status.
func (en *Engine) Shutdown(ctx context.Context) error {
	var err error
	en.stopOnce.Do(func() {
		if en.tail != nil {
			en.tail.shutdown()
		}
		if en.eval != nil {
			en.eval.shutdown()
		}
		if en.dispatcher != nil {
			err = en.dispatcher.Shutdown(ctx)
		}
		if en.deliv != nil {
			close(en.deliv.stop)
			<-en.deliv.done
		}
	})
	return err
}

// Evaluating tells whether this engine runs the evaluator.
func (en *Engine) Evaluating() bool { return en.eval != nil }

// EvaluateAt runs one evaluation of every rule as at now, and delivers
// its events before it returns. The evaluator's own loop does the same on
// its interval; this lets tests and tools step through time. It must not
// run concurrently with itself.
func (en *Engine) EvaluateAt(ctx context.Context, now time.Time) error {
	if en.eval == nil {
		return errors.New("alert evaluation is off here (alerting.evaluate: false)")
	}
	en.eval.evaluateAt(ctx, now)
	return nil
}

// RecordEvent stores e as the evaluator would: for tools and tests that
// need events without a rule breaching.
func (en *Engine) RecordEvent(ctx context.Context, e *Event) error {
	if e.Deliveries == nil {
		e.Deliveries = []Delivery{}
	}
	if e.DedupKey == "" {
		e.DedupKey = DedupKey(e.RuleID, e.Instance, e.State, e.StartedAt, e.Notification)
	}
	return en.writeEvent(ctx, e)
}

// Publish puts e on the live feed as the evaluator would.
func (en *Engine) Publish(e *Event) { en.publish(e) }
