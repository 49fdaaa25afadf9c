package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/twilio"
)

const (
	twilioToken     = "TWILIOSECRETauthtoken0001"
	twilioKeySecret = "TWILIOSECRETapikey0002"
)

type twilioRequest struct {
	path       string
	user, pass string
	form       url.Values
}

// twilioFake answers Messages.json: 201 for most numbers, an error for the
// ones in fail (status, or -status for a failure only on the first try).
type twilioFake struct {
	mu       sync.Mutex
	requests []twilioRequest
	fail     map[string]int
	tries    map[string]int
}

func newTwilioFake(t *testing.T, fail map[string]int) (*twilioFake, *httptest.Server) {
	f := &twilioFake{fail: fail, tries: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		user, pass, _ := r.BasicAuth()
		to := form.Get("To")
		f.mu.Lock()
		f.requests = append(f.requests, twilioRequest{r.URL.Path, user, pass, form})
		f.tries[to]++
		try := f.tries[to]
		status := f.fail[to]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status < 0 && try == 1 {
			status = -status
		}
		switch {
		case status == 400:
			w.WriteHeader(400)
			_, _ = fmt.Fprintf(w, `{"code": 21211, "message": "The 'To' number %s is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`, to)
		case status == 401:
			// A fake that quotes the credentials it was sent.
			w.WriteHeader(401)
			_, _ = fmt.Fprintf(w, `{"code": 20003, "message": "Authenticate: %s:%s rejected", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`, user, pass)
		case status >= 500:
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"code": 20500, "message": "Internal Server Error", "status": 500}`)
		default:
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"sid": "SM123", "status": "queued"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *twilioFake) all() []twilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioRequest(nil), f.requests...)
}

func twilioConfig(endpoint string, to ...string) ChannelConfig {
	cfg := ChannelConfig{Type: TypeTwilio}
	cfg.Twilio.Endpoint = endpoint
	cfg.Twilio.AccountSID = "AC0123"
	cfg.Twilio.AuthToken = twilioToken
	cfg.Twilio.From = "+15550001111"
	cfg.Twilio.To = to
	return cfg
}

func TestTwilioSendsOneMessagePerNumber(t *testing.T) {
	f, srv := newTwilioFake(t, nil)
	ch := build(t, twilioConfig(srv.URL, "+15551230001", "+4915112345678"))
	if err := ch.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	reqs := f.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want one per number", len(reqs))
	}
	wantBody := "CRITICAL firing: OpenAI daily spend - value 12.30, threshold 10.00 https://nexus.example.com/events/ev-0001"
	for i, to := range []string{"+15551230001", "+4915112345678"} {
		r := reqs[i]
		want := url.Values{"To": {to}, "From": {"+15550001111"}, "Body": {wantBody}}
		if r.path != "/2010-04-01/Accounts/AC0123/Messages.json" || r.user != "AC0123" || r.pass != twilioToken ||
			r.form.Encode() != want.Encode() {
			t.Errorf("request %d: %+v", i, r)
		}
	}
}

func TestTwilioAPIKeyAndMessagingService(t *testing.T) {
	f, srv := newTwilioFake(t, nil)
	cfg := twilioConfig(srv.URL+"/", "+15551230001")
	cfg.Twilio.AuthToken = ""
	cfg.Twilio.APIKeySID, cfg.Twilio.APIKeySecret = "SK0042", twilioKeySecret
	cfg.Twilio.From, cfg.Twilio.MessagingServiceSID = "", "MG0007"
	if err := build(t, cfg).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	r := f.all()[0]
	if r.path != "/2010-04-01/Accounts/AC0123/Messages.json" || r.user != "SK0042" || r.pass != twilioKeySecret ||
		r.form.Get("MessagingServiceSid") != "MG0007" || r.form.Has("From") {
		t.Fatalf("request: %+v", r)
	}
}

func TestTwilioDefaultEndpoint(t *testing.T) {
	c := newTwilio(TwilioConfig{AccountSID: "AC1", AuthToken: "t"}, http.DefaultClient)
	if c.url != twilio.BaseURL+"/2010-04-01/Accounts/AC1/Messages.json" || !strings.HasPrefix(c.url, "https://api.twilio.com/") {
		t.Fatalf("url %s", c.url)
	}
}

func TestTwilioErrors(t *testing.T) {
	f, srv := newTwilioFake(t, map[string]int{"+15550000400": 400, "+15550000401": 401, "+15550000503": -503})

	err := build(t, twilioConfig(srv.URL, "+15550000400")).Send(context.Background(), sample())
	if err == nil || !Permanent(err) || !strings.Contains(err.Error(),
		"send twilio sms: to +15550000400: HTTP 400: twilio error 21211: The 'To' number +15550000400 is not a valid phone number. (https://www.twilio.com/docs/errors/21211)") {
		t.Fatalf("invalid number: %v", err)
	}

	err = build(t, twilioConfig(srv.URL, "+15550000401")).Send(context.Background(), sample())
	if err == nil || !Permanent(err) || !strings.Contains(err.Error(), "twilio error 20003") {
		t.Fatalf("bad credentials: %v", err)
	}
	assertNoSecret(t, "bad credentials", err.Error(), twilioToken)

	// One number fails for a moment: the others are texted, the error is
	// retryable, and the retry texts only the number that missed out.
	ch := build(t, twilioConfig(srv.URL, "+15551230001", "+15550000503", "+15550000400"))
	err = ch.Send(context.Background(), sample())
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("partial failure: %v (permanent %v)", err, Permanent(err))
	}
	before := len(f.all())
	err = ch.Send(context.Background(), sample())
	if err == nil || !Permanent(err) {
		t.Fatalf("retry: %v, want only the permanent failure left", err)
	}
	var again []string
	for _, r := range f.all()[before:] {
		again = append(again, r.form.Get("To"))
	}
	if strings.Join(again, ",") != "+15550000503,+15550000400" {
		t.Fatalf("the retry texted %v", again)
	}
}

func TestSMSBody(t *testing.T) {
	n := sample()
	n.State, n.Link = StateResolved, ""
	if got := smsBody(n); got != "CRITICAL resolved: OpenAI daily spend - value 12.30, threshold 10.00" {
		t.Errorf("resolved: %q", got)
	}
	n.RuleName = strings.Repeat("r", 400)
	if got := smsBody(n); len(got) != 320 || !strings.HasSuffix(got, "...") {
		t.Errorf("long: %d characters", len(got))
	}
	n = sample()
	n.Link = "https://nexus.example.com/" + strings.Repeat("x", 300)
	if got := smsBody(n); strings.Contains(got, "https://") {
		t.Errorf("a link that does not fit is left out: %q", got)
	}
}
