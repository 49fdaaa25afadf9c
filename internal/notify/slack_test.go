package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
)

const slackToken = "SLACKSECRETtoken0123456789"

// slackServer records what it is sent and answers with reply.
func slackServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, chan []byte) {
	t.Helper()
	bodies := make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, bodies
}

func slackConfig(srvURL string) ChannelConfig {
	cfg := ChannelConfig{Type: TypeSlack}
	cfg.Slack.WebhookURL = configopaque.String(srvURL + "/services/T0001/B0001/" + slackToken)
	return cfg
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("expected JSON: %v", err)
	}
	return b.String()
}

func TestSlackPayload(t *testing.T) {
	var gotPath, gotType string
	srv, bodies := slackServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotType = r.URL.Path, r.Header.Get("Content-Type")
		_, _ = io.WriteString(w, "ok")
	})
	ch := build(t, slackConfig(srv.URL))
	if err := ch.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	want := compactJSON(t, `{
	  "text": "[CRITICAL] firing: OpenAI spend over budget",
	  "attachments": [{
	    "color": "#d00000",
	    "fallback": "[CRITICAL] firing: OpenAI spend over budget",
	    "title": "OpenAI spend over budget",
	    "title_link": "https://nexus.example.com/events/ev-0001",
	    "text": "Spend today is 12.30 USD, over the &lt;10.00&gt; USD budget &amp; rising.",
	    "fields": [
	      {"title": "Rule", "value": "OpenAI daily spend", "short": true},
	      {"title": "State", "value": "firing", "short": true},
	      {"title": "Severity", "value": "critical", "short": true},
	      {"title": "Value", "value": "12.30 (threshold 10.00)", "short": true},
	      {"title": "Labels", "value": "model=gpt-4o, provider=openai", "short": false}
	    ],
	    "footer": "Nexus",
	    "ts": 1767268800
	  }]
	}`)
	if got := string(<-bodies); got != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	if gotPath != "/services/T0001/B0001/"+slackToken || gotType != "application/json" {
		t.Fatalf("posted to %s as %s", gotPath, gotType)
	}
}

func TestSlackPayloadResolvedMinimal(t *testing.T) {
	n := Notification{EventID: "ev-2", RuleID: "r2", RuleName: "Twilio <balance>", State: StateResolved, Severity: SeverityWarning}
	got, err := marshalJSON(slackPayload(n))
	if err != nil {
		t.Fatal(err)
	}
	// Green whatever the severity, no link, no empty fields, and the rule
	// name escaped so Slack cannot read it as a mention or a link.
	want := compactJSON(t, `{
	  "text": "[WARNING] resolved: Twilio &lt;balance&gt;",
	  "attachments": [{
	    "color": "#2eb886",
	    "fallback": "[WARNING] resolved: Twilio &lt;balance&gt;",
	    "title": "Twilio &lt;balance&gt;",
	    "fields": [
	      {"title": "Rule", "value": "Twilio &lt;balance&gt;", "short": true},
	      {"title": "State", "value": "resolved", "short": true},
	      {"title": "Severity", "value": "warning", "short": true}
	    ],
	    "footer": "Nexus"
	  }]
	}`)
	if string(got) != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
}

func TestSlackErrors(t *testing.T) {
	// Slack's real answers are short codes; this fake also quotes the
	// path it was called on, which holds the token.
	srv, _ := slackServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "B429"):
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case strings.Contains(r.URL.Path, "B500"):
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "rollup_error")
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "no_service: "+r.URL.String())
		}
	})
	for _, tc := range []struct {
		team       string
		permanent  bool
		retryAfter time.Duration
		contains   string
	}{
		{"B404", true, 0, "HTTP 404: no_service"},
		{"B429", false, 7 * time.Second, "HTTP 429"},
		{"B500", false, 0, "HTTP 500: rollup_error"},
	} {
		cfg := ChannelConfig{Type: TypeSlack}
		cfg.Slack.WebhookURL = configopaque.String(srv.URL + "/services/T0001/" + tc.team + "/" + slackToken)
		err := build(t, cfg).Send(context.Background(), sample())
		if err == nil || Permanent(err) != tc.permanent || RetryAfter(err) != tc.retryAfter ||
			!strings.Contains(err.Error(), tc.contains) || !strings.HasPrefix(err.Error(), "send slack notification: ") {
			t.Errorf("%s: error %v (permanent %v, retry after %s)", tc.team, err, Permanent(err), RetryAfter(err))
		}
		if err != nil {
			assertNoSecret(t, tc.team, err.Error(), slackToken)
		}
	}
}

func TestSlackUnreachableKeepsURLOut(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	err := build(t, slackConfig(addr)).Send(context.Background(), sample())
	if err == nil || Permanent(err) {
		t.Fatalf("unreachable: %v, want a retryable error", err)
	}
	assertNoSecret(t, "unreachable", err.Error(), slackToken, "/services/")
}
