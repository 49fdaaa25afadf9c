package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestProxyAttribution runs configs/proxy.yaml on the built binary: an app
// says whom each call is for in X-Nexus-* headers, the provider sees none
// of them, and the stored spend per customer, user, team, feature and tag
// is exact.
func TestProxyAttribution(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-nexus-") {
				leaked = append(leaked, k)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatAnswer))
	}))
	defer upstream.Close()

	col := startProxyCollector(t, upstream.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	send := func(headers map[string]string) {
		t.Helper()
		opts := []option.RequestOption{option.WithBaseURL("http://" + col.proxy + "/openai/v1"), option.WithAPIKey("sk-app")}
		for k, v := range headers {
			opts = append(opts, option.WithHeader(k, v))
		}
		client := openai.NewClient(opts...)
		if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
		}); err != nil {
			t.Fatalf("chat through the proxy: %v\n%s", err, col.out)
		}
	}
	acme := map[string]string{"X-Nexus-Customer": "acme", "X-Nexus-User": "u1", "X-Nexus-Team": "search",
		"X-Nexus-Feature": "chat", "X-Nexus-Tag-Env": "prod"}
	send(acme)
	send(acme)
	send(map[string]string{"X-Nexus-Customer": "globex", "X-Nexus-User": "u2", "X-Nexus-Tag-Env": "dev"})
	send(nil)
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "4", 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	mu.Lock()
	if len(leaked) > 0 {
		t.Errorf("the provider got %v", leaked)
	}
	mu.Unlock()
	// Each call costs 1000 × $0.15 + 500 × $0.60 per million tokens = $0.00045.
	for q, want := range map[string]string{
		// [] around each value: the query answer is trimmed, an empty value first would vanish.
		"SELECT concat('[', customer, ']') AS c, sum(cost_usd) FROM nexus.api_calls GROUP BY c ORDER BY c":              "[]\t0.00045\n[acme]\t0.0009\n[globex]\t0.00045",
		"SELECT concat('[', user, ']') AS u, sum(cost_usd) FROM nexus.api_calls GROUP BY u ORDER BY u":                  "[]\t0.00045\n[u1]\t0.0009\n[u2]\t0.00045",
		"SELECT concat('[', team, '/', feature, ']') AS tf, sum(cost_usd) FROM nexus.api_calls GROUP BY tf ORDER BY tf": "[/]\t0.0009\n[search/chat]\t0.0009",
		"SELECT concat('[', tags['env'], ']') AS env, sum(cost_usd) FROM nexus.api_calls GROUP BY env ORDER BY env":     "[]\t0.00045\n[dev]\t0.00045\n[prod]\t0.0009",
	} {
		out, err := col.query(q)
		if err != nil {
			t.Fatal(err)
		}
		if out != want {
			t.Errorf("%s:\n got %q\nwant %q", q, out, want)
		}
	}
}
