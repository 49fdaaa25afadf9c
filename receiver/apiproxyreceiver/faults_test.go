package apiproxyreceiver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// proxyErrorBody reads the JSON error the proxy answers with.
func proxyErrorBody(t *testing.T, body []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code, Message, Type string
		}
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Type != "apiproxy_error" {
		t.Fatalf("not a proxy error body (%v): %s", err, body)
	}
	return e.Error.Code, e.Error.Message
}

// classOf is the error class the cost processor and the exporter read.
func classOf(t *testing.T, s spanOf) string {
	t.Helper()
	call, ok := apicall.FromSpan(s.span)
	if !ok {
		t.Fatalf("span is not a call: %v", s.span.Attributes().AsRaw())
	}
	return call.ErrorClass
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestUpstreamDown(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = "http://" + closedPort(t) + "/v1" }, withLogger(zap.New(core)))
	start := time.Now()
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq,
		http.Header{"Authorization": {"Bearer " + testKey}})
	if res.StatusCode != 502 || res.Header.Get("Content-Type") != "application/json" || time.Since(start) > 2*time.Second {
		t.Fatalf("status %d after %s", res.StatusCode, time.Since(start))
	}
	if code, msg := proxyErrorBody(t, body); code != codeUnreachable || !strings.Contains(msg, "connection_refused") {
		t.Fatalf("%s: %s", code, msg)
	}
	s := tp.span(t, 1)
	if s.span.Status().Code() != ptrace.StatusCodeError || s.str("error.type") != "connection_refused" ||
		s.has("http.response.status_code") || s.str(AttrUsage) != usageIncomplete {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	if c := classOf(t, s); c != provider.ClassNetwork {
		t.Fatalf("class %q", c)
	}
	if logs.FilterMessage("upstream call failed").Len() != 1 {
		t.Fatalf("logs: %v", logs.All())
	}
	assertNoSecretLogged(t, logs, testKey)
}

func TestSlowUpstreamTimesOut(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			return
		}
		serveJSON(w, 200, openAIChat)
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("openai").ResponseHeaderTimeout = 200 * time.Millisecond
	})
	start := time.Now()
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	if took := time.Since(start); res.StatusCode != 504 || took > 2*time.Second {
		t.Fatalf("status %d after %s", res.StatusCode, took)
	}
	if code, _ := proxyErrorBody(t, body); code != codeUpstreamTimeout {
		t.Fatalf("code %s", code)
	}
	s := tp.span(t, 1)
	if s.str("error.type") != "timeout" || classOf(t, s) != provider.ClassTimeout {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

// TestLongStreamIsNotCut: a stream that lasts longer than both timeouts
// but never goes silent for idle_timeout runs to its end.
func TestLongStreamIsNotCut(t *testing.T) {
	events := openAIStream("gpt-4o-mini-2024-07-18")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveStream(w, events, 150*time.Millisecond) })
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("openai").ResponseHeaderTimeout = 300 * time.Millisecond
		c.Route("openai").IdleTimeout = 400 * time.Millisecond
	})
	start := time.Now()
	_, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	if took := time.Since(start); took < 700*time.Millisecond || string(body) != strings.Join(events, "") {
		t.Fatalf("took %s, body %q", took, body)
	}
	if s := tp.span(t, 1); s.span.Status().Code() == ptrace.StatusCodeError || s.str(AttrUsage) != usageParsed {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

// TestEachChunkArrivesUnbuffered: the caller reads each event while the
// provider still holds back the next.
func TestEachChunkArrivesUnbuffered(t *testing.T) {
	release := make(chan struct{})
	events := openAIStream("gpt-4o-mini-2024-07-18")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, events[:1], 0)
		<-release
		for _, ev := range events[1:] {
			_, _ = io.WriteString(w, ev)
		}
	})
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	res, err := rawClient().Post(tp.url+"/openai/v1/chat/completions", "application/json", strings.NewReader(chatReq))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, len(events[0]))
	got := make(chan error, 1)
	go func() { _, err := io.ReadFull(res.Body, first); got <- err }()
	select {
	case err := <-got:
		close(release)
		if err != nil || string(first) != events[0] {
			t.Fatalf("%v %q", err, first)
		}
	case <-time.After(3 * time.Second):
		close(release)
		t.Fatal("first event held back by the proxy")
	}
	rest, _ := io.ReadAll(res.Body)
	if string(first)+string(rest) != strings.Join(events, "") {
		t.Fatal("stream differs")
	}
}

