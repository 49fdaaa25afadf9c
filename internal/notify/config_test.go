package notify

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// testConfig is how a component embeds the channels.
type testConfig struct {
	Channels map[string]ChannelConfig `mapstructure:"channels"`
}

func loadTestConfig(t *testing.T, name string) (*testConfig, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &testConfig{}
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigChannels(t *testing.T) {
	cfg, err := loadTestConfig(t, "all")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Channels
	if e := c["ops-mail"].Email; e.Host != "smtp.example.com" || e.Port != 587 || len(e.To) != 2 || e.SubjectPrefix != "[Nexus]" ||
		e.Password != "smtp-password" {
		t.Errorf("email: %+v", e)
	}
	if s := c["ops-slack"].Slack; s.Timeout != 5*time.Second || !strings.HasPrefix(string(s.WebhookURL), "https://hooks.slack.com/") {
		t.Errorf("slack: %+v", s)
	}
	if tw := c["oncall-sms"].Twilio; tw.AccountSID != "AC0123456789abcdef0123456789abcdef" || len(tw.To) != 2 || tw.From != "+15550001111" {
		t.Errorf("twilio: %+v", tw)
	}
	if v, ok := c["pager"].Webhook.Headers.Get("X-Team"); !ok || v != "payments" {
		t.Errorf("webhook headers: %+v", c["pager"].Webhook.Headers)
	}
	// Secrets stay opaque when a config is printed.
	if s := c["ops-slack"].Slack.WebhookURL.String(); strings.Contains(s, "XXXX") {
		t.Errorf("webhook_url prints as %q", s)
	}

	chs, err := Build(c, componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{
		"ops-mail": &emailChannel{}, "ops-slack": &slackChannel{}, "ops-discord": &discordChannel{},
		"oncall-sms": &twilioChannel{}, "pager": &webhookChannel{},
	} {
		got, ok := chs[name]
		if !ok || reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%s: built %T", name, got)
		}
	}
	if _, ok := chs["console"]; ok || len(chs) != 5 {
		t.Errorf("built %d channels, want all but the inapp one", len(chs))
	}
	if ch := chs["ops-slack"].(*slackChannel); ch.client.Timeout != 5*time.Second {
		t.Errorf("slack timeout %s", ch.client.Timeout)
	}
	if ch := chs["ops-discord"].(*discordChannel); ch.client.Timeout != DefaultHTTPTimeout {
		t.Errorf("default timeout %s", ch.client.Timeout)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for name, want := range map[string]string{
		"no_type":                  "channels::x: type: required",
		"unknown_type":             `channels::x: type: must be email, slack, discord, twilio, webhook or inapp, got "pagerduty"`,
		"email_without_to":         "channels::mail: email.to: at least one address",
		"email_plain_remote":       "channels::mail: email.tls: none is only allowed for localhost or 127.0.0.1",
		"email_bad_tls":            `channels::mail: email.tls: must be starttls, implicit or none, got "ssl"`,
		"slack_without_url":        "channels::chat: slack.webhook_url: required",
		"slack_bad_url":            "channels::chat: slack.webhook_url: must be an http(s) URL",
		"discord_without_url":      "channels::chat: discord.webhook_url: required",
		"twilio_without_token":     "channels::sms: twilio.auth_token: required",
		"twilio_bad_number":        `channels::sms: twilio.to[1]: "555-1234" is not an E.164 number`,
		"twilio_without_from":      "channels::sms: twilio.from: required",
		"webhook_without_endpoint": "channels::hook: webhook.endpoint: required",
		"webhook_bad_secret":       "channels::hook: webhook.secret: the part after whsec_ is not valid base64",
	} {
		_, err := loadTestConfig(t, name)
		if err == nil || strings.Count(err.Error(), want) != 1 {
			t.Errorf("%s: error %v does not say %q once", name, err, want)
			continue
		}
		// A webhook URL is a credential and is never quoted back.
		assertNoSecret(t, name, err.Error(), "SECRET-IN-URL", "not*base64")
	}
}

func TestBuildRejectsInvalid(t *testing.T) {
	_, err := Build(map[string]ChannelConfig{"ok": {Type: TypeInApp}, "bad": {Type: TypeSlack}}, componenttest.NewNopTelemetrySettings())
	if err == nil || err.Error() != `build notification channel "bad": slack.webhook_url: required` {
		t.Fatalf("build: %v", err)
	}
}
