package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
)

// whsecKey is the key of whsecSecret, the form Standard Webhooks services
// hand out: "whsec_" + base64 of random bytes.
var (
	whsecKey    = []byte("0123456789abcdef-nexus-test-key")
	whsecSecret = "whsec_" + base64.StdEncoding.EncodeToString(whsecKey)
)

// verifyStandardWebhook checks a request as the Standard Webhooks spec's
// reference verifier does, written out here rather than calling ours:
// the secret's base64 after "whsec_" is the key (a secret without the
// prefix is used as it is), the signed content is id.timestamp.body, the
// header holds space-separated "v1,<base64>" signatures of which one must
// match, and a timestamp more than five minutes off is refused.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp out of tolerance")
	}
	key := []byte(secret)
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err = base64.StdEncoding.DecodeString(b64); err != nil {
			return err
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

type webhookHit struct {
	header http.Header
	body   []byte
}

func webhookServer(t *testing.T, status func(n int) int) (*httptest.Server, func() []webhookHit) {
	t.Helper()
	var mu sync.Mutex
	var hits []webhookHit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, webhookHit{r.Header.Clone(), b})
		n := len(hits)
		mu.Unlock()
		w.WriteHeader(status(n))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []webhookHit {
		mu.Lock()
		defer mu.Unlock()
		return append([]webhookHit(nil), hits...)
	}
}

func webhookConfig(endpoint, secret string) ChannelConfig {
	cfg := ChannelConfig{Type: TypeWebhook}
	cfg.Webhook.Endpoint = endpoint
	cfg.Webhook.Secret = configopaque.String(secret)
	return cfg
}

func TestWebhookSignedPayload(t *testing.T) {
	srv, hits := webhookServer(t, func(int) int { return 204 })
	cfg := webhookConfig(srv.URL+"/hooks/nexus", whsecSecret)
	cfg.Webhook.Headers.Set("X-Team", "payments")
	if err := build(t, cfg).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	h := hits()[0]
	if err := verifyStandardWebhook(whsecSecret, h.header, h.body, time.Now()); err != nil {
		t.Fatalf("signature: %v (headers %v)", err, h.header)
	}
	// A key that is not the secret's decoded bytes must not verify: the
	// base64 part is decoded, not used as text.
	if verifyStandardWebhook(strings.TrimPrefix(whsecSecret, "whsec_"), h.header, h.body, time.Now()) == nil {
		t.Fatal("signed with the undecoded secret")
	}
	if h.header.Get("webhook-id") != "rule-1:firing:1767268500" || h.header.Get("X-Team") != "payments" ||
		h.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h.header)
	}
	want := compactJSON(t, `{
	  "dedupKey": "rule-1:firing:1767268500",
	  "eventId": "ev-0001",
	  "ruleId": "rule-1",
	  "ruleName": "OpenAI daily spend",
	  "state": "firing",
	  "severity": "critical",
	  "title": "OpenAI spend over budget",
	  "message": "Spend today is 12.30 USD, over the <10.00> USD budget & rising.",
	  "labels": {"model": "gpt-4o", "provider": "openai"},
	  "value": "12.30",
	  "threshold": "10.00",
	  "startsAt": "2026-01-01T11:55:00Z",
	  "at": "2026-01-01T12:00:00Z",
	  "link": "https://nexus.example.com/events/ev-0001"
	}`)
	if string(h.body) != want {
		t.Fatalf("payload\n got %s\nwant %s", h.body, want)
	}
}

func TestWebhookPayloadEmptyFields(t *testing.T) {
	got, err := marshalJSON(NewWebhookPayload(Notification{EventID: "ev-9", State: StateResolved}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"dedupKey":"","eventId":"ev-9","ruleId":"","ruleName":"","state":"resolved","severity":"","title":"",` +
		`"message":"","labels":{},"value":"","threshold":"","startsAt":null,"at":null,"link":""}`
	if string(got) != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
}

func TestWebhookRetryKeepsIDAndResigns(t *testing.T) {
	srv, hits := webhookServer(t, func(int) int { return 200 })
	ch := build(t, webhookConfig(srv.URL, "a raw shared secret"))
	wc := ch.(*webhookChannel)
	n := sample()
	n.DedupKey = "" // the event id stands in
	for i, at := range []time.Time{time.Unix(1767268800, 0), time.Unix(1767268860, 0)} {
		wc.now = func() time.Time { return at }
		if err := ch.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		h := hits()[i]
		if h.header.Get("webhook-id") != "ev-0001" || h.header.Get("webhook-timestamp") != strconv.FormatInt(at.Unix(), 10) {
			t.Fatalf("attempt %d: headers %v", i, h.header)
		}
		if err := verifyStandardWebhook("a raw shared secret", h.header, h.body, at); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
}

func TestWebhookUnsigned(t *testing.T) {
	srv, hits := webhookServer(t, func(int) int { return 200 })
	if err := build(t, webhookConfig(srv.URL, "")).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	h := hits()[0].header
	if h.Get("webhook-signature") != "" || h.Get("webhook-id") == "" || h.Get("webhook-timestamp") == "" {
		t.Fatalf("headers %v", h)
	}
}

func TestWebhookStatusClasses(t *testing.T) {
	for status, permanent := range map[int]bool{400: true, 401: true, 404: true, 410: true, 422: true,
		408: false, 429: false, 500: false, 502: false, 503: false} {
		srv, _ := webhookServer(t, func(int) int { return status })
		err := build(t, webhookConfig(srv.URL, whsecSecret)).Send(context.Background(), sample())
		if err == nil || Permanent(err) != permanent || !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(status)) {
			t.Errorf("HTTP %d: %v, permanent %v", status, err, Permanent(err))
		}
	}
}

func TestWebhookTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := webhookConfig(srv.URL, "")
	cfg.Webhook.Timeout = 50 * time.Millisecond
	err := build(t, cfg).Send(context.Background(), sample())
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("timeout: %v", err)
	}
}
