package apiusagereceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// windowRecorder is the real OpenAI poller against the fake API, noting
// where each poll starts.
type windowRecorder struct {
	provider.Poller
	froms []time.Time
}

func (w *windowRecorder) Poll(ctx context.Context, from, now time.Time) (provider.Poll, error) {
	w.froms = append(w.froms, from)
	return w.Poller.Poll(ctx, from, now)
}

// TestRefusedPollIsFetchedAgain: when the pipeline refuses a poll's
// metrics (a full exporter queue), the next poll starts where the refused
// one did, so its buckets come again; once taken, polls move on.
func TestRefusedPollIsFetchedAgain(t *testing.T) {
	srv := providertest.New(t)
	rec := &windowRecorder{Poller: pollers(srv)[openai.Name]}
	c := &clock{now}
	s := newScraper(rec, c)
	sink := new(consumertest.MetricsSink)
	var refuse bool
	pipeline, err := consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		if refuse {
			return errors.New("sending queue is full")
		}
		return sink.ConsumeMetrics(ctx, md)
	})
	if err != nil {
		t.Fatal(err)
	}
	next := settling{Metrics: pipeline, s: s}
	poll := func(at time.Time) {
		t.Helper()
		c.t = at
		md, err := s.scrape(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_ = next.ConsumeMetrics(context.Background(), md)
	}
	refuse = false
	poll(now) // taken
	refuse = true
	poll(now.Add(time.Hour)) // refused
	refuse = false
	poll(now.Add(2 * time.Hour)) // reaches back past the refused one
	poll(now.Add(3 * time.Hour))
	want := []time.Time{now.Add(-s.lookback), now.Add(-s.overlap), now.Add(-s.overlap), now.Add(2*time.Hour - s.overlap)}
	if len(rec.froms) != len(want) {
		t.Fatalf("%d polls, want %d", len(rec.froms), len(want))
	}
	for i := range want {
		if !rec.froms[i].Equal(want[i]) {
			t.Fatalf("poll %d started at %s, want %s (all: %v)", i, rec.froms[i], want[i], rec.froms)
		}
	}
	if sink.DataPointCount() == 0 {
		t.Fatal("the taken polls reached no pipeline")
	}
}
