package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
)

const discordToken = "DISCORDSECRETtoken-abcdefghijkl"

func discordConfig(srvURL, id string) ChannelConfig {
	cfg := ChannelConfig{Type: TypeDiscord}
	cfg.Discord.WebhookURL = configopaque.String(srvURL + "/api/webhooks/" + id + "/" + discordToken)
	return cfg
}

func TestDiscordPayload(t *testing.T) {
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/api/webhooks/111/"+discordToken || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("posted to %s as %s", r.URL.Path, r.Header.Get("Content-Type"))
		}
		bodies <- b
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	if err := build(t, discordConfig(srv.URL, "111")).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	want := compactJSON(t, `{
	  "content": "[CRITICAL] firing: OpenAI spend over budget",
	  "embeds": [{
	    "title": "OpenAI spend over budget",
	    "description": "Spend today is 12.30 USD, over the <10.00> USD budget & rising.",
	    "url": "https://nexus.example.com/events/ev-0001",
	    "color": 13631488,
	    "fields": [
	      {"name": "Rule", "value": "OpenAI daily spend", "inline": true},
	      {"name": "State", "value": "firing", "inline": true},
	      {"name": "Severity", "value": "critical", "inline": true},
	      {"name": "Value", "value": "12.30 (threshold 10.00)", "inline": true},
	      {"name": "Labels", "value": "model=gpt-4o, provider=openai", "inline": false}
	    ],
	    "timestamp": "2026-01-01T12:00:00Z",
	    "footer": {"text": "Nexus"}
	  }],
	  "allowed_mentions": {"parse": []}
	}`)
	if got := string(<-bodies); got != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
}

func TestDiscordColors(t *testing.T) {
	for _, tc := range []struct {
		state, severity string
		want            int
	}{
		{StateFiring, SeverityCritical, 0xd00000},
		{StateFiring, SeverityWarning, 0xf2c744},
		{StateFiring, SeverityInfo, 0x439fe0},
		{StateResolved, SeverityCritical, 0x2eb886},
	} {
		p := discordPayload(Notification{State: tc.state, Severity: tc.severity, Title: "t"})
		if p.Embeds[0].Color != tc.want {
			t.Errorf("%s/%s: color %#x, want %#x", tc.state, tc.severity, p.Embeds[0].Color, tc.want)
		}
	}
	// Discord refuses over-long embeds instead of cutting them.
	p := discordPayload(Notification{Title: strings.Repeat("t", 300), Message: strings.Repeat("m", 5000)})
	if n := len([]rune(p.Embeds[0].Title)); n != 256 {
		t.Errorf("title of %d characters", n)
	}
	if n := len([]rune(p.Embeds[0].Description)); n != 4096 {
		t.Errorf("description of %d characters", n)
	}
}

func TestDiscordErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/429/"):
			// Discord's header is whole seconds; the JSON is precise and wins.
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`)
		case strings.Contains(r.URL.Path, "/503/"):
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"message": "Invalid Webhook Token for `+r.URL.Path+`", "code": 50027}`)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		id         string
		permanent  bool
		retryAfter time.Duration
		contains   string
	}{
		{"429", false, 1500 * time.Millisecond, "HTTP 429: You are being rate limited."},
		{"503", false, 0, "HTTP 503"},
		{"401", true, 0, "HTTP 401: discord error 50027: Invalid Webhook Token"},
	} {
		err := build(t, discordConfig(srv.URL, tc.id)).Send(context.Background(), sample())
		if err == nil || Permanent(err) != tc.permanent || RetryAfter(err) != tc.retryAfter ||
			!strings.Contains(err.Error(), tc.contains) || !strings.HasPrefix(err.Error(), "send discord notification: ") {
			t.Errorf("%s: error %v (permanent %v, retry after %s)", tc.id, err, Permanent(err), RetryAfter(err))
		}
		if err != nil {
			assertNoSecret(t, tc.id, err.Error(), discordToken)
		}
	}
}
