package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
)

// DiscordConfig posts to a Discord channel webhook. The HTTP client
// settings (timeout, tls, proxy_url, headers) sit beside webhook_url;
// endpoint is not used.
type DiscordConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	// WebhookURL is https://discord.com/api/webhooks/{id}/{token}; the
	// token makes it a secret.
	WebhookURL configopaque.String `mapstructure:"webhook_url"`
}

func (c *DiscordConfig) validate() error {
	var errs []error
	switch {
	case c.WebhookURL == "":
		errs = append(errs, errors.New("discord.webhook_url: required"))
	case checkURL(string(c.WebhookURL)) != nil:
		errs = append(errs, errors.New("discord.webhook_url: must be an http(s) URL"))
	}
	if c.Endpoint != "" {
		errs = append(errs, errors.New("discord.endpoint: not used; set discord.webhook_url"))
	}
	return errors.Join(errs...)
}

type discordChannel struct {
	client *http.Client
	url    string
	redact redactor
}

func newDiscord(c DiscordConfig, client *http.Client) *discordChannel {
	return &discordChannel{client: client, url: string(c.WebhookURL), redact: newRedactor(urlSecrets(string(c.WebhookURL))...)}
}

func (c *discordChannel) secrets() redactor { return c.redact }

// Send executes the webhook once. Discord answers 204 (200 with ?wait=true);
// a 429 says in its JSON how many seconds to wait, more precisely than the
// Retry-After header.
func (c *discordChannel) Send(ctx context.Context, n Notification) error {
	body, err := marshalJSON(discordPayload(n))
	if err != nil {
		return permanent(fmt.Errorf("send discord notification: encode: %w", err))
	}
	req, err := newPost(ctx, c.url, "application/json", body)
	if err != nil {
		return fmt.Errorf("send discord notification: %w", err)
	}
	resp, err := do(c.client, req)
	if err != nil {
		return c.redact.error(fmt.Errorf("send discord notification: %w", err))
	}
	if resp.ok() {
		return nil
	}
	var de struct {
		Message    string   `json:"message"`
		Code       int      `json:"code"`
		RetryAfter *float64 `json:"retry_after"`
	}
	detail := snippet(resp.body)
	if json.Unmarshal(resp.body, &de) == nil && de.Message != "" {
		detail = truncate(de.Message, 200)
		if de.Code != 0 {
			detail = "discord error " + strconv.Itoa(de.Code) + ": " + detail
		}
	}
	se := statusError(resp.status, resp.header, detail)
	if !se.Permanent && de.RetryAfter != nil && *de.RetryAfter > 0 {
		se.RetryAfter = time.Duration(*de.RetryAfter * float64(time.Second))
	}
	return c.redact.error(fmt.Errorf("send discord notification: %w", se))
}

type discordMessage struct {
	Content         string                 `json:"content"`
	Embeds          []discordEmbed         `json:"embeds"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Footer      discordFooter  `json:"footer"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

// discordAllowedMentions with an empty parse list turns every mention off:
// a rule or label containing "@everyone" must not page a whole server.
type discordAllowedMentions struct {
	Parse []string `json:"parse"`
}

// discordPayload fits Discord's limits (content 2000, title 256,
// description 4096, field value 1024 characters), which it answers with a
// 400 rather than cutting itself.
func discordPayload(n Notification) discordMessage {
	e := discordEmbed{
		Title:       truncate(title(n), 256),
		Description: truncate(n.Message, 4096),
		URL:         n.Link,
		Color:       color(n),
		Footer:      discordFooter{Text: "Nexus"},
	}
	if !n.At.IsZero() {
		e.Timestamp = n.At.UTC().Format(time.RFC3339)
	}
	add := func(name, value string, inline bool) {
		if value != "" {
			e.Fields = append(e.Fields, discordField{Name: name, Value: truncate(value, 1024), Inline: inline})
		}
	}
	add("Rule", ruleText(n), true)
	add("State", n.State, true)
	add("Severity", n.Severity, true)
	add("Value", valueText(n), true)
	add("Labels", strings.Join(labelPairs(n), ", "), false)
	return discordMessage{
		Content:         truncate(headline(n), 2000),
		Embeds:          []discordEmbed{e},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
}
