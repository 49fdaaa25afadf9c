package costprocessor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/nexus-otel/nexus/internal/configtest"
	"github.com/nexus-otel/nexus/internal/semconv"
)

var openAICall = map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 5}

func callWith(extra map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range openAICall {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// dims reads the canonical attribution attributes of the last span out.
func dims(sink *consumertest.TracesSink) string {
	a := outAttrs(sink)
	get := func(k string) string {
		if v, ok := a.Get(k); ok {
			return v.AsString()
		}
		return "-"
	}
	return fmt.Sprintf("customer=%s user=%s team=%s feature=%s tags=%s", get(semconv.AttrAttributionCustomer),
		get(semconv.AttrAttributionUser), get(semconv.AttrAttributionTeam), get(semconv.AttrAttributionFeature),
		get(semconv.AttrAttributionTags))
}

// TestAttributionDefaults: each dimension comes from the first of its
// default keys that has a value, on the span before the resource; tags
// from nexus.tag.*, the span's winning over the resource's.
func TestAttributionDefaults(t *testing.T) {
	p, sink := newTracesProcessor(t, nil)
	for _, tc := range []struct {
		name     string
		span     map[string]any
		resource map[string]any
		want     string
	}{
		{"none", nil, nil, "customer=- user=- team=- feature=- tags=-"},
		{"nexus names", map[string]any{"nexus.customer": "acme", "nexus.user": "u1", "nexus.team": "search", "nexus.feature": "chat"}, nil,
			"customer=acme user=u1 team=search feature=chat tags=-"},
		{"key order", map[string]any{"app.customer.id": "third", "customer.id": "second", "user.id": "u-old", "enduser.id": "u-new"}, nil,
			"customer=second user=u-new team=- feature=- tags=-"},
		{"span before resource", map[string]any{"customer.id": "from-span"},
			map[string]any{"nexus.customer": "from-resource", "team": "platform", "nexus.tag.env": "prod", "nexus.tag.region": "eu"},
			`customer=from-span user=- team=platform feature=- tags={"env":"prod","region":"eu"}`},
		{"span tag wins", map[string]any{"nexus.tag.env": "staging", "nexus.tag.": "nameless"}, map[string]any{"nexus.tag.env": "prod"},
			`customer=- user=- team=- feature=- tags={"env":"staging"}`},
		{"non-string and empty", map[string]any{"nexus.customer": "", "customer.id": 4711, "feature": true}, nil,
			"customer=4711 user=- team=- feature=true tags=-"},
	} {
		td := spanWith(callWith(tc.span), time.Second)
		_ = td.ResourceSpans().At(0).Resource().Attributes().FromRaw(tc.resource)
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		if got := dims(sink); got != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestAttributionStaleValuesGo: a span processed twice (two pipelines)
// whose source changed keeps no stale canonical value.
func TestAttributionStaleValuesGo(t *testing.T) {
	p, sink := newTracesProcessor(t, nil)
	td := spanWith(callWith(map[string]any{"nexus.customer": "acme", "nexus.tag.env": "prod"}), time.Second)
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	a := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	a.Remove("nexus.customer")
	a.Remove("nexus.tag.env")
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if got := dims(sink); got != "customer=- user=- team=- feature=- tags=-" {
		t.Fatalf("after the sources went: %s", got)
	}
}

func TestAttributionConfig(t *testing.T) {
	cfg, err := configtest.Load[*Config](t, NewFactory(), "attribution")
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Attribution
	if strings.Join(a.Customer, ",") != "tenant.customer,customer.id" || strings.Join(a.User, ",") != "enduser.id" ||
		len(a.Team) != 0 || strings.Join(a.Feature, ",") != "nexus.feature,feature" || a.MaxValueBytes != 64 ||
		a.MaxTagNameBytes != 64 || a.MaxTags != 4 || strings.Join(a.TagPrefixes, ",") != "nexus.tag.,label." {
		t.Fatalf("attribution config: %+v", a)
	}
	p, sink := newTracesProcessor(t, cfg)
	td := spanWith(callWith(map[string]any{"nexus.customer": "ignored", "customer.id": "c9", "nexus.team": "ignored", "label.app": "web"}), time.Second)
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if got := dims(sink); got != `customer=c9 user=- team=- feature=- tags={"app":"web"}` {
		t.Fatalf("custom keys: %s", got)
	}

	_, err = configtest.Load[*Config](t, NewFactory(), "bad_attribution")
	for _, want := range []string{"attribution.customer[0]: empty attribute key", "attribution.tag_prefixes[0]: empty prefix",
		"attribution.max_value_bytes: 0 is outside 1..4096", "attribution.max_tags: 100000 is outside 1..128"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad_attribution: error %v does not say %q", err, want)
		}
	}
}

// TestHostileAttribution: megabyte values, control characters, invalid
// UTF-8, long tag names and too many tags are cut and cleaned, never
// passed on whole, and each is counted by dimension.
func TestHostileAttribution(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	f := NewFactory()
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), set, f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	mb := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	extra := map[string]any{
		"nexus.customer":                         mb,
		"nexus.user":                             "bob\x00\r\n\x1b[2J",
		"nexus.team":                             "ok",
		"nexus.feature":                          "f\xff\xfe",
		"nexus.tag." + strings.Repeat("n", 1000): "v",
		"nexus.tag.big":                          mb,
	}
	for i := range 30 {
		extra[fmt.Sprintf("nexus.tag.t%02d", i)] = "x"
	}
	if err := p.ConsumeTraces(context.Background(), spanWith(callWith(extra), time.Second)); err != nil {
		t.Fatal(err)
	}
	a := outAttrs(sink)
	customer, _ := a.Get(semconv.AttrAttributionCustomer)
	if s := customer.Str(); len(s) != 256 || !utf8.ValidString(s) {
		t.Errorf("customer: %d bytes, valid UTF-8 %v; want 256, true", len(s), utf8.ValidString(s))
	}
	if user, _ := a.Get(semconv.AttrAttributionUser); user.Str() != "bob[2J" {
		t.Errorf("user = %q, want control characters removed", user.Str())
	}
	if feature, _ := a.Get(semconv.AttrAttributionFeature); feature.Str() != "f" {
		t.Errorf("feature = %q, want invalid bytes removed", feature.Str())
	}
	tags, _ := a.Get(semconv.AttrAttributionTags)
	if n := tags.Map().Len(); n != 16 {
		t.Errorf("%d tags kept, want 16", n)
	}
	for name, v := range tags.Map().All() {
		if len(name) > 64 || len(v.Str()) > 256 {
			t.Errorf("tag %d bytes = %d bytes kept", len(name), len(v.Str()))
		}
	}

	m, err := tel.GetMetric("nexus.cost.attribution.truncated")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		d, _ := dp.Attributes.Value("dimension")
		got[d.AsString()] = dp.Value
	}
	want := map[string]int64{"customer": 1, "user": 1, "feature": 1, "tag_name": 1, "tag_value": 1, "tags": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("nexus.cost.attribution.truncated = %v, want %v", got, want)
	}
}

// TestAttributionOnLogs: a call reported as a log record is attributed
// from the record's and its resource's attributes alike.
func TestAttributionOnLogs(t *testing.T) {
	f := NewFactory()
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	ld := logWith(1)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("enduser.id", "u7")
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("nexus.customer", "acme")
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	a := lastLog(sink)
	c, _ := a.Get(semconv.AttrAttributionCustomer)
	u, _ := a.Get(semconv.AttrAttributionUser)
	if c.Str() != "acme" || u.Str() != "u7" {
		t.Fatalf("log record attributed to customer %q user %q", c.Str(), u.Str())
	}
}
