package nexusexporter

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestReplayBatchedDifferentlyCountsOnce: after a crash the persistent
// queue replays requests the store had already committed, batched with
// others into blocks whose tokens are new; a client resends a request the
// collector took before it died. Each call still counts once, in api_calls
// and in every rollup, and a call repeated inside one push counts once.
func TestReplayBatchedDifferentlyCountsOnce(t *testing.T) {
	s, h := storetest.Start(t, "exp_replay")
	x := newSyncExporters(t, h)

	first := calls(30, recent())
	consume(t, x.traces, first)
	if got := callCounts(t, s, "exp_replay"); got != "(30,30,30,30,30,30)" {
		t.Fatalf("first request: %s", got)
	}

	// The replay: the first request's calls again, batched with 20 new
	// ones (another block, another token), and one of the new calls twice.
	replay := ptrace.NewTraces()
	first.CopyTo(replay)
	more := calls(20, recent().Add(time.Minute)).ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans := replay.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := range more.Len() {
		more.At(i).CopyTo(spans.AppendEmpty())
	}
	more.At(0).CopyTo(spans.AppendEmpty())
	consume(t, x.traces, replay)
	if got := callCounts(t, s, "exp_replay"); got != "(50,50,50,50,50,50)" {
		t.Fatalf("after the replay: %s, want each call once", got)
	}

	// Calls that reuse ids at other times are other calls: both stay.
	consume(t, x.traces, calls(30, recent().Add(2*time.Minute)))
	if got := callCounts(t, s, "exp_replay"); got != "(80,80,80,80,80,80)" {
		t.Fatalf("ids reused at another time: %s", got)
	}
}

func TestArrayParam(t *testing.T) {
	if got := arrayParam([]string{"a", "b'c", `d\e`, "a"}); got != `['a','b\'c','d\\e']` {
		t.Fatalf("arrayParam = %s", got)
	}
}
