package apiusagereceiver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// keyedStore is the real store with a keyring, as the chstore extension's
// store offers it when a key-encryption key is configured.
type keyedStore struct {
	store.Store
	ring *credentials.Keyring
}

func (k keyedStore) Keyring() *credentials.Keyring { return k.ring }

// storeExtension offers a store to the receiver through the host.
type storeExtension struct {
	component.StartFunc
	component.ShutdownFunc
	s store.Store
}

func (e storeExtension) Store() store.Store { return e.s }

// keyedHost starts the real store on database db, with a keyring of a key
// read from a file, and returns the credentials store the API would write
// through and a host that offers the keyed store as chstore.
func keyedHost(t *testing.T, db string) (*credentials.Store, component.Host) {
	t.Helper()
	s, _ := storetest.Start(t, db)
	return withKey(t, s)
}

// withKey is s with a new key, read from a file.
func withKey(t *testing.T, s store.Store) (*credentials.Store, component.Host) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	file := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(raw)), 0o600); err != nil {
		t.Fatal(err)
	}
	kek, err := credentials.LoadKEK(file, "")
	if err != nil || kek == nil {
		t.Fatalf("load the key: %v", err)
	}
	keyed := keyedStore{Store: s, ring: &credentials.Keyring{Current: kek}}
	h := storetest.Host{Host: componenttest.NewNopHost(),
		Extensions: map[component.ID]component.Component{storetest.ID: storeExtension{s: keyed}}}
	return credentials.NewStore(keyed, credentials.RingOf(keyed), providers.CredentialFields), h
}

// keyRecorder stands in front of the providers' stand-ins and counts the
// requests each key made (Apollo sends it as x-api-key, OpenRouter as a
// bearer token).
type keyRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newKeyRecorder(t *testing.T, srv *providertest.Server) *keyRecorder {
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	k := &keyRecorder{seen: map[string]int{}}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("x-api-key")
		if key == "" {
			key = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		k.mu.Lock()
		k.seen[key]++
		k.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(k.Close)
	return k
}

// base is provider's base URL through the recorder.
func (k *keyRecorder) base(srv *providertest.Server, provider string) string {
	return k.URL + strings.TrimPrefix(srv.Base(provider), srv.URL)
}

func (k *keyRecorder) count(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.seen[key]
}

func (k *keyRecorder) total() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, c := range k.seen {
		n += c
	}
	return n
}

func (k *keyRecorder) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = map[string]int{}
}

// tenantSink counts the polls the pipeline received by tenant/provider,
// read from the resource attributes the exporter stores.
type tenantSink struct {
	mu    sync.Mutex
	polls map[string]int
}

func newTenantSink(t *testing.T) (*tenantSink, consumer.Metrics) {
	s := &tenantSink{polls: map[string]int{}}
	c, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			a := md.ResourceMetrics().At(i).Resource().Attributes()
			tenant, _ := a.Get(semconv.Tenant)
			provider, _ := a.Get(semconv.MetricResourceProvider)
			s.polls[tenant.AsString()+"/"+provider.AsString()]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *tenantSink) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls[key]
}

func (s *tenantSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = map[string]int{}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 15s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet waits long enough for several polls and credential refreshes.
func quiet() { time.Sleep(600 * time.Millisecond) }

func tenantConfig(rec *keyRecorder, srv *providertest.Server) *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.CollectionInterval = 50 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.CredentialsRefresh = 100 * time.Millisecond
	cfg.Apollo.Endpoint = rec.base(srv, "apollo")
	cfg.OpenRouter.Endpoint = rec.base(srv, "openrouter")
	return cfg
}

func logsWith(logs *observer.ObservedLogs, msg string, fields ...zap.Field) int {
	n := 0
	for _, e := range logs.FilterMessage(msg).All() {
		ctx := e.ContextMap()
		match := true
		for _, f := range fields {
			if ctx[f.Key] != f.String {
				match = false
			}
		}
		if match {
			n++
		}
	}
	return n
}

