package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Defaults of a Dispatcher's Options.
const (
	// DefaultMaxAttempts with the default backoff retries for about two
	// minutes (1+2+4+…+64 s): long enough to ride out a webhook's restart
	// or a rate limit, short enough that an alert is not announced when it
	// no longer matters.
	DefaultMaxAttempts    = 8
	DefaultAttemptTimeout = 30 * time.Second
	DefaultQueueSize      = 1000
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
)

// Options tune a Dispatcher; a zero field takes its default.
type Options struct {
	// MaxAttempts is how many times one notification is tried on one
	// channel before it is reported failed.
	MaxAttempts int
	// AttemptTimeout bounds one attempt.
	AttemptTimeout time.Duration
	// QueueSize is how many notifications may wait for one channel; past
	// it new ones are reported failed rather than blocking the caller.
	QueueSize int
	// InitialBackoff is the wait after the first failed attempt; it
	// doubles after each further one, up to MaxBackoff, give or take 20%
	// so that channels failing together do not retry in lockstep. A delay
	// the destination asked for (Retry-After) is used instead, also capped
	// at MaxBackoff.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.InitialBackoff {
		o.MaxBackoff = o.InitialBackoff
	}
	return o
}

// Dispatcher delivers notifications to named channels. Each channel has its
// own queue and worker, so a slow or dead channel never delays another or
// the caller. A worker delivers its queue in order, retries included, so a
// "resolved" never overtakes the "firing" it ends.
type Dispatcher struct {
	channels   map[string]Channel
	onDelivery func(Delivery)
	logger     *zap.Logger
	opts       Options

	queues map[string]chan Notification

	// mu orders Notify's enqueueing against Shutdown: whatever was queued
	// before closed was set is seen by the workers' final drain.
	mu     sync.RWMutex
	closed bool
	// stop is closed by Shutdown: no new attempts, no more waiting.
	stop chan struct{}
	// attemptCtx ends when Shutdown's context does: in-flight attempts
	// give up then.
	attemptCtx    context.Context
	cancelAttempt context.CancelFunc
	wg            sync.WaitGroup

	now    func() time.Time
	jitter func() float64 // in [0, 1); tests make it constant
}

// NewDispatcher delivers to channels; onDelivery is called on every change
// of a delivery's status (pending, each failed attempt, sent, failed).
// It uses the default Options.
func NewDispatcher(channels map[string]Channel, onDelivery func(Delivery), logger *zap.Logger) *Dispatcher {
	return NewDispatcherWithOptions(channels, onDelivery, logger, Options{})
}

// NewDispatcherWithOptions is NewDispatcher with its retries, timeouts and
// queues tuned. The workers start at once; Shutdown stops them.
//
// onDelivery is called from the workers, for different channels at the
// same time, so it must be safe for concurrent use; for one delivery the
// calls come in order. It should return quickly: the channel's worker
// waits for it.
func NewDispatcherWithOptions(channels map[string]Channel, onDelivery func(Delivery), logger *zap.Logger, opts Options) *Dispatcher {
	if onDelivery == nil {
		onDelivery = func(Delivery) {}
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	d := &Dispatcher{
		channels:   channels,
		onDelivery: onDelivery,
		logger:     logger,
		opts:       opts.withDefaults(),
		queues:     make(map[string]chan Notification, len(channels)),
		stop:       make(chan struct{}),
		now:        time.Now,
		jitter:     rand.Float64,
	}
	d.attemptCtx, d.cancelAttempt = context.WithCancel(context.Background())
	for name, ch := range channels {
		q := make(chan Notification, d.opts.QueueSize)
		d.queues[name] = q
		d.wg.Add(1)
		go d.work(name, ch, q)
	}
	return d
}

// Channels are the names the Dispatcher delivers to, sorted; a rule that
// names another one gets a failed delivery.
func (d *Dispatcher) Channels() []string {
	names := make([]string, 0, len(d.channels))
	for name := range d.channels {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Notify queues n for each of the named channels and returns at once.
// A name that is not a channel, a full queue, or a Dispatcher that is
// shut down is reported as a failed delivery straight away.
func (d *Dispatcher) Notify(n Notification, channels []string) {
	seen := make(map[string]bool, len(channels))
	for _, name := range channels {
		if seen[name] {
			continue
		}
		seen[name] = true
		q, ok := d.queues[name]
		if !ok {
			d.report(n, name, DeliveryFailed, 0, fmt.Sprintf("unknown notification channel %q", name))
			continue
		}
		// Pending is reported before the worker can see the notification,
		// so that it is always the first status of a delivery.
		d.report(n, name, DeliveryPending, 0, "")
		if reason := d.enqueue(q, n); reason != "" {
			d.report(n, name, DeliveryFailed, 0, reason)
		}
	}
}

// enqueue never blocks; it says why when n was not queued.
func (d *Dispatcher) enqueue(q chan Notification, n Notification) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return "not delivered: the notification dispatcher is shut down"
	}
	select {
	case q <- n:
		return ""
	default:
		return fmt.Sprintf("not delivered: the channel's queue is full (%d notifications waiting)", cap(q))
	}
}

// Shutdown stops the workers, waiting for in-flight attempts until ctx
// ends; then they are cancelled and Shutdown returns ctx's error without
// waiting further. Notifications still queued or waiting for a retry are
// reported failed.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.stop)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancelAttempt()
		return nil
	case <-ctx.Done():
		d.cancelAttempt()
		return ctx.Err()
	}
}

