package apiproxyreceiver

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.yaml.in/yaml/v3"

	"github.com/nexus-otel/nexus/exporter/nexusexporter"
	"github.com/nexus-otel/nexus/extension/chstoreextension"
	"github.com/nexus-otel/nexus/internal/configtest"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/processor/costprocessor"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "127.0.0.1:8787" || cfg.ServiceName != "apiproxy" || cfg.ServiceNameHeader != "X-Nexus-Service" {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, r := range cfg.routes() {
		if r.rc.RateLimit.HasValue() || r.rc.CircuitBreaker.HasValue() || r.rc.Endpoint != "" {
			t.Fatalf("%s: protections or endpoint on by default", r.name)
		}
	}

	cfg, err = loadConfig(t, "custom")
	if err != nil {
		t.Fatal(err)
	}
	rl, cb := cfg.Route("openai").RateLimit.Get(), cfg.Route("openai").CircuitBreaker.Get()
	if cfg.Endpoint != "0.0.0.0:9000" || cfg.ServiceNameHeader != "X-App" || cfg.MaxRequestBodySize != 1<<20 ||
		cfg.Upstream.ResponseHeaderTimeout != 2*time.Minute || cfg.Upstream.IdleTimeout != 5*time.Minute ||
		cfg.Route("openai").Endpoint != "http://127.0.0.1:9999/v1" || cfg.Route("openai").IdleTimeout != 30*time.Second ||
		rl == nil || rl.RequestsPerSecond != 50 || rl.Burst != 100 || rl.MaxWait != 2*time.Second ||
		cb == nil || cb.ConsecutiveFailures != 3 || cb.OpenFor != 10*time.Second || cb.HalfOpenRequests != 1 {
		t.Fatalf("custom: %+v", cfg)
	}
	// An empty block turns a protection on with its defaults.
	if cb := cfg.Route("exa").CircuitBreaker.Get(); cb == nil || cb.ConsecutiveFailures != 5 || cb.OpenFor != 30*time.Second {
		t.Fatalf("exa breaker %+v", cb)
	}
	if cfg.Route("twilio").CircuitBreaker.HasValue() {
		t.Fatal("enabled: false did not turn the breaker off")
	}
}

// Authentication is off unless configured; auth names the authenticator.
func TestAuthConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil || cfg.Auth.HasValue() {
		t.Fatalf("auth on by default: %v", err)
	}
	cfg, err = loadConfig(t, "ingest_auth")
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Auth.Get(); a == nil || a.AuthenticatorID.String() != "nexusingestauth" {
		t.Fatalf("auth: %+v", cfg.Auth)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for name, want := range map[string]string{
		"bad_endpoint":       "twilio.endpoint",
		"bad_rate":           "openai.rate_limit.requests_per_second",
		"credentials_in_url": "apollo.endpoint: must not carry credentials",
		"bad_listen":         "endpoint: want host:port",
		"bad_header":         "service_name_header",
		"bad_breaker":        "openrouter.circuit_breaker.consecutive_failures",
	} {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %q", name, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error repeats a password: %v", name, err)
		}
	}
}

