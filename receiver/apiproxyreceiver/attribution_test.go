package apiproxyreceiver

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// TestAttributionHeadersLandOnTheSpan: the attribution headers become the
// span's source attributes (and, through the cost processor, its canonical
// ones); none of them reaches the provider, credentials still do.
func TestAttributionHeadersLandOnTheSpan(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, http.Header{
		"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"},
		"X-Nexus-Customer": {"acme"}, "X-Nexus-User": {"u-42"}, "X-Nexus-Team": {"search"}, "X-Nexus-Feature": {"autocomplete"},
		"X-Nexus-Tag-Env": {"prod"}, "x-nexus-tag-cost-center": {"cc-7"}, "X-Nexus-Tag-": {"nameless"},
	})
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	got := up.request(0)
	if got.header.Get("Authorization") != "Bearer "+testKey {
		t.Fatalf("credentials not forwarded: %v", got.header)
	}
	for k := range got.header {
		if strings.HasPrefix(strings.ToLower(k), "x-nexus-") {
			t.Errorf("provider got %s: %q", k, got.header[k])
		}
	}
	s := tp.span(t, 1)
	for k, want := range map[string]string{
		semconv.AttrCustomer: "acme", semconv.AttrUser: "u-42", semconv.AttrTeam: "search", semconv.AttrFeature: "autocomplete",
		"nexus.tag.env": "prod", "nexus.tag.cost-center": "cc-7",
		semconv.AttrAttributionCustomer: "acme", semconv.AttrAttributionUser: "u-42",
		semconv.AttrAttributionTeam: "search", semconv.AttrAttributionFeature: "autocomplete",
		semconv.AttrAttributionTags: `{"cost-center":"cc-7","env":"prod"}`,
	} {
		if v := s.str(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if s.has("nexus.tag.") {
		t.Error("a tag header without a name became a tag")
	}
}

// TestAttributionHeadersConfigurable: renamed headers are read and
// removed; a header turned off is forwarded untouched and read by no one.
func TestAttributionHeadersConfigurable(t *testing.T) {
	cfg, err := loadConfig(t, "attribution_headers")
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.AttributionHeaders
	if h.Customer != "X-Tenant-Customer" || h.User != "" || h.Team != "X-Nexus-Team" || h.TagPrefix != "X-Label-" {
		t.Fatalf("attribution_headers: %+v", h)
	}
	if _, err := loadConfig(t, "bad_attribution_header"); err == nil || !strings.Contains(err.Error(), `attribution_headers.team: "X Team" is not a valid header name`) {
		t.Fatalf("bad header name: %v", err)
	}

	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.AttributionHeaders = h
	})
	do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, http.Header{
		"Authorization": {"Bearer " + testKey}, "X-Tenant-Customer": {"globex"}, "X-Nexus-User": {"u-1"},
		"X-Label-Env": {"dev"}, "X-Nexus-Tag-Env": {"prod"},
	})
	got := up.request(0).header
	if got.Get("X-Tenant-Customer") != "" || got.Get("X-Label-Env") != "" {
		t.Errorf("configured headers forwarded: %v", got)
	}
	if got.Get("X-Nexus-User") != "u-1" || got.Get("X-Nexus-Tag-Env") != "prod" {
		t.Errorf("headers that are turned off or not configured were not forwarded: %v", got)
	}
	s := tp.span(t, 1)
	if s.str(semconv.AttrCustomer) != "globex" || s.has(semconv.AttrUser) || s.str("nexus.tag.env") != "dev" {
		t.Errorf("span attributes %v", s.span.Attributes().AsRaw())
	}
}

// TestHostileAttributionHeaders: a 512 KiB header value, invalid UTF-8 and
// hundreds of tag headers are bounded before they reach the span, and the
// cost processor cuts them to its limits.
func TestHostileAttributionHeaders(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	header := http.Header{"Authorization": {"Bearer " + testKey},
		"X-Nexus-Customer": {strings.Repeat("c", 512<<10)}, "X-Nexus-User": {"bob\xff\xfe\tx"}}
	for i := range 300 {
		header.Set("X-Nexus-Tag-T"+strings.Repeat("a", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26)), "v")
	}
	res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, header)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for k := range up.request(0).header {
		if strings.HasPrefix(strings.ToLower(k), "x-nexus-") {
			t.Fatalf("provider got %s", k)
		}
	}
	s := tp.span(t, 1)
	if n := len(s.str(semconv.AttrCustomer)); n > 4096 {
		t.Errorf("span carries a %d-byte customer", n)
	}
	if c := s.str(semconv.AttrAttributionCustomer); len(c) != 256 {
		t.Errorf("stored customer is %d bytes, want 256", len(c))
	}
	if u := s.str(semconv.AttrAttributionUser); u != "bobx" || !utf8.ValidString(s.str(semconv.AttrUser)) {
		t.Errorf("user = %q (source %q)", u, s.str(semconv.AttrUser))
	}
	tags := 0
	for k := range s.span.Attributes().All() {
		if strings.HasPrefix(k, semconv.AttrTagPrefix) {
			tags++
		}
	}
	if tags > 128 {
		t.Errorf("%d tag attributes on the span", tags)
	}
	if v, _ := s.attr(semconv.AttrAttributionTags); v.Map().Len() != 16 {
		t.Errorf("%d tags after the cost processor, want 16", v.Map().Len())
	}
}
