package apollo

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider/fuzztest"
)

const fuzzApolloKey = "apollo-FUZZ7777secret"

// FuzzApollo: the usage stats (per endpoint and window) and the key check.
func FuzzApollo(f *testing.F) {
	stats := `{"[\"api/v1/people\", \"match\"]":{"day":{"limit":2000,"consumed":12,"left_over":1988},
		"hour":{"limit":400,"consumed":12,"left_over":388},"minute":{"limit":200,"consumed":1,"left_over":199}},
		"api/v1/mixed_companies/search":{"day":{"limit":"1000","consumed":"1001"}}}`
	f.Add(uint8(0), "x-rate-limit-minute: 200\nx-minute-usage: 3\nx-minute-requests-left: 197", []byte(stats), []byte(`{"is_logged_in":true}`))
	f.Add(uint8(0), "x-rate-limit-24-hour: 1e300\nx-24-hour-usage: -5\nx-daily-requests-left: +Inf", []byte(`{"k":{"day":{"limit":1e30,"consumed":-1,"left_over":99999999999999999999}},"j":[],"[]":{"minute":null}}`),
		[]byte(`{"is_logged_in":false}`))
	f.Add(uint8(0), "", []byte(`{"x":1}`), []byte(`{}`))
	f.Add(uint8(9), "", []byte(`forbidden for key `+fuzzApolloKey), []byte(`{"is_logged_in":"yes"}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, statsBody, healthBody []byte) {
		ft, hc := fuzztest.NewTransport(t, status, headers, func(path string) []byte {
			if strings.HasSuffix(path, "/auth/health") {
				return healthBody
			}
			return statsBody
		})
		a := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host + "/api/v1", APIKey: fuzzApolloKey}, hc)
		from, now := fuzztest.Window()
		p, err := a.Poll(context.Background(), from, now)
		fuzztest.CheckPoll(t, ft, 1, p, err, fuzzApolloKey)
		if len(p.Usage) > 0 || len(p.Gauges) > 0 {
			t.Errorf("apollo reported usage or gauges: %+v", p)
		}
		fuzztest.CheckCheck(t, a.Check(context.Background()), fuzzApolloKey)
	})
}

// TestHostileNumbers pins the findings of the fuzz targets above: waits and
// limits that would overflow (a float → int64 conversion of them is
// undefined) read as the cap or as "not announced", never negative.
