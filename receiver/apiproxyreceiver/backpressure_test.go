package apiproxyreceiver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// refusingFor refuses the first n requests with a retryable error, as an
// exporter with a full queue does, then passes them on.
type refusingFor struct {
	consumer.Traces
	mu        sync.Mutex
	n         int
	permanent bool
}

func (r *refusingFor) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	r.mu.Lock()
	refuse := r.n > 0
	r.n--
	r.mu.Unlock()
	if refuse {
		err := errors.New("sending queue is full")
		if r.permanent {
			return consumererror.NewPermanent(err)
		}
		return err
	}
	return r.Traces.ConsumeTraces(ctx, td)
}

// TestSpansWaitOutBackPressure: the proxy has answered its calls and no
// client will send their spans again, so spans the pipeline refuses for
// now are offered again until taken — each once — while a permanent
// refusal is not retried.
func TestSpansWaitOutBackPressure(t *testing.T) {
	up := fakeOpenAI(t)
	for _, permanent := range []bool{false, true} {
		sink := new(consumertest.TracesSink)
		next := &refusingFor{Traces: sink, n: 3, permanent: permanent}
		tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" }, withNext(next))
		for range 3 {
			res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq,
				http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"}})
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			time.Sleep(20 * time.Millisecond) // one batch each
		}
		want := 3
		if permanent {
			want = 0 // each batch refused once, for good
		}
		deadline := time.Now().Add(5 * time.Second)
		for sink.SpanCount() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // room for a wrong extra delivery
		ids := map[pcommon.SpanID]bool{}
		for _, s := range allSpans(sink.AllTraces()) {
			if ids[s.span.SpanID()] {
				t.Fatalf("permanent=%v: span %s delivered twice", permanent, s.span.SpanID())
			}
			ids[s.span.SpanID()] = true
		}
		if len(ids) != want {
			t.Fatalf("permanent=%v: %d spans delivered, want %d", permanent, len(ids), want)
		}
	}
}
