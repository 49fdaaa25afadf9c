package exa

import (
	"context"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider/fuzztest"
)

const (
	fuzzExaAPIKey     = "exa-api-FUZZ4444secret"
	fuzzExaServiceKey = "exa-svc-FUZZ5555secret"
)

// FuzzExa: the key list, each key's daily usage, and the key check.
func FuzzExa(f *testing.F) {
	keys := `{"apiKeys":[{"id":"key_1","name":"prod"},{"id":7},{"id":null,"name":"skipped"}]}`
	usage := `{"api_key_id":"key_1","api_key_name":"prod","team_id":"team_42","total_cost_usd":0.105,
		"cost_breakdown":[{"price_id":"p1","price_name":"search","quantity":21,"amount_usd":0.105}]}`
	f.Add(uint8(0), "", []byte(keys), []byte(usage))
	f.Add(uint8(0), "", []byte(`[{"id":"a"},{"id":"b"}]`), []byte(`{"team_id":5,"total_cost_usd":"-1e-9999","cost_breakdown":[{"quantity":-21,"amount_usd":null},{"quantity":"NaN"}]}`))
	f.Add(uint8(0), "", []byte(`{"data":"nope","keys":[{"id":"x"}]}`), []byte(`{"cost_breakdown":{}}`))
	f.Add(uint8(8), "", []byte(`{"error":"Invalid API key `+fuzzExaServiceKey+`","tag":"INVALID_API_KEY"}`), []byte(`{}`))
	f.Add(uint8(6), "", []byte(`{"error":"query required `+fuzzExaAPIKey+`"}`), []byte(`{}`))
	f.Add(uint8(8), "", []byte(`{"error":"no more credits","tag":"NO_MORE_CREDITS"}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, keysBody, usageBody []byte) {
		ft, hc := fuzztest.NewTransport(t, status, headers, func(path string) []byte {
			if path == exaKeysPath || path == "/search" {
				return keysBody
			}
			return usageBody
		})
		e := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host, AdminBaseURL: "https://" + fuzztest.Host, APIKey: fuzzExaAPIKey, ServiceKey: fuzzExaServiceKey}, hc)
		from, now := fuzztest.Window()
		p, err := e.Poll(context.Background(), from, now)
		// The key list, then at most one request per key and day.
		nkeys := 0
		if ks, kerr := e.keys(context.Background()); kerr == nil {
			nkeys = len(ks)
		}
		fuzztest.CheckPoll(t, ft, 2+nkeys*3 /* fuzztest.Window spans 3 UTC days */, p, err, fuzzExaAPIKey, fuzzExaServiceKey)
		fuzztest.CheckCheck(t, e.Check(context.Background()), fuzzExaAPIKey, fuzzExaServiceKey)
		api := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host, APIKey: fuzzExaAPIKey}, hc)
		fuzztest.CheckCheck(t, api.Check(context.Background()), fuzzExaAPIKey)
	})
}
