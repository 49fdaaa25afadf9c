package openai

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// StandInCostUSD is what the stand-in's costs for its day add up to (the
// two cost line items).
const StandInCostUSD = "1.234567"

// StandIn is a fake of OpenAI's API for tests, mounted at mount: it answers
// the documented payloads (shared/reference/providers.md) for day.
func StandIn(mount string, day time.Time) http.Handler {
	return provider.StandIn(standIn, mount, day)
}

func standIn(w http.ResponseWriter, r *http.Request, mount string, day time.Time) (string, bool) {
	p := r.URL.Path
	start, end := day.Unix(), day.Add(24*time.Hour).Unix()
	switch {
	case p == mount+"/v1/organization/usage/completions":
		return fmt.Sprintf(`{"object":"page","data":[{"object":"bucket","start_time":%d,"end_time":%d,"results":[
			{"object":"organization.usage.completions.result","input_tokens":1000,"input_cached_tokens":200,"output_tokens":300,
			 "input_audio_tokens":0,"output_audio_tokens":0,"num_model_requests":5,"project_id":"proj_1","model":"gpt-4o-mini-2024-07-18",
			 "user_id":null,"api_key_id":null,"batch":null}]}],"has_more":false,"next_page":null}`, start, end), true
	case strings.HasPrefix(p, mount+"/v1/organization/usage/"):
		return `{"object":"page","data":[],"has_more":false,"next_page":null}`, true
	case p == mount+"/v1/organization/costs":
		return fmt.Sprintf(`{"object":"page","data":[{"object":"bucket","start_time":%d,"end_time":%d,"results":[
			{"object":"organization.costs.result","amount":{"value":1.2,"currency":"usd"},"line_item":"gpt-4o-mini, input","project_id":"proj_1"},
			{"object":"organization.costs.result","amount":{"value":0.034567,"currency":"usd"},"line_item":"gpt-4o-mini, output","project_id":"proj_1"}]}],
			"has_more":false,"next_page":null}`, start, end), true
	case p == mount+"/v1/models":
		w.Header().Set("x-ratelimit-limit-requests", "5000")
		w.Header().Set("x-ratelimit-remaining-requests", "4999")
		return `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`, true
	}
	return "", false
}
