package openrouter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider/fuzztest"
)

const (
	fuzzOpenRouterKey  = "sk-or-v1-FUZZ2222secret"
	fuzzOpenRouterMgmt = "sk-or-v1-FUZZ3333mgmt"
)

// FuzzOpenRouter: /key, /credits and /activity, and the key check.
func FuzzOpenRouter(f *testing.F) {
	key := `{"data":{"label":"sk-or-v1-abc...xyz","limit":10,"limit_reset":"monthly","limit_remaining":7.5,"usage":2.5,
		"usage_daily":0.25,"usage_weekly":1,"usage_monthly":2.5,"byok_usage":0,"is_free_tier":false,"free_model_daily_requests":{"remaining":50}}}`
	credits := `{"data":{"total_credits":25,"total_usage":12.3456}}`
	activity := `{"data":[{"date":"2026-11-25","model":"openai/gpt-4o-mini","provider_name":"OpenAI","usage":0.0123,"requests":3,
		"prompt_tokens":1000,"completion_tokens":200,"reasoning_tokens":0,"byok_usage_inference":0}]}`
	f.Add(uint8(0), "", []byte(key), []byte(credits), []byte(activity))
	f.Add(uint8(0), "", []byte(`{"data":{"label":"`+fuzzOpenRouterKey+`","limit":null,"usage":"1e9999"}}`), []byte(`{"data":{"total_credits":"x","total_usage":-1}}`),
		[]byte(`{"data":[{"date":"2026-11-25T00:00:00Z","requests":-3,"prompt_tokens":"-1","usage":-0.5},{"date":"2026-11-2"},{"date":12}]}`))
	f.Add(uint8(12), "X-RateLimit-Limit: 1e300\nX-RateLimit-Remaining: -4\nX-RateLimit-Reset: 99999999999999999", []byte(`{"error":{"code":429,"message":"Rate limit exceeded"}}`), []byte(`{}`), []byte(`{}`))
	f.Add(uint8(7), "", []byte(`{"error":{"code":401,"message":"No auth credentials found for `+fuzzOpenRouterMgmt+`"}}`), []byte(`{"data":null}`), []byte(`{"data":{}}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, keyBody, creditsBody, activityBody []byte) {
		ft, hc := fuzztest.NewTransport(t, status, headers, func(path string) []byte {
			switch {
			case strings.HasSuffix(path, "/credits"):
				return creditsBody
			case strings.HasSuffix(path, "/activity"):
				return activityBody
			}
			return keyBody
		})
		r := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host + "/api/v1", APIKey: fuzzOpenRouterKey, ManagementKey: fuzzOpenRouterMgmt}, hc)
		from, now := fuzztest.Window()
		p, err := r.Poll(context.Background(), from, now)
		fuzztest.CheckPoll(t, ft, 3, p, err, fuzzOpenRouterKey, fuzzOpenRouterMgmt)
		for _, g := range p.Gauges {
			fuzztest.NoSecret(t, g.Account, []string{fuzzOpenRouterKey, fuzzOpenRouterMgmt})
		}
		for _, u := range p.Usage {
			if u.Start.Before(from.Truncate(24*time.Hour)) || !u.Start.Before(now.Truncate(24*time.Hour)) {
				t.Errorf("activity day %s outside [%s, %s)", u.Start, from, now)
			}
		}
		fuzztest.CheckCheck(t, r.Check(context.Background()), fuzzOpenRouterKey, fuzzOpenRouterMgmt)
	})
}
