package alerting

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// tailSlack is how far back each read of new events reaches before the
// last one seen: an event is stamped with the evaluator's clock when it
// is made, and written an instant later.
const tailSlack = time.Minute

// eventTail puts on this collector's live feed the events the evaluating
// collector writes, so that a stream client gets alerts whichever
// collector the load balancer sent it to.
type eventTail struct {
	en     *Engine
	since  time.Time
	seen   map[string]time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

func newEventTail(en *Engine) *eventTail {
	return &eventTail{en: en, since: time.Now().UTC(), seen: map[string]time.Time{}}
}

func (t *eventTail) start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(t.en.cfg.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// One poll never outlasts the next tick by much: a slow
				// store must not pile polls up.
				pctx, pcancel := context.WithTimeout(ctx, max(t.en.cfg.Interval, 5*time.Second))
				t.poll(pctx)
				pcancel()
			}
		}
	}()
}

func (t *eventTail) shutdown() {
	t.cancel()
	<-t.done
}

func (t *eventTail) poll(ctx context.Context) {
	from := t.since.Add(-tailSlack)
	evs, err := t.en.readEvents(ctx, eventSelect+" FROM "+t.en.src.table("alert_events")+" FINAL"+
		" WHERE at > {from:DateTime64(3, 'UTC')} ORDER BY at, id", store.Params{"from": from.Format(milliLayout)})
	if err != nil {
		if ctx.Err() == nil {
			t.en.logger.Debug("cannot read new alert events for the stream", zap.Error(err))
		}
		return
	}
	for _, e := range evs {
		if _, ok := t.seen[e.ID]; ok {
			continue
		}
		t.seen[e.ID] = e.At
		t.en.publish(e)
		if e.At.After(t.since) {
			t.since = e.At
		}
	}
	for id, at := range t.seen {
		if at.Before(from) {
			delete(t.seen, id)
		}
	}
}
