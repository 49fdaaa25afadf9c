package apiproxyreceiver

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/semconv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenSpans pins the span the proxy emits for one call per provider,
// before any processor: the attributes an instrumented client would write
// (go test -update rewrites testdata/golden/*.txt).
func TestGoldenSpans(t *testing.T) {
	streamReq := `{"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`
	cases := []struct {
		name, method, path, body string
		header                   http.Header
		serve                    http.HandlerFunc
		endpoint                 func(c *Config, url string)
	}{
		{
			name: "openai", method: "POST", path: "/openai/v1/chat/completions", body: chatReq,
			header:   http.Header{"Authorization": {"Bearer " + testKey}},
			serve:    func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, openAIChat) },
			endpoint: func(c *Config, u string) { c.Route("openai").Endpoint = u + "/v1" },
		},
		{
			name: "openai_stream", method: "POST", path: "/openai/v1/chat/completions", body: streamReq,
			header: http.Header{"Authorization": {"Bearer " + testKey}, "X-Nexus-Service": {"checkout"}},
			serve: func(w http.ResponseWriter, r *http.Request) {
				serveStream(w, openAIStream("gpt-4o-mini-2024-07-18"), 0)
			},
			endpoint: func(c *Config, u string) { c.Route("openai").Endpoint = u + "/v1" },
		},
		{
			name: "openrouter", method: "POST", path: "/openrouter/api/v1/chat/completions",
			body:     `{"model":"anthropic/claude-sonnet-4","messages":[{"role":"user","content":"Hi"}]}`,
			header:   http.Header{"Authorization": {"Bearer sk-or-v1-SECRET"}},
			serve:    func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, openRouterChat) },
			endpoint: func(c *Config, u string) { c.Route("openrouter").Endpoint = u + "/api/v1" },
		},
		{
			name: "exa", method: "POST", path: "/exa/search", body: `{"query":"nexus"}`,
			header:   http.Header{"X-Api-Key": {"exa-SECRET"}},
			serve:    func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, exaSearch) },
			endpoint: func(c *Config, u string) { c.Route("exa").Endpoint = u },
		},
		{
			name: "twilio", method: "POST", path: "/twilio/2010-04-01/Accounts/AC123/Messages.json", body: "To=%2B15558675310&Body=Hello",
			header:   http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("AC123:SECRET"))}},
			serve:    func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 201, twilioMessage) },
			endpoint: func(c *Config, u string) { c.Route("twilio").Endpoint = u },
		},
		{
			name: "apollo", method: "POST", path: "/apollo/api/v1/people/match", body: `{"email":"tim@apollo.io"}`,
			header:   http.Header{"X-Api-Key": {"apollo-SECRET"}},
			serve:    func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, apolloMatch) },
			endpoint: func(c *Config, u string) { c.Route("apollo").Endpoint = u + "/api/v1" },
		},
		// Refusals: what the cost processor reads to bill them $0 — the
		// status code, error.type and an Error status.
		{
			name: "openai_429", method: "POST", path: "/openai/v1/chat/completions", body: chatReq,
			serve: jsonAnswer(429, openAI429), endpoint: func(c *Config, u string) { c.Route("openai").Endpoint = u + "/v1" },
		},
		{
			name: "openrouter_402", method: "POST", path: "/openrouter/api/v1/chat/completions", body: `{"model":"openai/gpt-4o"}`,
			serve: jsonAnswer(402, openRouter402), endpoint: func(c *Config, u string) { c.Route("openrouter").Endpoint = u + "/api/v1" },
		},
		{
			name: "exa_402", method: "POST", path: "/exa/search", body: `{"query":"nexus"}`,
			serve: jsonAnswer(402, exa402), endpoint: func(c *Config, u string) { c.Route("exa").Endpoint = u },
		},
		{
			name: "twilio_429", method: "POST", path: "/twilio/2010-04-01/Accounts/AC123/Messages.json", body: "To=%2B15558675310&Body=Hello",
			serve: jsonAnswer(429, twilio429), endpoint: func(c *Config, u string) { c.Route("twilio").Endpoint = u },
		},
		{
			name: "apollo_401", method: "POST", path: "/apollo/api/v1/people/match", body: `{}`,
			serve: textAnswer(401, "Invalid access credentials."), endpoint: func(c *Config, u string) { c.Route("apollo").Endpoint = u + "/api/v1" },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, tc.serve)
			sink := new(consumertest.TracesSink)
			tp := startProxy(t, func(c *Config) { tc.endpoint(c, up.URL) }, withNext(sink))
			tp.sink = sink
			do(t, rawClient(), tc.method, tp.url+tc.path, tc.body, tc.header)
			got := renderSpan(tp.span(t, 1), strings.TrimPrefix(up.URL, "http://"))

			golden := filepath.Join("testdata", "golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Fatalf("span differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// renderSpan prints a span stably: the upstream's random address and the
// random ids are replaced.
func renderSpan(s spanOf, upstreamAddr string) string {
	var b strings.Builder
	sp := s.span
	fmt.Fprintf(&b, "name: %s\nkind: %s\nstatus: %s\n", sp.Name(), sp.Kind(),
		strings.TrimSpace(sp.Status().Code().String()+" "+sp.Status().Message()))
	fmt.Fprintf(&b, "resource: service.name=%s\n", s.resource.Attributes().AsRaw()["service.name"])
	var lines []string
	sp.Attributes().Range(func(k string, v pcommon.Value) bool {
		val := v.AsString()
		if k == semconv.AttrServerPort {
			val = "PORT"
		}
		val = strings.ReplaceAll(val, upstreamAddr, "127.0.0.1:PORT")
		lines = append(lines, fmt.Sprintf("%s (%s) = %s", k, v.Type(), val))
		return true
	})
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}
