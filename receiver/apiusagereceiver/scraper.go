package apiusagereceiver

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// pollScraper polls one provider. It keeps what it learnt between polls:
// where the last poll reached (later polls overlap it), and how long to
// stay away after a refused key or a rate limit.
type pollScraper struct {
	poller    provider.Poller
	logger    *zap.Logger
	lookback  time.Duration
	overlap   time.Duration
	authRetry time.Duration
	now       func() time.Time
	// tenant is whose credentials these are ("" for the default tenant).
	tenant string

	// stop ends in-flight calls at shutdown; the controller would otherwise
	// wait for them.
	stop context.Context

	mu          sync.Mutex
	polledUntil time.Time // end of the last poll the pipeline took
	pendingEnd  time.Time // end of the last successful poll, until settled
	pausedUntil time.Time // no calls before this (refused key or rate limit)
}

// settle is told whether the pipeline took the last poll's metrics. Only
// then does the next poll start after it: a poll the pipeline refused (a
// full exporter queue) is fetched again, overlap and all, so buckets the
// provider reported are not lost to a moment of back-pressure. (Gauges and
// checks are of the moment and are not fetched again.)
func (s *pollScraper) settle(taken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if taken && !s.pendingEnd.IsZero() {
		s.polledUntil = s.pendingEnd
	}
	s.pendingEnd = time.Time{}
}

// defaultRateLimitPause is how long to stay away after a 429 that did not
// say how long.
const defaultRateLimitPause = time.Minute

func (s *pollScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopAfter := context.AfterFunc(s.stop, cancel)
	defer stopAfter()

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	md := pmetric.NewMetrics()
	if now.Before(s.pausedUntil) {
		return md, nil
	}
	b := newBuilder(md, s.poller.Provider(), s.tenant, now)
	c := s.poller.Check(ctx)
	b.check(c, now)
	switch c.Class {
	case provider.ClassAuthFailed:
		// A refused key stays refused until someone changes it: check it
		// again slowly, and poll nothing meanwhile.
		s.pause(now, s.authRetry, "provider refused the key")
		return md, nil
	case provider.ClassRateLimited:
		s.pause(now, defaultRateLimitPause, "provider is rate limiting the key check")
		return md, nil
	}

	from := now.Add(-s.lookback)
	if !s.polledUntil.IsZero() {
		from = s.polledUntil.Add(-s.overlap)
	}
	poll, err := s.poller.Poll(ctx, from, now)
	for _, u := range poll.Usage {
		b.usage(u)
	}
	for _, g := range poll.Gauges {
		b.gaugeValue(g, now)
	}
	for _, r := range poll.RateLimits {
		b.rateLimit(r, now)
	}
	if err == nil {
		s.pendingEnd = now
		return md, nil
	}
	var pe *provider.Error
	switch class := provider.ClassOf(err); class {
	case provider.ClassAuthFailed:
		s.pause(now, s.authRetry, "provider refused the key")
	case provider.ClassRateLimited:
		pause := defaultRateLimitPause
		if errors.As(err, &pe) && pe.RetryAfter > 0 {
			pause = pe.RetryAfter // as the provider asked
		}
		s.pause(now, pause, "provider rate limited the poll")
	}
	// Whatever was read before the failure is still sent.
	return md, scrapererror.NewPartialScrapeError(err, 0)
}

func (s *pollScraper) pause(now time.Time, d time.Duration, why string) {
	s.pausedUntil = now.Add(d)
	s.logger.Warn(why+"; pausing", zap.String("provider", s.poller.Provider()), zap.Duration("for", d))
}
