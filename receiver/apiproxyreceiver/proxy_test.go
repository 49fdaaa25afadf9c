package apiproxyreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/semconv"
)

const (
	testKey = "sk-test-SECRET-key-0123456789"
	chatReq = `{"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini"}`
)

// hopByHop are headers a proxy may legitimately change.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// sameHeaders checks that the caller got every header the provider sent,
// with the same values, and none it did not send (Date aside).
func sameHeaders(t *testing.T, got, want http.Header) {
	t.Helper()
	for k, vs := range want {
		if hopByHop[k] {
			continue
		}
		if strings.Join(got[k], ",") != strings.Join(vs, ",") {
			t.Errorf("header %s: caller got %q, provider sent %q", k, got[k], vs)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && !hopByHop[k] && k != "Date" {
			t.Errorf("header %s added by the proxy: %q", k, got[k])
		}
	}
}

// noSecret fails when any attribute of any span holds secret.
func noSecret(t *testing.T, spans []spanOf, secret string) {
	t.Helper()
	for _, s := range spans {
		s.span.Attributes().Range(func(k string, v pcommon.Value) bool {
			if strings.Contains(v.AsString(), secret) {
				t.Errorf("span attribute %s carries a credential: %q", k, v.AsString())
			}
			return true
		})
		s.resource.Attributes().Range(func(k string, v pcommon.Value) bool {
			if strings.Contains(v.AsString(), secret) {
				t.Errorf("resource attribute %s carries a credential", k)
			}
			return true
		})
	}
}

func sdkClient(tp *testProxy, extra ...option.RequestOption) openai.Client {
	opts := append([]option.RequestOption{
		option.WithBaseURL(tp.url + "/openai/v1"), option.WithAPIKey(testKey), option.WithMaxRetries(0),
	}, extra...)
	return openai.NewClient(opts...)
}

func TestOpenAIChatThroughTheProxy(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })

	// Byte for byte: what a raw client gets is what the provider sent.
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq,
		http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"}, "X-Nexus-Service": {"checkout"}})
	if res.StatusCode != 200 || !bytes.Equal(body, up.sentBytes(0)) {
		t.Fatalf("status %d, body differs from the provider's:\n%s\n%s", res.StatusCode, body, up.sentBytes(0))
	}
	sameHeaders(t, res.Header, http.Header{
		"Content-Type": {"application/json"}, "X-Request-Id": {"req_123"}, "Openai-Processing-Ms": {"321"},
		"X-Ratelimit-Remaining-Requests": {"4999"}, "Content-Length": {res.Header.Get("Content-Length")},
	})
	got := up.request(0)
	if got.header.Get("Authorization") != "Bearer "+testKey || got.header.Get("X-Nexus-Service") != "" {
		t.Fatalf("provider got Authorization %q, X-Nexus-Service %q", got.header.Get("Authorization"), got.header.Get("X-Nexus-Service"))
	}
	if got.path != "/v1/chat/completions" || string(got.body) != chatReq {
		t.Fatalf("provider got %s %q", got.path, got.body)
	}

	// The official SDK parses it.
	client := sdkClient(tp)
	cc, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: openai.ChatModel("gpt-4o-mini"), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cc.Usage.PromptTokens != 1000 || cc.Choices[0].Message.Content != "Hello there" {
		t.Fatalf("SDK read %+v", cc.Usage)
	}

	spans := tp.waitSpans(t, 2)
	for i, s := range spans {
		if s.span.Kind() != ptrace.SpanKindClient || s.span.Name() != "chat gpt-4o-mini" {
			t.Fatalf("span %d: kind %v name %q", i, s.span.Kind(), s.span.Name())
		}
		for k, want := range map[string]string{
			"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
			"gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.response.id": "chatcmpl-abc123",
			"server.address": "127.0.0.1", "http.request.method": "POST", "nexus.proxy.usage": "parsed",
			"url.full": up.URL + "/v1/chat/completions", "nexus.cost.status": "computed",
		} {
			if got := s.str(k); got != want {
				t.Errorf("span %d: %s = %q, want %q", i, k, got, want)
			}
		}
		if s.int(t, "gen_ai.usage.input_tokens") != 1000 || s.int(t, "gen_ai.usage.output_tokens") != 500 ||
			s.int(t, "gen_ai.usage.cache_read.input_tokens") != 200 || s.int(t, "http.response.status_code") != 200 {
			t.Errorf("span %d: tokens %v", i, s.span.Attributes().AsRaw())
		}
		// 800 uncached × $0.15 + 200 cached × $0.075 + 500 × $0.60 per 1M.
		if c := s.int(t, semconv.AttrCostPicoUSD); c != 435_000_000 {
			t.Errorf("span %d: cost %d pico-USD, want 435000000", i, c)
		}
		if s.span.Status().Code() == ptrace.StatusCodeError {
			t.Errorf("span %d marked as an error", i)
		}
	}
	if spans[0].resource.Attributes().AsRaw()["service.name"] != "checkout" || spans[1].resource.Attributes().AsRaw()["service.name"] != "apiproxy" {
		t.Fatalf("service names %v / %v", spans[0].resource.Attributes().AsRaw(), spans[1].resource.Attributes().AsRaw())
	}
	noSecret(t, spans, testKey)
}

