package apiusagereceiver

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/providers/apollo"
	"github.com/nexus-otel/nexus/internal/providers/exa"
	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
	"github.com/nexus-otel/nexus/internal/providers/twilio"
	"github.com/nexus-otel/nexus/internal/semconv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// now is a poll a day and a half after the settled day of the fake APIs.
var now = providertest.Day.Add(36 * time.Hour)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func pollers(srv *providertest.Server) map[string]provider.Poller {
	hc := &http.Client{}
	return map[string]provider.Poller{
		openai.Name: openai.NewClient(openai.ClientConfig{BaseURL: srv.OpenAI(), AdminKey: "sk-admin-x",
			APIKey: "sk-proj-x", BucketWidth: "1d", UsageTypes: []string{"completions", "embeddings"}}, hc),
		openrouter.Name: openrouter.NewClient(openrouter.ClientConfig{BaseURL: srv.OpenRouter(),
			APIKey: "sk-or-v1-x", ManagementKey: "sk-or-v1-m"}, hc),
		exa.Name: exa.NewClient(exa.ClientConfig{BaseURL: srv.Exa(), AdminBaseURL: srv.ExaAdmin(),
			APIKey: "exa-x", ServiceKey: "exa-s"}, hc),
		twilio.Name: twilio.NewClient(twilio.ClientConfig{BaseURL: srv.Twilio(), AccountSID: "AC1",
			AuthToken: "tok", Categories: []string{"totalprice", "sms", "calls"}}, hc),
		apollo.Name: apollo.NewClient(apollo.ClientConfig{BaseURL: srv.Apollo(), APIKey: "ap-x"}, hc),
	}
}

func newScraper(p provider.Poller, c *clock) *pollScraper {
	return &pollScraper{poller: p, logger: zap.NewNop(), lookback: 72 * time.Hour, overlap: 24 * time.Hour,
		authRetry: 15 * time.Minute, now: c.now, stop: context.Background()}
}

