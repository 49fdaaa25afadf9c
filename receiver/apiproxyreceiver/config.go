package apiproxyreceiver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"golang.org/x/net/http/httpguts"

	"github.com/nexus-otel/nexus/internal/providers"
)

// Config configures the apiproxy receiver.
type Config struct {
	// Endpoint is the address the proxy listens on. Apps point their SDKs'
	// base URLs at it (http://ENDPOINT/openai/v1, …). It must be a loopback
	// address (127.0.0.0/8, ::1, localhost) unless AllowNonLoopback is set.
	Endpoint string `mapstructure:"endpoint"`
	// AllowNonLoopback lets Endpoint be an address other hosts can reach
	// (0.0.0.0, ":8787", a LAN address). Without Auth, whoever reaches the
	// proxy can send calls through it to the providers from this host's
	// network, and every such call lands in the cost data. Set it with Auth,
	// or behind a firewall or an authenticating proxy.
	AllowNonLoopback bool `mapstructure:"allow_non_loopback"`
	// Auth names a server authenticator (auth: {authenticator:
	// nexusingestauth}): every call must then carry the caller's ingest key
	// in X-Nexus-Ingest-Key, checked before anything reaches the provider
	// and never forwarded, and the call lands in the key's tenant. Without
	// it every call is the default tenant's.
	Auth configoptional.Optional[configauth.Config] `mapstructure:"auth"`
	// TLS serves the proxy over HTTPS when set.
	TLS configoptional.Optional[configtls.ServerConfig] `mapstructure:"tls"`

	// ServiceName is the service.name of the spans of calls that do not
	// name their service in ServiceNameHeader.
	ServiceName string `mapstructure:"service_name"`
	// ServiceNameHeader is a request header that names the calling app, so
	// that teams sharing one proxy can tell their spend apart. It is removed
	// before the call is forwarded. Empty turns the header off (and then it
	// is forwarded like any other).
	ServiceNameHeader string `mapstructure:"service_name_header"`
	// AttributionHeaders name the headers that say whom a call is for
	// (attribution.go).
	AttributionHeaders AttributionHeaders `mapstructure:"attribution_headers"`
	// Budgets has the proxy enforce warn and block budgets (budgets.go).
	Budgets BudgetsConfig `mapstructure:"budgets"`

	// MaxRequestBodySize bounds a request body in bytes: larger ones are
	// answered 413 and never reach the provider.
	MaxRequestBodySize int64 `mapstructure:"max_request_body_size"`
	// MaxParsedBodySize bounds how much of each body is kept to read usage
	// from. Bodies are always forwarded whole; a larger JSON body is read
	// from its first MaxParsedBodySize bytes and its last 64 KiB, where the
	// usage and cost fields sit.
	MaxParsedBodySize int64 `mapstructure:"max_parsed_body_size"`
	// QueueSize is how many finished calls may wait for the pipeline. When
	// the pipeline falls that far behind, spans are dropped (and counted)
	// rather than slowing the apps down.
	QueueSize int `mapstructure:"queue_size"`

	// Upstream holds the connection settings shared by every provider.
	Upstream UpstreamConfig `mapstructure:"upstream"`

	// Providers holds one route block per provider, each under the
	// provider's name at the top level of the config (openai:, exa:, …).
	// Unmarshal fills it from the registry, so a new provider needs no
	// field here.
	Providers map[string]*RouteConfig `mapstructure:"-"`
}

// UpstreamConfig configures the connections to the providers.
type UpstreamConfig struct {
	DialTimeout         time.Duration `mapstructure:"dial_timeout"`
	TLSHandshakeTimeout time.Duration `mapstructure:"tls_handshake_timeout"`
	// ResponseHeaderTimeout bounds the wait from sending a call to the
	// provider's response headers. There is deliberately no total timeout:
	// a streamed answer may run for many minutes.
	ResponseHeaderTimeout time.Duration `mapstructure:"response_header_timeout"`
	// IdleTimeout bounds the silence between two reads of a response body,
	// so a stalled stream is cut while a long, live one is not.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxIdleConnsPerHost is the keep-alive pool per provider host.
	MaxIdleConnsPerHost int `mapstructure:"max_idle_conns_per_host"`
	// IdleConnTimeout closes pooled connections unused that long.
	IdleConnTimeout time.Duration `mapstructure:"idle_conn_timeout"`
}

