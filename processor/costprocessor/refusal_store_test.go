package costprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestRefusedCallStored: a refused call goes through the nexus exporter into
// the store's existing columns as a $0 cost (not NULL: it is no unpriced
// call), cost_status refused and its reason in cost_reason; the rollups
// count it as neither unpriced nor spend.
func TestRefusedCallStored(t *testing.T) {
	s, host := storetest.Start(t, "refused_store")
	ctx := context.Background()
	proc, stop := startPipeline(t, host)
	// An hour ago: inside the exporter's accepted window whatever the day.
	at := time.Now().UTC().Add(-time.Hour)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, attrs := range []map[string]any{
		{"url.full": twilioMessages, "http.request.method": "POST", "http.response.status_code": 429, "error.type": "20429"},
		{"url.full": twilioMessages, "http.request.method": "POST", "http.response.status_code": 201, "twilio.num_segments": 1},
	} {
		sp := spans.AppendEmpty()
		sp.SetSpanID(pcommon.SpanID{byte(i + 1)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Second)))
		_ = sp.Attributes().FromRaw(attrs)
	}
	if err := proc.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	stop()
	got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupArray(concat(toString(http_status), '|', toString(cost_usd), '|', cost_status, '|', "+
		"unpriced_reason, '|', pricing_version, '|', cost_reason, '|', error_class)), ';') FROM (SELECT * FROM refused_store.api_calls ORDER BY http_status)")
	if want := "201|0.0079|computed||" + catalogVersion(t) + "||;429|0|refused|||refused: HTTP 429 rate_limited|rate_limited"; got != want {
		t.Fatalf("stored rows\n%s\nwant\n%s", got, want)
	}
	if got := storetest.Scalar(t, s, "SELECT concat(toString(sum(unpriced)), ' ', toString(sum(cost_usd))) FROM refused_store.api_calls_1d"); got != "0 0.0079" {
		t.Fatalf("day rollup (unpriced, spend) = %s", got)
	}
}

func catalogVersion(t *testing.T) string {
	t.Helper()
	p, err := newCostProcessor(NewFactory().CreateDefaultConfig().(*Config), processortest.NewNopSettings(NewFactory().Type()))
	if err != nil {
		t.Fatal(err)
	}
	return p.prices.catalog("default").Version()
}
