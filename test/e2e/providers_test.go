package e2e

import (
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// TestProvidersPolledFromEnvironment starts the shipped config with provider
// keys and base URLs in the environment, as an operator would, pointing at
// local stand-ins for the providers' APIs: the usage they report lands in
// the store. Without keys (every other test here) the receiver polls nothing
// and the collector starts cleanly.
func TestProvidersPolledFromEnvironment(t *testing.T) {
	srv := providertest.New(t)
	col := newCollector(t, t.TempDir())
	col.env = []string{
		"OPENAI_ADMIN_KEY=sk-admin-e2e", "NEXUS_OPENAI_BASE_URL=" + srv.OpenAI(),
		"OPENROUTER_API_KEY=sk-or-v1-e2e", "OPENROUTER_MANAGEMENT_KEY=sk-or-v1-mgmt", "NEXUS_OPENROUTER_BASE_URL=" + srv.OpenRouter(),
		"EXA_API_KEY=exa-e2e", "EXA_SERVICE_KEY=exa-svc", "NEXUS_EXA_BASE_URL=" + srv.Exa(), "NEXUS_EXA_ADMIN_BASE_URL=" + srv.ExaAdmin(),
		"TWILIO_ACCOUNT_SID=AC1", "TWILIO_AUTH_TOKEN=tok", "NEXUS_TWILIO_BASE_URL=" + srv.Twilio(),
		"APOLLO_API_KEY=ap-e2e", "NEXUS_APOLLO_BASE_URL=" + srv.Apollo(),
	}
	col.start()
	if _, err := col.waitForCount("SELECT uniqExact(provider) FROM nexus.provider_health WHERE up", "5", 30*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	// The settled day is in the fake's past; the default lookback (7 days)
	// reaches it while the fake's day is recent, so only check what any
	// lookback sees: gauges and rate limits.
	if out, err := col.query("SELECT toString(argMax(value, ts)) FROM nexus.provider_gauges WHERE provider = 'twilio' AND name = 'balance_usd'"); err != nil || out != "87.65" {
		t.Fatalf("twilio balance %q, %v", out, err)
	}
	if out, err := col.query("SELECT toString(argMax(value, ts)) FROM nexus.provider_gauges WHERE provider = 'apollo' AND name = 'ratelimit_remaining' AND scope = 'minute'"); err != nil || out != "180" {
		t.Fatalf("apollo headroom %q, %v", out, err)
	}
	if srv.Requests("/") == 0 {
		t.Fatal("no provider was called")
	}
}
