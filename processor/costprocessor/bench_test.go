package costprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// benchBatch is a realistic mix: OpenAI and OpenRouter GenAI spans in
// current and deprecated names, Exa, Twilio and Apollo HTTP spans, and a
// share of spans that are not API calls at all.
func benchBatch(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bench")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	models := []string{"gpt-4o-2024-08-06", "gpt-4o-mini", "o4-mini", "gpt-4.1-nano"}
	for i := range n {
		s := spans.AppendEmpty()
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(callTime))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(callTime.Add(time.Duration(300+i%200) * time.Millisecond)))
		a := s.Attributes()
		switch i % 8 {
		case 0, 1, 2:
			a.PutStr("gen_ai.provider.name", "openai")
			a.PutStr("gen_ai.operation.name", "chat")
			a.PutStr("gen_ai.response.model", models[i%len(models)])
			a.PutInt("gen_ai.usage.input_tokens", int64(500+i%1000))
			a.PutInt("gen_ai.usage.cache_read.input_tokens", int64(i%500))
			a.PutInt("gen_ai.usage.output_tokens", int64(50+i%300))
		case 3:
			a.PutStr("gen_ai.system", "openrouter")
			a.PutStr("gen_ai.request.model", "openai/gpt-4o-mini")
			a.PutInt("gen_ai.usage.prompt_tokens", int64(300+i%700))
			a.PutInt("gen_ai.usage.completion_tokens", 40)
			a.PutStr("nexus.reported_cost.usd", "0.000123")
		case 4:
			a.PutStr("url.full", "https://api.exa.ai/search")
			a.PutStr("http.request.method", "POST")
			a.PutInt("http.response.status_code", 200)
		case 5:
			a.PutStr("url.full", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
			a.PutStr("http.request.method", "POST")
			a.PutInt("twilio.num_segments", int64(1+i%3))
		case 6:
			a.PutStr("url.full", "https://api.apollo.io/api/v1/people/match")
			a.PutStr("http.request.method", "POST")
		case 7:
			a.PutStr("http.route", "/checkout")
			a.PutStr("server.address", "shop.internal")
		}
	}
	return td
}

// BenchmarkProcessTraces measures the processor on one core. Spans are
// processed again each iteration, so after the first pass the attributes
// the processor writes already exist and are updated in place: this is the
// processor's own cost per span, without the (amortised) growth of a
// fresh span's attribute slice, which BenchmarkProcessFreshTraces shows.
func BenchmarkProcessTraces(b *testing.B) {
	const n = 10_000
	f := NewFactory()
	p, err := newCostProcessor(f.CreateDefaultConfig().(*Config), processortest.NewNopSettings(f.Type()))
	if err != nil {
		b.Fatal(err)
	}
	td := benchBatch(n)
	ctx := context.Background()
	if _, err := p.processTraces(ctx, td); err != nil { // first pass adds the attributes
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := p.processTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(testing.AllocsPerRun(3, func() { _, _ = p.processTraces(ctx, td) }))/n, "allocs/span")
}

// BenchmarkProcessFreshTraces processes spans as they arrive from a
// receiver (without the processor's attributes); the batch copy is made
// outside the timer.
func BenchmarkProcessFreshTraces(b *testing.B) {
	const n = 10_000
	f := NewFactory()
	p, err := newCostProcessor(f.CreateDefaultConfig().(*Config), processortest.NewNopSettings(f.Type()))
	if err != nil {
		b.Fatal(err)
	}
	tmpl := benchBatch(n)
	ctx := context.Background()
	b.ReportAllocs()
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		td := ptrace.NewTraces()
		tmpl.CopyTo(td)
		b.StartTimer()
		began := time.Now()
		if _, err := p.processTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "spans/s")
	_ = fmt.Sprint
}
