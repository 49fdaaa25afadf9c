package nexusapiextension

import (
	"context"
	"sync"

	"go.uber.org/zap"
)

// keysChanged applies a change of the keys to what outlives a request:
// open streams of keys that no longer authenticate are closed, and their
// rate-limit buckets dropped.
func (a *api) keysChanged() {
	if n := a.streams.closeUnless(a.keys.Usable); n > 0 {
		a.logger.Info("closed live streams of revoked API keys", zap.Int("streams", n))
	}
	a.limiters.retain(a.keys.Usable)
}

// startKeyRefresh reads the keys again every keys_refresh_interval
// (apikeys.Store.RunRefresh) until stopKeyRefresh, so that other
// collectors' changes apply here.
func (a *api) startKeyRefresh() {
	ctx, cancel := context.WithCancel(context.Background())
	a.refreshStop, a.refreshDone = cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		a.keys.RunRefresh(ctx, a.cfg.KeysRefreshInterval, a.keysChanged, a.logger)
	}()
	// People and sessions changed through another collector (a
	// deactivation, a sign-out) apply here as fast as keys do.
	go func() {
		defer wg.Done()
		a.users.RunRefresh(ctx, a.cfg.KeysRefreshInterval, a.logger)
	}()
	go func() {
		defer wg.Done()
		a.sessions.RunRefresh(ctx, a.cfg.KeysRefreshInterval, a.logger)
	}()
	go func() {
		wg.Wait()
		close(a.refreshDone)
	}()
}

func (a *api) stopKeyRefresh() {
	if a.refreshStop != nil {
		a.refreshStop()
		<-a.refreshDone
	}
}
