package nexusapiextension

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// readGate is the API's budget of concurrent store reads. The store's
// engine also serves ingestion and the alert evaluator: however heavy the
// reads asked for (stats over long raw ranges, deep pages), the API holds
// at most max of its slots, and one key at most perKey, so that one viewer
// cannot take all the read capacity from the others.
type readGate struct {
	slots   chan struct{}
	perKey  int
	maxWait time.Duration

	mu    sync.Mutex
	inUse map[string]int // per key, waiting or reading
}

func newReadGate(cfg ReadsConfig) *readGate {
	return &readGate{slots: make(chan struct{}, cfg.MaxConcurrent), perKey: cfg.MaxPerKey, maxWait: cfg.MaxWait,
		inUse: map[string]int{}}
}

// acquire takes a read slot for key, waiting at most max_wait and never
// past ctx's deadline. A key already at its own limit is refused at once
// (429: it is the client's concurrency); a full API after the wait answers
// 503 (the collector is busy, not the client at fault).
func (g *readGate) acquire(ctx context.Context, key string) (func(), *APIError) {
	g.mu.Lock()
	if g.inUse[key] >= g.perKey {
		g.mu.Unlock()
		return nil, tooMany("this API key already has " + strconv.Itoa(g.perKey) + " requests reading the store; wait for one to finish")
	}
	g.inUse[key]++
	g.mu.Unlock()
	unkey := func() {
		g.mu.Lock()
		if g.inUse[key]--; g.inUse[key] <= 0 {
			delete(g.inUse, key)
		}
		g.mu.Unlock()
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; unkey() }, nil
	default:
	}
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; unkey() }, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	unkey()
	return nil, unavailable("BUSY", "the API is answering as many reads as it may at once; try again shortly")
}

// timeoutError is the answer for a request that ran out of request_timeout.
func (a *api) timeoutError() *APIError {
	return unavailable("TIMEOUT", "the request took longer than "+a.cfg.RequestTimeout.String()+
		" (request_timeout); narrow the range or the filters, or try again later")
}

// storeError logs a store failure with the request id and answers 500, or
// 503 when the request ran out of time (the store is slow or busy, nothing
// is broken).
func (a *api) storeError(r *http.Request, what string, err error) *APIError {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		a.logger.Warn("store read ran out of request_timeout", zap.String("request_id", requestID(r)), zap.String("doing", what), zap.Error(err))
		return a.timeoutError()
	}
	a.logger.Error("store error", zap.String("request_id", requestID(r)), zap.String("doing", what), zap.Error(err))
	return internal()
}
