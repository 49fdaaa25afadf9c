package pricebook

import (
	"errors"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
)

// Exchange hands the cost processor's catalogs (the built-in catalog with
// the processor's config overrides, and the run-time lists) to the API of
// the same collector, so that the prices it lists and re-prices with are
// exactly those calls are priced with. The API extension owns it; the
// processor publishes its watcher at start.
type Exchange struct {
	w atomic.Pointer[Watcher]
}

// Publish makes w the catalogs the API uses.
func (x *Exchange) Publish(w *Watcher) { x.w.Store(w) }

// Withdraw forgets w if it is the one published (its processor stopped).
func (x *Exchange) Withdraw(w *Watcher) { x.w.CompareAndSwap(w, nil) }

// Watcher is the published watcher, nil when none.
func (x *Exchange) Watcher() *Watcher { return x.w.Load() }

// Source is implemented by the extension that owns an Exchange.
type Source interface {
	PriceExchange() *Exchange
}

// ErrNotSource is returned when the named extension has no exchange.
var ErrNotSource = errors.New("extension does not take price lists (nexusapi does)")

// FromHost finds the exchange of extension id.
func FromHost(host component.Host, id component.ID) (*Exchange, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("extension %q not found: add it under extensions: and service.extensions", id)
	}
	src, ok := ext.(Source)
	if !ok {
		return nil, fmt.Errorf("%q: %w", id, ErrNotSource)
	}
	return src.PriceExchange(), nil
}
