package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// Channel types.
const (
	TypeEmail   = "email"
	TypeSlack   = "slack"
	TypeDiscord = "discord"
	TypeTwilio  = "twilio"
	TypeWebhook = "webhook"
	// TypeInApp needs no channel: the API stores and streams every event.
	TypeInApp = "inapp"
)

// ChannelConfig configures one named channel: its type, and the block of
// that type. Blocks of other types are ignored.
//
//	ops-mail:
//	  type: email
//	  email: {host: smtp.example.com, from: nexus@example.com, to: [ops@example.com], …}
type ChannelConfig struct {
	// Type is email, slack, discord, twilio, webhook or inapp.
	Type    string        `mapstructure:"type"`
	Email   EmailConfig   `mapstructure:"email"`
	Slack   SlackConfig   `mapstructure:"slack"`
	Discord DiscordConfig `mapstructure:"discord"`
	Twilio  TwilioConfig  `mapstructure:"twilio"`
	Webhook WebhookConfig `mapstructure:"webhook"`
}

// Validate checks the channel's configuration; errors name the key.
func (c *ChannelConfig) Validate() error {
	switch c.Type {
	case TypeEmail:
		return c.Email.validate()
	case TypeSlack:
		return c.Slack.validate()
	case TypeDiscord:
		return c.Discord.validate()
	case TypeTwilio:
		return c.Twilio.validate()
	case TypeWebhook:
		return c.Webhook.validate()
	case TypeInApp:
		return nil
	case "":
		return errors.New("type: required (email, slack, discord, twilio, webhook or inapp)")
	}
	return fmt.Errorf("type: must be email, slack, discord, twilio, webhook or inapp, got %q", c.Type)
}

// checkURL reports whether s is an absolute http(s) URL. Its error never
// quotes s, which may be a credential.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http(s) URL")
	}
	return nil
}

// Build makes the channels of a config, by name. The inapp type needs no
// channel here (the API stores and streams every event) and is left out.
//
// There is no host here, so a block that names an auth extension or HTTP
// middleware fails; BuildWithHost serves those.
func Build(channels map[string]ChannelConfig, set component.TelemetrySettings) (map[string]Channel, error) {
	return BuildWithHost(context.Background(), channels, nil, set)
}

// BuildWithHost is Build with the collector host, whose extensions the
// HTTP channels may use for auth and middleware; host may be nil.
func BuildWithHost(ctx context.Context, channels map[string]ChannelConfig, host component.Host, set component.TelemetrySettings) (map[string]Channel, error) {
	if set.Logger == nil {
		// confighttp logs deprecation warnings through it.
		set.Logger = zap.NewNop()
	}
	names := make([]string, 0, len(channels))
	for name := range channels {
		names = append(names, name)
	}
	sort.Strings(names) // the first error reported is the same every run
	out := make(map[string]Channel, len(channels))
	for _, name := range names {
		cfg := channels[name]
		ch, err := buildOne(ctx, cfg, host, set)
		if err != nil {
			return nil, fmt.Errorf("build notification channel %q: %w", name, err)
		}
		if ch != nil {
			out[name] = ch
		}
	}
	return out, nil
}

func buildOne(ctx context.Context, cfg ChannelConfig, host component.Host, set component.TelemetrySettings) (Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Type {
	case TypeEmail:
		return newEmail(ctx, cfg.Email)
	case TypeSlack:
		hc, err := newHTTPClient(ctx, cfg.Slack.ClientConfig, host, set)
		if err != nil {
			return nil, fmt.Errorf("slack: http client: %w", err)
		}
		return newSlack(cfg.Slack, hc), nil
	case TypeDiscord:
		hc, err := newHTTPClient(ctx, cfg.Discord.ClientConfig, host, set)
		if err != nil {
			return nil, fmt.Errorf("discord: http client: %w", err)
		}
		return newDiscord(cfg.Discord, hc), nil
	case TypeTwilio:
		hc, err := newHTTPClient(ctx, cfg.Twilio.ClientConfig, host, set)
		if err != nil {
			return nil, fmt.Errorf("twilio: http client: %w", err)
		}
		return newTwilio(cfg.Twilio, hc), nil
	case TypeWebhook:
		hc, err := newHTTPClient(ctx, cfg.Webhook.ClientConfig, host, set)
		if err != nil {
			return nil, fmt.Errorf("webhook: http client: %w", err)
		}
		return newWebhook(cfg.Webhook, hc)
	}
	return nil, nil // inapp
}