func TestStalledStreamIsCut(t *testing.T) {
	events := openAIStream("gpt-4o-mini-2024-07-18")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, events[:2], 0)
		<-r.Context().Done()
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("openai").IdleTimeout = 300 * time.Millisecond
	})
	res, err := rawClient().Post(tp.url+"/openai/v1/chat/completions", "application/json", strings.NewReader(chatReq))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil || string(body) != strings.Join(events[:2], "") {
		t.Fatalf("caller did not see the cut: %v, %q", err, body)
	}
	s := tp.span(t, 1)
	if s.str("error.type") != "timeout" || s.int(t, "http.response.status_code") != 200 || s.str(AttrUsage) != usageIncomplete ||
		s.str("gen_ai.response.model") != "gpt-4o-mini-2024-07-18" {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestUpstreamResetMidStream(t *testing.T) {
	events := openAIStream("gpt-4o-mini-2024-07-18")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, events[:3], 0)
		panic(http.ErrAbortHandler) // closes the connection mid-body
	})
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	client := sdkClient(tp)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: openai.ChatModel("gpt-4o-mini"), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	})
	n := 0
	for stream.Next() {
		n++
	}
	if stream.Err() == nil || n != 3 {
		t.Fatalf("SDK read %d chunks and err %v: the cut was hidden", n, stream.Err())
	}
	s := tp.span(t, 1)
	if s.span.Status().Code() != ptrace.StatusCodeError || s.str(AttrUsage) != usageIncomplete ||
		!strings.HasPrefix(s.str("error.type"), "connection_") {
		// Which word the cut gets depends on where the transport noticed
		// the close (EOF, reset, or its own "connection broken"), which
		// varies with scheduling; what matters is that it is a failed
		// connection, not a clean end.
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: {\"id\":\"c\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"delta\":{\"content\":\"%d\"}}]}\n\n", i); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				close(cancelled)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("openai").CircuitBreaker.GetOrInsertDefault().ConsecutiveFailures = 1
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", tp.url+"/openai/v1/chat/completions", strings.NewReader(chatReq))
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	res.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(3 * time.Second):
		t.Fatal("the provider's request was not cancelled when the caller left")
	}
	s := tp.span(t, 1)
	if s.str(AttrClientCancelled) != "true" || s.span.Status().Code() == ptrace.StatusCodeError || s.str(AttrUsage) != usageIncomplete {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	// A caller leaving says nothing about the provider: the breaker
	// (tripping at one failure) stays closed.
	if st := tp.rcv.proxy.routes[0].breaker.State(); st.String() != "closed" {
		t.Fatalf("breaker %s", st)
	}
}

func TestRequestBodyTooLarge(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.MaxRequestBodySize = 1024
	})
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 4096) + `"}]}`
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", big, nil)
	if res.StatusCode != 413 || up.count() != 0 {
		t.Fatalf("status %d, provider saw %d calls", res.StatusCode, up.count())
	}
	if code, _ := proxyErrorBody(t, body); code != codeTooLarge {
		t.Fatal(code)
	}
	// Without Content-Length the limit is enforced as the body streams.
	req, _ := http.NewRequest("POST", tp.url+"/openai/v1/chat/completions", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked: status %d %s", res.StatusCode, body)
	}
	// A body at the limit passes.
	small := `{"model":"gpt-4o-mini"}`
	if res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", small, nil); res.StatusCode != 200 {
		t.Fatalf("small body: %d", res.StatusCode)
	}
	// Refused calls are not calls: one span, for the one that went.
	time.Sleep(50 * time.Millisecond)
	if n := len(tp.waitSpans(t, 1)); n != 1 {
		t.Fatalf("%d spans", n)
	}
}

