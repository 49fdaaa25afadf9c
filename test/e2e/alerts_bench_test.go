package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkAlertDelivery is the time from failing calls accepted over OTLP
// to an error-rate rule's notification on every channel (email, Slack,
// Discord, Twilio SMS and a signed webhook, local servers), through the
// built binary with the shipped evaluation interval, beside the same run's
// floor: the time until those calls are queryable in the store at all.
// Each iteration is a fresh collector, so every rule starts unfired.
//
//	NEXUS_BIN=$PWD/bin/otelcol-nexus go test -run '^$' -bench AlertDelivery -benchtime 3x ./test/e2e
func BenchmarkAlertDelivery(b *testing.B) {
	sinks := startAlertSinks(b)
	config := sinks.configFile(b)
	var notified, stored []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := len(sinks.slack.all())
		col := newCollector(b, b.TempDir())
		col.start("--config", config)
		b.StartTimer()

		if code := postJSON(b, col, chatSpans(10, true)); code != http.StatusOK {
			b.Fatalf("failing spans: HTTP %d", code)
		}
		sent := time.Now()
		took, err := col.waitForCount("SELECT count() FROM nexus.api_calls WHERE service = 'checkout'", "10", 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		stored = append(stored, took)
		sinks.waitAll(b, col, before+1, 30*time.Second)
		latest := time.Duration(0)
		for _, all := range sinks.channels() {
			latest = max(latest, all()[before].at.Sub(sent))
		}
		notified = append(notified, latest)

		b.StopTimer()
		if err := col.stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	slices.Sort(notified)
	slices.Sort(stored)
	b.ReportMetric(ms(notified[len(notified)/2]), "notified-p50-ms")
	b.ReportMetric(ms(notified[len(notified)-1]), "notified-max-ms")
	b.ReportMetric(ms(stored[len(stored)/2]), "stored-p50-ms")
	b.Logf("slowest channel notified after %v (each run), the calls queryable after %v", notified, stored)
	if notified[len(notified)-1] > 2*time.Second {
		b.Errorf("a notification took %s, the target is under 2 s", notified[len(notified)-1])
	}
}
