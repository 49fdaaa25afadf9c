package costprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestUnpricedCallsAreCounted: the processor's own metric says how many
// calls were reported, computed, unpriced and refused, so an unpriced call is visible
// even where nobody reads the store.
func TestUnpricedCallsAreCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	f := NewFactory()
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := f.CreateTraces(context.Background(), set, f.CreateDefaultConfig(), new(consumertest.TracesSink))
	if err != nil {
		t.Fatal(err)
	}
	send := func(attrs map[string]any, n int) {
		for range n {
			if err := p.ConsumeTraces(context.Background(), spanWith(attrs, time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-9", "gen_ai.usage.input_tokens": 5}, 3)
	send(map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 5}, 2)
	send(map[string]any{"gen_ai.system": "openrouter", "gen_ai.usage.cost": 0.01}, 1)
	send(map[string]any{"http.route": "/not-a-call"}, 4)
	send(map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini", "http.response.status_code": 429}, 2)

	m, err := tel.GetMetric("nexus.cost.calls")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		status, _ := dp.Attributes.Value("status")
		got[status.AsString()] = dp.Value
	}
	if got["unpriced"] != 3 || got["computed"] != 2 || got["reported"] != 1 || got["refused"] != 2 || len(got) != 4 {
		t.Fatalf("nexus.cost.calls by status = %v, want unpriced 3, computed 2, reported 1, refused 2", got)
	}
}
