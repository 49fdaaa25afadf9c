// Package providertest is a local stand-in for the five providers' APIs,
// answering their documented payloads (see shared/reference/providers.md) for
// one settled day, with faults on demand. Tests of the receiver, the API and
// the end-to-end suite point a real client at it through the base URLs they
// would otherwise send to the providers.
package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Day is the settled day every usage payload reports.
var Day = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// Expected figures of Day, as the payloads state them.
const (
	OpenAICostUSD      = "1.234567" // sum of the two cost line items
	OpenRouterCostUSD  = "0.4321"
	TwilioCostUSD      = "12.3456" // the totalprice category
	ExaCostUSD         = "0.75"
	OpenRouterLimitUSD = "100"
)

// Server is the fake provider API. Base URLs: URL()+"/openai/v1",
// "/openrouter/api/v1", "/exa", "/exa-admin", "/twilio", "/apollo/api/v1".
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	faults   map[string]Fault // by path prefix
	requests map[string]int   // by path
	delay    time.Duration
}

// Fault is what a path answers instead of its payload.
type Fault struct {
	Status int
	Body   string
	Header http.Header
}

// New starts the server; it stops with the test.
func New(tb interface{ Cleanup(func()) }) *Server {
	s := &Server{faults: map[string]Fault{}, requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Base URLs of each provider on this server.
func (s *Server) OpenAI() string           { return s.URL + "/openai/v1" }
func (s *Server) OpenRouter() string       { return s.URL + "/openrouter/api/v1" }
func (s *Server) Exa() string              { return s.URL + "/exa" }
func (s *Server) ExaAdmin() string         { return s.URL + "/exa-admin" }
func (s *Server) Twilio() string           { return s.URL + "/twilio" }
func (s *Server) Apollo() string           { return s.URL + "/apollo/api/v1" }
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// Fail makes every path under prefix answer f.
func (s *Server) Fail(prefix string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[prefix] = f
}

// Heal removes every fault.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string]Fault{}
}

// Requests is how many requests paths under prefix received.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.requests {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	delay := s.delay
	var fault *Fault
	for prefix, f := range s.faults {
		if strings.HasPrefix(r.URL.Path, prefix) {
			f := f
			fault = &f
		}
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		for k, v := range fault.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(fault.Status)
		_, _ = w.Write([]byte(fault.Body))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	body, ok := s.payload(w, r)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"not found"}}`))
		return
	}
	_, _ = w.Write([]byte(body))
}

func (s *Server) payload(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := r.URL.Path
	start, end := Day.Unix(), Day.Add(24*time.Hour).Unix()
	switch {
	// OpenAI
	case p == "/openai/v1/organization/usage/completions":
		return fmt.Sprintf(`{"object":"page","data":[{"object":"bucket","start_time":%d,"end_time":%d,"results":[
			{"object":"organization.usage.completions.result","input_tokens":1000,"input_cached_tokens":200,"output_tokens":300,
			 "input_audio_tokens":0,"output_audio_tokens":0,"num_model_requests":5,"project_id":"proj_1","model":"gpt-4o-mini-2024-07-18",
			 "user_id":null,"api_key_id":null,"batch":null}]}],"has_more":false,"next_page":null}`, start, end), true
	case strings.HasPrefix(p, "/openai/v1/organization/usage/"):
		return `{"object":"page","data":[],"has_more":false,"next_page":null}`, true
	case p == "/openai/v1/organization/costs":
		return fmt.Sprintf(`{"object":"page","data":[{"object":"bucket","start_time":%d,"end_time":%d,"results":[
			{"object":"organization.costs.result","amount":{"value":1.2,"currency":"usd"},"line_item":"gpt-4o-mini, input","project_id":"proj_1"},
			{"object":"organization.costs.result","amount":{"value":0.034567,"currency":"usd"},"line_item":"gpt-4o-mini, output","project_id":"proj_1"}]}],
			"has_more":false,"next_page":null}`, start, end), true
	case p == "/openai/v1/models":
		w.Header().Set("x-ratelimit-limit-requests", "5000")
		w.Header().Set("x-ratelimit-remaining-requests", "4999")
		return `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`, true

	// OpenRouter
	case p == "/openrouter/api/v1/key":
		return `{"data":{"label":"prod","limit":100,"limit_reset":"monthly","limit_remaining":42.5,"usage":57.5,
			"usage_daily":1.25,"usage_weekly":10,"usage_monthly":57.5,"byok_usage":0,"is_free_tier":false,"is_management_key":false}}`, true
	case p == "/openrouter/api/v1/credits":
		return `{"data":{"total_credits":150,"total_usage":57.5}}`, true
	case p == "/openrouter/api/v1/activity":
		return fmt.Sprintf(`{"data":[{"date":"%s","model":"openai/gpt-4o-mini","model_permaslug":"openai/gpt-4o-mini",
			"endpoint_id":"e1","provider_name":"OpenAI","usage":0.4321,"byok_usage_inference":0,"requests":12,
			"prompt_tokens":5000,"completion_tokens":800,"reasoning_tokens":0}]}`, Day.Format("2006-01-02")), true

	// Exa
	case p == "/exa/search":
		w.WriteHeader(http.StatusBadRequest)
		return `{"requestId":"r1","error":"query is required","tag":"INVALID_REQUEST"}`, true
	case p == "/exa-admin/team-management/api-keys":
		return `{"apiKeys":[{"id":"key_1","name":"search-prod"}]}`, true
	case strings.HasPrefix(p, "/exa-admin/team-management/api-keys/") && strings.HasSuffix(p, "/usage"):
		from := r.URL.Query().Get("start_date")
		d, err := time.Parse(time.RFC3339, from)
		if err != nil || !d.UTC().Truncate(24*time.Hour).Equal(Day) {
			return fmt.Sprintf(`{"api_key_id":"key_1","api_key_name":"search-prod","team_id":"team_1",
				"period":{"start":%q,"end":%q},"total_cost_usd":0,"cost_breakdown":[]}`, from, r.URL.Query().Get("end_date")), true
		}
		return fmt.Sprintf(`{"api_key_id":"key_1","api_key_name":"search-prod","team_id":"team_1",
			"period":{"start":%q,"end":%q},"total_cost_usd":0.75,
			"cost_breakdown":[{"price_id":"p1","price_name":"search","quantity":100,"amount_usd":0.5},
			{"price_id":"p2","price_name":"contents","quantity":250,"amount_usd":0.25}]}`, from, r.URL.Query().Get("end_date")), true

	// Twilio
	case strings.HasSuffix(p, "/Usage/Records/Daily.json") || strings.HasSuffix(p, "/Usage/Records/Today.json"):
		cat := r.URL.Query().Get("Category")
		if strings.HasSuffix(p, "Today.json") {
			return `{"usage_records":[],"next_page_uri":null}`, true
		}
		price := map[string]string{"totalprice": "12.3456", "sms": "10.00", "calls": "2.3456"}[cat]
		if price == "" {
			return `{"usage_records":[],"next_page_uri":null}`, true
		}
		d := Day.Format("2006-01-02")
		return fmt.Sprintf(`{"usage_records":[{"account_sid":"AC1","category":%q,"count":"1250","count_unit":"messages",
			"description":"x","start_date":%q,"end_date":%q,"usage":"1300","usage_unit":"segments","price":%s,"price_unit":"usd"}],
			"next_page_uri":null}`, cat, d, d, price), true
	case strings.HasSuffix(p, "/Balance.json"):
		return `{"account_sid":"AC1","balance":"87.65","currency":"USD"}`, true
	case strings.HasPrefix(p, "/twilio/2010-04-01/Accounts/") && strings.HasSuffix(p, ".json"):
		return `{"sid":"AC1","status":"active"}`, true

	// Apollo
	case p == "/apollo/api/v1/usage_stats/api_usage_stats":
		stats := map[string]any{
			`["api/v1/people","match"]`: map[string]any{
				"minute": map[string]int{"limit": 200, "consumed": 20, "left_over": 180},
				"hour":   map[string]int{"limit": 400, "consumed": 100, "left_over": 300},
				"day":    map[string]int{"limit": 2000, "consumed": 1500, "left_over": 999},
			},
		}
		b, _ := json.Marshal(stats)
		return string(b), true
	case p == "/apollo/api/v1/auth/health":
		return `{"is_logged_in":true}`, true
	}
	return "", false
}
