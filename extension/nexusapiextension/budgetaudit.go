package nexusapiextension

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/budgetevents"
)

// The proxy records its budget blocks and warnings in the store
// (internal/budgetevents); the audit trail is this extension's, so it is
// here that they are copied into the trail, every budgetAuditEvery.
const (
	budgetAuditEvery = 2 * time.Second
	// budgetAuditLookback is how far back events are looked for: an event
	// older than that when first seen (the API down for a day) is left out.
	budgetAuditLookback = 24 * time.Hour
	budgetAuditLimit    = 1000
	// budgetAuditTimeout bounds one run, so a store that hangs is retried
	// instead of stopping the copy for good.
	budgetAuditTimeout = time.Minute
)

// startBudgetAudit copies the proxy's budget events into the audit trail
// until Shutdown. It runs only on the collector that evaluates alerts, the
// one instance that does the installation's background work: two copying
// at once would both append an event not yet in the trail.
//
// The copy stops with the API's other background work, on a.closing, and
// Shutdown waits for it with a.wg; Start calls this after the last step
// that can fail, so a started copy always has a server to shut down.
func (a *api) startBudgetAudit() {
	if !a.evaluatesAlone() {
		return // none, or the elected leader's (alerts_leader.go)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		select {
		case <-a.closing:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		defer a.wg.Done()
		defer cancel()
		a.runBudgetAudit(ctx, budgetAuditEvery)
	}()
}

// runBudgetAudit copies until ctx ends: at once again when a run hit the
// limit (a backlog), else after every. A failure is logged
// when it starts and the recovery when it ends, not every run between.
func (a *api) runBudgetAudit(ctx context.Context, every time.Duration) {
	failing := false
	for {
		runCtx, cancel := context.WithTimeout(ctx, budgetAuditTimeout)
		n, err := budgetevents.AuditNew(runCtx, a.store, a.audit, budgetAuditLookback, budgetAuditLimit)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			failing = true
			a.logger.Warn("budget events not copied to the audit trail; retrying", zap.Int("copied", n), zap.Error(err))
		case err == nil && failing:
			failing = false
			a.logger.Info("budget events copied to the audit trail again", zap.Int("copied", n))
		}
		if err == nil && n == budgetAuditLimit {
			continue
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
