package costprocessor

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/apicall/apicalltest"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// FuzzPriceCall runs spans and log records with arbitrary attributes (see
// apicalltest.Decode) through the processor. Whatever they say: no panic;
// a record that is not a call is left as it was; a call ends with exactly
// one of reported, computed, unpriced or refused; a refused call costs
// exactly $0 with its reason; an unpriced call has a reason and
// no cost (never $0, nor a stale cost from the input); a priced call has an
// integer pico-USD cost in [0, MaxCost] (what a ClickHouse Decimal(18,12)
// holds) and no unpriced reason; a provider-reported cost that is an exact
// amount in range is the cost, as its absolute value.
func FuzzPriceCall(f *testing.F) {
	tp, sink := newTracesProcessor(f, nil)
	lp, lsink := newLogsProcessor(f)
	for _, s := range apicalltest.Seeds() {
		f.Add(s, false)
	}
	f.Add(apicalltest.Seeds()[0], true)
	f.Fuzz(func(t *testing.T, data []byte, failed bool) {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "shop")
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(callTime))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(callTime.Add(1e9)))
		apicalltest.Decode(data, span.Attributes())
		if failed {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
		in := pcommon.NewMap()
		span.Attributes().CopyTo(in)
		call, isCall := apicall.FromSpan(span)

		sink.Reset()
		if err := tp.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		out := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		checkPriced(t, in, out, isCall, &call)

		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(callTime))
		in.CopyTo(lr.Attributes())
		if failed {
			lr.SetSeverityNumber(plog.SeverityNumberError)
		}
		lsink.Reset()
		if err := lp.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		out = lsink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
		checkPriced(t, in, out, isCall, &call)
	})
}

func checkPriced(t *testing.T, in, out pcommon.Map, isCall bool, call *apicall.Call) {
	t.Helper()
	if !isCall {
		if out.Len() != in.Len() {
			t.Fatalf("not a call, yet attributes changed: %v → %v", in.AsRaw(), out.AsRaw())
		}
		return
	}
	status, ok := out.Get(semconv.AttrCostStatus)
	if !ok || status.Type() != pcommon.ValueTypeStr {
		t.Fatalf("no cost status: %v", out.AsRaw())
	}
	cost, hasCost := out.Get(semconv.AttrCostPicoUSD)
	reason, hasReason := out.Get(semconv.AttrUnpricedReason)
	switch status.Str() {
	case "unpriced":
		if hasCost {
			t.Fatalf("unpriced call with a cost: %v", cost.AsRaw())
		}
		if !hasReason || reason.Str() == "" {
			t.Fatal("unpriced call without a reason")
		}
		return
	case "refused":
		// A known $0 with its reason, never a price, and never when the
		// provider reported a cost (checked below).
		if v, ok := out.Get(semconv.AttrCostReason); !ok || !strings.HasPrefix(v.Str(), "refused: ") && !strings.HasPrefix(v.Str(), "not sent: ") {
			t.Fatalf("refused call without its reason: %v", out.AsRaw())
		}
		if hasCost && cost.Type() == pcommon.ValueTypeInt && cost.Int() != 0 {
			t.Fatalf("refused call costs %d pico-USD", cost.Int())
		}
	case "reported", "computed":
	default:
		t.Fatalf("cost status %q", status.Str())
	}
	if hasReason {
		t.Fatalf("priced call with an unpriced reason %q", reason.AsString())
	}
	if !hasCost || cost.Type() != pcommon.ValueTypeInt {
		t.Fatalf("priced call without an integer cost: %v", out.AsRaw())
	}
	if c := cost.Int(); c < 0 || c > int64(pricing.MaxCost) {
		t.Fatalf("cost %d pico-USD out of [0, %d]", c, pricing.MaxCost)
	}
	if !call.HasReportedCost {
		return
	}
	var m pricing.Money
	var err error
	switch v := call.ReportedCost; v.Type() {
	case pcommon.ValueTypeStr:
		m, err = pricing.ParseMoney(v.Str())
	case pcommon.ValueTypeInt:
		m, err = pricing.ParseMoney(strconv.FormatInt(v.Int(), 10))
	default:
		return // doubles are rounded to the pico-USD: covered by the pricing tests
	}
	if err == nil && m.Abs() <= pricing.MaxCost && (status.Str() != "reported" || cost.Int() != int64(m.Abs())) {
		t.Fatalf("reported cost %s, yet %s %d pico-USD", m, status.Str(), cost.Int())
	}
}

func newLogsProcessor(tb testing.TB) (processor.Logs, *consumertest.LogsSink) {
	tb.Helper()
	f := NewFactory()
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		tb.Fatal(err)
	}
	return p, sink
}
