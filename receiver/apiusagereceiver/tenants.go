package apiusagereceiver

import (
	"context"
	"sort"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/tenants"
)

// Tenants store their provider credentials through the API, sealed in the
// store (internal/credentials). The receiver polls with them besides its
// config's blocks: every credentials_refresh it compares the table's
// fingerprint, and when it changed reads every credential again and starts,
// restarts or stops only the pollers whose credential appeared, changed or
// went. A stored credential takes only its secrets from the store; the
// endpoint and HTTP settings stay the config's.

// credentialStore is the stored credentials to poll with, nil (logged
// once, at start) when the receiver polls its config's blocks only.
func (r *apiUsageReceiver) credentialStore(host component.Host) *credentials.Store {
	if !r.cfg.TenantCredentials {
		return nil
	}
	s, err := store.FromHost(host, r.cfg.Store)
	if err != nil {
		r.set.Logger.Info("tenants' stored provider credentials are not polled: no store; polling the config's providers only",
			zap.String("store", r.cfg.Store.String()), zap.Error(err))
		return nil
	}
	cs := credentials.NewStore(s, credentials.RingOf(s), providers.CredentialFields)
	if !cs.Available() {
		r.set.Logger.Info("tenants' stored provider credentials are not polled: no key-encryption key configured; polling the config's providers only",
			zap.String("store", r.cfg.Store.String()))
		return nil
	}
	return cs
}

// readCredentials is the table's fingerprint and the credentials it
// fingerprints (read after it, so that a write in between only brings the
// next refresh forward); fp is "" when they could not be read. Credentials
// that do not open are left out and their error returned with the others
// and fp: the key they were sealed under is not configured, and reading
// them again will not change that.
func readCredentials(ctx context.Context, cs *credentials.Store) (string, []credentials.Credential, error) {
	fp, err := cs.Fingerprint(ctx)
	if err != nil {
		return "", nil, err
	}
	stored, err := cs.All(ctx)
	if err != nil && stored == nil {
		return "", nil, err
	}
	return fp, stored, err
}

// addStored adds to want a poller for each stored credential, in tenant
// then provider order, up to max_tenant_pollers. One for the config's
// tenant and a provider of its blocks takes the config poller's place.
// Credentials the receiver cannot poll with are logged and left out.
func (r *apiUsageReceiver) addStored(want map[pollerKey]wantedPoller, stored []credentials.Credential) {
	sort.Slice(stored, func(i, j int) bool {
		if stored[i].Tenant != stored[j].Tenant {
			return stored[i].Tenant < stored[j].Tenant
		}
		return stored[i].Provider < stored[j].Provider
	})
	n, skipped := 0, 0
	for _, c := range stored {
		log := r.set.Logger.With(zap.String("tenant", c.Tenant), zap.String("provider", c.Provider))
		if !tenants.ValidID(c.Tenant) {
			log.Warn("stored provider credential of an invalid tenant id; not polled")
			continue
		}
		if n == r.cfg.MaxTenantPollers {
			skipped++
			continue
		}
		blocks, err := r.cfg.Providers.WithCredentials(c.Provider, c.Values)
		if err != nil {
			log.Warn("stored provider credential cannot be polled with", zap.Error(err))
			continue
		}
		if !blocks.Configured(c.Provider) {
			log.Warn("stored provider credential is empty; not polled")
			continue
		}
		want[pollerKey{c.Tenant, c.Provider}] = wantedPoller{source: "stored " + c.Fingerprint, blocks: blocks}
		n++
	}
	if skipped > 0 {
		r.set.Logger.Warn("more stored provider credentials than max_tenant_pollers; the rest (by tenant, then provider) are not polled",
			zap.Int("max_tenant_pollers", r.cfg.MaxTenantPollers), zap.Int("not_polled", skipped))
	}
}

// refreshLoop looks at the stored credentials every credentials_refresh
// until shutdown, and applies what changed since last (their fingerprint
// when last read; "" when they could not be).
func (r *apiUsageReceiver) refreshLoop(cs *credentials.Store, last string) {
	defer close(r.loopDone)
	tick := time.NewTicker(r.cfg.CredentialsRefresh)
	defer tick.Stop()
	failing := last == ""
	for {
		select {
		case <-r.stop.Done():
			return
		case <-tick.C:
		}
		fp, err := r.refresh(cs, last)
		switch {
		case err != nil && r.stop.Err() != nil:
			return // shut down mid-read
		case err != nil:
			// One warning per outage, not one per refresh.
			if !failing {
				r.set.Logger.Warn("cannot read the tenants' provider credentials; the pollers run on as they were", zap.Error(err))
			}
			failing = true
			continue
		case failing:
			r.set.Logger.Info("tenants' provider credentials read again")
		}
		failing, last = false, fp
	}
}

// refresh reads the credentials when their fingerprint is not last, and
// applies them; it returns the fingerprint applied.
func (r *apiUsageReceiver) refresh(cs *credentials.Store, last string) (string, error) {
	ctx, cancel := context.WithTimeout(r.stop, r.cfg.CredentialsRefresh)
	defer cancel()
	fp, err := cs.Fingerprint(ctx)
	if err != nil || fp == last {
		return fp, err
	}
	// Read after the fingerprint: a write in between only brings the next
	// refresh forward.
	stored, err := cs.All(ctx)
	if err != nil && stored == nil {
		return "", err
	}
	if err != nil {
		r.set.Logger.Warn("some stored provider credentials are not polled", zap.Error(err))
	}
	want := r.configPollers()
	r.addStored(want, stored)
	if err := r.apply(ctx, want); err != nil {
		r.set.Logger.Warn("cannot poll a provider of the config", zap.Error(err))
	}
	return fp, nil
}

func sortedKeys(m map[pollerKey]wantedPoller) []pollerKey {
	keys := make([]pollerKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].tenant != keys[j].tenant {
			return keys[i].tenant < keys[j].tenant
		}
		return keys[i].provider < keys[j].provider
	})
	return keys
}
