package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
)

// WebhookConfig posts the notification as JSON to any HTTP endpoint,
// signed the Standard Webhooks way. endpoint is the URL; headers adds
// headers of its own to every request.
type WebhookConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	// Secret signs each request: "whsec_" followed by base64 (the key is
	// the decoded bytes, as Standard Webhooks libraries expect), or any
	// other string, used as the key as it is. Empty sends no signature.
	Secret configopaque.String `mapstructure:"secret"`
}

// whsecPrefix marks a Standard Webhooks secret, whose key is base64 after it.
const whsecPrefix = "whsec_"

func (c *WebhookConfig) validate() error {
	var errs []error
	switch {
	case c.Endpoint == "":
		errs = append(errs, errors.New("webhook.endpoint: required"))
	case checkURL(c.Endpoint) != nil:
		errs = append(errs, errors.New("webhook.endpoint: must be an http(s) URL"))
	}
	if _, err := webhookKey(string(c.Secret)); err != nil {
		errs = append(errs, fmt.Errorf("webhook.secret: %w", err))
	}
	return errors.Join(errs...)
}

// webhookKey is the HMAC key of a configured secret.
func webhookKey(secret string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(secret, whsecPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) == 0 {
			// The decoder's message would quote the secret's bytes.
			return nil, errors.New("the part after whsec_ is not valid base64")
		}
		return key, nil
	}
	return []byte(secret), nil
}

// Standard Webhooks headers.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookPayload is the JSON body of a generic webhook. Its field names are
// a stable contract: fields are added, never renamed or removed. Every
// field is always present; a time that is not known is null and a link
// that is not configured is "".
type WebhookPayload struct {
	DedupKey  string            `json:"dedupKey"`
	EventID   string            `json:"eventId"`
	RuleID    string            `json:"ruleId"`
	RuleName  string            `json:"ruleName"`
	State     string            `json:"state"`
	Severity  string            `json:"severity"`
	Title     string            `json:"title"`
	Message   string            `json:"message"`
	Labels    map[string]string `json:"labels"`
	Value     string            `json:"value"`
	Threshold string            `json:"threshold"`
	StartsAt  *string           `json:"startsAt"` // RFC 3339, UTC
	At        *string           `json:"at"`       // RFC 3339, UTC
	Link      string            `json:"link"`
}

// NewWebhookPayload is the body a webhook channel sends for n.
func NewWebhookPayload(n Notification) WebhookPayload {
	labels := n.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	ts := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		s := t.UTC().Format(time.RFC3339Nano)
		return &s
	}
	return WebhookPayload{
		DedupKey: n.DedupKey, EventID: n.EventID, RuleID: n.RuleID, RuleName: n.RuleName,
		State: n.State, Severity: n.Severity, Title: n.Title, Message: n.Message, Labels: labels,
		Value: n.Value, Threshold: n.Threshold, StartsAt: ts(n.StartsAt), At: ts(n.At), Link: n.Link,
	}
}

type webhookChannel struct {
	client *http.Client
	url    string
	key    []byte // nil: unsigned
	redact redactor
	now    func() time.Time
}

func newWebhook(c WebhookConfig, client *http.Client) (*webhookChannel, error) {
	key, err := webhookKey(string(c.Secret))
	if err != nil {
		return nil, fmt.Errorf("webhook.secret: %w", err)
	}
	if len(key) == 0 {
		key = nil
	}
	secrets := append(urlSecrets(c.Endpoint), string(c.Secret), strings.TrimPrefix(string(c.Secret), whsecPrefix))
	return &webhookChannel{client: client, url: c.Endpoint, key: key, redact: newRedactor(secrets...), now: time.Now}, nil
}

func (c *webhookChannel) secrets() redactor { return c.redact }

// WebhookID is the webhook-id a notification is sent with: its dedup key,
// or its event id when it has none. Standard Webhooks receivers drop a
// message whose id they have seen; the dedup key is the same on every
// retry and on every collector that announces the same state change, so
// one receiver acts once however many copies arrive.
func WebhookID(n Notification) string {
	if n.DedupKey != "" {
		return n.DedupKey
	}
	return n.EventID
}

// SignWebhook is the webhook-signature value for one request:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func SignWebhook(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send posts once. The timestamp is the attempt's own, so that a retry is
// not refused as a replay by receivers that bound the clock skew they
// accept (five minutes is usual); the id stays the same.
func (c *webhookChannel) Send(ctx context.Context, n Notification) error {
	body, err := marshalJSON(NewWebhookPayload(n))
	if err != nil {
		return permanent(fmt.Errorf("send webhook notification: encode: %w", err))
	}
	req, err := newPost(ctx, c.url, "application/json", body)
	if err != nil {
		return fmt.Errorf("send webhook notification: %w", err)
	}
	id := WebhookID(n)
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, ts)
	if c.key != nil {
		req.Header.Set(HeaderWebhookSignature, SignWebhook(c.key, id, ts, body))
	}
	resp, err := do(c.client, req)
	if err != nil {
		return c.redact.error(fmt.Errorf("send webhook notification: %w", err))
	}
	if !resp.ok() {
		return c.redact.error(fmt.Errorf("send webhook notification: %w", statusError(resp.status, resp.header, snippet(resp.body))))
	}
	return nil
}
