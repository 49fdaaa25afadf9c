// Package refresh keeps a store's in-memory copy of a table in step with
// the table on every collector sharing the store: the table's fingerprint,
// a single cheap aggregate, is read every interval and the rows themselves
// only when it changed. The stores (API keys, users, sessions, ingest
// keys) own what is read; this package owns how often, for how long, and
// what is logged when reads fail.
package refresh

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// Scalar answers the single string a one-row query gives (a table's
// fingerprint); what names it in errors ("read API keys' versions: ...").
// A query that gives no row answers "".
func Scalar(ctx context.Context, s store.Store, query string, params store.Params, what string) (string, error) {
	rows, err := s.Query(ctx, query, params)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return v, nil
}

// Loop runs refresh every interval until ctx ends, then returns. After a
// refresh that reports it replaced the copy, changed is called (when not
// nil). A failed refresh keeps the copy as it was — a store outage must
// not lock everyone out — and is logged once until refreshes succeed
// again; what is the plural noun the logs name ("API keys", "users").
func Loop(ctx context.Context, every time.Duration, what string, logger *zap.Logger,
	refresh func(context.Context) (bool, error), changed func(),
) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// A read never takes longer than a few refresh periods: a slow
		// store must not pile up refreshes.
		rctx, cancel := context.WithTimeout(ctx, max(every*3, 5*time.Second))
		replaced, err := refresh(rctx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			// Stopping, not failing: nothing to tell.
			return
		case err != nil:
			if !failing {
				logger.Warn("cannot read "+what+" again; the "+what+" as last read stay in force", zap.Error(err))
			}
			failing = true
			continue
		case failing:
			logger.Info(what + " are read again")
			failing = false
		}
		if replaced && changed != nil {
			changed()
		}
	}
}