// TestTenantCredentialsWithoutRestart: the receiver polls with each
// tenant's stored credential, stamped with that tenant, next to its
// config's providers; a credential set, changed or deleted is polled
// with, polled with anew or no longer polled, without a restart and
// without restarting the other pollers. The config tenant's stored
// credential for a provider replaces the config's own for as long as it
// exists.
func TestTenantCredentialsWithoutRestart(t *testing.T) {
	ctx := context.Background()
	cs, host := keyedHost(t, "apiusage_tenants")
	srv := providertest.New(t)
	rec := newKeyRecorder(t, srv)
	sink, next := newTenantSink(t)
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(componentType)
	set.Logger = zap.New(core)

	cfg := tenantConfig(rec, srv)
	cfg.Tenant = "acme"
	cfg.Apollo.APIKey = "ap-config"
	cfg.OpenRouter.ManagementKey = "or-config"
	for _, c := range []struct{ tenant, key string }{{"acme", "ap-acme-1"}, {"beta", "ap-beta-1"}} {
		if _, err := cs.Set(ctx, c.tenant, "apollo", map[string]string{"api_key": c.key}, "test"); err != nil {
			t.Fatal(err)
		}
	}

	rcv, err := NewFactory().CreateMetrics(ctx, set, cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = rcv.Shutdown(ctx)
		}
	}()

	eventually(t, "polls with both tenants' stored keys and the config's", func() bool {
		return rec.count("ap-acme-1") > 0 && rec.count("ap-beta-1") > 0 && rec.count("or-config") > 0 &&
			sink.count("acme/apollo") > 0 && sink.count("beta/apollo") > 0 && sink.count("acme/openrouter") > 0
	})
	if n := rec.count("ap-config"); n != 0 {
		t.Fatalf("the config's apollo key was used %d times while acme has a stored one", n)
	}
	if n := sink.count("default/apollo"); n != 0 {
		t.Fatalf("%d polls stamped with the default tenant", n)
	}

	// A changed key is polled with, and the old one no more.
	if _, err := cs.Set(ctx, "beta", "apollo", map[string]string{"api_key": "ap-beta-2"}, "test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "polls with beta's new key", func() bool { return rec.count("ap-beta-2") > 0 })
	rec.reset()
	quiet()
	if n := rec.count("ap-beta-1"); n != 0 {
		t.Fatalf("beta's old key still polled %d times", n)
	}
	if rec.count("ap-beta-2") == 0 || rec.count("ap-acme-1") == 0 {
		t.Fatal("a poller stopped polling after another's credential changed")
	}

	// acme's stored key gone, the config's takes its place.
	if err := cs.Delete(ctx, "acme", "apollo", "test"); err != nil {
		t.Fatal(err)
	}
	// beta's stored apollo key, of another tenant, does not keep the
	// config's from acme.
	eventually(t, "polls with the config's key again", func() bool { return rec.count("ap-config") > 0 })
	rec.reset()
	quiet()
	if n := rec.count("ap-acme-1"); n != 0 {
		t.Fatalf("acme's deleted key still polled %d times", n)
	}

	// beta's deleted: beta is polled no more.
	if err := cs.Delete(ctx, "beta", "apollo", "test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "beta's poller stops", func() bool {
		return logsWith(logs, "stopped polling provider", zap.String("tenant", "beta")) == 2
	})
	rec.reset()
	sink.reset()
	quiet()
	if n, m := rec.count("ap-beta-2"), sink.count("beta/apollo"); n != 0 || m != 0 {
		t.Fatalf("beta polled %d times (%d polls emitted) after its credential was deleted", n, m)
	}
	if sink.count("acme/apollo") == 0 || sink.count("acme/openrouter") == 0 {
		t.Fatal("acme's polling stopped with beta's")
	}

	// Through every change, the poller nobody touched started once.
	if n := logsWith(logs, "polling provider", zap.String("tenant", "acme"), zap.String("provider", "openrouter")); n != 1 {
		t.Fatalf("acme's openrouter poller started %d times, want 1", n)
	}
	for _, e := range logs.All() {
		for _, secret := range []string{"ap-acme-1", "ap-beta-1", "ap-beta-2", "ap-config", "or-config"} {
			if strings.Contains(e.Message, secret) || strings.Contains(toString(e.ContextMap()), secret) {
				t.Fatalf("a log carries a key: %s %v", e.Message, e.ContextMap())
			}
		}
	}

	if err := rcv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	// A request sent before the shutdown may reach the stand-in just
	// after it: let those land before counting what comes later.
	quiet()
	rec.reset()
	quiet()
	if n := rec.total(); n != 0 {
		t.Fatalf("%d requests after shutdown", n)
	}
}