// TestLargeResponse: a body larger than max_parsed_body_size is forwarded
// whole; its usage is read from the kept tail.
func TestLargeResponse(t *testing.T) {
	var results []string
	for i := 0; len(strings.Join(results, ",")) < 3<<20; i++ {
		results = append(results, fmt.Sprintf(`{"id":"https://e%d.example","title":"%s","text":"%s"}`, i, strings.Repeat("t", 50), strings.Repeat("body ", 400)))
	}
	big := `{"requestId":"r1","results":[` + strings.Join(results, ",") + `],"costDollars":{"total":0.012,"breakDown":[]}}`
	noUsage := `{"requestId":"r2","results":[` + strings.Join(results, ",") + `]}`
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/contents" {
			serveJSON(w, 200, big)
			return
		}
		serveJSON(w, 200, noUsage)
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("exa").Endpoint = up.URL
		c.MaxParsedBodySize = 64 << 10
	})
	_, body := do(t, rawClient(), "POST", tp.url+"/exa/contents", `{"ids":["a"]}`, nil)
	if string(body) != big {
		t.Fatalf("body of %d bytes, want %d", len(body), len(big))
	}
	do(t, rawClient(), "POST", tp.url+"/exa/search", `{"query":"q"}`, nil)
	spans := tp.waitSpans(t, 2)
	if s := spans[0]; s.str(semconv.AttrExaCost) != "0.012" || s.str(AttrUsage) != usageParsed || s.int(t, semconv.AttrCostPicoUSD) != 12_000_000_000 {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	if s := spans[1]; s.str(AttrUsage) != usageTruncated || s.has(semconv.AttrExaCost) {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestMalformedJSONForwardedAsIs(t *testing.T) {
	bad := `{"id":"chatcmpl-1","model":"gpt-4o-mini","usage":{"prompt_tokens":12,`
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, bad) })
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	if res.StatusCode != 200 || string(body) != bad {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	s := tp.span(t, 1)
	if s.str(AttrUsage) != usageMalformed || s.has("gen_ai.usage.input_tokens") || s.span.Status().Code() == ptrace.StatusCodeError {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
	// Malformed events in a stream too.
	up2 := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, []string{"data: {not json\n\n", "data: [DONE]\n\n"}, 0)
	})
	tp2 := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up2.URL + "/v1" })
	do(t, rawClient(), "POST", tp2.url+"/openai/v1/chat/completions", chatReq, nil)
	if s := tp2.span(t, 1); s.str(AttrUsage) != usageMalformed {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestOpenRouterErrorInsideStream(t *testing.T) {
	events := []string{
		": OPENROUTER PROCESSING\n\n",
		`data: {"id":"gen-e","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}` + "\n\n",
		`data: {"id":"gen-e","object":"chat.completion.chunk","created":1,"model":"openai/gpt-4o","provider":"openai","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}` + "\n\n",
	}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { serveStream(w, events, 0) })
	tp := startProxy(t, func(c *Config) { c.Route("openrouter").Endpoint = up.URL + "/api/v1" })
	res, body := do(t, rawClient(), "POST", tp.url+"/openrouter/api/v1/chat/completions", `{"model":"openai/gpt-4o","stream":true}`, nil)
	if res.StatusCode != 200 || string(body) != strings.Join(events, "") {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	s := tp.span(t, 1)
	if s.span.Status().Code() != ptrace.StatusCodeError || s.str("error.type") != "server_error" ||
		s.int(t, "http.response.status_code") != 200 || classOf(t, s) == provider.ClassNone {
		t.Fatalf("%v", s.span.Attributes().AsRaw())
	}
}

func TestProviderErrorsAreClassified(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/chat/completions":
			serveJSON(w, 429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`)
		case "/search":
			serveJSON(w, 402, `{"requestId":"r","error":"You have run out of credits","tag":"NO_MORE_CREDITS"}`)
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			_, _ = io.WriteString(w, "Invalid access credentials.")
		}
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("exa").Endpoint = up.URL
		c.Route("apollo").Endpoint = up.URL + "/api/v1"
	})
	do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	do(t, rawClient(), "POST", tp.url+"/exa/search", `{}`, nil)
	do(t, rawClient(), "POST", tp.url+"/apollo/api/v1/people/match", `{}`, nil)
	spans := tp.waitSpans(t, 3)
	for i, want := range []struct{ errType, class string }{
		{"insufficient_quota", provider.ClassQuotaExhausted},
		{"NO_MORE_CREDITS", provider.ClassQuotaExhausted},
		{"401", provider.ClassAuthFailed},
	} {
		if got := spans[i].str("error.type"); got != want.errType || classOf(t, spans[i]) != want.class {
			t.Errorf("span %d: error.type %q class %q, want %q %q", i, got, classOf(t, spans[i]), want.errType, want.class)
		}
	}
}

func TestRateLimit(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		rl := c.Route("openai").RateLimit.GetOrInsertDefault()
		rl.RequestsPerSecond, rl.Burst = 1, 1
	})
	res1, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	res2, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	if res1.StatusCode != 200 || res2.StatusCode != 429 || res2.Header.Get("Retry-After") != "1" || up.count() != 1 {
		t.Fatalf("statuses %d %d, Retry-After %q, provider saw %d", res1.StatusCode, res2.StatusCode, res2.Header.Get("Retry-After"), up.count())
	}
	if code, _ := proxyErrorBody(t, body); code != codeRateLimited {
		t.Fatal(code)
	}
	// With max_wait the call waits its turn instead.
	tp2 := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		rl := c.Route("openai").RateLimit.GetOrInsertDefault()
		rl.RequestsPerSecond, rl.Burst, rl.MaxWait = 10, 1, time.Second
	})
	start := time.Now()
	for range 3 {
		if res, _ := do(t, rawClient(), "POST", tp2.url+"/openai/v1/chat/completions", chatReq, nil); res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("3 calls at 10/s took %s", took)
	}
}

func TestCircuitBreaker(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			serveJSON(w, 500, `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`)
			return
		}
		serveJSON(w, 200, openAIChat)
	})
	core, logs := observer.New(zapcore.InfoLevel)
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		cb := c.Route("openai").CircuitBreaker.GetOrInsertDefault()
		cb.ConsecutiveFailures, cb.OpenFor = 2, 300*time.Millisecond
	}, withLogger(zap.New(core)))
	for range 2 {
		if res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil); res.StatusCode != 500 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	start := time.Now()
	res, body := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	if res.StatusCode != 503 || up.count() != 2 || time.Since(start) > 100*time.Millisecond || res.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, provider saw %d, took %s", res.StatusCode, up.count(), time.Since(start))
	}
	if code, msg := proxyErrorBody(t, body); code != codeCircuitOpen || !strings.Contains(msg, "openai is failing") {
		t.Fatalf("%s %s", code, msg)
	}
	if logs.FilterMessage("circuit opened: calls to the provider are refused with 503").Len() != 1 {
		t.Fatalf("logs %v", logs.All())
	}
	// The provider recovers: after open_for a probe goes through and
	// closes the circuit.
	failing.Store(false)
	time.Sleep(350 * time.Millisecond)
	for range 3 {
		if res, _ := do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil); res.StatusCode != 200 {
			t.Fatalf("after recovery: %d", res.StatusCode)
		}
	}
	// Spans: two 500s and three successes; the refused call is no call.
	time.Sleep(50 * time.Millisecond)
	if n := len(tp.waitSpans(t, 5)); n != 5 {
		t.Fatalf("%d spans", n)
	}
}

// TestNothingSecretLogged drives every failure path at debug level and
// checks no credential reaches the log.
func TestNothingSecretLogged(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/cut" {
			serveStream(w, []string{"data: {}\n\n"}, 0)
			panic(http.ErrAbortHandler)
		}
		serveJSON(w, 401, `{"error":{"message":"Incorrect API key provided: sk-test-***789","type":"invalid_request_error","code":"invalid_api_key"}}`)
	})
	tp := startProxy(t, func(c *Config) {
		c.Route("openai").Endpoint = up.URL + "/v1"
		c.Route("apollo").Endpoint = "http://" + closedPort(t) + "/api/v1"
	}, withLogger(zap.New(core)))
	h := http.Header{"Authorization": {"Bearer " + testKey}, "X-Api-Key": {testKey}}
	do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, h)
	req, _ := http.NewRequest("POST", tp.url+"/openai/v1/cut", nil)
	req.Header = h
	if res, err := rawClient().Do(req); err == nil {
		_, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	do(t, rawClient(), "POST", tp.url+"/apollo/api/v1/people/match?api_key="+testKey, "{}", h)
	spans := tp.waitSpans(t, 3)
	noSecret(t, spans, testKey)
	if logs.Len() == 0 {
		t.Fatal("expected failures to be logged")
	}
	assertNoSecretLogged(t, logs, testKey)
}

func assertNoSecretLogged(t *testing.T, logs *observer.ObservedLogs, secret string) {
	t.Helper()
	for _, e := range logs.All() {
		var b bytes.Buffer
		b.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
		if strings.Contains(b.String(), secret) {
			t.Errorf("log entry carries a credential: %s", b.String())
		}
	}
}

// TestShutdownDeliversSpans: calls finished before shutdown reach the
// pipeline.
func TestShutdownDeliversSpans(t *testing.T) {
	up := fakeOpenAI(t)
	tp := startProxy(t, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" })
	for range 20 {
		do(t, rawClient(), "POST", tp.url+"/openai/v1/chat/completions", chatReq, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.rcv.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if n := tp.sink.SpanCount(); n != 20 {
		t.Fatalf("%d spans after shutdown, want 20", n)
	}
}
