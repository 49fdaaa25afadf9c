package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One client's bad times must not cost anyone else's data: spans on 150
// different days, at time 0 and in 2200, sent every 200 ms beside a steady
// load of good spans. Every good span is stored exactly once, the others
// are refused and counted by reason, and the good load keeps landing,
// slowed only by the poison's share of the cores.

// spanJSON is one OpenAI chat call at start (ns since the epoch) with a
// unique id.
func spanJSON(id uint64, start int64) string {
	return fmt.Sprintf(`{"traceId":"%032x","spanId":"%016x","name":"chat gpt-4o-mini","kind":3,
 "startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[
 {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
 {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
 {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
 {"key":"gen_ai.usage.input_tokens","value":{"intValue":"100"}},
 {"key":"gen_ai.usage.output_tokens","value":{"intValue":"10"}}]}`, id, id, start, start+int64(time.Millisecond))
}

func otlpBody(service string, spans []string) []byte {
	return []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"` + service + `"}}]},
 "scopeSpans":[{"scope":{"name":"poison"},"spans":[` + strings.Join(spans, ",") + `]}]}]}`)
}

// sendUntilAcked posts body until the collector answers 200 (a retryable
// refusal is retried, as an OTLP client does).
func sendUntilAcked(ctx context.Context, addr string, body []byte) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// goodLoad sends n requests of per spans dated now of service "good", ids
// from first, four at a time, and returns how long until all are stored.
func goodLoad(t *testing.T, col *collector, first uint64, n, per int, storedBefore int64) time.Duration {
	t.Helper()
	began := time.Now()
	ctx := contextTimeout(t, 2*time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 4)
	for r := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			now := time.Now().UnixNano()
			spans := make([]string, per)
			for i := range spans {
				spans[i] = spanJSON(first+uint64(r*per+i), now)
			}
			if err := sendUntilAcked(ctx, col.otlpHTTP, otlpBody("good", spans)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := storedBefore + int64(n*per)
	for {
		out, err := col.query("SELECT count() FROM nexus.api_calls WHERE service = 'good'")
		got, _ := strconv.ParseInt(out, 10, 64)
		if err == nil && got >= want {
			return time.Since(began)
		}
		if time.Since(began) > 90*time.Second {
			t.Fatalf("good load: %d stored after 90 s, want %d (err %v)", got, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// refusedByReason reads the exporter's refusal counter from the
// collector's own Prometheus endpoint.
func refusedByReason(t *testing.T, col *collector) map[string]float64 {
	t.Helper()
	raw, err := os.ReadFile(col.config)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`port: (\d+)`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("no metrics port in the config")
	}
	resp, err := http.Get("http://127.0.0.1:" + string(m[1]) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	re := regexp.MustCompile(`rows_refused[a-z_]*\{([^}]*)\} ([0-9.e+]+)`)
	for _, line := range re.FindAllStringSubmatch(string(body), -1) {
		reason := regexp.MustCompile(`reason="([^"]+)"`).FindStringSubmatch(line[1])
		if reason == nil {
			continue
		}
		v, _ := strconv.ParseFloat(line[2], 64)
		out[reason[1]] += v
	}
	return out
}

func TestPoisonedClientCostsNoOneElse(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	const requests, perRequest = 20, 250

	// Phase 1: the good load alone.
	alone := goodLoad(t, col, 1, requests, perRequest, 0)

	// Phase 2: the same load while a client sends poison every 200 ms. Each
	// poison request holds spans on 150 days (now less 12 h, 36 h, …, so
	// none is near the retention edge: 90 are within the
	// 90-day raw retention and good, 60 older), one at time 0, one in 2200
	// and 5 dated now.
	const keptPerPoison, goodNowPerPoison = 90, 5
	var poisonAcked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := contextTimeout(t, 3*time.Minute)
		id := uint64(1 << 40)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			now := time.Now()
			var spans []string
			for d := range 150 {
				id++
				// Half a day off each whole day back from now, not from
				// midnight: day 89 after 12:00 UTC would be past 90 days.
				spans = append(spans, spanJSON(id, now.Add(-time.Duration(d)*24*time.Hour-12*time.Hour).UnixNano()))
			}
			id++
			spans = append(spans, spanJSON(id, 0))
			id++
			spans = append(spans, spanJSON(id, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()))
			for range goodNowPerPoison {
				id++
				spans = append(spans, spanJSON(id, now.UnixNano()))
			}
			if err := sendUntilAcked(ctx, col.otlpHTTP, otlpBody("poison", spans)); err != nil {
				t.Errorf("poison request: %v", err)
				return
			}
			poisonAcked.Add(1)
		}
	}()
	poisonGood := func() int64 { return poisonAcked.Load() * (keptPerPoison + goodNowPerPoison) }
	time.Sleep(time.Second) // poison already flowing when the good load starts
	poisoned := goodLoad(t, col, 1<<20, requests, perRequest, requests*perRequest)
	close(stop)
	wg.Wait()
	sent := poisonAcked.Load()
	t.Logf("good load of %d spans: %s alone, %s beside %d poison requests", requests*perRequest, alone, poisoned, sent)
	if sent < 3 {
		t.Fatalf("only %d poison requests were acknowledged", sent)
	}
	// The poison's cost follows its spans, not the days they spread over:
	// with api_calls partitioned by day its 90 valid days were 90 parts an
	// insert, and the good load took 2.4–4.8 s beside it (0.4 s alone);
	// by month, 0.7–1.2 s, the rest being the poison's own work on the
	// same two cores. Before the exporter isolated bad rows, the good
	// load never landed (a batch retried for five minutes, then dropped).
	if limit := 3*alone + 2*time.Second; poisoned > limit {
		t.Errorf("the good load took %s beside the poison, %s alone (limit %s)", poisoned, alone, limit)
	}

	// Everything good exactly once, nothing else.
	want := int64(2*requests*perRequest) + poisonGood()
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", strconv.FormatInt(want, 10), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if out, err := col.query("SELECT count() - uniqExact(span_id) FROM nexus.api_calls"); err != nil || out != "0" {
		t.Errorf("duplicated spans: %q %v", out, err)
	}
	if out, err := col.query("SELECT countIf(timestamp < now() - INTERVAL 90 DAY OR timestamp > now() + INTERVAL 1 HOUR) FROM nexus.api_calls"); err != nil || out != "0" {
		t.Errorf("rows outside the accepted window: %q %v", out, err)
	}
	// The day rollup holds what api_calls holds (no wrapped 2063 rows),
	// once the last insert's views have committed too.
	if out, err := col.query("SELECT sum(calls) FROM nexus.api_calls_1d WHERE toYear(ts) > 2100 OR toYear(ts) < 2000"); err != nil || out != "0" {
		t.Errorf("rollup rows at wrapped times: %q %v", out, err)
	}
	if _, err := col.waitForCount("SELECT toString(sum(calls)) FROM nexus.api_calls_1d", strconv.FormatInt(want, 10), 10*time.Second); err != nil {
		t.Errorf("day rollup: %v", err)
	}
	// Refusals are counted once the push that met them ends.
	wantRefused := map[string]int64{"too_old": 60 * sent, "missing_time": sent, "in_future": sent}
	var got map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = refusedByReason(t, col)
		same := true
		for reason, n := range wantRefused {
			same = same && int64(got[reason]) == n
		}
		if same || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("refused by reason: %v", got)
	for reason, n := range wantRefused {
		if int64(got[reason]) != n {
			t.Errorf("refused %s = %v, want %d", reason, got[reason], n)
		}
	}
}
