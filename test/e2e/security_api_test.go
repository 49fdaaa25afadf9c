package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The attacks of the security issue against the REST API, the shipped
// configs and the proxy of the built binary.

const secAdminKey = "nxs_e2e_security_admin_0123456789abcdefghijk"

// apiDo sends one request with key and returns the status, the headers and
// the body.
func apiDo(t *testing.T, col *collector, key, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, "http://"+col.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

func securityCollector(t *testing.T, args ...string) *collector {
	t.Helper()
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_KEY=" + secAdminKey}
	col.start(args...)
	return col
}

// Attack 6: a rule message that loops for ever, at creation and after it.
func TestSecurityAPITemplateBomb(t *testing.T) {
	col := securityCollector(t)
	rule := func(msg string) map[string]any {
		return map[string]any{"name": "bomb", "kind": "error_rate", "threshold": "0.5", "window": "5m",
			"severity": "warning", "channels": []string{"inapp"}, "message": msg}
	}
	for _, msg := range []string{
		`{{if eq .Rule.ID "alr_sample"}}ok{{else}}{{range 1000000000000}}{{end}}{{end}}`,
		`{{range 100000000000}}x{{end}}`,
		`{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`,
	} {
		began := time.Now()
		code, _, body := apiDo(t, col, secAdminKey, "POST", "/api/v1/alerts/rules", rule(msg))
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"message"`) {
			t.Errorf("rule message %q: HTTP %d %s", msg, code, body)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("rule message %q took %s to refuse", msg, d)
		}
	}
	// Ranging over the labels stays allowed: it is how a message lists them.
	ok := `{{.Rule.Name}}:{{range $k, $v := .Labels}} {{$k}}={{$v}}{{end}}`
	if code, _, body := apiDo(t, col, secAdminKey, "POST", "/api/v1/alerts/rules", rule(ok)); code != http.StatusCreated {
		t.Errorf("a message ranging over .Labels: HTTP %d %s", code, body)
	}
	// The evaluator and shutdown are unharmed.
	if err := col.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, col.out)
	}
}

// Attack 7: every refused request must not push the key further into debt,
// and failed authentication is throttled per client address.
func TestSecurityAPIRateLimitRecovers(t *testing.T) {
	col := securityCollector(t)
	maxRetry, refusedN := 0, 0
	for range 400 {
		code, hdr, _ := apiDo(t, col, secAdminKey, "GET", "/api/v1/keys", nil)
		if code == http.StatusTooManyRequests {
			refusedN++
			n, err := strconv.Atoi(hdr.Get("Retry-After"))
			if err != nil {
				t.Fatalf("429 without a usable Retry-After: %q", hdr.Get("Retry-After"))
			}
			maxRetry = max(maxRetry, n)
		}
	}
	if refusedN == 0 {
		t.Fatal("400 requests at once were never limited")
	}
	if maxRetry > 2 {
		t.Errorf("Retry-After grew to %d s after %d refusals", maxRetry, refusedN)
	}
	time.Sleep(time.Duration(maxRetry)*time.Second + 100*time.Millisecond)
	if code, _, body := apiDo(t, col, secAdminKey, "GET", "/api/v1/keys", nil); code != http.StatusOK {
		t.Errorf("after waiting Retry-After: HTTP %d %s", code, body)
	}

	// Guessing keys from one address is throttled; the right key from the
	// same address is then limited too, which is the point.
	limited := false
	for i := range 200 {
		code, hdr, _ := apiDo(t, col, fmt.Sprintf("nxs_guess_%04d", i), "GET", "/api/v1/keys", nil)
		if code == http.StatusTooManyRequests {
			if hdr.Get("Retry-After") == "" {
				t.Error("failed-auth 429 without Retry-After")
			}
			limited = true
			break
		}
		if code != http.StatusUnauthorized {
			t.Fatalf("wrong key: HTTP %d", code)
		}
	}
	if !limited {
		t.Error("200 wrong keys from one address were never throttled")
	}
}

// openStream opens the live stream with key; it returns the status and,
// when 200, a channel closed when the server ends the stream.
func openStream(t *testing.T, col *collector, key string) (int, <-chan struct{}) {
	code, ended, _ := openStreamBody(t, col, key)
	return code, ended
}

// openStreamBody is openStream that also returns the body of a refusal.
func openStreamBody(t *testing.T, col *collector, key string) (int, <-chan struct{}, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+col.api+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, nil, string(raw)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
	}()
	return resp.StatusCode, ended, ""
}

// createKey makes a key of role with the admin key and returns its id and
// secret.
func createKey(t *testing.T, col *collector, role string) (string, string) {
	t.Helper()
	code, _, body := apiDo(t, col, secAdminKey, "POST", "/api/v1/keys", map[string]string{"name": role + " key", "role": role})
	var env struct {
		Data struct{ ID, Key string } `json:"data"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &env) != nil {
		t.Fatalf("create key: HTTP %d %s", code, body)
	}
	return env.Data.ID, env.Data.Key
}

// Attack 8: a revoked key stops working, open streams included.
func TestSecurityAPIRevokedKeyStreamCloses(t *testing.T) {
	col := securityCollector(t)
	id, viewer := createKey(t, col, "viewer")
	code, ended := openStream(t, col, viewer)
	if code != http.StatusOK {
		t.Fatalf("stream: HTTP %d", code)
	}
	if code, _, body := apiDo(t, col, secAdminKey, "DELETE", "/api/v1/keys/"+id, nil); code != http.StatusOK {
		t.Fatalf("revoke: HTTP %d %s", code, body)
	}
	select {
	case <-ended:
	case <-time.After(15 * time.Second):
		t.Error("the revoked key's stream was still open 15 s after the revocation")
	}
	if code, _, _ := apiDo(t, col, viewer, "GET", "/api/v1/calls", nil); code != http.StatusUnauthorized {
		t.Errorf("revoked key: HTTP %d", code)
	}
}

// Attack 10: streams, pages and alert instances are bounded.
func TestSecurityAPIBounded(t *testing.T) {
	col := securityCollector(t)
	_, viewer := createKey(t, col, "viewer")
	capped := false
	// Well below the key's request burst, so that the stream cap, not the
	// rate limit, is what refuses.
	for i := range 16 {
		code, _, body := openStreamBody(t, col, viewer)
		if code == http.StatusTooManyRequests {
			t.Logf("stream %d of one key refused: %s", i+1, body)
			if !strings.Contains(strings.ToLower(body), "stream") {
				t.Errorf("the refusal does not say it is about streams: %s", body)
			}
			capped = true
			break
		}
		if code != http.StatusOK {
			t.Fatalf("stream %d: HTTP %d", i+1, code)
		}
	}
	if !capped {
		t.Error("16 streams of one key were all accepted")
	}

	for _, p := range []string{"/api/v1/calls", "/api/v1/keys", "/api/v1/alerts/events", "/api/v1/budgets"} {
		for _, page := range []string{"4611686018427387905", "9223372036854775807", "99999999999999999999"} {
			code, _, body := apiDo(t, col, secAdminKey, "GET", p+"?page="+page+"&limit=100", nil)
			if code != http.StatusBadRequest || !strings.Contains(string(body), `"page"`) {
				t.Errorf("%s?page=%s: HTTP %d %s", p, page, code, body)
			}
		}
	}
}

// Attack 10, alert instances: any OTLP sender chooses model names, and the
// shipped unpriced-calls rule groups by provider and model. 300 distinct
// models must not become 300 firing alerts.
func TestSecurityAPIAlertInstancesCapped(t *testing.T) {
	col := securityCollector(t)
	var spans []string
	now := time.Now().UnixNano()
	for i := range 300 {
		spans = append(spans, fmt.Sprintf(`{"traceId":"%032x","spanId":"%016x","name":"chat","kind":3,
 "startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[
 {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
 {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
 {"key":"gen_ai.request.model","value":{"stringValue":"attacker-model-%03d"}},
 {"key":"gen_ai.usage.input_tokens","value":{"intValue":"10"}},
 {"key":"gen_ai.usage.output_tokens","value":{"intValue":"1"}}]}`, i+1, i+1, now-1e8, now, i))
	}
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"x"}}]},
 "scopeSpans":[{"scope":{"name":"sec"},"spans":[` + strings.Join(spans, ",") + `]}]}]}`
	if code := postJSON(t, col, []byte(body)); code != http.StatusOK {
		t.Fatalf("OTLP: HTTP %d", code)
	}
	var total int
	var events []map[string]any
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		code, _, raw := apiDo(t, col, secAdminKey, "GET", "/api/v1/alerts/events?ruleId=unpriced-calls&limit=500", nil)
		var env struct {
			Data       []map[string]any `json:"data"`
			Pagination struct {
				Total int `json:"total"`
			} `json:"pagination"`
		}
		if code != http.StatusOK || json.Unmarshal(raw, &env) != nil {
			t.Fatalf("events: HTTP %d %s", code, raw)
		}
		total, events = env.Pagination.Total, env.Data
		if total > 0 {
			// One more evaluation, to see that nothing more arrives.
			time.Sleep(12 * time.Second)
			_, _, raw = apiDo(t, col, secAdminKey, "GET", "/api/v1/alerts/events?ruleId=unpriced-calls&limit=500", nil)
			json.Unmarshal(raw, &env)
			total, events = env.Pagination.Total, env.Data
			break
		}
		time.Sleep(time.Second)
	}
	if total == 0 {
		t.Fatalf("the unpriced rule never fired\n%s", col.out)
	}
	if total > 101 {
		t.Errorf("%d alert events from one rule for 300 attacker-chosen models", total)
	}
	overflow := false
	for _, e := range events {
		raw, _ := json.Marshal(e)
		if regexp.MustCompile(`(?i)overflow|suppressed|more instances`).Match(raw) {
			overflow = true
		}
	}
	if !overflow {
		t.Errorf("no event says instances were suppressed (%d events)", total)
	}
}

// Attack 11: the generated admin key is never in the log; it is in an
// owner-only file that the log names.
func TestSecurityAdminKeyNotLogged(t *testing.T) {
	dir := t.TempDir()
	col := newCollector(t, dir)
	col.env = []string{"NEXUS_ADMIN_KEY="}
	col.start()
	if m := regexp.MustCompile(`nxs_[A-Za-z0-9_-]{20,}`).FindString(col.out.String()); m != "" {
		t.Fatalf("a key is in the log: %s", m)
	}
	file := filepath.Join(dir, "admin.key")
	if !strings.Contains(col.out.String(), file) {
		t.Errorf("the log does not say where the key is (%s)\n%s", file, col.out)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatalf("admin key file: %v\n%s", err, col.out)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("admin key file mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(file)
	key := strings.TrimSpace(string(raw))
	if code, _, _ := apiDo(t, col, key, "GET", "/api/v1/keys", nil); code != http.StatusOK {
		t.Fatalf("the key in the file is refused: HTTP %d", code)
	}
	if err := col.stop(); err != nil {
		t.Fatal(err)
	}
	again := newCollector(t, dir)
	again.env = []string{"NEXUS_ADMIN_KEY="}
	again.start()
	if code, _, _ := apiDo(t, again, key, "GET", "/api/v1/keys", nil); code != http.StatusOK {
		t.Fatalf("key forgotten after restart: HTTP %d", code)
	}
	if raw2, _ := os.ReadFile(file); string(raw2) != string(raw) {
		t.Error("the restart replaced the admin key file")
	}
}

// Attack 11, defaults: no debugging endpoints in the shipped configs, and
// the proxy refuses to leave loopback unless told so.
func TestSecurityShippedDefaults(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no shipped configs")
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(raw), "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "#") {
				continue
			}
			if strings.HasPrefix(trimmed, "pprof:") || strings.HasPrefix(trimmed, "zpages:") ||
				(strings.HasPrefix(trimmed, "extensions: [") && (strings.Contains(trimmed, "pprof") || strings.Contains(trimmed, "zpages"))) {
				t.Errorf("%s enables a debugging endpoint: %s", filepath.Base(f), trimmed)
			}
		}
	}

	col := newCollector(t, t.TempDir())
	col.file = "proxy.yaml"
	col.config = localConfig(t, col)
	col.run("--set=receivers::apiproxy::endpoint=0.0.0.0:" + strings.Split(freePort(t), ":")[1])
	if err := col.wait(60 * time.Second); err == nil {
		t.Fatalf("the proxy started on 0.0.0.0 without being told to\n%s", col.out)
	}
	if !strings.Contains(col.out.String(), "endpoint") {
		t.Errorf("the refusal does not name endpoint:\n%s", col.out)
	}
}

// The README's recipe for an OTLP receiver other hosts may reach: the
// bearertokenauth extension of the distribution refuses senders without
// the token.
func TestSecurityOTLPBearerToken(t *testing.T) {
	const token = "otlp-token-0123456789abcdef"
	extra := filepath.Join(t.TempDir(), "otlp-auth.yaml")
	cfg := `
extensions:
  bearertokenauth:
    token: ` + token + `
receivers:
  otlp:
    protocols:
      http:
        auth: {authenticator: bearertokenauth}
service:
  extensions: [health_check, bearertokenauth, file_storage, chstore, nexusapi]
`
	if err := os.WriteFile(extra, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	col := newCollector(t, t.TempDir())
	col.start("--config", extra)
	send := func(auth string) int {
		req, _ := http.NewRequest("POST", "http://"+col.otlpHTTP+"/v1/traces", bytes.NewReader(readmeSpan(t)))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(""); code != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", code)
	}
	if code := send("Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: HTTP %d", code)
	}
	if code := send("Bearer " + token); code != http.StatusOK {
		t.Errorf("right token: HTTP %d", code)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1", 10*time.Second); err != nil {
		t.Error(err)
	}
}
