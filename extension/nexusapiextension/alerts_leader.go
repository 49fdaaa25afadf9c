package nexusapiextension

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/leader"
	"github.com/nexus-otel/nexus/internal/livefeed"
)

// With alerting.leader_election.mode kubernetes, every collector with
// evaluate: true is a candidate and only the elected one evaluates and
// does the other work only one collector may do (the budget audit copy).
// Every collector, the leader too, serves the rules and events through an
// engine that does not evaluate; the leader adds, for each term, an
// evaluating engine over the same store. That engine recovers the alerts'
// state from the store as a restarted evaluator does, so an alert the
// previous leader announced is not announced again. The elector calls
// onStop, which stops the evaluator and drains its notifications, before
// it gives up the Lease, and a leader that cannot renew stops before the
// Lease expires: two evaluators never run at once.

// leaderAuditEvery is how often the leader copies budget events: the same
// pace as a collector configured to evaluate alone.
const leaderAuditEvery = budgetAuditEvery

// alertLeadership is the election and the current term's work.
type alertLeadership struct {
	// client is the Kubernetes API; nil builds the in-cluster client at
	// start (tests set a fake).
	client coordinationv1.CoordinationV1Interface
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	engine    *alerting.Engine // the term's evaluating engine; nil when not leading
	auditStop context.CancelFunc
	auditDone chan struct{}
}

// elects tells whether this collector is a candidate in an election,
// rather than evaluating alone (mode none) or not at all.
func (a *api) elects() bool {
	return a.cfg.Alerting.Evaluate && a.cfg.Alerting.LeaderElection.Enabled()
}

// evaluatesAlone tells whether this collector evaluates without an
// election: its background work starts with it.
func (a *api) evaluatesAlone() bool {
	return a.cfg.Alerting.Evaluate && !a.cfg.Alerting.LeaderElection.Enabled()
}

// startElection campaigns in the background until stopElection.
func (a *api) startElection() error {
	if a.leading == nil {
		a.leading = &alertLeadership{}
	}
	l := a.leading
	cfg, err := a.cfg.Alerting.LeaderElection.Resolve(leader.OSHost())
	if err != nil {
		return err
	}
	if l.client == nil {
		if l.client, err = leader.InClusterClient(); err != nil {
			return err
		}
	}
	el, err := leader.NewKubernetes(cfg, l.client, a.logger.With(zap.String("component", "leader")))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		if err := el.Run(ctx, a.lead, a.unlead); err != nil {
			a.logger.Error("alert evaluator election ended", zap.Error(err))
		}
	}()
	a.logger.Info("alert evaluation by election", zap.String("lease", cfg.Namespace+"/"+cfg.LeaseName),
		zap.String("identity", cfg.Identity))
	return nil
}

// stopElection stops campaigning; a leader stops its work and gives up
// the Lease before this returns.
func (a *api) stopElection() {
	if a.leading == nil || a.leading.cancel == nil {
		return
	}
	a.leading.cancel()
	<-a.leading.done
}

// lead starts this term's work: an evaluating engine that first recovers
// the alerts' state, and the budget audit copy. ctx ends with the term.
func (a *api) lead(ctx context.Context) error {
	cfg := a.cfg.Alerting.Config
	cfg.Evaluate = true
	// Its events reach the live stream through the serving engine's tail
	// of the store, as on every other collector: publishing them here too
	// would send each one twice.
	en, err := alerting.New(alerting.Settings{Config: cfg, Store: a.store, Logger: a.logger.With(zap.String("role", "alert leader")),
		Telemetry: a.set.TelemetrySettings, Host: a.host, Feed: livefeed.NewHub(1), Spend: spendReader{a.spend},
		Redact: a.cfg.Providers.Redact})
	if err != nil {
		return fmt.Errorf("build the alert evaluator: %w", err)
	}
	if err := en.Start(ctx); err != nil {
		return fmt.Errorf("start the alert evaluator: %w", err)
	}
	actx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runBudgetAudit(actx, leaderAuditEvery)
	}()
	l := a.leading
	l.mu.Lock()
	l.engine, l.auditStop, l.auditDone = en, stop, done
	l.mu.Unlock()
	return nil
}

// unlead stops this term's work. Notifications already queued get the
// margin between renew_deadline and lease_duration: the time left before
// another collector may start.
func (a *api) unlead() {
	l := a.leading
	l.mu.Lock()
	en, stop, done := l.engine, l.auditStop, l.auditDone
	l.engine, l.auditStop, l.auditDone = nil, nil, nil
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	if en == nil {
		return
	}
	le := a.cfg.Alerting.LeaderElection
	ctx, cancel := context.WithTimeout(context.Background(), max(le.LeaseDuration-le.RenewDeadline, time.Second))
	defer cancel()
	if err := en.Shutdown(ctx); err != nil {
		a.logger.Warn("alert evaluator stopped with notifications undelivered", zap.Error(err))
	}
}

// leaderEngine is the evaluating engine while this collector leads, else
// nil.
func (a *api) leaderEngine() *alerting.Engine {
	if a.leading == nil {
		return nil
	}
	a.leading.mu.Lock()
	defer a.leading.mu.Unlock()
	return a.leading.engine
}
