package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// The apiusage receiver polls with the blocks of Providers; the nexusapi
// extension runs their key checks on demand. Both embed Providers in their
// config, so the provider blocks read the same wherever they appear.

// NewDefault returns the blocks with no credentials, a 30 s HTTP timeout (a
// provider that does not answer must not hold a poll for the whole
// controller timeout) and each provider's own defaults.
func NewDefault() Providers {
	var p Providers
	for _, b := range p.blocks() {
		c := confighttp.NewDefaultClientConfig()
		c.Timeout = 30 * time.Second
		b.Settings().ClientConfig = c
		if d, ok := b.(provider.Defaulter); ok {
			d.SetDefaults()
		}
	}
	return p
}

// block returns the block of provider name; nil for a name Nexus does not
// know.
func (p *Providers) block(name string) provider.Block {
	for i, b := range p.blocks() {
		if All[i].Name == name {
			return b
		}
	}
	return nil
}

// Configured reports whether provider name has credentials set; false for
// a name Nexus does not know.
func (p *Providers) Configured(name string) bool {
	b := p.block(name)
	return b != nil && b.Enabled()
}

// ValidateUnder checks the provider blocks; each error names its key below
// prefix ("" where the blocks sit at the top of a component's config,
// "providers." where they are nested).
//
// It is deliberately not called Validate: confmap.Validate calls every
// field's Validate itself, which would report each error twice, the second
// time under a path that is wrong where the blocks are squashed.
func (p *Providers) ValidateUnder(prefix string) error {
	var errs []error
	for i, b := range p.blocks() {
		key := prefix + All[i].Name + "."
		c := b.Settings()
		if err := provider.ValidURL(c.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("%sendpoint: %w", key, err))
		}
		if c.CollectionInterval < 0 {
			errs = append(errs, fmt.Errorf("%scollection_interval: must not be negative", key))
		}
		errs = append(errs, b.ValidateBlock(key)...)
	}
	return errors.Join(errs...)
}

// Spec is one configured provider, ready to use.
type Spec struct {
	Name string
	// Interval is the block's own collection_interval; zero means the
	// caller's default.
	Interval time.Duration
	Poller   provider.Poller
	// HTTP is the poller's client; a caller that builds pollers for a
	// one-off call closes its idle connections when done.
	HTTP *http.Client
}

// ErrNotConfigured is returned for a known provider without credentials.
var ErrNotConfigured = errors.New("no credentials configured")

// Pollers builds a poller for every configured provider, in display order.
// The HTTP clients come from each block's client settings, with host's
// extensions for authenticators and middleware.
func (p *Providers) Pollers(ctx context.Context, host component.Host, set component.TelemetrySettings) ([]Spec, error) {
	var out []Spec
	for _, info := range All {
		if !p.Configured(info.Name) {
			continue
		}
		s, err := p.Poller(ctx, host, set, info.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Poller builds the poller of provider name alone. It fails with
// ErrNotConfigured when the provider has no credentials, and for a name
// Nexus does not know.
func (p *Providers) Poller(ctx context.Context, host component.Host, set component.TelemetrySettings, name string) (Spec, error) {
	b := p.block(name)
	if b == nil {
		return Spec{}, fmt.Errorf("unknown provider %q", name)
	}
	if !b.Enabled() {
		return Spec{}, fmt.Errorf("%s: %w", name, ErrNotConfigured)
	}
	var ext map[component.ID]component.Component
	if host != nil {
		ext = host.GetExtensions()
	}
	pc := b.Settings()
	hc, err := pc.ToClient(ctx, ext, set)
	if err != nil {
		return Spec{}, fmt.Errorf("%s: http client: %w", name, err)
	}
	base := pc.Endpoint
	if base == "" {
		base = b.Describe().BaseURL
	}
	return Spec{Name: name, Interval: pc.CollectionInterval, Poller: b.NewPoller(base, hc), HTTP: hc}, nil
}

// Redact replaces every configured secret in s with "[redacted]". The
// clients already keep keys out of their messages; this is the last guard
// before a message leaves the process, since a provider's error body may
// echo what it was sent.
func (p *Providers) Redact(s string) string {
	for _, b := range p.blocks() {
		for _, secret := range b.Secrets() {
			if len(secret) >= 4 { // shorter "secrets" would shred ordinary text
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
	}
	return s
}
