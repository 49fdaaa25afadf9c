package providers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// configured is every provider pointed at srv, each with its own
// credentials, as a config file would state them.
func configured(t *testing.T, srv *providertest.Server) providers.Providers {
	t.Helper()
	p := providers.NewDefault()
	err := confmap.NewFromStringMap(map[string]any{
		"openai":     map[string]any{"endpoint": srv.OpenAI(), "api_key": "sk-proj-x", "collection_interval": "10m"},
		"openrouter": map[string]any{"endpoint": srv.OpenRouter(), "api_key": "sk-or-v1-x"},
		"exa":        map[string]any{"endpoint": srv.Exa(), "admin_endpoint": srv.ExaAdmin(), "service_key": "exa-s"},
		"twilio":     map[string]any{"endpoint": srv.Twilio(), "account_sid": "AC1", "auth_token": "tok"},
		"apollo":     map[string]any{"endpoint": srv.Apollo(), "api_key": "ap-x"},
	}).Unmarshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ValidateUnder(""); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPollersCheckEachProvider(t *testing.T) {
	srv := providertest.New(t)
	p := configured(t, srv)
	specs, err := p.Pollers(context.Background(), componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	// The five providers configured() sets up, in the registry's order.
	want := []string{"openai", "openrouter", "exa", "twilio", "apollo"}
	if len(specs) != len(want) {
		t.Fatalf("%d pollers, want %d", len(specs), len(want))
	}
	for i, s := range specs {
		if s.Name != want[i] || s.Poller.Provider() != s.Name || s.HTTP == nil {
			t.Fatalf("spec %d: %s polls %s", i, s.Name, s.Poller.Provider())
		}
		// Each poller reaches its own fake with its own credentials.
		if ch := s.Poller.Check(context.Background()); !ch.Up {
			t.Errorf("%s: check %+v", s.Name, ch)
		}
	}
	if specs[0].Interval != 10*time.Minute || specs[1].Interval != 0 {
		t.Fatalf("intervals %s, %s: want the block's own, zero when unset", specs[0].Interval, specs[1].Interval)
	}
	if srv.Requests("/exa-admin") == 0 || srv.Requests("/exa/") != 0 {
		t.Fatal("exa with a service key did not check through the admin endpoint")
	}
}

func TestPollerRefusals(t *testing.T) {
	p := providers.NewDefault()
	if specs, err := p.Pollers(context.Background(), nil, componenttest.NewNopTelemetrySettings()); err != nil || len(specs) != 0 {
		t.Fatalf("no credentials: %d pollers, %v", len(specs), err)
	}
	for _, pr := range providers.All {
		if p.Configured(pr.Name) {
			t.Errorf("%s configured by default", pr.Name)
		}
	}
	if _, err := p.Poller(context.Background(), nil, componenttest.NewNopTelemetrySettings(), providers.Exa); !errors.Is(err, providers.ErrNotConfigured) {
		t.Fatalf("exa without keys: %v", err)
	}
	if _, err := p.Poller(context.Background(), nil, componenttest.NewNopTelemetrySettings(), "acme"); err == nil || p.Configured("acme") {
		t.Fatal("an unknown provider was built")
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	p := providers.NewDefault()
	p.Apollo.Endpoint = "ftp://apollo"
	p.OpenAI.BucketWidth = "1w"
	p.Exa.AdminEndpoint = "not a url"
	p.Twilio.AccountSID = "AC1"
	p.OpenRouter.CollectionInterval = -time.Second
	err := p.ValidateUnder("providers.")
	for _, key := range []string{"providers.apollo.endpoint", "providers.openai.bucket_width", "providers.exa.admin_endpoint",
		"providers.twilio.auth_token", "providers.openrouter.collection_interval"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
	p = providers.NewDefault()
	p.OpenAI.BucketWidth = "" // a component whose defaults leave it unset
	p.Twilio.AuthToken = "tok"
	if err := p.ValidateUnder(""); err == nil || !strings.HasPrefix(err.Error(), "twilio.account_sid") {
		t.Fatalf("twilio token without account: %v", err)
	}
}

func TestRedact(t *testing.T) {
	p := providers.NewDefault()
	p.Apollo.APIKey = "apollo-secret-key"
	p.Twilio.AuthToken = "tok" // too short to hunt for without shredding text
	got := p.Redact("key apollo-secret-key refused; token tok")
	if got != "key [redacted] refused; token tok" {
		t.Fatalf("redacted: %q", got)
	}
}

// TestDefaultEndpoints: an empty endpoint means the public API named in
// its provider's descriptor; nothing is dialled to find out.
func TestDefaultEndpoints(t *testing.T) {
	p := providers.NewDefault()
	p.Apollo.APIKey = "ap-x"
	p.Apollo.Endpoint = ""
	s, err := p.Poller(context.Background(), nil, componenttest.NewNopTelemetrySettings(), providers.Apollo)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := providers.Lookup(providers.Apollo)
	var seen string
	s.HTTP.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		seen = r.URL.String()
		return nil, errors.New("not dialled in tests")
	})
	_ = s.Poller.Check(context.Background())
	if !strings.HasPrefix(seen, info.BaseURL+"/") {
		t.Fatalf("check went to %q, want under %s", seen, info.BaseURL)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
