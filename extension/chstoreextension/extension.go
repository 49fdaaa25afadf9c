package chstoreextension

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/store"
)

// chstore is the extension. Other components reach its Store through the
// host (store.FromHost), so there is one connection owner per collector.
type chstore struct {
	cfg      *Config
	set      extension.Settings
	logger   *zap.Logger
	embedded *embeddedStore
	remote   *remoteStore
	store    store.Store

	httpServer *http.Server
	httpEngine *chhttp.ConnEngine
	cancel     context.CancelFunc
	wg         sync.WaitGroup

	mu       sync.Mutex
	migrated bool
	lastErr  error
}

var _ store.Provider = (*chstore)(nil)

func newExtension(cfg *Config, set extension.Settings) *chstore {
	return &chstore{cfg: cfg, set: set, logger: set.Logger}
}

// Store returns the store; valid after Start.
func (e *chstore) Store() store.Store { return e.store }

func (e *chstore) Start(ctx context.Context, host component.Host) error {
	// The key-encryption key first: a missing or bad file is a
	// configuration error, found before any store is opened.
	ring, err := loadKeyring(e.cfg.Credentials, e.logger)
	if err != nil {
		return err
	}
	switch e.cfg.Mode {
	case ModeEmbedded:
		s, err := openEmbedded(e.cfg)
		if err != nil {
			return err
		}
		e.embedded, e.store = s, s
		retentionOf.Store(e.store, e.cfg.Retention)
		e.logger.Info("embedded ClickHouse engine started",
			zap.String("library", s.lib.Path()), zap.String("version", s.lib.Version()),
			zap.String("data_dir", resolveDataDir(e.cfg.Embedded)))
		// The engine is local: a migration failure is a real fault, not an outage.
		if e.cfg.Migrate {
			if err := e.prepareSchema(ctx); err != nil {
				retentionOf.Delete(e.store)
				s.close()
				return err
			}
		}
		if err := e.startCredentials(ctx, ring); err != nil {
			retentionOf.Delete(e.store)
			s.close()
			return err
		}
		if e.cfg.HTTP.Enabled {
			if err := e.startHTTP(ctx, host); err != nil {
				retentionOf.Delete(e.store)
				keyringOf.Delete(e.store)
				s.close()
				return err
			}
		}
	case ModeRemote:
		s, err := openRemote(ctx, e.cfg)
		if err != nil {
			return err
		}
		e.remote, e.store = s, s
		retentionOf.Store(e.store, e.cfg.Retention)
		e.logger.Info("using ClickHouse server", zap.Strings("endpoints", e.cfg.Remote.Endpoints),
			zap.String("protocol", e.cfg.Remote.Protocol), zap.String("cluster", e.cfg.Remote.Cluster))
		if e.cfg.Migrate {
			// A server that is down at start must not stop the collector:
			// exporters queue and retry while migrations are retried here.
			runCtx, cancel := context.WithCancel(context.Background())
			e.cancel = cancel
			if err := e.migrateOnce(ctx); err != nil {
				e.logger.Warn("ClickHouse not ready; retrying migrations in the background", zap.Error(err))
				e.wg.Add(1)
				go e.retryMigrations(runCtx, ring)
			} else if err := e.startCredentials(ctx, ring); err != nil {
				cancel()
				retentionOf.Delete(e.store)
				_ = s.close()
				return err
			}
		} else if err := e.remoteCredentials(ctx, ring); err != nil {
			retentionOf.Delete(e.store)
			_ = s.close()
			return err
		}
	}
	return nil
}

// prepareSchema brings the schema up to date and applies retention.
func (e *chstore) prepareSchema(ctx context.Context) error {
	cluster := ""
	if e.cfg.Mode == ModeRemote {
		cluster = e.cfg.Remote.Cluster
	}
	if err := migrate(ctx, e.store, cluster, e.logger); err != nil {
		return err
	}
	if err := applyRetention(ctx, e.store, e.cfg.Retention, cluster, e.logger); err != nil {
		return err
	}
	if e.cfg.Mode == ModeRemote {
		// After migrations: every table they made gets its row policies.
		return provisionTenantUsers(ctx, e.store, e.cfg, e.logger)
	}
	return nil
}

func (e *chstore) migrateOnce(ctx context.Context) error {
	err := e.prepareSchema(ctx)
	e.mu.Lock()
	e.migrated, e.lastErr = err == nil, err
	e.mu.Unlock()
	return err
}

func (e *chstore) retryMigrations(ctx context.Context, ring *credentials.Keyring) {
	defer e.wg.Done()
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		attempt, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := e.migrateOnce(attempt)
		cancel()
		if err == nil {
			e.logger.Info("ClickHouse reachable; schema is up to date")
			e.credentialsOrRefuse(ctx, ring)
			return
		}
		e.logger.Warn("ClickHouse migrations failed; will retry", zap.Error(err), zap.Duration("in", wait))
		wait = min(wait*2, time.Minute)
	}
}

func (e *chstore) startHTTP(ctx context.Context, host component.Host) error {
	handler, err := e.httpHandler()
	if err != nil {
		return err
	}
	closeEngine := func() { e.httpEngine.Close(); e.httpEngine = nil }
	ln, err := e.cfg.HTTP.ToListener(ctx)
	if err != nil {
		closeEngine()
		return fmt.Errorf("http: listen on %s: %w", e.cfg.HTTP.NetAddr.Endpoint, err)
	}
	// The interface answers CORS itself, for the listed origins only:
	// confighttp must not add its own (Validate refuses http.cors too).
	serverCfg := e.cfg.HTTP.ServerConfig
	serverCfg.CORS = configoptional.None[confighttp.CORSConfig]()
	srv, err := serverCfg.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, handler)
	if err != nil {
		ln.Close()
		closeEngine()
		return fmt.Errorf("http: %w", err)
	}
	e.httpServer = srv
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	e.logger.Info("ClickHouse HTTP interface listening", zap.String("endpoint", ln.Addr().String()),
		zap.Bool("read_only", e.cfg.HTTP.ReadOnly))
	return nil
}

func (e *chstore) Shutdown(ctx context.Context) error {
	if e.cancel != nil {
		e.cancel()
	}
	var errs []error
	if e.httpServer != nil {
		errs = append(errs, e.httpServer.Shutdown(ctx))
	}
	e.wg.Wait()
	if e.httpEngine != nil {
		e.httpEngine.Close()
	}
	if e.store != nil {
		retentionOf.Delete(e.store)
		keyringOf.Delete(e.store)
	}
	if e.embedded != nil {
		e.embedded.close()
	}
	if e.remote != nil {
		errs = append(errs, e.remote.close())
	}
	return errors.Join(errs...)
}
