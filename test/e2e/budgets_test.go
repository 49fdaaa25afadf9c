package e2e

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/sdkload"
)

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

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := sdkload.Stream(ctx, "http://"+col.proxy+"/openai/v1", 50, "gpt-4o-mini", 1600)
	for _, err := range out.Other {
		t.Errorf("neither passed nor refused by the budget: %v", err)
	}
	passed, refused := out.Passed, out.Refused
	t.Logf("%d passed, %d refused, %d requests sent", passed, refused, out.Sent)
	if passed == 0 || refused == 0 || out.Sent != 50 || reached.Load() != passed {
		t.Fatalf("%d passed, %d refused, %d requests sent (a retry?), %d reached the provider\n%s",
			passed, refused, out.Sent, reached.Load(), col.out)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", strconv.FormatInt(passed, 10), 10*time.Second); err != nil {
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
	if _, err := col.waitForCount("SELECT count() FROM nexus.budget_events WHERE action = 'block'", strconv.FormatInt(refused, 10), 10*time.Second); err != nil {
		t.Fatalf("refusals stored: %v\n%s", err, col.out)
	}
	if n := streamed.Load(); n != refused {
		t.Fatalf("%d refusals on the live stream, %d refused", n, refused)
	}
}