func (d *Dispatcher) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *Dispatcher) work(name string, ch Channel, q chan Notification) {
	defer d.wg.Done()
	for {
		select {
		case <-d.stop:
			d.drain(name, q)
			return
		case n := <-q:
			if d.stopping() {
				d.report(n, name, DeliveryFailed, 0, "not delivered: the collector is shutting down")
				d.drain(name, q)
				return
			}
			d.deliver(name, ch, n)
		}
	}
}

func (d *Dispatcher) drain(name string, q chan Notification) {
	for {
		select {
		case n := <-q:
			d.report(n, name, DeliveryFailed, 0, "not delivered: the collector is shutting down")
		default:
			return
		}
	}
}

// deliver tries n on ch until it is sent, refused for good, out of
// attempts, or the Dispatcher stops.
func (d *Dispatcher) deliver(name string, ch Channel, n Notification) {
	for attempt := 1; ; attempt++ {
		err := d.attempt(ch, n)
		if err == nil {
			d.report(n, name, DeliverySent, attempt, "")
			return
		}
		msg := d.errorText(ch, err)
		log := d.logger.With(zap.String("channel", name), zap.String("event_id", n.EventID),
			zap.Int("attempt", attempt), zap.String("error", msg))
		switch {
		case Permanent(err):
			log.Warn("Notification refused; not retrying")
			d.report(n, name, DeliveryFailed, attempt, msg)
			return
		case attempt >= d.opts.MaxAttempts:
			log.Warn("Notification failed; out of attempts")
			d.report(n, name, DeliveryFailed, attempt, msg)
			return
		case d.stopping():
			d.report(n, name, DeliveryFailed, attempt, msg+" (not retried: the collector is shutting down)")
			return
		}
		wait := d.backoff(attempt, RetryAfter(err))
		log.Info("Notification attempt failed; retrying", zap.Duration("retry_in", wait))
		d.report(n, name, DeliveryPending, attempt, msg)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-d.stop:
			t.Stop()
			d.report(n, name, DeliveryFailed, attempt, msg+" (not retried: the collector is shutting down)")
			return
		}
	}
}

// attempt is one Send, bounded by AttemptTimeout; a panicking channel is
// a failed attempt, not a dead worker.
func (d *Dispatcher) attempt(ch Channel, n Notification) (err error) {
	ctx, cancel := context.WithTimeout(d.attemptCtx, d.opts.AttemptTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("notification channel panicked: %v", r)
		}
	}()
	err = ch.Send(ctx, n)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = fmt.Errorf("attempt timed out after %s: %w", d.opts.AttemptTimeout, err)
	}
	return err
}

// errorText is what Delivery.Error says. The channels keep their secrets
// out of their errors; a channel that can name its secrets gets them
// redacted once more here, the last stop before the text is stored.
func (d *Dispatcher) errorText(ch Channel, err error) string {
	msg := err.Error()
	if s, ok := ch.(interface{ secrets() redactor }); ok {
		msg = s.secrets().string(msg)
	}
	return msg
}

// backoff is the wait after the given failed attempt (1-based).
func (d *Dispatcher) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, d.opts.MaxBackoff)
	}
	wait := d.opts.InitialBackoff
	for i := 1; i < attempt && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	wait = time.Duration(float64(wait) * (0.8 + 0.4*d.jitter()))
	return min(wait, d.opts.MaxBackoff)
}

func (d *Dispatcher) report(n Notification, channel, status string, attempts int, errText string) {
	d.onDelivery(Delivery{
		EventID:  n.EventID,
		Channel:  channel,
		Status:   status,
		Attempts: attempts,
		Error:    errText,
		At:       d.now(),
	})
}
