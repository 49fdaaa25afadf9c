package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
)

// SlackConfig posts to a Slack incoming webhook. The HTTP client settings
// (timeout, tls, proxy_url, headers) sit beside webhook_url; endpoint is
// not used.
type SlackConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	// WebhookURL is the incoming webhook's URL. Whoever has it can post
	// to the channel, so it is a secret.
	WebhookURL configopaque.String `mapstructure:"webhook_url"`
}

// validate is not Validate: confmap.Validate would call it a second time
// and report its errors under the block's path as well as the channel's.
func (c *SlackConfig) validate() error {
	var errs []error
	switch {
	case c.WebhookURL == "":
		errs = append(errs, errors.New("slack.webhook_url: required"))
	case checkURL(string(c.WebhookURL)) != nil:
		// The URL is the credential: it is not quoted back.
		errs = append(errs, errors.New("slack.webhook_url: must be an http(s) URL"))
	}
	if c.Endpoint != "" {
		errs = append(errs, errors.New("slack.endpoint: not used; set slack.webhook_url"))
	}
	return errors.Join(errs...)
}

type slackChannel struct {
	client *http.Client
	url    string
	redact redactor
}

func newSlack(c SlackConfig, client *http.Client) *slackChannel {
	return &slackChannel{client: client, url: string(c.WebhookURL), redact: newRedactor(urlSecrets(string(c.WebhookURL))...)}
}

func (c *slackChannel) secrets() redactor { return c.redact }

// Send posts one message. Slack answers 200 "ok", or a status with a short
// reason in the body (invalid_payload, no_service, channel_is_archived).
func (c *slackChannel) Send(ctx context.Context, n Notification) error {
	body, err := marshalJSON(slackPayload(n))
	if err != nil {
		return permanent(fmt.Errorf("send slack notification: encode: %w", err))
	}
	req, err := newPost(ctx, c.url, "application/json", body)
	if err != nil {
		return fmt.Errorf("send slack notification: %w", err)
	}
	resp, err := do(c.client, req)
	if err != nil {
		return c.redact.error(fmt.Errorf("send slack notification: %w", err))
	}
	if !resp.ok() {
		return c.redact.error(fmt.Errorf("send slack notification: %w", statusError(resp.status, resp.header, snippet(resp.body))))
	}
	return nil
}

type slackMessage struct {
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color     string       `json:"color"`
	Fallback  string       `json:"fallback"`
	Title     string       `json:"title"`
	TitleLink string       `json:"title_link,omitempty"`
	Text      string       `json:"text,omitempty"`
	Fields    []slackField `json:"fields,omitempty"`
	Footer    string       `json:"footer"`
	Ts        int64        `json:"ts,omitempty"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackPayload is Slack's native message: the top-level text is what
// notifications and clients without attachments show; the attachment
// carries the severity color, the link and the facts as fields.
func slackPayload(n Notification) slackMessage {
	head := slackEscape(headline(n))
	a := slackAttachment{
		Color:     fmt.Sprintf("#%06x", color(n)),
		Fallback:  head,
		Title:     slackEscape(title(n)),
		TitleLink: n.Link,
		Text:      slackEscape(n.Message),
		Footer:    "Nexus",
	}
	if !n.At.IsZero() {
		a.Ts = n.At.Unix()
	}
	add := func(name, value string, short bool) {
		if value != "" {
			a.Fields = append(a.Fields, slackField{Title: name, Value: slackEscape(value), Short: short})
		}
	}
	add("Rule", ruleText(n), true)
	add("State", n.State, true)
	add("Severity", n.Severity, true)
	add("Value", valueText(n), true)
	add("Labels", strings.Join(labelPairs(n), ", "), false)
	return slackMessage{Text: head, Attachments: []slackAttachment{a}}
}

// slackEscape escapes the three characters Slack gives meaning to, so that
// a rule name like "<!channel>" is shown and not acted on.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// marshalJSON encodes without HTML escaping: the payloads are read by
// chat services, not embedded in pages, and "\u003c" in place of "<"
// would only make them harder to read.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
