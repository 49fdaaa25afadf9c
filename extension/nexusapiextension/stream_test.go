package nexusapiextension

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// sseFrame is one frame read off a stream: an event, or a comment.
type sseFrame struct {
	ID, Event, Data, Comment string
}

// openStream connects to the stream and returns its frames as they come.
func (ta *testAPI) openStream(ctx context.Context, query, key string, header http.Header) (*http.Response, <-chan sseFrame) {
	ta.t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", ta.base+"/api/v1/stream"+query, nil)
	if err != nil {
		ta.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	frames := make(chan sseFrame, 64)
	go func() {
		defer close(frames)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var f sseFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if f != (sseFrame{}) {
					frames <- f
				}
				f = sseFrame{}
			case strings.HasPrefix(line, ":"):
				f.Comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				f.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				f.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				f.Data = line[6:]
			}
		}
	}()
	return resp, frames
}

// nextEvent returns the next frame that is an event, skipping comments.
func nextEvent(t *testing.T, frames <-chan sseFrame) sseFrame {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("stream ended")
			}
			if f.Event != "" {
				return f
			}
		case <-timeout:
			t.Fatal("no event within 5s")
		}
	}
}

// pipelineHost exposes the API extension to a processor, as the collector does.
type pipelineHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h pipelineHost) GetExtensions() map[component.ID]component.Component { return h.exts }

func chatSpan(provider, model string, input, output int64) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("chat " + model)
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-120 * time.Millisecond)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	_ = s.Attributes().FromRaw(map[string]any{"gen_ai.provider.name": provider, "gen_ai.operation.name": "chat",
		"gen_ai.response.model": model, "gen_ai.usage.input_tokens": input, "gen_ai.usage.output_tokens": output})
	return td
}

func TestStreamShowsPricedCallsLive(t *testing.T) {
	ta := startAPI(t, "api_stream_calls", nil)
	// The real cost processor publishes to this API's feed.
	proc := startLiveProcessor(t, ta)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, frames := ta.openStream(ctx, "?provider=openai&kinds=call", ta.key("viewer"), nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("stream answered %d %v", resp.StatusCode, resp.Header)
	}
	waitSubscribed(t, ta.api.feed)
	// An exa call is filtered out; the openai call arrives priced.
	for _, td := range []ptrace.Traces{chatSpan("exa", "exa", 0, 0), chatSpan("openai", "gpt-4o-mini", 1000, 500)} {
		if err := proc.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	ev := nextEvent(t, frames)
	var c livefeed.Call
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatal(err)
	}
	if ev.Event != "call" || ev.ID != "" || c.Provider != "openai" || c.Model != "gpt-4o-mini" || c.CostUSD == nil ||
		*c.CostUSD != "0.00045" || c.Service != "shop" || c.Environment != "prod" || c.DurationMs != 120 {
		t.Fatalf("event %+v", ev)
	}
}

// waitSubscribed waits until the stream handler has subscribed, so that an
// event published next is not published to nobody.
func waitSubscribed(t *testing.T, hub *livefeed.Hub) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !hub.Active(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("stream never subscribed")
		}
	}
}

func TestStreamAlertResumeAndHeartbeat(t *testing.T) {
	ta := startAPI(t, "api_stream_alerts", nil)
	ta.api.heartbeat = 50 * time.Millisecond
	viewer := ta.key("viewer")
	alert := func(n string) uint64 {
		return ta.api.feed.Publish(livefeed.Event{Kind: livefeed.KindAlert, Labels: livefeed.Labels{Provider: "openai"},
			Data: []byte(`{"rule":"` + n + `"}`)})
	}
	first := alert("a1")
	alert("a2")
	alert("a3")

	// Resuming after a1 replays a2 and a3 with their ids, then goes live.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, frames := ta.openStream(ctx, "?kinds=alert", viewer, http.Header{"Last-Event-Id": {itoa(first)}})
	for _, want := range []string{"a2", "a3"} {
		ev := nextEvent(t, frames)
		if ev.Event != "alert" || ev.ID == "" || !strings.Contains(ev.Data, want) {
			t.Fatalf("replay: %+v, want %s", ev, want)
		}
	}
	a4 := alert("a4")
	if ev := nextEvent(t, frames); ev.ID != itoa(a4) || !strings.Contains(ev.Data, "a4") {
		t.Fatalf("live alert: %+v", ev)
	}
	// An idle stream sends heartbeats.
	deadline := time.After(5 * time.Second)
	for beat := false; !beat; {
		select {
		case f := <-frames:
			beat = strings.HasPrefix(f.Comment, "heartbeat")
		case <-deadline:
			t.Fatal("no heartbeat")
		}
	}
}

func TestStreamBadRequests(t *testing.T) {
	ta := startAPI(t, "api_stream_bad", nil)
	if e := ta.do("GET", "/api/v1/stream", "", nil); e.status != 401 {
		t.Fatalf("no key: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/stream?kinds=call,metrics", ta.admin, nil); e.status != 400 || e.Error.Details[0].Field != "kinds" {
		t.Fatalf("bad kinds: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/stream?provider="+strings.Repeat("x", 300), ta.admin, nil); e.status != 400 || e.Error.Details[0].Field != "provider" {
		t.Fatalf("bad provider: %d %+v", e.status, e.Error)
	}
	req, _ := http.NewRequest("GET", ta.base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+ta.admin)
	req.Header.Set("Last-Event-ID", "yesterday")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad Last-Event-ID: %d", resp.StatusCode)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestShutdownEndsStreams(t *testing.T) {
	ta := startAPI(t, "api_stream_shutdown", nil)
	_, frames := ta.openStream(context.Background(), "", ta.admin, nil)
	waitSubscribed(t, ta.api.feed)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	if err := ta.api.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	for range frames { // the stream ends
	}
}
