package providerstatus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	provider "github.com/nexus-otel/nexus/internal/providers"
	providerclient "github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// CheckTestable refuses a key check of name: an unknown provider is a
// *domainerr.NotFoundError listing the known ones, one without credentials
// here a *domainerr.ConflictError saying where to set them.
func (s *Service) CheckTestable(name string) error { return s.CheckTestableWith(name, false) }

// CheckTestableWith is CheckTestable for a tenant that may have stored
// credentials of its own (stored), which make the provider testable
// without the config's.
func (s *Service) CheckTestableWith(name string, stored bool) error {
	if _, ok := provider.Lookup(name); !ok {
		known := make([]string, 0, len(provider.All))
		for _, p := range provider.All {
			known = append(known, p.Name)
		}
		return domainerr.NotFound(fmt.Sprintf("no provider %q; known providers: %s", name, strings.Join(known, ", ")))
	}
	if !stored && !s.configured(name) {
		return domainerr.Conflict(name + " is not configured: set its credentials under providers." + name +
			" in the nexusapi extension's config to test it")
	}
	return nil
}

// CheckResult is the outcome of a manual key check.
type CheckResult struct {
	Provider   string      `json:"provider"`
	Up         bool        `json:"up"`
	Class      string      `json:"class"`
	HTTPStatus *int        `json:"httpStatus"`
	LatencyMs  float64     `json:"latencyMs"`
	Message    string      `json:"message"`
	RateLimits []RateLimit `json:"rateLimits"`
	CheckedAt  string      `json:"checkedAt"`
}

// Record stores check ch of provider name, run at checkedAt, as the
// receiver's checks are stored (a provider_health row, its rate limits in
// provider_gauges), and returns its outcome; the message is redacted
// first. Pass a context the caller's leaving does not cancel: a check that
// ran must be in the history.
func (s *Service) Record(ctx context.Context, tenant, name string, checkedAt time.Time, ch providerclient.Check) (CheckResult, error) {
	ch.Message = s.redact(ch.Message)
	if ch.Class == "" {
		ch.Class = schema.HealthClassOK
	}
	if err := s.recordCheck(ctx, tenant, name, checkedAt, ch); err != nil {
		return CheckResult{}, err
	}
	at := checkedAt.Format(time.RFC3339Nano)
	rls := make([]RateLimit, 0, len(ch.RateLimits))
	for _, rl := range ch.RateLimits {
		v := RateLimit{Scope: rl.Scope, Endpoint: rl.Endpoint, At: at}
		if rl.Limit >= 0 {
			v.Limit = &rl.Limit
		}
		if rl.Remaining >= 0 {
			v.Remaining = &rl.Remaining
		}
		v.Headroom = rateHeadroom(v.Limit, v.Remaining)
		rls = append(rls, v)
	}
	return CheckResult{Provider: name, Up: ch.Up, Class: ch.Class, HTTPStatus: optionalStatus(ch.HTTPStatus),
		LatencyMs: durationMs(ch.Latency), Message: ch.Message, RateLimits: rls, CheckedAt: at}, nil
}

// recordCheck stores a check as the receiver's checks are stored: a
// provider_health row, and its rate limits in provider_gauges.
func (s *Service) recordCheck(ctx context.Context, tenant, name string, at time.Time, ch providerclient.Check) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hb, err := s.store.PrepareBatch(ctx, schema.TableProviderHealth, append(slices.Clone(store.ProviderHealthColumns), "tenant"))
	if err != nil {
		return fmt.Errorf("prepare provider_health insert: %w", err)
	}
	if err := hb.Append(at, name, ch.Up, ch.Class, uint16(min(max(ch.HTTPStatus, 0), 65535)), durationMs(ch.Latency), ch.Message, tenant); err != nil {
		_ = hb.Abort()
		return fmt.Errorf("append provider_health row: %w", err)
	}
	if err := hb.Send(ctx); err != nil {
		return fmt.Errorf("insert provider_health: %w", err)
	}
	if len(ch.RateLimits) == 0 {
		return nil
	}
	gb, err := s.store.PrepareBatch(ctx, schema.TableProviderGauges, append(slices.Clone(store.ProviderGaugeColumns), "tenant"))
	if err != nil {
		return fmt.Errorf("prepare provider_gauges insert: %w", err)
	}
	for _, rl := range ch.RateLimits {
		for _, p := range []struct {
			name  string
			value int64
		}{{gaugeRateLimitLimit, rl.Limit}, {gaugeRateLimitRemaining, rl.Remaining}} {
			if p.value < 0 { // not announced
				continue
			}
			if err := gb.Append(at, name, "", p.name, "", rl.Scope, rl.Endpoint, decimal.NewFromInt(p.value), tenant); err != nil {
				_ = gb.Abort()
				return fmt.Errorf("append provider_gauges row: %w", err)
			}
		}
	}
	if gb.Rows() == 0 {
		return gb.Abort()
	}
	if err := gb.Send(ctx); err != nil {
		return fmt.Errorf("insert provider_gauges: %w", err)
	}
	return nil
}

func rateHeadroom(limit, remaining *int64) *float64 {
	if limit == nil || remaining == nil || *limit <= 0 {
		return nil
	}
	h := float64(*remaining) / float64(*limit)
	return &h
}

// optionalStatus is nil for 0: no answer, not a status.
func optionalStatus(s int) *int {
	if s == 0 {
		return nil
	}
	return &s
}

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
