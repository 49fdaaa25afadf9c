package e2e

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/shopspring/decimal"
)

// countingTransport counts the requests the SDK sends, retries included.
type countingTransport struct {
	n  atomic.Int64
	rt http.Transport
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// TestProxyEnforcesABudget runs configs/proxy.yaml: with a blocking budget
// of $0.01 on OpenAI and 50 concurrent streamed calls through the official
// SDK, each able to cost about $0.001, what the store holds as spent stays
// within the amount, the refused calls get the budget's error in the SDK,
// which does not retry them, and each refusal is a stored event.
func TestProxyEnforcesABudget(t *testing.T) {
	const key = "nxs_e2e_admin_key_0123456789abcdefghijklmnopq"
	var reached atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		time.Sleep(30 * time.Millisecond) // many in flight at once
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}],"usage":null}`,
			`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":150,"completion_tokens":1500,"total_tokens":1650}}`,
			"[DONE]",
		} {
			_, _ = w.Write([]byte("data: " + ev + "\n\n"))
			w.(http.Flusher).Flush()
		}
	}))
	defer upstream.Close()
	col := newCollector(t, t.TempDir())
	col.file = "proxy.yaml"
	col.config = localConfig(t, col)
	col.env = []string{"NEXUS_OPENAI_BASE_URL=" + upstream.URL + "/v1", "NEXUS_ADMIN_KEY=" + key, "NEXUS_BUDGETS_REFRESH=200ms"}
	col.start()

	if code, _, raw := apiDo(t, col, key, "POST", "/api/v1/budgets", map[string]any{"name": "OpenAI cap", "period": "monthly",
		"amountUsd": "0.01", "action": "block", "scope": map[string]string{"provider": "openai"}}); code != 201 {
		t.Fatalf("create budget: %d %s", code, raw)
	}
	time.Sleep(time.Second) // the proxy reads budgets every 200 ms here
	// Refusals on the live stream, as they happen.
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", "http://"+col.api+"/api/v1/stream?kinds=budget", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var streamed atomic.Int64
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, `"action":"block"`) {
				streamed.Add(1)
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // subscribed once its first frame is out

	counting := &countingTransport{}
	defer counting.rt.CloseIdleConnections()
	client := openai.NewClient(option.WithBaseURL("http://"+col.proxy+"/openai/v1"), option.WithAPIKey("sk-app"),
		option.WithHTTPClient(&http.Client{Transport: counting}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var passed, refused atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}, MaxTokens: openai.Int(1600)})
			for stream.Next() {
			}
			var apiErr *openai.Error
			switch err := stream.Err(); {
			case err == nil:
				passed.Add(1)
			case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusPaymentRequired && apiErr.Type == "budget_exceeded":
				refused.Add(1)
			default:
				t.Errorf("neither passed nor refused by the budget: %v", err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d passed, %d refused, %d requests sent", passed.Load(), refused.Load(), counting.n.Load())
	if passed.Load() == 0 || refused.Load() == 0 || counting.n.Load() != 50 || reached.Load() != passed.Load() {
		t.Fatalf("%d passed, %d refused, %d requests sent (a retry?), %d reached the provider\n%s",
			passed.Load(), refused.Load(), counting.n.Load(), reached.Load(), col.out)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", strconv.FormatInt(passed.Load(), 10), 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	spent, err := col.query("SELECT sum(cost_usd) FROM nexus.api_calls")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stored spend $%s", spent)
	if d, err := decimal.NewFromString(spent); err != nil || d.GreaterThan(decimal.RequireFromString("0.01")) {
		t.Fatalf("spent $%s of a $0.01 budget (%v)", spent, err)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.budget_events WHERE action = 'block'", strconv.FormatInt(refused.Load(), 10), 10*time.Second); err != nil {
		t.Fatalf("refusals stored: %v\n%s", err, col.out)
	}
	if n := streamed.Load(); n != refused.Load() {
		t.Fatalf("%d refusals on the live stream, %d refused", n, refused.Load())
	}
}
