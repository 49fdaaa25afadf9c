package apiproxyreceiver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// route is one provider's mount on the proxy.
type route struct {
	name  string
	genAI bool // OpenAI-compatible API: GenAI span conventions apply
	// newResponse reads the provider's own response fields (nil: none).
	newResponse func() provider.ResponseReader
	// mount is "/{name}" and prefix the mount plus the path of the
	// provider's public base URL ("/openai/v1"): apps put the prefix where
	// the public base URL was, so the path after it is the same path the
	// SDK would have sent to the provider.
	mount, prefix string

	base       *url.URL
	basePath   string // escaped, without trailing slash
	serverAddr string
	serverPort int64

	headerTimeout, idleTimeout time.Duration

	limiter *rate.Limiter
	maxWait time.Duration

	breaker  *gobreaker.TwoStepCircuitBreaker[struct{}]
	openFor  time.Duration
	openedAt atomic.Int64 // unix nanos of the last trip

	logger   *zap.Logger
	lastWarn atomic.Int64 // unix nanos; upstream failures are logged at most every warnEvery
}

// errCallFailed tells the breaker that a call failed; errExcluded that its
// outcome says nothing about the provider (the caller left, the body was too
// large, the rate limit refused it).
var (
	errCallFailed = errors.New("provider call failed")
	errExcluded   = errors.New("outcome not the provider's")
)

const warnEvery = 10 * time.Second

func newRoute(name string, rc *RouteConfig, up *UpstreamConfig, logger *zap.Logger) (*route, error) {
	info, ok := providers.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", name)
	}
	public, err := url.Parse(info.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s public base URL: %w", name, err)
	}
	rawBase := info.BaseURL
	if rc.Endpoint != "" {
		rawBase = rc.Endpoint
	}
	base, err := url.Parse(rawBase)
	if err != nil {
		return nil, fmt.Errorf("%s.endpoint: not a valid URL", name)
	}
	r := &route{
		name:          name,
		genAI:         info.GenAI,
		newResponse:   info.NewResponse,
		mount:         "/" + name,
		prefix:        "/" + name + strings.TrimSuffix(public.EscapedPath(), "/"),
		base:          base,
		basePath:      strings.TrimSuffix(base.EscapedPath(), "/"),
		serverAddr:    base.Hostname(),
		headerTimeout: up.ResponseHeaderTimeout,
		idleTimeout:   up.IdleTimeout,
		logger:        logger.With(zap.String("provider", name)),
	}
	r.serverPort = portOf(base)
	if rc.ResponseHeaderTimeout > 0 {
		r.headerTimeout = rc.ResponseHeaderTimeout
	}
	if rc.IdleTimeout > 0 {
		r.idleTimeout = rc.IdleTimeout
	}
	if rl := rc.RateLimit.Get(); rl != nil {
		burst := rl.Burst
		if burst == 0 {
			burst = max(1, int(math.Ceil(rl.RequestsPerSecond)))
		}
		r.limiter = rate.NewLimiter(rate.Limit(rl.RequestsPerSecond), burst)
		r.maxWait = rl.MaxWait
	}
	if cb := rc.CircuitBreaker.Get(); cb != nil {
		r.openFor = cb.OpenFor
		threshold := cb.ConsecutiveFailures
		r.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        name,
			MaxRequests: cb.HalfOpenRequests,
			Timeout:     cb.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
			IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
			OnStateChange: func(_ string, from, to gobreaker.State) {
				if to == gobreaker.StateOpen {
					r.openedAt.Store(time.Now().UnixNano())
					r.logger.Warn("circuit opened: calls to the provider are refused with 503",
						zap.Uint32("consecutive_failures", threshold), zap.Duration("open_for", cb.OpenFor))
					return
				}
				r.logger.Info("circuit state changed", zap.String("from", from.String()), zap.String("to", to.String()))
			},
		})
	}
	return r, nil
}

func portOf(u *url.URL) int64 {
	if p := u.Port(); p != "" {
		var n int64
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// match returns the path after the route's prefix, or false when path is not
// under it.
func (r *route) match(path string) (string, bool) {
	if !strings.HasPrefix(path, r.prefix) {
		return "", false
	}
	rest := path[len(r.prefix):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// admit runs the route's protections. It returns the breaker's completion
// callback (nil without a breaker), or a refusal to answer instead.
func (r *route) admit(ctx context.Context) (done func(error), refusal *proxyError) {
	if r.breaker != nil {
		d, err := r.breaker.Allow()
		if err != nil {
			retry := time.Second
			if errors.Is(err, gobreaker.ErrOpenState) {
				retry = r.openFor - time.Since(time.Unix(0, r.openedAt.Load()))
			}
			return nil, &proxyError{
				status: 503, code: codeCircuitOpen, retryAfter: retry,
				message: fmt.Sprintf("apiproxy: %s is failing; calls are refused until the circuit closes (%s)", r.name, err),
			}
		}
		done = d
	}
	if r.limiter != nil {
		if refusal := r.wait(ctx); refusal != nil {
			if done != nil {
				done(errExcluded)
			}
			return nil, refusal
		}
	}
	return done, nil
}

// wait takes a token from the rate limiter, holding the call back up to
// maxWait for it.
func (r *route) wait(ctx context.Context) *proxyError {
	res := r.limiter.Reserve()
	refuse := func(after time.Duration) *proxyError {
		return &proxyError{
			status: 429, code: codeRateLimited, retryAfter: after,
			message: fmt.Sprintf("apiproxy: the proxy's rate limit for %s (%.4g calls/s) is reached", r.name, float64(r.limiter.Limit())),
		}
	}
	if !res.OK() {
		return refuse(time.Second)
	}
	d := res.Delay()
	if d == 0 {
		return nil
	}
	if d > r.maxWait {
		res.Cancel()
		return refuse(d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		res.Cancel()
		return refuse(d)
	}
}

// warnUpstream logs an upstream failure, at most once per warnEvery per
// provider: during an outage every call fails, and the spans already say so
// call by call.
func (r *route) warnUpstream(msg string, fields ...zap.Field) {
	now := time.Now().UnixNano()
	last := r.lastWarn.Load()
	if now-last < int64(warnEvery) || !r.lastWarn.CompareAndSwap(last, now) {
		r.logger.Debug(msg, fields...)
		return
	}
	r.logger.Warn(msg, fields...)
}
