package alerting

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/notify"
)

// --- delivery progress ---

// deliveryLog writes the dispatcher's delivery reports into the events.
// Reports arrive on the dispatcher's workers, which must not wait for the
// store: they are folded into the in-memory event and written by one
// goroutine, several reports of one event in one row.
type deliveryLog struct {
	en       *Engine
	mu       sync.Mutex
	inflight map[string]*Event // events with deliveries not yet final
	dirty    map[string]int    // event id → failed writes so far
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// maxDeliveryWriteAttempts bounds the retries of one event's delivery
// update when the store refuses it.
const maxDeliveryWriteAttempts = 5

func newDeliveryLog(en *Engine) *deliveryLog {
	return &deliveryLog{en: en, inflight: map[string]*Event{}, dirty: map[string]int{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// track keeps e until its deliveries are final.
func (l *deliveryLog) track(e *Event) {
	l.mu.Lock()
	l.inflight[e.ID] = e.clone()
	l.mu.Unlock()
}

// onDelivery is the dispatcher's report of one delivery's progress.
func (l *deliveryLog) onDelivery(d notify.Delivery) {
	l.mu.Lock()
	e, ok := l.inflight[d.EventID]
	if !ok {
		l.mu.Unlock()
		l.en.logger.Debug("delivery report for an event not in flight", zap.String("event_id", d.EventID), zap.String("channel", d.Channel))
		return
	}
	nd := Delivery{Channel: d.Channel, Status: d.Status, Attempts: d.Attempts, Error: d.Error, At: d.At.UTC().Truncate(time.Millisecond)}
	i := slices.IndexFunc(e.Deliveries, func(x Delivery) bool { return x.Channel == d.Channel })
	switch {
	case i < 0:
		e.Deliveries = append(e.Deliveries, nd)
		slices.SortFunc(e.Deliveries, func(a, b Delivery) int { return strings.Compare(a.Channel, b.Channel) })
	case e.Deliveries[i].Status == nd.Status && e.Deliveries[i].Attempts == nd.Attempts && e.Deliveries[i].Error == nd.Error:
		l.mu.Unlock()
		return // the row already says so
	default:
		e.Deliveries[i] = nd
	}
	if _, ok := l.dirty[d.EventID]; !ok {
		l.dirty[d.EventID] = 0
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *deliveryLog) run() {
	defer close(l.done)
	for {
		select {
		case <-l.kick:
			l.flush()
		case <-l.stop:
			l.flush()
			return
		}
	}
}

// flush writes every event with new delivery progress.
func (l *deliveryLog) flush() {
	l.mu.Lock()
	type job struct {
		e     *Event
		tries int
	}
	jobs := make([]job, 0, len(l.dirty))
	for id, tries := range l.dirty {
		e := l.inflight[id]
		jobs = append(jobs, job{e.clone(), tries})
		if !slices.ContainsFunc(e.Deliveries, func(d Delivery) bool { return !d.final() }) {
			delete(l.inflight, id)
		}
	}
	clear(l.dirty)
	l.mu.Unlock()

	for _, j := range jobs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.en.updateEvent(ctx, j.e.ID, j.e, func(stored *Event) { stored.Deliveries = j.e.Deliveries })
		cancel()
		if err == nil {
			continue
		}
		l.en.logger.Warn("cannot record alert delivery progress", zap.String("event_id", j.e.ID), zap.Int("attempt", j.tries+1), zap.Error(err))
		if j.tries+1 < maxDeliveryWriteAttempts {
			l.mu.Lock()
			if _, ok := l.inflight[j.e.ID]; !ok {
				l.inflight[j.e.ID] = j.e
			}
			l.dirty[j.e.ID] = j.tries + 1
			l.mu.Unlock()
		}
	}
	l.mu.Lock()
	again := len(l.dirty) > 0
	l.mu.Unlock()
	if again {
		// Retried on the next report, or after a pause if none comes.
		time.AfterFunc(time.Second, func() {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		})
	}
}

// updateEvent applies change to the stored latest version of event id and
// writes it as a newer version. Reading the row first keeps what another
// writer (an acknowledgement) put there; the process-wide lock keeps this
// process's writers from interleaving. When the row is missing (its first
// write failed) it is written from fallback.
func (en *Engine) updateEvent(ctx context.Context, id string, fallback *Event, change func(*Event)) error {
	en.eventWrites.Lock()
	defer en.eventWrites.Unlock()
	e, err := en.readEvent(ctx, "", id)
	if err != nil {
		return fmt.Errorf("read event %s: %w", id, err)
	}
	if e == nil {
		if fallback == nil {
			return fmt.Errorf("event %s not found", id)
		}
		e = fallback.clone()
	}
	change(e)
	return en.writeEvent(ctx, e)
}
