package apiproxyreceiver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
)

// BenchmarkRequestPath is one chat call through the proxy, closed loop,
// client, proxy and provider in this process: what the proxy allocates and
// spends per call (the span built off the request path included). Its
// allocations are what the garbage collector pauses for, and so the tail
// of the open-loop latency BenchmarkProxyOverhead measures.
func BenchmarkRequestPath(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, openAIChat)
	}))
	defer up.Close()
	tp := startProxy(b, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" }, withNext(costPipeline(b, consumertest.NewNop())))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	url := tp.url + "/openai/v1/chat/completions"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", strings.NewReader(chatReq))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
