package costprocessor

import (
	"context"
	"math/big"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestMillionCallsSumExactly prices one million calls through the real
// processor → nexus exporter → embedded store and checks that the stored
// sum(cost_usd) equals, to the last digit, the sum computed here with
// rational arithmetic from the catalog's list prices. Any float on the way,
// any rounding of a per-call cost beyond pico-USD or any lost row shows.
func TestMillionCallsSumExactly(t *testing.T) {
	const total, perBatch = 1_000_000, 10_000
	s, host := storetest.Start(t, "exact_sum")
	ctx := context.Background()

	proc, stop := startPipeline(t, host)

	// List prices per 1M tokens (catalog entries in effect now):
	// input, cached input, output.
	type price struct{ in, cached, out string }
	models := []struct {
		name string
		p    price
	}{
		{"gpt-4o-2024-08-06", price{"2.50", "1.25", "10.00"}},
		{"gpt-4o-mini", price{"0.15", "0.075", "0.60"}},
		{"gpt-4.1-nano", price{"0.10", "0.025", "0.40"}},
		{"o4-mini", price{"1.10", "0.275", "4.40"}},
	}
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	million := big.NewRat(1_000_000, 1)
	want := new(big.Rat)
	// Yesterday noon: inside the exporter's accepted window whatever the day.
	at := time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
	n := 0
	for n < total {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "exact")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for range perBatch {
			m := models[n%len(models)]
			in, out := int64(37+n%9973), int64(11+n%4999)
			cached := in * int64(n%4) / 4 // a subset of input
			sp := spans.AppendEmpty()
			sp.SetTraceID(pcommon.TraceID([16]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}))
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(n) * time.Millisecond)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(n)*time.Millisecond + 300*time.Millisecond)))
			a := sp.Attributes()
			a.PutStr("gen_ai.provider.name", "openai")
			a.PutStr("gen_ai.operation.name", "chat")
			a.PutStr("gen_ai.response.model", m.name)
			a.PutInt("gen_ai.usage.input_tokens", in)
			a.PutInt("gen_ai.usage.cache_read.input_tokens", cached)
			a.PutInt("gen_ai.usage.output_tokens", out)

			c := new(big.Rat).Mul(big.NewRat(in-cached, 1), rat(m.p.in))
			c.Add(c, new(big.Rat).Mul(big.NewRat(cached, 1), rat(m.p.cached)))
			c.Add(c, new(big.Rat).Mul(big.NewRat(out, 1), rat(m.p.out)))
			want.Add(want, c.Quo(c, million))
			n++
		}
		if err := proc.ConsumeTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	got := storetest.Scalar(t, s, "SELECT toString(count()) || ' ' || toString(sum(cost_usd)) || ' ' || toString(countIf(cost_status != 'computed')) FROM exact_sum.api_calls")
	wantText := "1000000 " + want.FloatString(12) + " 0"
	// ClickHouse prints Decimal without trailing zeros.
	if trimmed := trimZeros(want.FloatString(12)); got != "1000000 "+trimmed+" 0" {
		t.Fatalf("stored (calls, sum, not computed) = %q, want %q", got, wantText)
	}
	// The rollups hold the same exact sum.
	if got := storetest.Scalar(t, s, "SELECT toString(sum(cost_usd)) FROM exact_sum.api_calls_1d"); got != trimZeros(want.FloatString(12)) {
		t.Fatalf("day rollup sum = %s, want %s", got, want.FloatString(12))
	}
}

func trimZeros(s string) string {
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
