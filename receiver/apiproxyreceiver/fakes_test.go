package apiproxyreceiver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is a fake provider: it records every request it gets and every
// byte it sends, so tests can compare them with what the caller saw.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seenRequest
	sent     []*bytes.Buffer
}

type seenRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
}

func newUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		buf := new(bytes.Buffer)
		u.mu.Lock()
		u.requests = append(u.requests, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		u.sent = append(u.sent, buf)
		u.mu.Unlock()
		h(&recordingWriter{ResponseWriter: w, buf: buf, mu: &u.mu}, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

func (u *upstream) request(i int) seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests[i]
}

func (u *upstream) sentBytes(i int) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return bytes.Clone(u.sent[i].Bytes())
}

type recordingWriter struct {
	http.ResponseWriter
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Payloads as the providers document them.
const (
	openAIChat = `{"id":"chatcmpl-abc123","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini-2024-07-18",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
		`"service_tier":"default","system_fingerprint":"fp_560af6e559"}`

	openRouterChat = `{"id":"gen-1764000000-abc","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion","created":1764000000,` +
		`"choices":[{"logprobs":null,"finish_reason":"stop","native_finish_reason":"end_turn","index":0,"message":{"role":"assistant","content":"Hi","refusal":null,"reasoning":null}}],` +
		`"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"cost":0.00123,"is_byok":false,` +
		`"prompt_tokens_details":{"cached_tokens":100,"cache_write_tokens":50},"completion_tokens_details":{"reasoning_tokens":0}}}`

	exaSearch = `{"requestId":"b5947044c4b78efa9552a7c89b306d95","resolvedSearchType":"neural","results":[` +
		`{"title":"A","url":"https://a.example","id":"https://a.example"},{"title":"B","url":"https://b.example","id":"https://b.example"}],` +
		`"searchType":"neural","costDollars":{"total":0.005,"breakDown":[{"search":0.005,"contents":0}],"perRequestPrices":{"neural_search_1_25_results":0.005}}}`

	// A message as Twilio answers its creation: queued, price not known yet.
	twilioMessage = `{"account_sid":"AC123","api_version":"2010-04-01","body":"Hello","date_created":"Thu, 26 Nov 2026 12:00:00 +0000",` +
		`"direction":"outbound-api","error_code":null,"error_message":null,"from":"+15005550006","num_media":"0","num_segments":"1",` +
		`"price":null,"price_unit":"USD","sid":"SM1234567890abcdef1234567890abcdef","status":"queued","to":"+15558675310",` +
		`"uri":"/2010-04-01/Accounts/AC123/Messages/SM1234567890abcdef1234567890abcdef.json"}`

	apolloMatch = `{"person":{"id":"5e66b6381e05b4008c8331b8","first_name":"Tim","last_name":"Zheng","title":"Founder & CEO",` +
		`"organization":{"id":"5e66b6381e05b4008c8331b9","name":"Apollo"}}}`
)

// openAIStream is a chat completion streamed with include_usage: content
// deltas, a finish chunk, then the usage chunk with no choices.
func openAIStream(model string) []string {
	chunk := func(choices, usage string) string {
		return fmt.Sprintf(`data: {"id":"chatcmpl-str1","object":"chat.completion.chunk","created":1764000000,"model":%q,"service_tier":"default","system_fingerprint":"fp_1","choices":%s,"usage":%s}`+"\n\n",
			model, choices, usage)
	}
	return []string{
		chunk(`[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`, "null"),
		chunk(`[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]`, "null"),
		chunk(`[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}]`, "null"),
		chunk(`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`, "null"),
		chunk(`[]`, `{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":120,"audio_tokens":0}}`),
		"data: [DONE]\n\n",
	}
}

// openRouterStream is OpenRouter's stream: a processing comment, deltas,
// and usage (with cost) in the last chunk, always.
func openRouterStream() []string {
	return []string{
		": OPENROUTER PROCESSING\n\n",
		`data: {"id":"gen-str","provider":"OpenAI","model":"openai/gpt-4o-mini","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}` + "\n\n",
		`data: {"id":"gen-str","provider":"OpenAI","model":"openai/gpt-4o-mini","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}]}` + "\n\n",
		`data: {"id":"gen-str","provider":"OpenAI","model":"openai/gpt-4o-mini","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25,"cost":0.0000081,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}` + "\n\n",
		"data: [DONE]\n\n",
	}
}

// serveStream writes events one by one, flushing each, with gap between.
func serveStream(w http.ResponseWriter, events []string, gap time.Duration) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	for _, ev := range events {
		_, _ = io.WriteString(w, ev)
		w.(http.Flusher).Flush()
		if gap > 0 {
			time.Sleep(gap)
		}
	}
}

func serveJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_123")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// fakeOpenAI answers chat completions plain or streamed, as the request
// asks.
func fakeOpenAI(t testing.TB) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			serveJSON(w, 404, `{"error":{"message":"Unknown request URL","type":"invalid_request_error","param":null,"code":"unknown_url"}}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"stream":true`) {
			serveStream(w, openAIStream("gpt-4o-mini-2024-07-18"), 0)
			return
		}
		w.Header().Set("Openai-Processing-Ms", "321")
		w.Header().Set("X-Ratelimit-Remaining-Requests", "4999")
		serveJSON(w, 200, openAIChat)
	})
}