func TestOpenAIStreamThroughTheProxy(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	streamReq := `{"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`

	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", streamReq,
		http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"}})
	if !bytes.Equal(body, up.sentBytes(0)) || !bytes.Equal(body, []byte(strings.Join(openAIStream("gpt-4o-mini-2024-07-18"), ""))) {
		t.Fatalf("stream differs from the provider's:\n%s", body)
	}
	sameHeaders(t, res.Header, http.Header{"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-cache"}})

	client := sdkClient(tp)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: openai.ChatModel("gpt-4o-mini"), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Usage.PromptTokens != 1000 || acc.Usage.CompletionTokens != 500 || acc.Choices[0].Message.Content != "Hello there" {
		t.Fatalf("SDK accumulated usage %+v content %q", acc.Usage, acc.Choices[0].Message.Content)
	}

	for i, s := range tp.waitSpans(t, 2) {
		if s.int(t, "gen_ai.usage.input_tokens") != 1000 || s.int(t, "gen_ai.usage.output_tokens") != 500 ||
			s.int(t, "gen_ai.usage.cache_read.input_tokens") != 200 || s.int(t, "gen_ai.usage.reasoning.output_tokens") != 120 {
			t.Errorf("span %d: %v", i, s.span.Attributes().AsRaw())
		}
		if s.str("gen_ai.response.model") != "gpt-4o-mini-2024-07-18" || s.str(AttrStreamed) != "true" ||
			s.str(AttrUsage) != usageParsed || s.str("gen_ai.response.finish_reasons") != `["stop"]` {
			t.Errorf("span %d: %v", i, s.span.Attributes().AsRaw())
		}
		if c := s.int(t, semconv.AttrCostPicoUSD); c != 435_000_000 {
			t.Errorf("span %d: cost %d", i, c)
		}
	}
}

