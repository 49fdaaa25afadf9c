package openai

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider/fuzztest"
)

const (
	fuzzOpenAIAdmin = "sk-admin-FUZZ0000secret"
	fuzzOpenAIAPI   = "sk-proj-FUZZ1111secret"
)

// FuzzOpenAI: the Usage and Costs API pages (usage, costs) and the key
// check. The same page comes back for every page request, so has_more with
// any cursor must stop at the second page.
func FuzzOpenAI(f *testing.F) {
	usage := `{"object":"page","data":[{"object":"bucket","start_time":1764028800,"end_time":1764115200,"results":[
		{"object":"organization.usage.completions.result","input_tokens":1000,"output_tokens":200,"input_cached_tokens":800,
		"num_model_requests":3,"project_id":"proj_1","model":"gpt-4o-mini","batch":null}]}],"has_more":false,"next_page":null}`
	costs := `{"object":"page","data":[{"start_time":1764028800,"end_time":1764115200,"results":[
		{"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"gpt-4o, input","project_id":"proj_1"}]}],
		"has_more":true,"next_page":"page_AAAA"}`
	f.Add(uint8(0), "x-ratelimit-limit-requests: 500\nx-ratelimit-remaining-requests: 499\nx-ratelimit-reset-requests: 120ms", []byte(usage), []byte(costs))
	f.Add(uint8(0), "", []byte(`{"data":[{"start_time":"1764028800","end_time":1764115200,"result":[{"input_tokens":-5,"output_tokens":1e400,"x":"12"}]}],"has_more":true,"next_page":""}`),
		[]byte(`{"data":[{"start_time":1764115200,"end_time":1764028800,"results":[{"amount":{"value":"-0.5","currency":"EUR"}},{"amount":{"value":"1e-9999"}}]}]}`))
	f.Add(uint8(0), "", []byte(`{"data":[{"start_time":9223372036854775807999,"end_time":-1e30,"results":[{"input_tokens":5}]},{"start_time":null}]}`), []byte(`[]`))
	f.Add(uint8(8), "Retry-After: 1e300", []byte(`{"error":{"message":"Incorrect API key provided: `+fuzzOpenAIAdmin+`","type":"invalid_request_error","code":"invalid_api_key"}}`), []byte(`{}`))
	f.Add(uint8(12), "Retry-After: +Inf\nx-ratelimit-limit-tokens: 1e300\nx-ratelimit-remaining-tokens: NaN", []byte(`{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}`), []byte(`null`))
	f.Add(uint8(13), "", []byte("<html>502 Bad Gateway</html>"), []byte(`{"data":`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, usageBody, costsBody []byte) {
		ft, hc := fuzztest.NewTransport(t, status, headers, func(path string) []byte {
			if strings.HasSuffix(path, "/organization/costs") {
				return costsBody
			}
			return usageBody
		})
		o := NewClient(ClientConfig{BaseURL: "https://" + fuzztest.Host + "/v1", AdminKey: fuzzOpenAIAdmin, APIKey: fuzzOpenAIAPI}, hc)
		from, now := fuzztest.Window()
		p, err := o.Poll(context.Background(), from, now)
		// Eight usage types and the costs, at most two pages each.
		fuzztest.CheckPoll(t, ft, 2*(len(openAIDefaultUsageTypes)+1), p, err, fuzzOpenAIAdmin, fuzzOpenAIAPI)
		for _, u := range p.Usage {
			if u.Account != "openai" {
				t.Errorf("usage of account %q", u.Account)
			}
		}
		fuzztest.CheckCheck(t, o.Check(context.Background()), fuzzOpenAIAdmin, fuzzOpenAIAPI)
	})
}