// RouteConfig configures one provider's route.
type RouteConfig struct {
	// Endpoint is the provider's base URL; empty means the public API.
	// Takes the same value as the apiusage receiver's endpoint.
	Endpoint string `mapstructure:"endpoint"`
	// ResponseHeaderTimeout and IdleTimeout override the upstream ones for
	// this provider when positive.
	ResponseHeaderTimeout time.Duration `mapstructure:"response_header_timeout"`
	IdleTimeout           time.Duration `mapstructure:"idle_timeout"`
	// RateLimit caps the calls sent to this provider from all apps behind
	// the proxy together.
	RateLimit configoptional.Optional[RateLimitConfig] `mapstructure:"rate_limit"`
	// CircuitBreaker answers 503 at once while the provider is failing.
	CircuitBreaker configoptional.Optional[CircuitBreakerConfig] `mapstructure:"circuit_breaker"`
}

// RateLimitConfig is a token bucket.
type RateLimitConfig struct {
	RequestsPerSecond float64 `mapstructure:"requests_per_second"`
	// Burst is how many calls may go at once; 0 means one second's worth.
	Burst int `mapstructure:"burst"`
	// MaxWait is how long a call may be held back for its turn before it
	// is answered 429; 0 answers 429 at once.
	MaxWait time.Duration `mapstructure:"max_wait"`
}

// CircuitBreakerConfig trips after consecutive failures (connection errors,
// timeouts, 5xx, errors inside a stream) and refuses calls for OpenFor,
// then lets HalfOpenRequests probe calls through.
type CircuitBreakerConfig struct {
	ConsecutiveFailures uint32        `mapstructure:"consecutive_failures"`
	OpenFor             time.Duration `mapstructure:"open_for"`
	HalfOpenRequests    uint32        `mapstructure:"half_open_requests"`
}

func defaultRateLimit() RateLimitConfig { return RateLimitConfig{} }

func defaultCircuitBreaker() CircuitBreakerConfig {
	return CircuitBreakerConfig{ConsecutiveFailures: 5, OpenFor: 30 * time.Second, HalfOpenRequests: 1}
}

func defaultRoute() RouteConfig {
	return RouteConfig{
		RateLimit:      configoptional.Default(defaultRateLimit()),
		CircuitBreaker: configoptional.Default(defaultCircuitBreaker()),
	}
}

// namedRoute is a provider's name and its block.
type namedRoute struct {
	name string
	rc   *RouteConfig
}

// routes pairs each provider with its block, in the registry's order.
func (cfg *Config) routes() []namedRoute {
	out := make([]namedRoute, 0, len(providers.All))
	for _, p := range providers.All {
		out = append(out, namedRoute{p.Name, cfg.Route(p.Name)})
	}
	return out
}

// Route returns the block of provider name, adding a default one when the
// config has none (a Config built in code rather than by the factory).
func (cfg *Config) Route(name string) *RouteConfig {
	if cfg.Providers == nil {
		cfg.Providers = map[string]*RouteConfig{}
	}
	rc, ok := cfg.Providers[name]
	if !ok {
		d := defaultRoute()
		rc = &d
		cfg.Providers[name] = rc
	}
	return rc
}

