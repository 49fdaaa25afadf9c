package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// received is what one local notification endpoint got, with when.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// endpoint records every request a channel sends it.
type endpoint struct {
	mu   sync.Mutex
	got  []received
	srv  *httptest.Server
	path string
}

func newEndpoint(tb testing.TB, path string) *endpoint {
	e := &endpoint{path: path}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, received{at: time.Now(), header: r.Header.Clone(), body: b})
		e.mu.Unlock()
		if strings.Contains(r.URL.Path, "Messages.json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"sid":"SM00000000000000000000000000000001","status":"queued"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	tb.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) url() string { return e.srv.URL + e.path }

func (e *endpoint) all() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

// mailbox is a local SMTP server that takes AUTH PLAIN over plain text on
// 127.0.0.1 (as the email channel allows there only).
type mailbox struct {
	mu  sync.Mutex
	got []received
}

func (m *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m      *mailbox
	authed bool
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "nexus" || pass != "smtp-secret" {
			return &gosmtp.SMTPError{Code: 535, Message: "bad login"}
		}
		s.authed = true
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	if !s.authed {
		return &gosmtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.got = append(s.m.got, received{at: time.Now(), body: b})
	s.m.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func (m *mailbox) all() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.got...)
}

func startMailbox(tb testing.TB) (*mailbox, int) {
	m := &mailbox{}
	srv := gosmtp.NewServer(m)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return m, l.Addr().(*net.TCPAddr).Port
}

// chatSpans is an OTLP/JSON request of n OpenAI chat calls of service
// "checkout", failed ones with an error status and HTTP 500.
func chatSpans(n int, failed bool) []byte {
	var spans []string
	now := time.Now().UnixNano()
	for i := range n {
		status, code := `{"code":1}`, 200
		if failed {
			status, code = `{"code":2,"message":"upstream error"}`, 500
		}
		spans = append(spans, fmt.Sprintf(`{"traceId":"%032x","spanId":"%016x","name":"chat gpt-4o-mini","kind":3,
 "startTimeUnixNano":"%d","endTimeUnixNano":"%d","status":%s,"attributes":[
 {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
 {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
 {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
 {"key":"gen_ai.usage.input_tokens","value":{"intValue":"100"}},
 {"key":"gen_ai.usage.output_tokens","value":{"intValue":"10"}},
 {"key":"http.response.status_code","value":{"intValue":"%d"}},
 {"key":"server.address","value":{"stringValue":"api.openai.com"}}]}`,
			now+int64(i), now+int64(i), now-int64(300*time.Millisecond), now, status, code))
	}
	return []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
 "scopeSpans":[{"scope":{"name":"alerts-e2e"},"spans":[` + strings.Join(spans, ",") + `]}]}]}`)
}

// alertSinks are a local endpoint for each notification channel.
type alertSinks struct {
	slack, discord, twilio, hook *endpoint
	mail                         *mailbox
	smtpPort                     int
	secret                       []byte
}

func startAlertSinks(tb testing.TB) *alertSinks {
	s := &alertSinks{slack: newEndpoint(tb, "/services/T0/B0/x"), discord: newEndpoint(tb, "/api/webhooks/1/token"),
		twilio: newEndpoint(tb, ""), hook: newEndpoint(tb, "/nexus"), secret: []byte("0123456789abcdef0123456789abcdef")}
	s.mail, s.smtpPort = startMailbox(tb)
	return s
}

// configFile writes the config that sends an error-rate rule over service
// checkout to every sink (and in-app): a file for --config.
func (s *alertSinks) configFile(tb testing.TB) string {
	extra := fmt.Sprintf(`
extensions:
  nexusapi:
    alerting:
      channels:
        mail:
          type: email
          email: {host: 127.0.0.1, port: %d, tls: none, username: nexus, password: smtp-secret, from: nexus@example.com, to: [oncall@example.com]}
        slack:
          type: slack
          slack: {webhook_url: %q}
        discord:
          type: discord
          discord: {webhook_url: %q}
        sms:
          type: twilio
          twilio: {endpoint: %q, account_sid: AC00000000000000000000000000000001, auth_token: twilio-secret, from: "+15550001111", to: ["+15551230001"]}
        hook:
          type: webhook
          webhook: {endpoint: %q, secret: %q}
      rules:
        - id: checkout-errors
          name: Checkout error rate
          kind: error_rate
          scope: {service: checkout}
          threshold: 0.2
          window: 1m
          min_calls: 5
          severity: critical
          channels: [mail, slack, discord, sms, hook, inapp]