// TestStreamWithoutUsage: a stream without include_usage carries no usage;
// the span says so rather than pretending zero tokens.
func TestStreamWithoutUsage(t *testing.T) {
	events := openAIStream("gpt-4o-mini-2024-07-18")
	events = append(events[:4:4], events[5])
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveStream(w, events, 0) })
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true}`, nil)
	s := tp.span(t, 1)
	if s.str(AttrUsage) != usageNone || s.has("gen_ai.usage.input_tokens") || s.span.Status().Code() == ptrace.StatusCodeError {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestOpenRouterReportedCost(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); bytes.Contains(body, []byte(`"stream":true`)) {
			serveStream(w, openRouterStream(), 0)
			return
		}
		serveJSON(w, 200, openRouterChat)
	})
	tp := startProxy(t, func(c *Config) { c.Route("openrouter").Endpoint = up.URL + "/api/v1" })
	client := openai.NewClient(option.WithBaseURL(tp.url+"/openrouter/api/v1"), option.WithAPIKey("sk-or-v1-SECRET"), option.WithMaxRetries(0))
	cc, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "anthropic/claude-sonnet-4", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	if err != nil || cc.Usage.TotalTokens != 1500 {
		t.Fatalf("SDK: %v %+v", err, cc)
	}
	if up.request(0).path != "/api/v1/chat/completions" || up.request(0).header.Get("Authorization") != "Bearer sk-or-v1-SECRET" {
		t.Fatalf("provider got %s with %q", up.request(0).path, up.request(0).header.Get("Authorization"))
	}
	s := tp.span(t, 1)
	if s.str("gen_ai.provider.name") != "openrouter" || s.str(semconv.AttrReportedCost) != "0.00123" ||
		s.str(semconv.AttrCostStatus) != "reported" || s.int(t, semconv.AttrCostPicoUSD) != 1_230_000_000 ||
		s.int(t, semconv.AttrCacheWriteTok) != 50 || s.int(t, semconv.AttrCacheReadToken) != 100 {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	if v, _ := s.attr(semconv.AttrUsageCost); v.Double() != 0.00123 {
		t.Fatalf("gen_ai.usage.cost = %v", v.AsRaw())
	}

	// Streamed: the cost comes in the last chunk, after a processing comment.
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "openai/gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	s = tp.span(t, 2)
	if s.str(semconv.AttrReportedCost) != "0.0000081" || s.int(t, semconv.AttrCostPicoUSD) != 8_100_000 ||
		s.int(t, "gen_ai.usage.input_tokens") != 20 || s.str("gen_ai.response.model") != "openai/gpt-4o-mini" {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	noSecret(t, tp.waitSpans(t, 2), "sk-or-v1-SECRET")
}

func TestExaReportedCost(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, exaSearch) })
	tp := startProxy(t, func(c *Config) { c.Route("exa").Endpoint = up.URL })
	res, body := do(t, rawClient(), "POST", tp.url+"/exa/search", `{"query":"nexus","numResults":2}`,
		http.Header{"X-Api-Key": {"exa-SECRET"}, "Content-Type": {"application/json"}})
	if res.StatusCode != 200 || string(body) != exaSearch {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if got := up.request(0); got.path != "/search" || got.header.Get("X-Api-Key") != "exa-SECRET" {
		t.Fatalf("provider got %s %v", got.path, got.header)
	}
	s := tp.span(t, 1)
	if s.span.Name() != "POST" || s.has("gen_ai.provider.name") || s.str(semconv.AttrExaCost) != "0.005" ||
		s.int(t, semconv.AttrExaResults) != 2 || s.str(semconv.AttrCostStatus) != "reported" ||
		s.int(t, semconv.AttrCostPicoUSD) != 5_000_000_000 || s.str(semconv.AttrNexusOperation) != "search" {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	noSecret(t, tp.waitSpans(t, 1), "exa-SECRET")
}

func TestTwilioMessageWithoutPriceYet(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 201, twilioMessage) })
	tp := startProxy(t, func(c *Config) { c.Route("twilio").Endpoint = up.URL })
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("AC123:twilio-SECRET"))
	form := url.Values{"To": {"+15558675310"}, "From": {"+15005550006"}, "Body": {"Hello"}}.Encode()
	res, body := do(t, rawClient(), "POST", tp.url+"/twilio/2010-04-01/Accounts/AC123/Messages.json", form,
		http.Header{"Authorization": {basic}, "Content-Type": {"application/x-www-form-urlencoded"}})
	if res.StatusCode != 201 || string(body) != twilioMessage {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if got := up.request(0); got.header.Get("Authorization") != basic || string(got.body) != form {
		t.Fatalf("provider got %v %q", got.header, got.body)
	}
	s := tp.span(t, 1)
	// No price yet: none is made up. The cost processor prices the one
	// segment from its catalog, and says so.
	if s.has(semconv.AttrTwilioPrice) || s.has(semconv.AttrReportedCost) || s.int(t, semconv.AttrTwilioSegments) != 1 ||
		s.str(semconv.AttrNexusOperation) != "sms" || s.str(semconv.AttrCostStatus) != "computed" ||
		s.int(t, "http.response.status_code") != 201 {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	noSecret(t, tp.waitSpans(t, 1), "twilio-SECRET")
	noSecret(t, tp.waitSpans(t, 1), base64.StdEncoding.EncodeToString([]byte("AC123:twilio-SECRET")))
}

func TestTwilioPriceOnlyOnCreation(t *testing.T) {
	priced := strings.Replace(twilioMessage, `"price":null`, `"price":"-0.00790"`, 1)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, priced) })
	tp := startProxy(t, func(c *Config) { c.Route("twilio").Endpoint = up.URL })
	do(t, rawClient(), "POST", tp.url+"/twilio/2010-04-01/Accounts/AC123/Messages.json", "To=%2B1555", nil)
	do(t, rawClient(), "GET", tp.url+"/twilio/2010-04-01/Accounts/AC123/Messages/SM123.json", "", nil)
	spans := tp.waitSpans(t, 2)
	if spans[0].str(semconv.AttrTwilioPrice) != "-0.0079" || spans[0].str(semconv.AttrCostStatus) != "reported" {
		t.Fatalf("creation: %v", spans[0].span.Attributes().AsRaw())
	}
	if spans[1].has(semconv.AttrTwilioPrice) || spans[1].str(semconv.AttrNexusOperation) != "sms_status" {
		t.Fatalf("status fetch must not bill the message again: %v", spans[1].span.Attributes().AsRaw())
	}
}

func TestApolloCall(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, apolloMatch) })
	tp := startProxy(t, func(c *Config) { c.Route("apollo").Endpoint = up.URL + "/api/v1" })
	res, body := do(t, rawClient(), "POST", tp.url+"/apollo/api/v1/people/match?reveal_personal_emails=false",
		`{"email":"tim@apollo.io"}`, http.Header{"X-Api-Key": {"apollo-SECRET"}, "Content-Type": {"application/json"}})
	if res.StatusCode != 200 || string(body) != apolloMatch {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if got := up.request(0); got.path != "/api/v1/people/match" || got.query != "reveal_personal_emails=false" || got.header.Get("X-Api-Key") != "apollo-SECRET" {
		t.Fatalf("provider got %+v", got)
	}
	s := tp.span(t, 1)
	// One credit at the catalog's $0.20.
	if s.str(semconv.AttrNexusOperation) != "people/match" || s.int(t, semconv.AttrCostPicoUSD) != 200_000_000_000 ||
		s.str(semconv.AttrURLFull) != up.URL+"/api/v1/people/match?reveal_personal_emails=false" {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestCredentialsInQueryAreRedacted(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, apolloMatch) })
	tp := startProxy(t, func(c *Config) { c.Route("apollo").Endpoint = up.URL + "/api/v1" })
	do(t, rawClient(), "POST", tp.url+"/apollo/api/v1/people/match?api_key=apollo-SECRET&first_name=Tim", "{}", nil)
	if got := up.request(0).query; got != "api_key=apollo-SECRET&first_name=Tim" {
		t.Fatalf("provider got query %q", got)
	}
	s := tp.span(t, 1)
	if s.str(semconv.AttrURLFull) != up.URL+"/api/v1/people/match?api_key=REDACTED&first_name=Tim" {
		t.Fatalf("url.full %q", s.str(semconv.AttrURLFull))
	}
}

// TestCompressedResponse: the caller asked for gzip and gets the provider's
// gzip bytes; the proxy reads usage from a decompressed copy.
func TestCompressedResponse(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, openAIChat)
	_ = zw.Close()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q reached the provider", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz.Bytes())
	})
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, http.Header{"Accept-Encoding": {"gzip"}})
	if res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, gz.Bytes()) {
		t.Fatalf("caller got %q encoded body of %d bytes", res.Header.Get("Content-Encoding"), len(body))
	}
	s := tp.span(t, 1)
	if s.str(AttrUsage) != usageParsed || s.int(t, "gen_ai.usage.input_tokens") != 1000 {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestResponsesAPIStream(t *testing.T) {
	events := []string{
		"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"error\":null,\"model\":\"o3-2025-04-16\",\"usage\":null}}\n\n",
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n",
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"error\":null,\"model\":\"o3-2025-04-16\"," +
			"\"usage\":{\"input_tokens\":2000,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":3000,\"output_tokens_details\":{\"reasoning_tokens\":2500},\"total_tokens\":5000}}}\n\n",
	}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveStream(w, events, 0) })
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	do(t, rawClient(), "POST", tp.url+"/openai/v1/responses", `{"model":"o3","input":"Hi","stream":true}`, nil)
	s := tp.span(t, 1)
	// o3 at $2 / $8 per 1M: 2000 × 2 + 3000 × 8 = $0.028.
	if s.span.Status().Code() == ptrace.StatusCodeError || s.int(t, "gen_ai.usage.reasoning.output_tokens") != 2500 ||
		s.str("gen_ai.response.model") != "o3-2025-04-16" || s.int(t, semconv.AttrCostPicoUSD) != 28_000_000_000 {
		t.Fatalf("%v %v", s.span.Status().Message(), s.span.Attributes().AsRaw())
	}
}

func TestTraceparentJoinsCallerTrace(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq,
		http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	if up.request(0).header.Get("Traceparent") == "" {
		t.Fatal("traceparent not forwarded")
	}
	s := tp.span(t, 1)
	if s.span.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.span.ParentSpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("trace %s parent %s", s.span.TraceID(), s.span.ParentSpanID())
	}
}

func TestNoRoute(t *testing.T) {
	tp := startProxy(t, nil)
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/chat/completions", chatReq, nil)
	if res.StatusCode != 404 || res.Header.Get(headerProxyError) != codeNoRoute || !strings.Contains(string(body), "/openai/v1") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

// TestNoHeaderAdded: a response without Content-Type reaches the caller
// without one (net/http would otherwise sniff and add one).
func TestNoHeaderAdded(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		_, _ = io.WriteString(w, "<html>plain bytes</html>")
	})
	tp := startProxy(t, func(c *Config) { c.Route("apollo").Endpoint = up.URL + "/api/v1" })
	res, body := do(t, rawClient(), "GET", tp.url+"/apollo/api/v1/auth/health", "", nil)
	if _, ok := res.Header["Content-Type"]; ok || string(body) != "<html>plain bytes</html>" {
		t.Fatalf("headers %v body %q", res.Header, body)
	}
	if s := tp.span(t, 1); s.str(AttrUsage) != usageSkipped {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}
