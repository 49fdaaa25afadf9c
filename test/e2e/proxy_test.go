package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// chatAnswer is what the stand-in for OpenAI answers a chat: 1,000 input
// and 500 output tokens of gpt-4o-mini.
const chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}`

// startProxyCollector runs the built binary on configs/proxy.yaml with
// OpenAI's base URL pointed at upstream (a local stand-in).
func startProxyCollector(t *testing.T, upstream string) *collector {
	t.Helper()
	col := newCollector(t, t.TempDir())
	col.file = "proxy.yaml"
	col.config = localConfig(t, col)
	col.env = []string{"NEXUS_OPENAI_BASE_URL=" + upstream + "/v1"}
	col.start()
	return col
}

// TestProxyConfig runs configs/proxy.yaml: an app using the official
// OpenAI SDK only changes its base URL to the proxy, gets the provider's
// answer untouched, and its call lands priced in the store.
func TestProxyConfig(t *testing.T) {
	var gotKey string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("Authorization")
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatAnswer))
	}))
	defer upstream.Close()

	col := startProxyCollector(t, upstream.URL)

	client := openai.NewClient(option.WithBaseURL("http://"+col.proxy+"/openai/v1"), option.WithAPIKey("sk-app-own-key"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
	})
	if err != nil {
		t.Fatalf("chat through the proxy: %v\n%s", err, col.out)
	}
	if res.Choices[0].Message.Content != "Hi!" || res.Usage.PromptTokens != 1000 || gotKey != "Bearer sk-app-own-key" {
		t.Fatalf("answer %+v, upstream saw %q", res, gotKey)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1", 5*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	// 1000 × $0.15 + 500 × $0.60 per million tokens.
	out, err := col.query("SELECT provider, model, input_tokens, output_tokens, cost_status, cost_usd FROM nexus.api_calls")
	if err != nil {
		t.Fatal(err)
	}
	if out != "openai\tgpt-4o-mini-2024-07-18\t1000\t500\tcomputed\t0.00045" {
		t.Fatalf("stored %q", out)
	}
	if strings.Contains(col.out.String(), "sk-app-own-key") {
		t.Fatal("the app's key reached the log")
	}
}
