package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/twilio"
)

// TwilioConfig sends SMS through Twilio's Messages API. endpoint (from the
// HTTP client settings) is the API root, https://api.twilio.com when empty.
type TwilioConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	AccountSID              string              `mapstructure:"account_sid"`
	AuthToken               configopaque.String `mapstructure:"auth_token"`
	// APIKeySID and APIKeySecret, when set, authenticate in place of the
	// auth token: a key can be revoked without rotating the account's token.
	APIKeySID    string              `mapstructure:"api_key_sid"`
	APIKeySecret configopaque.String `mapstructure:"api_key_secret"`
	// From is the sending number; MessagingServiceSID (MG…) lets Twilio
	// pick one from a pool instead. One of them is required.
	From                string   `mapstructure:"from"`
	MessagingServiceSID string   `mapstructure:"messaging_service_sid"`
	To                  []string `mapstructure:"to"`
}

// e164 is the number format Twilio requires for To.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (c *TwilioConfig) validate() error {
	var errs []error
	if c.AccountSID == "" {
		errs = append(errs, errors.New("twilio.account_sid: required"))
	}
	if c.AuthToken == "" && (c.APIKeySID == "" || c.APIKeySecret == "") {
		errs = append(errs, errors.New("twilio.auth_token: required (or set api_key_sid and api_key_secret)"))
	}
	if (c.APIKeySID == "") != (c.APIKeySecret == "") {
		errs = append(errs, errors.New("twilio.api_key_secret: api_key_sid and api_key_secret go together"))
	}
	if c.From == "" && c.MessagingServiceSID == "" {
		errs = append(errs, errors.New("twilio.from: required (or set messaging_service_sid)"))
	}
	if len(c.To) == 0 {
		errs = append(errs, errors.New("twilio.to: at least one number"))
	}
	for i, to := range c.To {
		if !e164.MatchString(to) {
			errs = append(errs, fmt.Errorf("twilio.to[%d]: %q is not an E.164 number (+15551234567)", i, to))
		}
	}
	if err := checkURL(c.Endpoint); c.Endpoint != "" && err != nil {
		errs = append(errs, fmt.Errorf("twilio.endpoint: %q %w", c.Endpoint, err))
	}
	return errors.Join(errs...)
}

type twilioChannel struct {
	client   *http.Client
	url      string // the account's Messages.json
	user     string
	password string
	from     string
	service  string
	to       []string
	redact   redactor

	// sent remembers which numbers already got a notification, so that a
	// retry after a partial failure does not text the others twice.
	mu   sync.Mutex
	sent map[string]struct{}
	fifo []string
}

// twilioSentMemory bounds the sent set; older entries belong to deliveries
// long finished.
const twilioSentMemory = 4096

func newTwilio(c TwilioConfig, client *http.Client) *twilioChannel {
	base := c.Endpoint
	if base == "" {
		// internal/providers/twilio is where Twilio's public API root is kept.
		base = twilio.BaseURL
	}
	user, password := c.AccountSID, string(c.AuthToken)
	if c.APIKeySID != "" && c.APIKeySecret != "" {
		user, password = c.APIKeySID, string(c.APIKeySecret)
	}
	return &twilioChannel{
		client:   client,
		url:      strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSID) + "/Messages.json",
		user:     user,
		password: password,
		from:     c.From,
		service:  c.MessagingServiceSID,
		to:       c.To,
		redact:   newRedactor(string(c.AuthToken), string(c.APIKeySecret)),
		sent:     map[string]struct{}{},
	}
}

func (c *twilioChannel) secrets() redactor { return c.redact }

// Send texts every configured number, one message each, and goes on past a
// failed number so that one bad number does not silence the rest. The
// result is retryable if any failure is, so a retry reaches the numbers a
// transient error missed; those already texted are skipped.
func (c *twilioChannel) Send(ctx context.Context, n Notification) error {
	body := smsBody(n)
	// Keyed by event, not dedup key: the set is about this process's own
	// retries, and must not swallow a later event that shares a dedup key.
	id := n.EventID
	if id == "" {
		id = n.DedupKey
	}
	var errs []error
	allPermanent := true
	for _, to := range c.to {
		key := id + "\x00" + to
		if id != "" && c.wasSent(key) {
			continue
		}
		if err := c.sendOne(ctx, to, body); err != nil {
			errs = append(errs, fmt.Errorf("to %s: %w", to, err))
			allPermanent = allPermanent && Permanent(err)
			continue
		}
		if id != "" {
			c.markSent(key)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	err := fmt.Errorf("send twilio sms: %w", errors.Join(errs...))
	if !allPermanent {
		// Joined, a permanent error for one number would decide for all;
		// what counts is that some number can still be reached. The longest
		// delay any answer asked for is honoured.
		se := &SendError{Err: err}
		for _, e := range errs {
			se.RetryAfter = max(se.RetryAfter, RetryAfter(e))
		}
		err = se
	}
	return c.redact.error(err)
}

func (c *twilioChannel) sendOne(ctx context.Context, to, body string) error {
	form := url.Values{"To": {to}, "Body": {body}}
	if c.service != "" {
		form.Set("MessagingServiceSid", c.service)
	} else {
		form.Set("From", c.from)
	}
	req, err := newPost(ctx, c.url, "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.user, c.password)
	resp, err := do(c.client, req)
	if err != nil {
		return err
	}
	if resp.ok() {
		return nil
	}
	// Twilio's error JSON: {"code":21211,"message":"...","more_info":"...","status":400}.
	var te struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	detail := snippet(resp.body)
	if json.Unmarshal(resp.body, &te) == nil && (te.Code != 0 || te.Message != "") {
		detail = "twilio error " + strconv.Itoa(te.Code) + ": " + truncate(te.Message, 200)
		if te.MoreInfo != "" {
			detail += " (" + te.MoreInfo + ")"
		}
	}
	return statusError(resp.status, resp.header, detail)
}

func (c *twilioChannel) wasSent(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.sent[key]
	return ok
}

func (c *twilioChannel) markSent(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sent[key]; ok {
		return
	}
	c.sent[key] = struct{}{}
	c.fifo = append(c.fifo, key)
	if len(c.fifo) > twilioSentMemory {
		delete(c.sent, c.fifo[0])
		c.fifo = c.fifo[1:]
	}
}

// smsMaxLen keeps a text to two concatenated GSM-7 segments (2 × 153 plus
// headroom is cut at 320): longer texts cost more and arrive out of order.
const smsMaxLen = 320

// smsBody is the short text: severity, state, rule, value and threshold,
// and the link when it fits. It sticks to ASCII punctuation because one
// character outside GSM-7 (an em dash, a curly quote) switches the whole
// text to UCS-2 and more than halves what a segment holds.
func smsBody(n Notification) string {
	name := ruleText(n)
	if name == "" {
		name = title(n)
	}
	s := severityTag(n) + " " + n.State + ": " + name
	if n.Value != "" {
		s += " - value " + n.Value
		if n.Threshold != "" {
			s += ", threshold " + n.Threshold
		}
	}
	if n.Link != "" && len([]rune(s))+1+len([]rune(n.Link)) <= smsMaxLen {
		s += " " + n.Link
	}
	return truncate(s, smsMaxLen)
}