// dump renders metrics one point a line, sorted: name{attrs} [start → time] = value.
// The health check's latency is left out: it is measured, not stated.
func dump(md pmetric.Metrics) string {
	var lines []string
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				dps := m.Gauge().DataPoints()
				for d := 0; d < dps.Len(); d++ {
					dp := dps.At(d)
					var attrs []string
					dp.Attributes().Range(func(k string, v pcommon.Value) bool {
						attrs = append(attrs, k+"="+v.AsString())
						return true
					})
					sort.Strings(attrs)
					value := fmt.Sprint(dp.DoubleValue())
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						value = fmt.Sprint(dp.IntValue())
					}
					if m.Name() == semconv.MetricHealthLatency {
						value = "(measured)"
					}
					times := dp.Timestamp().AsTime().UTC().Format(time.RFC3339)
					if dp.StartTimestamp() != 0 {
						times = dp.StartTimestamp().AsTime().UTC().Format(time.RFC3339) + " → " + times
					}
					lines = append(lines, fmt.Sprintf("%s{%s} [%s] = %s", m.Name(), strings.Join(attrs, ","), times, value))
				}
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestEachProviderEmitsItsFigures polls each provider's fake API once and
// compares every emitted point with a golden file (go test -update rewrites
// them after a deliberate change).
func TestEachProviderEmitsItsFigures(t *testing.T) {
	srv := providertest.New(t)
	for name, p := range pollers(srv) {
		t.Run(name, func(t *testing.T) {
			md, err := newScraper(p, &clock{now}).scrape(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := dump(md)
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("metrics differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func healthClass(t *testing.T, md pmetric.Metrics) string {
	t.Helper()
	for _, line := range strings.Split(dump(md), "\n") {
		if strings.HasPrefix(line, semconv.MetricHealthUp+"{") {
			i := strings.Index(line, "class=")
			return strings.SplitN(line[i+6:], ",", 2)[0]
		}
	}
	return ""
}

// TestRefusedKeyIsCheckedSlowly: after a 401 the provider gets no calls until
// the auth retry interval has passed, and then only the key check.
func TestRefusedKeyIsCheckedSlowly(t *testing.T) {
	srv := providertest.New(t)
	srv.Fail("/openrouter", providertest.Fault{Status: 401, Body: `{"error":{"code":401,"message":"No auth credentials found"}}`})
	c := &clock{now}
	s := newScraper(pollers(srv)[openrouter.Name], c)
	md, err := s.scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if class := healthClass(t, md); class != provider.ClassAuthFailed || srv.Requests("/openrouter") != 1 {
		t.Fatalf("class %q after %d requests", class, srv.Requests("/openrouter"))
	}
	for _, after := range []time.Duration{time.Minute, 5 * time.Minute, 14 * time.Minute} {
		c.t = now.Add(after)
		if _, err := s.scrape(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Requests("/openrouter"); n != 1 {
		t.Fatalf("%d requests within the retry interval, want 1", n)
	}
	c.t = now.Add(16 * time.Minute)
	_, _ = s.scrape(context.Background())
	if n := srv.Requests("/openrouter"); n != 2 {
		t.Fatalf("%d requests after the retry interval, want 2", n)
	}
}

// TestRetryAfterIsHonoured: a 429 on a poll pauses the provider for as long
// as its Retry-After says.
func TestRetryAfterIsHonoured(t *testing.T) {
	srv := providertest.New(t)
	srv.Fail("/openrouter/api/v1/credits", providertest.Fault{Status: 429, Body: `{"error":{"code":429,"message":"Rate limit exceeded"}}`,
		Header: http.Header{"Retry-After": {"120"}}})
	c := &clock{now}
	s := newScraper(pollers(srv)[openrouter.Name], c)
	if _, err := s.scrape(context.Background()); err == nil {
		t.Fatal("rate-limited poll reported no error")
	}
	before := srv.Requests("/openrouter")
	c.t = now.Add(60 * time.Second)
	_, _ = s.scrape(context.Background())
	if srv.Requests("/openrouter") != before {
		t.Fatal("provider called again before Retry-After passed")
	}
	srv.Heal()
	c.t = now.Add(121 * time.Second)
	if _, err := s.scrape(context.Background()); err != nil {
		t.Fatal(err)
	}
	if srv.Requests("/openrouter") == before {
		t.Fatal("provider not called after Retry-After passed")
	}
}

// TestRateLimitWithoutRetryAfter: a 429 that does not say how long pauses
// the provider for a minute.
func TestRateLimitWithoutRetryAfter(t *testing.T) {
	srv := providertest.New(t)
	srv.Fail("/openrouter/api/v1/activity", providertest.Fault{Status: 429, Body: `{"error":{"code":429,"message":"Rate limit exceeded"}}`})
	c := &clock{now}
	s := newScraper(pollers(srv)[openrouter.Name], c)
	_, _ = s.scrape(context.Background())
	before := srv.Requests("/openrouter")
	c.t = now.Add(59 * time.Second)
	_, _ = s.scrape(context.Background())
	if srv.Requests("/openrouter") != before {
		t.Fatal("provider called again within a minute of a bare 429")
	}
	c.t = now.Add(61 * time.Second)
	_, _ = s.scrape(context.Background())
	if srv.Requests("/openrouter") == before {
		t.Fatal("provider not called again after the default pause")
	}
}

// TestFaultsNeverStopPolling: server errors, quota exhaustion and malformed
// answers are reported, keep what was read, and the next poll tries again.
func TestFaultsNeverStopPolling(t *testing.T) {
	faults := map[string]providertest.Fault{
		"server error": {Status: 503, Body: `{"error":{"message":"overloaded"}}`},
		"quota":        {Status: 402, Body: `{"error":{"code":402,"message":"Insufficient credits"}}`},
		"malformed":    {Status: 200, Body: `{"data":{"total_credits": 150, "total_usage"`},
		"null data":    {Status: 200, Body: `{"data":null}`},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			srv := providertest.New(t)
			srv.Fail("/openrouter/api/v1/credits", f)
			c := &clock{now}
			s := newScraper(pollers(srv)[openrouter.Name], c)
			md, _ := s.scrape(context.Background())
			if !strings.Contains(dump(md), "name=limit_usd") {
				t.Fatalf("figures read before the fault were lost:\n%s", dump(md))
			}
			before := srv.Requests("/openrouter/api/v1/credits")
			c.t = now.Add(5 * time.Minute)
			_, _ = s.scrape(context.Background())
			if srv.Requests("/openrouter/api/v1/credits") != before+1 {
				t.Fatal("the next poll did not try again")
			}
		})
	}
}

// TestShutdownDuringSlowCall: a provider that does not answer cannot hold
// the collector's shutdown.
func TestShutdownDuringSlowCall(t *testing.T) {
	srv := providertest.New(t)
	srv.SetDelay(time.Minute)
	cfg := createDefaultConfig().(*Config)
	cfg.InitialDelay = 0
	cfg.Timeout = 0 // nothing but shutdown ends the call
	cfg.OpenRouter.APIKey = "sk-or-v1-x"
	cfg.OpenRouter.Endpoint = srv.OpenRouter()
	cfg.OpenRouter.Timeout = 0
	r := newReceiver(cfg, receiverSettings(), nopConsumer())
	if err := r.Start(context.Background(), nopHost()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.Requests("/openrouter") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("shutdown took %s with a provider call in flight", took)
	}
}
