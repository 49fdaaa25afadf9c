package apiproxyreceiver

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// proxied runs a call through what the proxy does after the response: read
// the bodies, build the span, and read the call back from it as the cost
// processor does.
func proxied(t *testing.T, path string, media int, request, body string) (result, apicall.Call) {
	t.Helper()
	c := &call{
		rt: fuzzRoute(providers.OpenAI), start: time.Unix(1764000000, 0), end: time.Unix(1764000001, 0),
		method: "POST", scheme: "https", host: "api.example", path: path, status: 200, media: media,
		req: &reqBody{capture: capture{max: 1 << 20}},
	}
	c.streamed = media == mediaSSE
	c.req.capture.write([]byte(request))
	c.resp.max, c.sse.maxEvent = 1<<20, 256<<10
	feed(c, []byte(body), len(body), true)
	res := extract(c, 1<<20)
	span := ptrace.NewSpan()
	buildSpan(span, c, &res)
	got, ok := apicall.FromSpan(span)
	if !ok {
		t.Fatal("the span is no call")
	}
	return res, got
}

func priceAt(t *testing.T, c *apicall.Call) pricing.Result {
	t.Helper()
	cat, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	return apicall.PriceUsage(cat, c, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
}

func TestProxyReadsAudioTokensAndTier(t *testing.T) {
	_, c := proxied(t, "/v1/chat/completions", mediaJSON, `{"model":"gpt-4o-audio-preview","service_tier":"auto"}`,
		`{"id":"chatcmpl-1","model":"gpt-4o-audio-preview-2024-12-17","service_tier":"default","usage":{"prompt_tokens":1234,`+
			`"completion_tokens":567,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":987},`+
			`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":321}}}`)
	if c.InputTokens != 1234 || c.InputAudioTokens != 987 || c.OutputTokens != 567 || c.OutputAudioTokens != 321 || c.ServiceTier != "default" {
		t.Fatalf("read %+v", c)
	}
	// 247 × 2.50 + 987 × 40 + 246 × 10 + 321 × 80 = 68237.5 per 1M.
	if r := priceAt(t, &c); r.Status != pricing.Computed || r.Cost.String() != "0.0682375" {
		t.Fatalf("priced %s %s (%s)", r.Status, r.Cost, r.Detail())
	}
}

func TestProxyReadsServedTier(t *testing.T) {
	// Responses API at flex: o3 8000 × 2 + 2000 × 0.50 + 3000 × 8 = 41000
	// per 1M, halved.
	_, c := proxied(t, "/v1/responses", mediaJSON, `{"model":"o3","service_tier":"flex"}`,
		`{"id":"resp_1","object":"response","model":"o3-2025-04-16","service_tier":"flex","usage":{"input_tokens":10000,`+
			`"input_tokens_details":{"cached_tokens":2000},"output_tokens":3000,"output_tokens_details":{"reasoning_tokens":1000}}}`)
	if c.ServiceTier != "flex" {
		t.Fatalf("tier %q", c.ServiceTier)
	}
	if r := priceAt(t, &c); r.Status != pricing.Computed || r.Cost.String() != "0.0205" {
		t.Fatalf("priced %s %s (%s)", r.Status, r.Cost, r.Detail())
	}

	// A stream states the tier on its chunks; the served one wins over
	// the asked one.
	stream := "data: {\"id\":\"c\",\"model\":\"o3\",\"service_tier\":\"priority\",\"choices\":[{\"delta\":{}}]}\n\n" +
		"data: {\"id\":\"c\",\"model\":\"o3\",\"service_tier\":\"priority\",\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"c\",\"model\":\"o3\",\"service_tier\":\"priority\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2}}\n\n" +
		"data: [DONE]\n\n"
	_, c = proxied(t, "/v1/chat/completions", mediaSSE, `{"model":"o3","stream":true,"service_tier":"auto"}`, stream)
	if c.ServiceTier != "priority" || c.InputTokens != 10 {
		t.Fatalf("stream read %+v", c)
	}
	if r := priceAt(t, &c); r.Status != pricing.Unpriced || r.Reason != pricing.ReasonUnknownTier {
		t.Fatalf("priority priced %s %s", r.Status, r.Cost)
	}

	// No tier in the answer: the asked one stands.
	_, c = proxied(t, "/v1/chat/completions", mediaJSON, `{"model":"o3","service_tier":"flex"}`,
		`{"model":"o3","usage":{"prompt_tokens":10,"completion_tokens":2}}`)
	if c.ServiceTier != "flex" {
		t.Fatalf("asked tier %q", c.ServiceTier)
	}
}

func TestProxyReadsImageTokens(t *testing.T) {
	// The images API: text and image input, and output tokens that are
	// all images unless the answer splits them.
	res, _ := proxied(t, "/v1/images/generations", mediaJSON, `{"model":"gpt-image-1","prompt":"a cat"}`,
		`{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":250,"input_tokens_details":{"text_tokens":50,"image_tokens":200},`+
			`"output_tokens":4160,"total_tokens":4410}}`)
	if res.input != 250 || res.imageIn != 200 || res.output != 4160 || res.imageOut != 4160 {
		t.Fatalf("images: %+v", res)
	}
	res, _ = proxied(t, "/v1/images/edits?x=1", mediaJSON, `{}`,
		`{"usage":{"input_tokens":10,"output_tokens":100,"output_tokens_details":{"text_tokens":20,"image_tokens":80}}}`)
	if res.imageOut != 80 {
		t.Fatalf("split output: %+v", res)
	}
	// Elsewhere output tokens are text unless stated.
	res, _ = proxied(t, "/v1/responses", mediaJSON, `{}`,
		`{"usage":{"input_tokens":10,"input_tokens_details":{"image_tokens":4},"output_tokens":100}}`)
	if res.imageIn != 4 || res.imageOut != 0 {
		t.Fatalf("responses: %+v", res)
	}
}

// TestProxyDetailsHostile: negative counts read as none, a long tier is
// cut, and a call without details gets no detail attributes.
func TestProxyDetailsHostile(t *testing.T) {
	long := strings.Repeat("f", 10_000)
	_, c := proxied(t, "/v1/chat/completions", mediaJSON, `{"model":"gpt-4o","service_tier":"`+long+`"}`,
		`{"model":"gpt-4o","service_tier":"`+long+`","usage":{"prompt_tokens":10,"completion_tokens":2,`+
			`"prompt_tokens_details":{"audio_tokens":-5},"completion_tokens_details":{"audio_tokens":-1}}}`)
	if c.InputAudioTokens != 0 || c.OutputAudioTokens != 0 || c.ServiceTier != long[:apicall.MaxServiceTierBytes] {
		t.Fatalf("hostile read %+v", c)
	}
	res, _ := proxied(t, "/v1/chat/completions", mediaJSON, `{"model":"gpt-4o"}`,
		`{"model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":2}}`)
	span := ptrace.NewSpan()
	putMediaTokens(span.Attributes(), &res)
	if res.tier != "" || res.requestTier != "" {
		t.Errorf("tiers read from nothing: %q %q", res.tier, res.requestTier)
	}
	for _, k := range []string{semconv.AttrInputAudioTokens, semconv.AttrOpenAIResponseServiceTier, semconv.AttrOpenAIRequestServiceTier} {
		if _, ok := span.Attributes().Get(k); ok {
			t.Errorf("%s written", k)
		}
	}
}