func toString(m map[string]any) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=")
		if s, ok := v.(string); ok {
			b.WriteString(s)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// TestTenantPollersBounded: beyond max_tenant_pollers, stored credentials
// are not polled (the first by tenant, then provider, are), and that is
// logged.
func TestTenantPollersBounded(t *testing.T) {
	ctx := context.Background()
	cs, host := keyedHost(t, "apiusage_bound")
	srv := providertest.New(t)
	rec := newKeyRecorder(t, srv)
	_, next := newTenantSink(t)
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(componentType)
	set.Logger = zap.New(core)
	for _, tenant := range []string{"acme", "beta", "gamma"} {
		if _, err := cs.Set(ctx, tenant, "apollo", map[string]string{"api_key": "ap-" + tenant}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := tenantConfig(rec, srv)
	cfg.MaxTenantPollers = 2
	rcv, err := NewFactory().CreateMetrics(ctx, set, cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rcv.Shutdown(ctx) }()
	eventually(t, "the first two tenants polled", func() bool { return rec.count("ap-acme") > 0 && rec.count("ap-beta") > 0 })
	quiet()
	if n := rec.count("ap-gamma"); n != 0 {
		t.Fatalf("the third tenant polled %d times past max_tenant_pollers 2", n)
	}
	if logs.FilterMessageSnippet("max_tenant_pollers").Len() == 0 {
		t.Fatal("the pollers left out were not logged")
	}
}

// TestNoStoredCredentialsWithoutStoreOrKey: without the store extension,
// or with a store that has no key-encryption key, the receiver says so
// once and polls its config's providers.
func TestNoStoredCredentialsWithoutStoreOrKey(t *testing.T) {
	ctx := context.Background()
	_, plain := storetest.Start(t, "apiusage_nokey")
	srv := providertest.New(t)
	rec := newKeyRecorder(t, srv)
	for name, c := range map[string]struct {
		host component.Host
		says string
	}{
		"no store": {componenttest.NewNopHost(), "no store"},
		"no key":   {plain, "no key-encryption key"},
	} {
		t.Run(name, func(t *testing.T) {
			rec.reset()
			_, next := newTenantSink(t)
			core, logs := observer.New(zap.DebugLevel)
			set := receivertest.NewNopSettings(componentType)
			set.Logger = zap.New(core)
			cfg := tenantConfig(rec, srv)
			cfg.Apollo.APIKey = "ap-config"
			rcv, err := NewFactory().CreateMetrics(ctx, set, cfg, next)
			if err != nil {
				t.Fatal(err)
			}
			if err := rcv.Start(ctx, c.host); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the config's provider polled", func() bool { return rec.count("ap-config") > 0 })
			quiet()
			if err := rcv.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if n := logs.FilterMessageSnippet(c.says).FilterLevelExact(zap.InfoLevel).Len(); n != 1 {
				t.Fatalf("%d info logs saying %q, want 1", n, c.says)
			}
		})
	}
}

// TestUnopenedCredentialLeftOut: a credential sealed under a key the
// receiver does not have is logged and not polled; the others are.
func TestUnopenedCredentialLeftOut(t *testing.T) {
	ctx := context.Background()
	s, _ := storetest.Start(t, "apiusage_otherkey")
	old, _ := withKey(t, s)
	cs, host := withKey(t, s)
	if _, err := old.Set(ctx, "acme", "apollo", map[string]string{"api_key": "ap-acme"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Set(ctx, "beta", "apollo", map[string]string{"api_key": "ap-beta"}, "test"); err != nil {
		t.Fatal(err)
	}
	srv := providertest.New(t)
	rec := newKeyRecorder(t, srv)
	_, next := newTenantSink(t)
	core, logs := observer.New(zap.InfoLevel)
	set := receivertest.NewNopSettings(componentType)
	set.Logger = zap.New(core)
	rcv, err := NewFactory().CreateMetrics(ctx, set, tenantConfig(rec, srv), next)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rcv.Shutdown(ctx) }()
	eventually(t, "beta polled", func() bool { return rec.count("ap-beta") > 0 })
	quiet()
	if n := rec.count("ap-acme"); n != 0 {
		t.Fatalf("a credential that cannot have opened was polled with %d times", n)
	}
	if n := logs.FilterMessage("some stored provider credentials are not polled").Len(); n != 1 {
		t.Fatalf("%d warnings of the credential that does not open, want 1 (not one per refresh)", n)
	}
}