// Unmarshal reads the provider blocks into Providers and the rest of the
// config into its fields, so that the provider keys come from the registry
// while unknown keys are still refused.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	rest := conf.ToStringMap()
	for _, p := range providers.All {
		delete(rest, p.Name)
	}
	type plain Config // without this method, so that it is not called again
	if err := confmap.NewFromStringMap(rest).Unmarshal((*plain)(cfg)); err != nil {
		return err
	}
	for _, p := range providers.All {
		if !conf.IsSet(p.Name) {
			continue
		}
		sub, err := conf.Sub(p.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if err := sub.Unmarshal(cfg.Route(p.Name)); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return nil
}

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	if host, _, err := net.SplitHostPort(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: want host:port: %w", err))
	} else if !cfg.AllowNonLoopback && !isLoopback(host) {
		errs = append(errs, fmt.Errorf("endpoint: %q is not a loopback address (127.0.0.1, ::1, localhost): "+
			"anyone who can reach it could relay calls to the providers through this host and pollute the cost "+
			"data; set allow_non_loopback: true to listen there anyway (with auth: so that callers show an "+
			"ingest key, or behind a firewall or an authenticating proxy)", cfg.Endpoint))
	}
	if strings.TrimSpace(cfg.ServiceName) == "" {
		errs = append(errs, errors.New("service_name: must not be empty"))
	}
	if err := cfg.Budgets.Validate(); err != nil {
		errs = append(errs, err)
	}
	if cfg.ServiceNameHeader != "" && !httpguts.ValidHeaderFieldName(cfg.ServiceNameHeader) {
		errs = append(errs, fmt.Errorf("service_name_header: %q is not a valid header name", cfg.ServiceNameHeader))
	}
	if err := cfg.AttributionHeaders.validate(); err != nil {
		errs = append(errs, err)
	}
	if cfg.MaxRequestBodySize <= 0 {
		errs = append(errs, errors.New("max_request_body_size: must be positive"))
	}
	if cfg.MaxParsedBodySize < 4096 {
		errs = append(errs, errors.New("max_parsed_body_size: must be at least 4096"))
	}
	if cfg.QueueSize <= 0 {
		errs = append(errs, errors.New("queue_size: must be positive"))
	}
	u := cfg.Upstream
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"dial_timeout", u.DialTimeout}, {"tls_handshake_timeout", u.TLSHandshakeTimeout},
		{"response_header_timeout", u.ResponseHeaderTimeout}, {"idle_timeout", u.IdleTimeout},
		{"idle_conn_timeout", u.IdleConnTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("upstream.%s: must be positive", d.key))
		}
	}
	if u.MaxIdleConnsPerHost <= 0 {
		errs = append(errs, errors.New("upstream.max_idle_conns_per_host: must be positive"))
	}
	for _, r := range cfg.routes() {
		errs = append(errs, r.rc.validate(r.name))
	}
	return errors.Join(errs...)
}

func (rc *RouteConfig) validate(name string) error {
	var errs []error
	if rc.Endpoint != "" {
		if err := checkBaseURL(rc.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("%s.endpoint: %w", name, err))
		}
	}
	if rc.ResponseHeaderTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s.response_header_timeout: must not be negative", name))
	}
	if rc.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("%s.idle_timeout: must not be negative", name))
	}
	if rl := rc.RateLimit.Get(); rl != nil {
		if rl.RequestsPerSecond <= 0 {
			errs = append(errs, fmt.Errorf("%s.rate_limit.requests_per_second: must be positive", name))
		}
		if rl.Burst < 0 {
			errs = append(errs, fmt.Errorf("%s.rate_limit.burst: must not be negative", name))
		}
		if rl.MaxWait < 0 {
			errs = append(errs, fmt.Errorf("%s.rate_limit.max_wait: must not be negative", name))
		}
	}
	if cb := rc.CircuitBreaker.Get(); cb != nil {
		if cb.ConsecutiveFailures == 0 {
			errs = append(errs, fmt.Errorf("%s.circuit_breaker.consecutive_failures: must be positive", name))
		}
		if cb.OpenFor <= 0 {
			errs = append(errs, fmt.Errorf("%s.circuit_breaker.open_for: must be positive", name))
		}
		if cb.HalfOpenRequests == 0 {
			errs = append(errs, fmt.Errorf("%s.circuit_breaker.half_open_requests: must be positive", name))
		}
	}
	return errors.Join(errs...)
}

// isLoopback reports whether a listen host is reachable from this machine
// only: localhost, or an address in 127.0.0.0/8 or ::1. An empty host
// (":8787") and unspecified addresses (0.0.0.0, ::) listen on every
// interface; other names may resolve anywhere.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment:
// request paths are appended to it.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the input, which may hold a secret.
		return errors.New("not a valid URL")
	}
	if u.User != nil {
		// Credentials belong to the apps, in their own headers; a base URL
		// that carries some would send them on every app's calls.
		return errors.New("must not carry credentials")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: must not have a query or fragment", raw)
	}
	return nil
}
