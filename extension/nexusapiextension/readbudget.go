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
// engine also serves the alert evaluator (and, embedded, has a small pool
// of read connections): however heavy the reads asked for (stats over long
// raw ranges, deep pages), the API holds at most max of its slots, and one
// key at most perKey, so that one viewer cannot take all the read capacity
// from the others. Requests past either limit wait, at most max_wait and
// never past their deadline: a page that fires a few requests at once is
// served one after the other, not refused.
type readGate struct {
	slots   chan struct{}
	perKey  int
	maxWait time.Duration

	mu   sync.Mutex
	keys map[string]*keySlots
}

// keySlots is one key's share; users counts the requests holding or
// waiting for it, so that it is dropped when none does.
type keySlots struct {
	ch    chan struct{}
	users int
}

func newReadGate(cfg ReadsConfig) *readGate {
	return &readGate{slots: make(chan struct{}, cfg.MaxConcurrent), perKey: cfg.MaxPerKey, maxWait: cfg.MaxWait,
		keys: map[string]*keySlots{}}
}

func (g *readGate) share(key string) *keySlots {
	g.mu.Lock()
	defer g.mu.Unlock()
	ks := g.keys[key]
	if ks == nil {
		ks = &keySlots{ch: make(chan struct{}, g.perKey)}
		g.keys[key] = ks
	}
	ks.users++
	return ks
}

func (g *readGate) unshare(key string, ks *keySlots) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ks.users--; ks.users == 0 {
		delete(g.keys, key)
	}
}

// acquire takes one of key's slots and one of the API's, waiting at most
// max_wait in all and never past ctx. A key that stays at its own limit is
// answered 429 (it is the client's own concurrency); an API that stays
// full, 503 (the collector is busy, the client is not at fault).
func (g *readGate) acquire(ctx context.Context, key string) (func(), *APIError) {
	ks := g.share(key)
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case ks.ch <- struct{}{}:
	case <-timer.C:
		g.unshare(key, ks)
		return nil, tooMany("this API key already has " + strconv.Itoa(g.perKey) +
			" requests reading the store (reads.max_per_key); wait for them to finish")
	case <-ctx.Done():
		g.unshare(key, ks)
		return nil, unavailable("BUSY", "the request ended while waiting to read the store")
	}
	select {
	case g.slots <- struct{}{}:
	case <-timer.C:
		<-ks.ch
		g.unshare(key, ks)
		return nil, unavailable("BUSY", "the API is answering as many reads as it may at once (reads.max_concurrent); try again shortly")
	case <-ctx.Done():
		<-ks.ch
		g.unshare(key, ks)
		return nil, unavailable("BUSY", "the request ended while waiting to read the store")
	}
	return func() {
		<-g.slots
		<-ks.ch
		g.unshare(key, ks)
	}, nil
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
