package nexusexporter

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/attribution"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestExportStoresAttribution: the canonical attribution attributes the
// cost processor writes land in their columns; a span without them (no
// processor) stores empty dimensions; a value that bypassed the processor
// is cut to the ceiling, never stored whole.
func TestExportStoresAttribution(t *testing.T) {
	s, h := storetest.Start(t, "exp_attr")
	exp := newExporter(t, h, nil)
	td := calls(3, recent())
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	a := spans.At(0).Attributes()
	a.PutStr(semconv.AttrAttributionCustomer, "acme")
	a.PutStr(semconv.AttrAttributionUser, "u-42")
	a.PutStr(semconv.AttrAttributionTeam, "search")
	a.PutStr(semconv.AttrAttributionFeature, "autocomplete")
	tags := a.PutEmptyMap(semconv.AttrAttributionTags)
	tags.PutStr("env", "prod")
	tags.PutStr("project", "x1")
	// A sender writing the canonical name itself, bypassing the processor.
	spans.At(1).Attributes().PutStr(semconv.AttrAttributionCustomer, "evil\x00"+strings.Repeat("x", 1<<20))
	if err := exp.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupArray(concat(customer, '|', user, '|', team, '|', feature, '|', "+
		"toString(mapSort(tags)))), ';') FROM (SELECT * FROM exp_attr.api_calls WHERE length(customer) < 100 ORDER BY timestamp)")
	if want := "acme|u-42|search|autocomplete|{'env':'prod','project':'x1'};||||{}"; got != want {
		t.Fatalf("dimensions: %s\nwant        %s", got, want)
	}
	if got := storetest.Scalar(t, s, "SELECT toString(max(length(customer))) FROM exp_attr.api_calls"); got != "4096" {
		t.Fatalf("longest stored customer: %s bytes, want the ceiling %d", got, attribution.CeilingValueBytes)
	}
}

// TestTagsEncodeInAnyOrder: a call's tags read back as written, and the
// same tags make the same block token whatever order the map iterates in.
func TestTagsEncodeInAnyOrder(t *testing.T) {
	row1 := []row{{vals: []any{map[string]string{"a": "1", "b": "2", "c": ""}, map[string]string(nil)}}}
	var enc bytes.Buffer
	(&valueWriter{w: &enc}).rows(row1)
	r := valueReader{b: enc.Bytes()}
	got, err := r.rows()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := got[0][0].(map[string]string)
	if !ok || len(m) != 3 || m["a"] != "1" || m["b"] != "2" {
		t.Fatalf("read back %#v", got[0][0])
	}
	for range 20 {
		again := []row{{vals: []any{map[string]string{"c": "", "b": "2", "a": "1"}, map[string]string(nil)}}}
		if blockToken("p", &apiCalls, row1) != blockToken("p", &apiCalls, again) {
			t.Fatal("the same tags hashed to two tokens")
		}
	}
}
