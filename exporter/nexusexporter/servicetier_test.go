package nexusexporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestExportStoresTierAndMediaTokens: the served service tier lands in
// service_tier (the asked one when none was served, bounded), and audio and
// image tokens in usage_units under the catalog's unit names.
func TestExportStoresTierAndMediaTokens(t *testing.T) {
	s, h := storetest.Start(t, "exp_tier")
	exp := newExporter(t, h, nil)
	base := recent().Add(987654321)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	add := func(i int, set func(pcommon.Map)) {
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID([16]byte{9, byte(i)}))
		sp.SetSpanID(pcommon.SpanID([8]byte{9, byte(i)}))
		start := base.Add(time.Duration(i) * time.Millisecond)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
		a := sp.Attributes()
		a.PutStr(semconv.AttrProviderName, "openai")
		a.PutStr(semconv.AttrOperationName, "chat")
		a.PutStr(semconv.AttrRequestModel, "gpt-4o-audio-preview")
		a.PutInt(semconv.AttrInputTokens, 100)
		a.PutInt(semconv.AttrOutputTokens, 50)
		set(a)
	}
	add(0, func(a pcommon.Map) {
		a.PutStr(semconv.AttrOpenAIRequestServiceTier, "auto")
		a.PutStr(semconv.AttrOpenAIResponseServiceTier, "flex")
		a.PutInt(semconv.AttrInputAudioTokens, 40)
		a.PutInt(semconv.AttrOutputAudioTokens, 30)
	})
	add(1, func(a pcommon.Map) {
		a.PutStr(semconv.AttrOpenAIRequestServiceTier, "batch")
		a.PutInt(semconv.AttrInputImageTokens, 7)
		a.PutInt(semconv.AttrOutputImageTokens, 8)
	})
	add(2, func(a pcommon.Map) { a.PutStr(semconv.AttrOpenAIResponseServiceTier, strings.Repeat("x", 1000)) })
	add(3, func(pcommon.Map) {})
	if err := exp.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupArray(concat(service_tier, '|', toString(mapSort(usage_units)))), ';') "+
		"FROM (SELECT * FROM exp_tier.api_calls ORDER BY timestamp)")
	want := "flex|{'input_audio_tokens':40,'output_audio_tokens':30};" +
		"batch|{'input_image_tokens':7,'output_image_tokens':8};" +
		strings.Repeat("x", 32) + "|{};" +
		"|{}"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
