package pricebook

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/store"
)

// Watcher keeps each tenant's catalog as the prices table has it: the
// base catalog (built in, with the config's overrides), the lists synced
// for every tenant, then the tenant's own. Catalog is a pointer read on
// the pricing path; reloads build new catalogs beside the old.
type Watcher struct {
	base   *pricing.Catalog
	store  store.Store
	logger *zap.Logger

	set atomic.Pointer[catalogSet]

	mu      sync.Mutex // one reload at a time
	stamp   string
	stop    context.CancelFunc
	stopped chan struct{}
}

// catalogSet is one reload's catalogs.
type catalogSet struct {
	shared   *pricing.Catalog            // base with the lists for every tenant
	byTenant map[string]*pricing.Catalog // tenants with lists of their own
	lists    []List                      // the run-time lists
}

// NewWatcher returns a watcher of s's prices over base; until its first
// load every tenant is priced by base.
func NewWatcher(base *pricing.Catalog, s store.Store, logger *zap.Logger) *Watcher {
	if logger == nil {
		logger = zap.NewNop()
	}
	w := &Watcher{base: base, store: s, logger: logger}
	w.set.Store(&catalogSet{shared: base})
	return w
}

// Base is the catalog without run-time lists.
func (w *Watcher) Base() *pricing.Catalog { return w.base }

// Catalog is tenant's catalog now.
func (w *Watcher) Catalog(tenant string) *pricing.Catalog {
	set := w.set.Load()
	if c, ok := set.byTenant[tenant]; ok {
		return c
	}
	return set.shared
}

// Refresh reads the lists again if the table changed since the last read.
func (w *Watcher) Refresh(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := stamp(ctx, w.store)
	if err != nil {
		return err
	}
	if st == w.stamp {
		return nil
	}
	lists, err := readAll(ctx, w.store)
	if err != nil {
		return err
	}
	set := w.build(lists)
	w.set.Store(set)
	w.stamp = st
	w.logger.Info("price lists loaded", zap.Int("lists", len(lists)), zap.Int("tenants", len(set.byTenant)),
		zap.String("version", set.shared.Version()))
	return nil
}

// build makes the catalogs of lists. A list the catalog refuses (written
// by another version, or by hand) is left out, loudly, rather than taking
// its tenant's other prices with it.
func (w *Watcher) build(lists []List) *catalogSet {
	var shared []pricing.Entry
	own := map[string][]pricing.Entry{}
	kept := lists[:0:0]
	for _, l := range lists {
		if probs := w.base.CheckEntry(l.Entry); len(probs) > 0 {
			w.logger.Error("price list left out", zap.String("tenant", l.Tenant), zap.String("source", l.Source),
				zap.String("provider", l.Provider), zap.String("key", l.Model+l.Operation), zap.String("effective", l.Effective),
				zap.String("problem", probs[0].Field+": "+probs[0].Message))
			continue
		}
		kept = append(kept, l)
		if l.Tenant == AllTenants {
			shared = append(shared, l.Entry)
		} else {
			own[l.Tenant] = append(own[l.Tenant], l.Entry)
		}
	}
	set := &catalogSet{shared: w.layer(shared, nil), byTenant: map[string]*pricing.Catalog{}, lists: kept}
	for tenant, entries := range own {
		set.byTenant[tenant] = w.layer(shared, entries)
	}
	return set
}

// layer is base with the shared lists, then a tenant's.
func (w *Watcher) layer(shared, tenant []pricing.Entry) *pricing.Catalog {
	c, err := w.base.WithLayers("rt", shared, tenant)
	if err != nil {
		// Each list passed alone; together they cannot clash (the table
		// keeps one per key and date): a bug, not bad input.
		w.logger.Error("run-time price lists refused together; pricing with the base catalog", zap.Error(err))
		return w.base
	}
	return c
}

// Start reads the lists now and then every interval until Shutdown. A
// failed read keeps the catalogs as they were (the base catalog until one
// succeeds): a store that is slow to come up delays run-time prices, not
// the collector.
func (w *Watcher) Start(ctx context.Context, every time.Duration) {
	if err := w.Refresh(ctx); err != nil {
		w.logger.Warn("price lists not read yet; pricing with the catalog until they are", zap.Error(err))
	}
	ctx, w.stop = context.WithCancel(context.WithoutCancel(ctx))
	w.stopped = make(chan struct{})
	go func() {
		defer close(w.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(ctx, every*4+5*time.Second)
				if err := w.Refresh(rctx); err != nil && ctx.Err() == nil {
					w.logger.Warn("price lists not read again; pricing with the last ones", zap.Error(err))
				}
				cancel()
			}
		}
	}()
}

// Shutdown stops the reloads.
func (w *Watcher) Shutdown() {
	if w.stop != nil {
		w.stop()
		<-w.stopped
	}
}

// Lists are the price lists that apply to tenant, built-in and config
// ones included, each with its source; run-time lists of other tenants
// are not among them.
func (w *Watcher) Lists(tenant string) []List {
	builtin := map[listKey]bool{}
	if d, err := pricing.Default(); err == nil {
		for _, e := range d.Entries() {
			builtin[keyOf(e)] = true
		}
	}
	set := w.set.Load()
	byKey := map[listKey]List{}
	var order []listKey
	put := func(l List) {
		k := keyOf(l.Entry)
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = l
	}
	for _, e := range w.base.Entries() {
		src := SourceConfig
		if builtin[keyOf(e)] {
			src = SourceBuiltin
		}
		put(List{Entry: e, Source: src})
	}
	for _, pass := range []func(List) bool{
		func(l List) bool { return l.Tenant == AllTenants },
		func(l List) bool { return l.Tenant == tenant && tenant != AllTenants },
	} {
		for _, l := range set.lists {
			if pass(l) {
				put(l)
			}
		}
	}
	out := make([]List, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	sortLists(out)
	return out
}

// listKey is what makes two lists one: key and effective date.
type listKey struct{ provider, model, operation, country, effective string }

func keyOf(e pricing.Entry) listKey {
	n := normal(e)
	return listKey{n.Provider, n.Model, n.Operation, n.Country, n.Effective}
}