`, s.smtpPort, s.slack.url(), s.discord.url(), s.twilio.url(), s.hook.url(), "whsec_"+base64.StdEncoding.EncodeToString(s.secret))
	path := filepath.Join(tb.TempDir(), "alerts.yaml")
	if err := os.WriteFile(path, []byte(extra), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func (s *alertSinks) channels() map[string]func() []received {
	return map[string]func() []received{"email": s.mail.all, "slack": s.slack.all, "discord": s.discord.all, "twilio": s.twilio.all, "webhook": s.hook.all}
}

// waitAll waits until every channel has received n notifications.
func (s *alertSinks) waitAll(tb testing.TB, col *collector, n int, within time.Duration) {
	tb.Helper()
	channels := s.channels()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		done := true
		for _, all := range channels {
			done = done && len(all()) >= n
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			counts := map[string]int{}
			for name, all := range channels {
				counts[name] = len(all())
			}
			tb.Fatalf("after %s: deliveries %v, want %d each\n%s", within, counts, n, col.out)
		}
	}
}

// slowest is how long after sent the last channel got its first
// notification.
func (s *alertSinks) slowest(tb testing.TB, sent time.Time) time.Duration {
	latest := time.Duration(0)
	for name, all := range s.channels() {
		took := all()[0].at.Sub(sent)
		tb.Logf("%s notified %s after the failing spans were accepted", name, took.Round(time.Millisecond))
		latest = max(latest, took)
	}
	return latest
}

// TestAlertDeliveredOnEveryChannel drives the whole path through the built
// binary with the default evaluation interval: failing calls over OTLP →
// cost processor → store → the error-rate rule fires → one notification on
// each of email, Slack, Discord, Twilio SMS and a signed webhook (local
// servers), and in-app; calls recover → one resolved notification each.
func TestAlertDeliveredOnEveryChannel(t *testing.T) {
	const key = "nxs_e2e_alerts_key_0123456789abcdefghijklmnop"
	sinks := startAlertSinks(t)
	slack, discord, twilio, hook, mail, secret := sinks.slack, sinks.discord, sinks.twilio, sinks.hook, sinks.mail, sinks.secret
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_KEY=" + key}
	col.start("--config", sinks.configFile(t))

	if code := postJSON(t, col, chatSpans(10, true)); code != http.StatusOK {
		t.Fatalf("failing spans: HTTP %d", code)
	}
	sent := time.Now()
	channels := sinks.channels()
	waitAll := func(n int, within time.Duration) { t.Helper(); sinks.waitAll(t, col, n, within) }
	waitAll(1, 30*time.Second)
	// Ingest → delivery: an error-rate rule is evaluated as its calls are
	// stored (live evaluation), not at the next 10 s tick: the exporter's
	// batching (~0.25 s), a sweep and the evaluation must stay under 2 s.
	latest := sinks.slowest(t, sent)
	if latest > 2*time.Second {
		t.Fatalf("slowest notification after %s, want under 2 s", latest)
	}

	// The calls recover: enough good ones bring the rate under 20 %.
	if code := postJSON(t, col, chatSpans(100, false)); code != http.StatusOK {
		t.Fatalf("good spans: HTTP %d", code)
	}
	waitAll(2, 30*time.Second)
	// One more evaluation round: nothing further is sent.
	time.Sleep(11 * time.Second)
	for name, all := range channels {
		if got := len(all()); got != 2 {
			t.Fatalf("%s received %d notifications, want exactly 2 (firing, resolved)", name, got)
		}
	}

	// What each channel received, in its own format.
	var hooks [2]struct {
		DedupKey, State, Severity, RuleName, RuleID string
		Labels                                      map[string]string
	}
	for i, r := range hook.all() {
		id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(id + "." + ts + "." + string(r.body)))
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.header.Get("webhook-signature") != want {
			t.Fatalf("webhook %d: signature %q, want %q", i, r.header.Get("webhook-signature"), want)
		}
		if err := json.Unmarshal(r.body, &hooks[i]); err != nil {
			t.Fatal(err)
		}
		if id != hooks[i].DedupKey || id == "" {
			t.Fatalf("webhook-id %q is not the dedup key %q", id, hooks[i].DedupKey)
		}
	}
	if hooks[0].State != "firing" || hooks[1].State != "resolved" || hooks[0].RuleID != "checkout-errors" ||
		hooks[0].Severity != "critical" || hooks[0].Labels["service"] != "checkout" || hooks[0].DedupKey == hooks[1].DedupKey {
		t.Fatalf("webhook payloads %+v", hooks)
	}
	for i, want := range []string{`"color":"#d00000"`, `"color":"#2eb886"`} {
		if b := string(slack.all()[i].body); !strings.Contains(b, want) || !strings.Contains(b, "Checkout error rate") {
			t.Fatalf("slack %d: %s", i, b)
		}
	}
	for i, want := range []string{`"color":13631488`, `"color":3061894`} {
		if b := string(discord.all()[i].body); !strings.Contains(b, want) || !strings.Contains(b, `"embeds"`) {
			t.Fatalf("discord %d: %s", i, b)
		}
	}
	for i, want := range []string{"FIRING", "RESOLVED"} {
		r := twilio.all()[i]
		form, err := url.ParseQuery(string(r.body))
		if err != nil {
			t.Fatal(err)
		}
		user, pass, _ := (&http.Request{Header: r.header}).BasicAuth()
		if form.Get("To") != "+15551230001" || form.Get("From") != "+15550001111" || user != "AC00000000000000000000000000000001" ||
			pass != "twilio-secret" || !strings.Contains(strings.ToUpper(form.Get("Body")), want) {
			t.Fatalf("twilio %d: %v (auth %s)", i, form, user)
		}
	}
	for i, want := range []string{"firing", "resolved"} {
		b := string(mail.all()[i].body)
		if !strings.Contains(b, "multipart/alternative") || !strings.Contains(b, "text/html") ||
			!strings.Contains(strings.ToLower(b), want) || !strings.Contains(b, "X-Nexus-Dedup-Key: "+hooks[i].DedupKey) {
			t.Fatalf("email %d:\n%s", i, b)
		}
	}

	// In-app: both events are stored, with every channel delivered.
	var events []struct {
		State      string `json:"state"`
		Deliveries []struct {
			Channel string `json:"channel"`
			Status  string `json:"status"`
		} `json:"deliveries"`
	}
	if code := apiGet(t, col, key, "/api/v1/alerts/events?rule=checkout-errors", &events); code != 200 || len(events) != 2 {
		t.Fatalf("events: HTTP %d %+v", code, events)
	}
	for _, ev := range events {
		sent := map[string]string{}
		for _, d := range ev.Deliveries {
			sent[d.Channel] = d.Status
		}
		for _, ch := range []string{"mail", "slack", "discord", "sms", "hook"} {
			if sent[ch] != "sent" {
				t.Fatalf("event %s: deliveries %+v", ev.State, ev.Deliveries)
			}
		}
	}
}
