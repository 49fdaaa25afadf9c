package openrouter

import (
	"fmt"
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Figures of the stand-in's day, as its payloads state them.
const (
	StandInCostUSD  = "0.4321"
	StandInLimitUSD = "100"
)

// StandIn is a fake of OpenRouter's API for tests, mounted at mount: it answers
// the documented payloads (shared/reference/providers.md) for day.
func StandIn(mount string, day time.Time) http.Handler {
	return provider.StandIn(standIn, mount, day)
}

func standIn(_ http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool) {
	p := r.URL.Path
	switch {
	case p == mount+"/api/v1/key":
		return `{"data":{"label":"prod","limit":100,"limit_reset":"monthly","limit_remaining":42.5,"usage":57.5,
			"usage_daily":1.25,"usage_weekly":10,"usage_monthly":57.5,"byok_usage":0,"is_free_tier":false,"is_management_key":false}}`, true
	case p == mount+"/api/v1/models":
		// The public model list's shape: prices per token as strings,
		// "-1" for a router whose price varies.
		return `{"data":[
			{"id":"openai/gpt-4o-mini","name":"OpenAI: GPT-4o-mini","pricing":{"prompt":"0.00000015","completion":"0.0000006","request":"0","image":"0.000217","web_search":"0","internal_reasoning":"0","input_cache_read":"0.000000075"}},
			{"id":"deepseek/deepseek-r1","name":"DeepSeek: R1","pricing":{"prompt":"0.0000004","completion":"0.000002","request":"0","image":"0","web_search":"0","internal_reasoning":"0"}},
			{"id":"openrouter/auto","name":"Auto Router","pricing":{"prompt":"-1","completion":"-1"}}]}`, true
	case p == mount+"/api/v1/credits":
		return `{"data":{"total_credits":150,"total_usage":57.5}}`, true
	case p == mount+"/api/v1/activity":
		return fmt.Sprintf(`{"data":[{"date":"%s","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini",
			"endpoint_id":"e1","provider_name":"OpenAI","usage":0.4321,"byok_usage_inference":0,"requests":12,
			"prompt_tokens":5000,"completion_tokens":800,"reasoning_tokens":0}]}`, day.Format("2006-01-02")), true
	}
	return "", false
}
