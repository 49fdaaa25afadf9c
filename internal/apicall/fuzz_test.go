package apicall_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/apicall/apicalltest"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// FuzzFromAttributes reads calls from arbitrary attributes (names Nexus
// reads and any other, values of every type: negative and huge ints, NaN
// and infinite doubles, numeric text, invalid UTF-8). Whatever they say:
// no panic; every count is in [0, MaxCount] and equals what its attribute
// says when that is a valid count; a reported cost is a number or non-empty
// text; a call is failed exactly when the span, the HTTP status or an error
// type says so, and a failed call has an error class; reading is
// deterministic.
func FuzzFromAttributes(f *testing.F) {
	for _, s := range apicalltest.Seeds() {
		f.Add(s, false)
	}
	f.Add(apicalltest.Seeds()[0], true)
	f.Fuzz(func(t *testing.T, data []byte, failed bool) {
		span := ptrace.NewSpan()
		attrs := span.Attributes()
		apicalltest.Decode(data, attrs)
		if failed {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
		r := apicall.Reader{Hosts: map[string]string{"llm-gateway.internal": "openai"}}
		c, ok := r.FromSpan(span)
		again, ok2 := r.FromSpan(span)
		if ok != ok2 || !sameCall(c, again) {
			t.Fatalf("two reads differ: %+v / %+v", c, again)
		}
		if !ok {
			if !sameCall(c, apicall.Call{}) {
				t.Fatalf("not a call, yet %+v", c)
			}
			return
		}
		if c.Provider == "" {
			t.Fatal("a call without provider")
		}
		counts := []struct {
			name string
			n    int64
			keys []string
		}{
			{"input", c.InputTokens, []string{semconv.AttrInputTokens, semconv.AttrPromptTokens}},
			{"output", c.OutputTokens, []string{semconv.AttrOutputTokens, semconv.AttrCompletionTok}},
			{"cached", c.CachedInputTokens, []string{semconv.AttrCacheReadToken}},
			{"cache write", c.CacheWriteTokens, []string{semconv.AttrCacheWriteTok}},
			{"reasoning", c.ReasoningTokens, []string{semconv.AttrReasoningTok, semconv.AttrReasoningTok1}},
			{"results", c.Results, []string{semconv.AttrExaResults}},
			{"pages", c.Pages, []string{semconv.AttrExaPages}},
			{"segments", c.SMSSegments, []string{semconv.AttrTwilioSegments}},
			{"seconds", c.VoiceSeconds, []string{semconv.AttrTwilioSeconds}},
			{"credits", c.Credits, []string{semconv.AttrApolloCredits}},
			{"http status", c.HTTPStatus, []string{semconv.AttrStatusCode, semconv.AttrStatusCodeOld}},
		}
		for _, k := range counts {
			if k.n < 0 || k.n > apicall.MaxCount {
				t.Errorf("%s count %d out of [0, MaxCount]", k.name, k.n)
			}
			if want := expectCount(attrs, k.keys); k.n != want {
				t.Errorf("%s count %d, attribute says %d", k.name, k.n, want)
			}
		}
		wantCost := false
		for _, k := range []string{semconv.AttrReportedCost, semconv.AttrUsageCost, semconv.AttrExaCost, semconv.AttrTwilioPrice} {
			if v, ok := attrs.Get(k); ok && (v.Type() == pcommon.ValueTypeInt || v.Type() == pcommon.ValueTypeDouble ||
				v.Type() == pcommon.ValueTypeStr && v.Str() != "") {
				wantCost = true
				if !c.HasReportedCost || c.ReportedCost.Type() != v.Type() || c.ReportedCost.AsString() != v.AsString() {
					t.Errorf("reported cost %v (%v), attribute %s says %s", c.ReportedCost.AsRaw(), c.HasReportedCost, k, v.AsString())
				}
				break
			}
		}
		if c.HasReportedCost != wantCost {
			t.Errorf("HasReportedCost %v, want %v", c.HasReportedCost, wantCost)
		}
		wantFailed := failed || c.HTTPStatus >= 400 || c.ErrorType != ""
		if c.Failed != wantFailed || c.Failed != (c.ErrorClass != "") {
			t.Errorf("failed %v (class %q), want %v", c.Failed, c.ErrorClass, wantFailed)
		}
	})
}

// expectCount is the count rule spelled out independently: the first of
// keys present decides; an int, a finite double (truncated) or decimal
// integer text (spaces trimmed) in [0, MaxCount] is the count, anything
// else 0.
func expectCount(attrs pcommon.Map, keys []string) int64 {
	for _, k := range keys {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeInt:
			if v.Int() < 0 || v.Int() > apicall.MaxCount {
				return 0
			}
			return v.Int()
		case pcommon.ValueTypeDouble:
			f := v.Double()
			if math.IsNaN(f) || f < 0 || f > apicall.MaxCount {
				return 0
			}
			return int64(f)
		case pcommon.ValueTypeStr:
			n, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64)
			if err != nil || n < 0 || n > apicall.MaxCount {
				return 0
			}
			return n
		}
		return 0
	}
	return 0
}

func sameCall(a, b apicall.Call) bool {
	av, bv := a.ReportedCost, b.ReportedCost
	a.ReportedCost, b.ReportedCost = pcommon.Value{}, pcommon.Value{}
	if a != b {
		return false
	}
	if a.HasReportedCost {
		return av.Type() == bv.Type() && av.AsString() == bv.AsString()
	}
	return true
}
