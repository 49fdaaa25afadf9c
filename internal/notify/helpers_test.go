package notify

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
)

// sample is a firing alert with everything set, and characters that each
// channel must escape.
func sample() Notification {
	return Notification{
		DedupKey:  "rule-1:firing:1767268500",
		EventID:   "ev-0001",
		RuleID:    "rule-1",
		RuleName:  "OpenAI daily spend",
		State:     StateFiring,
		Severity:  SeverityCritical,
		Title:     "OpenAI spend over budget",
		Message:   "Spend today is 12.30 USD, over the <10.00> USD budget & rising.",
		Labels:    map[string]string{"provider": "openai", "model": "gpt-4o"},
		Value:     "12.30",
		Threshold: "10.00",
		StartsAt:  time.Date(2026, 1, 1, 11, 55, 0, 0, time.UTC),
		At:        time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		Link:      "https://nexus.example.com/events/ev-0001",
	}
}

// build makes one channel through Build, the way the collector does.
func build(t *testing.T, cfg ChannelConfig) Channel {
	t.Helper()
	chs, err := Build(map[string]ChannelConfig{"test": cfg}, componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	ch, ok := chs["test"]
	if !ok {
		t.Fatal("build made no channel")
	}
	return ch
}

// recorder keeps every Delivery the Dispatcher reports.
type recorder struct {
	mu   sync.Mutex
	list []Delivery
	ch   chan Delivery
}

func newRecorder() *recorder { return &recorder{ch: make(chan Delivery, 1000)} }

func (r *recorder) record(d Delivery) {
	r.mu.Lock()
	r.list = append(r.list, d)
	r.mu.Unlock()
	r.ch <- d
}

func (r *recorder) all() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.list...)
}

// of is the deliveries of one channel, in order.
func (r *recorder) of(channel string) []Delivery {
	var out []Delivery
	for _, d := range r.all() {
		if d.Channel == channel {
			out = append(out, d)
		}
	}
	return out
}

// waitFinal waits until channel's delivery of eventID is sent or failed.
func (r *recorder) waitFinal(t *testing.T, channel, eventID string, within time.Duration) Delivery {
	t.Helper()
	deadline := time.After(within)
	for {
		for _, d := range r.of(channel) {
			if d.EventID == eventID && (d.Status == DeliverySent || d.Status == DeliveryFailed) {
				return d
			}
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("%s/%s: no final status within %s; saw %+v", channel, eventID, within, r.of(channel))
		}
	}
}

// step is the part of a Delivery a sequence assertion compares.
type step struct {
	Status   string
	Attempts int
	HasError bool
}

func steps(ds []Delivery) []step {
	out := make([]step, len(ds))
	for i, d := range ds {
		out[i] = step{d.Status, d.Attempts, d.Error != ""}
	}
	return out
}

func assertNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks secret %q: %s", what, s, text)
		}
	}
}
