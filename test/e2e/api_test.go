package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apiGet calls the built binary's REST API and decodes the envelope's data.
func apiGet(t *testing.T, col *collector, key, path string, data any) int {
	t.Helper()
	return apiData(t, col, "GET", key, path, nil, data)
}

// TestAPIOverTheDistribution runs the binary with configs/local.yaml and an
// admin key from the environment: the README span shows up on the live
// stream while it is processed, then in /calls and /costs/summary, priced.
func TestAPIOverTheDistribution(t *testing.T) {
	const key = "nxs_e2e_admin_key_0123456789abcdefghijklmnopq"
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_KEY=" + key}
	col.start()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+col.api+"/api/v1/stream?kinds=call&provider=openai", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	events := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
	}()
	// The stream is subscribed once its first frame is out.
	time.Sleep(200 * time.Millisecond)
	sent := time.Now()
	if code := postJSON(t, col, readmeSpan(t)); code != http.StatusOK {
		t.Fatalf("README span: HTTP %d", code)
	}
	select {
	case data := <-events:
		t.Logf("README span on the stream after %s", time.Since(sent))
		if !strings.Contains(data, `"costUsd":"0.0001512"`) || !strings.Contains(data, `"model":"gpt-4o-mini-2024-07-18"`) {
			t.Fatalf("stream event %s", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the span never reached the stream\n%s", col.out)
	}

	var calls []struct {
		Provider string  `json:"provider"`
		CostUSD  *string `json:"costUsd"`
	}
	for deadline := time.Now().Add(5 * time.Second); len(calls) == 0; time.Sleep(100 * time.Millisecond) {
		if code := apiGet(t, col, key, "/api/v1/calls", &calls); code != 200 {
			t.Fatalf("/calls: HTTP %d", code)
		}
		if time.Now().After(deadline) {
			t.Fatal("the span never reached /calls")
		}
	}
	if calls[0].Provider != "openai" || calls[0].CostUSD == nil || *calls[0].CostUSD != "0.0001512" {
		t.Fatalf("/calls: %+v", calls)
	}
	var summary []struct {
		Group string `json:"group"`
		Cost  string `json:"cost"`
		Calls uint64 `json:"calls"`
	}
	to := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	path := fmt.Sprintf("/api/v1/costs/summary?from=%s&to=%s", to.Add(-24*time.Hour).Format(time.RFC3339), to.Format(time.RFC3339))
	// The rollups are written by views after the raw row, within the same
	// insert: a read in between sees the call in /calls and not yet here.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code := apiGet(t, col, key, path, &summary)
		if code == 200 && len(summary) == 1 && summary[0].Group == "openai" && summary[0].Cost == "0.0001512" && summary[0].Calls == 1 {
			break
		}
		if code != 200 || len(summary) > 1 || time.Now().After(deadline) {
			t.Fatalf("/costs/summary: HTTP %d %+v", code, summary)
		}
	}
	if code := apiGet(t, col, "nxs_wrong", "/api/v1/calls", nil); code != 401 {
		t.Fatalf("wrong key: HTTP %d", code)
	}
}