// TestNonLoopbackEndpointRefused: the proxy has no authentication, so an
// endpoint other hosts can reach is refused unless allow_non_loopback says
// so, and the refusal names the key.
func TestNonLoopbackEndpointRefused(t *testing.T) {
	for _, name := range []string{"open_any", "open_empty_host", "open_ipv6_any", "open_lan", "open_hostname"} {
		_, err := loadConfig(t, name)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "endpoint: ") || !strings.Contains(msg, "allow_non_loopback") {
			t.Errorf("%s: error %q does not name endpoint and allow_non_loopback", name, msg)
		}
	}
	for _, name := range []string{"loopback_v4", "loopback_v6", "loopback_name", "open_allowed", "custom", ""} {
		if _, err := loadConfig(t, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.255.0.9": true, "::1": true, "localhost": true, "LocalHost": true, "::ffff:127.0.0.1": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "example.com": false, "localhost.example.com": false,
		"128.0.0.1": false, "::2": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// envRef is the collector's ${env:NAME} / ${env:NAME:-default} syntax.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// loadCollectorConfig reads a collector config file resolving environment
// references as the collector does, so a config in configs/ can be checked
// without the distribution binary.
func loadCollectorConfig(t *testing.T, path string, env map[string]string) *confmap.Conf {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expanded := envRef.ReplaceAllStringFunc(string(raw), func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok {
			return v
		}
		return m[2]
	})
	var tree map[string]any
	if err := yaml.Unmarshal([]byte(expanded), &tree); err != nil {
		t.Fatal(err)
	}
	return confmap.NewFromStringMap(tree)
}

// TestProxyConfigFile checks configs/proxy.yaml: the receiver, the cost
// processor, the nexus exporter and the store it names all load and
// validate, with and without the base-URL variables set, and the traces
// pipeline runs from the proxy to the store.
func TestProxyConfigFile(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "proxy.yaml")
	for name, env := range map[string]map[string]string{
		"public APIs": {},
		"local fakes": {
			"NEXUS_OPENAI_BASE_URL": "http://127.0.0.1:9001/v1", "NEXUS_OPENROUTER_BASE_URL": "http://127.0.0.1:9001/api/v1",
			"NEXUS_EXA_BASE_URL": "http://127.0.0.1:9001", "NEXUS_TWILIO_BASE_URL": "http://127.0.0.1:9001",
			"NEXUS_APOLLO_BASE_URL": "http://127.0.0.1:9001/api/v1",
		},
	} {
		t.Run(name, func(t *testing.T) {
			conf := loadCollectorConfig(t, path, env)
			sub, err := conf.Sub("receivers::apiproxy")
			if err != nil {
				t.Fatal(err)
			}
			cfg := createDefaultConfig().(*Config)
			if err := sub.Unmarshal(cfg); err != nil {
				t.Fatal(err)
			}
			if err := confmap.Validate(cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Endpoint != "127.0.0.1:8787" || cfg.Route("openai").Endpoint != env["NEXUS_OPENAI_BASE_URL"] ||
				cfg.Route("apollo").Endpoint != env["NEXUS_APOLLO_BASE_URL"] {
				t.Fatalf("%+v", cfg)
			}
			// Each route resolves to the variable's URL, or the public API.
			rcv, err := newReceiver(cfg, receivertest.NewNopSettings(componentType), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, rt := range rcv.proxy.routes {
				want := env["NEXUS_"+strings.ToUpper(rt.name)+"_BASE_URL"]
				if want == "" {
					var ok bool
					want, ok = map[string]string{"openai": "https://api.openai.com/v1", "openrouter": "https://openrouter.ai/api/v1",
						"exa": "https://api.exa.ai", "twilio": "https://api.twilio.com", "apollo": "https://api.apollo.io/api/v1"}[rt.name]
					if !ok { // a provider added since: its own public API
						p, _ := providers.Lookup(rt.name)
						want = p.BaseURL
					}
				}
				if rt.base.String() != want {
					t.Errorf("%s → %s, want %s", rt.prefix, rt.base, want)
				}
			}

			checkComponent(t, conf, "processors::cost", costprocessor.NewFactory().CreateDefaultConfig())
			checkComponent(t, conf, "exporters::nexus", nexusexporter.NewFactory().CreateDefaultConfig())
			checkComponent(t, conf, "extensions::chstore", chstoreextension.NewFactory().CreateDefaultConfig())

			var pipeline struct {
				Receivers  []string `mapstructure:"receivers"`
				Processors []string `mapstructure:"processors"`
				Exporters  []string `mapstructure:"exporters"`
			}
			p, err := conf.Sub("service::pipelines::traces")
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Unmarshal(&pipeline); err != nil {
				t.Fatal(err)
			}
			if strings.Join(pipeline.Receivers, ",") != "apiproxy" || !strings.Contains(strings.Join(pipeline.Processors, ","), "cost") ||
				strings.Join(pipeline.Exporters, ",") != "nexus" {
				t.Fatalf("traces pipeline %+v", pipeline)
			}
		})
	}
}

func checkComponent(t *testing.T, conf *confmap.Conf, key string, cfg component.Config) {
	t.Helper()
	sub, err := conf.Sub(key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if err := confmap.Validate(cfg); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}
