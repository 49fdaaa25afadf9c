package providers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// TestCredentialFieldsPollEachProvider: for every provider Nexus knows, a
// credential made of its CredentialFields alone, applied to a block that
// has none of its own, is a complete way in: the block counts as
// configured, validates, and its poller checks and polls the stand-in.
func TestCredentialFieldsPollEachProvider(t *testing.T) {
	srv := providertest.New(t)
	base := configured(t, srv)
	for _, info := range providers.All {
		t.Run(info.Name, func(t *testing.T) {
			fields, ok := providers.CredentialFields(info.Name)
			if !ok || len(fields) == 0 {
				t.Fatalf("no credential fields (%v, %v)", fields, ok)
			}
			empty, err := base.WithCredentials(info.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if empty.Configured(info.Name) {
				t.Fatal("the config's credentials survived an empty stored credential")
			}
			values := map[string]string{}
			for _, f := range fields {
				values[f] = "tenant-" + f
			}
			p, err := base.WithCredentials(info.Name, values)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Configured(info.Name) {
				t.Fatalf("%v do not configure %s", fields, info.Name)
			}
			if err := p.ValidateUnder(""); err != nil {
				t.Fatal(err)
			}
			spec, err := p.Poller(context.Background(), componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings(), info.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer spec.HTTP.CloseIdleConnections()
			if c := spec.Poller.Check(context.Background()); !c.Up {
				t.Fatalf("check with the stored fields alone: %+v", c)
			}
			poll, err := spec.Poller.Poll(context.Background(), providertest.Day.Add(-24*time.Hour), providertest.Day.Add(48*time.Hour))
			if err != nil {
				t.Fatalf("poll with the stored fields alone: %v", err)
			}
			if len(poll.Usage)+len(poll.Gauges)+len(poll.RateLimits) == 0 {
				t.Fatal("the poll read nothing")
			}
		})
	}
	if f, ok := providers.CredentialFields("nope"); ok || f != nil {
		t.Fatalf("unknown provider: %v, %v", f, ok)
	}
	// Callers may keep or change what they get.
	a, _ := providers.CredentialFields("twilio")
	a[0] = "x"
	if b, _ := providers.CredentialFields("twilio"); b[0] != "account_sid" {
		t.Fatalf("a caller changed the fields: %v", b)
	}
}

// TestWithCredentialsReplacesTheBlocksSecrets: the copy carries the
// tenant's values and none of the config's secrets for that provider,
// keeps the installation's endpoint and settings, and leaves the original
// and the other providers alone.
func TestWithCredentialsReplacesTheBlocksSecrets(t *testing.T) {
	srv := providertest.New(t)
	p := configured(t, srv)
	p.OpenAI.AdminKey = "sk-admin-config"
	p.OpenAI.Headers = configopaque.MapList{{Name: "X-Org", Value: "config"}}
	p.Twilio.APIKeySID, p.Twilio.APIKeySecret = "SK1", "sk-secret-config"

	q, err := p.WithCredentials("openai", map[string]string{"admin_key": "sk-admin-tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if q.OpenAI.AdminKey != "sk-admin-tenant" || q.OpenAI.APIKey != "" {
		t.Fatalf("openai keys after: admin %t, api %q", q.OpenAI.AdminKey == "sk-admin-tenant", q.OpenAI.APIKey)
	}
	if q.OpenAI.Endpoint != srv.OpenAI() || q.OpenAI.CollectionInterval != 10*time.Minute ||
		len(q.OpenAI.Headers) != 1 || q.OpenAI.Headers[0].Value != "config" || q.OpenAI.BucketWidth != p.OpenAI.BucketWidth {
		t.Fatalf("installation settings lost: %+v", q.OpenAI.Common)
	}
	if p.OpenAI.AdminKey != "sk-admin-config" || p.OpenAI.APIKey != "sk-proj-x" {
		t.Fatal("the original changed")
	}
	if q.Apollo.APIKey != "ap-x" || q.Twilio.AuthToken != "tok" {
		t.Fatal("another provider's block changed")
	}

	q, err = p.WithCredentials("twilio", map[string]string{"account_sid": "AC9", "auth_token": "tok-tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if q.Twilio.AccountSID != "AC9" || q.Twilio.AuthToken != "tok-tenant" || q.Twilio.APIKeySecret != "" {
		t.Fatalf("twilio after: sid %q, token set %t, key secret kept %t", q.Twilio.AccountSID,
			q.Twilio.AuthToken == "tok-tenant", q.Twilio.APIKeySecret != "")
	}
	if p.Twilio.AccountSID != "AC1" || p.Twilio.APIKeySecret != "sk-secret-config" {
		t.Fatal("the original changed")
	}
}

// TestWithCredentialsRefuses: what is not a credential field of the
// provider — its endpoint above all, which would point the poller at a
// host of the tenant's choosing — is refused by name, with a bound on
// what the error names.
func TestWithCredentialsRefuses(t *testing.T) {
	p := providers.NewDefault()
	many := map[string]string{}
	for i := range 200 {
		many[fmt.Sprintf("field%03d", i)] = "x"
	}
	for _, c := range []struct {
		name, provider string
		values         map[string]string
		field, says    string
		maxFields      int
	}{
		{"unknown provider", "nope", map[string]string{"api_key": "x"}, "provider", "unknown provider", 1},
		{"endpoint", "openai", map[string]string{"admin_key": "x", "endpoint": "http://169.254.169.254"}, "endpoint", "admin_key", 1},
		{"other key", "openai", map[string]string{"api_key": "x"}, "api_key", "not a credential field of openai", 1},
		{"half a pair", "twilio", map[string]string{"account_sid": "AC1"}, "twilio", "twilio.auth_token", 1},
		{"long name", "apollo", map[string]string{strings.Repeat("k", 10000): "x"}, strings.Repeat("k", 64) + "…", "apollo", 1},
		{"many", "exa", many, "field000", "service_key", 17},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.WithCredentials(c.provider, c.values)
			inv, ok := domainerr.AsInvalid(err)
			if !ok {
				t.Fatalf("error %v is not invalid input", err)
			}
			if len(inv.Fields) == 0 || len(inv.Fields) > c.maxFields || inv.Fields[0].Field != c.field ||
				!strings.Contains(inv.Fields[0].Message, c.says) {
				t.Fatalf("fields %d, first %+v; want %q saying %q", len(inv.Fields), inv.Fields[0], c.field, c.says)
			}
			if strings.Contains(err.Error(), "169.254") {
				t.Fatal("the error quotes a value")
			}
		})
	}
}
