package ingestauthextension

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/ingestkeys"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/store"
)

// HeaderIngestKey carries an ingest key when Authorization is taken by
// something else (a gateway's own credentials, the provider's key through
// the apiproxy receiver).
const HeaderIngestKey = "X-Nexus-Ingest-Key"

// errNoKey is a request that shows no ingest key at all.
var errNoKey = errors.New("missing ingest key: send Authorization: Bearer nxi_… or " + HeaderIngestKey + ": nxi_…")

type ingestAuth struct {
	cfg    *Config
	logger *zap.Logger
	keys   *ingestkeys.Checker

	stop context.CancelFunc
	wg   sync.WaitGroup
}

var (
	_ extensionauth.Server            = (*ingestAuth)(nil)
	_ extensioncapabilities.Dependent = (*ingestAuth)(nil)
)

func newAuth(cfg *Config, set extension.Settings) *ingestAuth {
	return &ingestAuth{cfg: cfg, logger: set.Logger}
}

// Dependencies makes the collector start the store first, however
// service.extensions lists them.
func (a *ingestAuth) Dependencies() []component.ID { return []component.ID{a.cfg.Store} }

func (a *ingestAuth) Start(ctx context.Context, host component.Host) error {
	s, err := store.FromHost(host, a.cfg.Store)
	if err != nil {
		return fmt.Errorf("nexusingestauth: %w", err)
	}
	keys := ingestkeys.NewChecker(s)
	if err := keys.Load(ctx); err != nil {
		return fmt.Errorf("nexusingestauth: %w", err)
	}
	a.keys = keys
	rctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		keys.Run(rctx, a.cfg.RefreshInterval, a.logger)
	}()
	return nil
}

func (a *ingestAuth) Shutdown(context.Context) error {
	if a.stop != nil {
		a.stop()
		a.wg.Wait()
	}
	return nil
}

// Authenticate finds the ingest key among the request's headers (HTTP) or
// metadata (gRPC, whose keys are lower-case) and, when it is an active
// key, returns ctx with the key's tenant in its client info, where the
// cost processor reads it.
func (a *ingestAuth) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	secret, ok := keyOf(sources)
	if !ok {
		return ctx, errNoKey
	}
	if a.keys == nil {
		return ctx, errors.New("nexusingestauth is not started")
	}
	k, err := a.keys.Check(ctx, secret)
	if err != nil {
		return ctx, err
	}
	info := client.FromContext(ctx)
	info.Auth = authData{tenant: k.Tenant, keyID: k.ID}
	return client.NewContext(ctx, info), nil
}

// keyOf is the secret the sender shows: X-Nexus-Ingest-Key first, then a
// Bearer token. Header names are matched without regard to case.
func keyOf(sources map[string][]string) (string, bool) {
	var bearer string
	for name, vals := range sources {
		if len(vals) == 0 {
			continue
		}
		switch {
		case strings.EqualFold(name, HeaderIngestKey):
			if v := strings.TrimSpace(vals[0]); v != "" {
				return v, true
			}
		case strings.EqualFold(name, "Authorization"):
			v := strings.TrimSpace(vals[0])
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				bearer = strings.TrimSpace(v[7:])
			}
		}
	}
	return bearer, bearer != ""
}

// authData is what an ingest key proves: its tenant, and which key it was.
type authData struct {
	tenant, keyID string
}

func (d authData) GetAttribute(name string) any {
	switch name {
	case semconv.AuthTenant:
		return d.tenant
	case semconv.AuthIngestKeyID:
		return d.keyID
	}
	return nil
}

func (authData) GetAttributeNames() []string {
	return []string{semconv.AuthTenant, semconv.AuthIngestKeyID}
}
