package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

const (
	openAITestAdminKey = "sk-admin-TESTSECRET-0123456789abcdef"
	openAITestAPIKey   = "sk-proj-TESTSECRET-fedcba9876543210"
)

// openAITestSecrets are what no error or message may show.
var openAITestSecrets = []string{openAITestAdminKey, openAITestAPIKey, "TESTSECRET"}

var (
	openAITestFrom = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	openAITestNow  = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	openAITestD1   = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	openAITestD2   = openAITestD1.Add(24 * time.Hour)
	openAITestD3   = openAITestD2.Add(24 * time.Hour)
)

func openAITestUnix(t time.Time) int64 { return t.Unix() }

// openAITestBucket is a documented usage bucket holding results.
func openAITestBucket(start time.Time, results ...string) string {
	return fmt.Sprintf(`{"object":"bucket","start_time":%d,"end_time":%d,"results":[%s]}`,
		start.Unix(), start.Add(24*time.Hour).Unix(), strings.Join(results, ","))
}

func openAITestPage(hasMore bool, next string, buckets ...string) string {
	np := "null"
	if next != "" {
		np = strconv.Quote(next)
	}
	return fmt.Sprintf(`{"object":"page","data":[%s],"has_more":%t,"next_page":%s}`, strings.Join(buckets, ","), hasMore, np)
}

const openAITestEmptyPage = `{"object":"page","data":[],"has_more":false,"next_page":null}`

func newOpenAITestPoller(srv *clienttest.Server, cfg ClientConfig) *Client {
	cfg.BaseURL = srv.URL
	if cfg.AdminKey == "" {
		cfg.AdminKey = openAITestAdminKey
	}
	return NewClient(cfg, srv.Client())
}

func TestOpenAIPollUsageAndCosts(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path + "?" + r.URL.Query().Get("page") {
		case "/organization/usage/completions?":
			w.Header().Set("x-ratelimit-limit-requests", "100")
			w.Header().Set("x-ratelimit-remaining-requests", "99")
			w.Header().Set("x-ratelimit-reset-requests", "600ms")
			clienttest.JSON(w, 200, openAITestPage(true, "page_AAAAAGd", openAITestBucket(openAITestD1,
				`{"object":"organization.usage.completions.result","input_tokens":1000,"input_cached_tokens":200,"output_tokens":500,"input_audio_tokens":0,"output_audio_tokens":0,"num_model_requests":7,"project_id":"proj_a","user_id":null,"api_key_id":null,"model":"gpt-4o-mini-2024-07-18","batch":null}`)))
		case "/organization/usage/completions?page_AAAAAGd":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD2,
				`{"object":"organization.usage.completions.result","input_tokens":30,"input_cached_tokens":0,"output_tokens":12,"input_audio_tokens":4,"output_audio_tokens":5,"num_model_requests":1,"project_id":"proj_b","user_id":null,"api_key_id":null,"model":"gpt-4o-2024-08-06","batch":null}`)))
		case "/organization/usage/embeddings?":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD2,
				`{"object":"organization.usage.embeddings.result","input_tokens":16,"num_model_requests":2,"project_id":null,"user_id":null,"api_key_id":null,"model":"text-embedding-3-small"}`)))
		case "/organization/usage/images?":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD3,
				`{"object":"organization.usage.images.result","images":3,"num_model_requests":2,"size":"1024x1024","source":"image.generation","project_id":"proj_a","user_id":null,"api_key_id":null,"model":"dall-e-3"}`,
				`{"object":"organization.usage.images.result","images":1,"num_model_requests":1,"size":"512x512","source":"image.generation","project_id":"proj_a","user_id":null,"api_key_id":null,"model":"dall-e-3"}`)))
		case "/organization/costs?":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD1,
				`{"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"gpt-4o-mini, input","project_id":"proj_a","api_key_id":null,"quantity":null}`,
				`{"object":"organization.costs.result","amount":{"value":1.234567,"currency":"usd"},"line_item":"gpt-4o-mini, output","project_id":"proj_a","api_key_id":null,"quantity":null}`),
				openAITestBucket(openAITestD2,
					`{"object":"organization.costs.result","amount":{"value":0.000000001,"currency":"usd"},"line_item":"embeddings","project_id":null,"api_key_id":"key_x","quantity":null}`)))
		default:
			t.Errorf("unexpected request %s", r.URL)
			w.WriteHeader(404)
		}
	})
	o := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions", "embeddings", "images"}})
	poll, err := o.Poll(context.Background(), openAITestFrom, openAITestNow)
	if err != nil {
		t.Fatal(err)
	}

	d := func(day time.Time, kind, v, project, model, category string) provider.Usage {
		return provider.Usage{Start: day, End: day.Add(24 * time.Hour), Account: "openai", Kind: kind, Value: clienttest.Dec(v),
			Project: project, Model: model, Category: category}
	}
	cost := func(day time.Time, v, lineItem, project, apiKey string) provider.Usage {
		return provider.Usage{Start: day, End: day.Add(24 * time.Hour), Account: "openai", Kind: "cost_usd", Value: clienttest.Dec(v),
			LineItem: lineItem, Project: project, APIKey: apiKey}
	}
	mini, gpt4o := "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{
		d(openAITestD1, "input_audio_tokens", "0", "proj_a", mini, "completions"),
		d(openAITestD1, "cached_input_tokens", "200", "proj_a", mini, "completions"),
		d(openAITestD1, "input_tokens", "1000", "proj_a", mini, "completions"),
		d(openAITestD1, "requests", "7", "proj_a", mini, "completions"),
		d(openAITestD1, "output_audio_tokens", "0", "proj_a", mini, "completions"),
		d(openAITestD1, "output_tokens", "500", "proj_a", mini, "completions"),
		d(openAITestD2, "input_audio_tokens", "4", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "cached_input_tokens", "0", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "input_tokens", "30", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "requests", "1", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "output_audio_tokens", "5", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "output_tokens", "12", "proj_b", gpt4o, "completions"),
		d(openAITestD2, "input_tokens", "16", "", "text-embedding-3-small", "embeddings"),
		d(openAITestD2, "requests", "2", "", "text-embedding-3-small", "embeddings"),
		// two image sizes, no dimension for size: they add up
		d(openAITestD3, "images", "4", "proj_a", "dall-e-3", "images"),
		d(openAITestD3, "requests", "3", "proj_a", "dall-e-3", "images"),
		cost(openAITestD1, "0.06", "gpt-4o-mini, input", "proj_a", ""),
		cost(openAITestD1, "1.234567", "gpt-4o-mini, output", "proj_a", ""),
		cost(openAITestD2, "0.000000001", "embeddings", "", "key_x"),
	})

	if want := []provider.RateLimit{{Scope: "requests", Limit: 100, Remaining: 99, Reset: 600 * time.Millisecond}}; !slices.Equal(poll.RateLimits, want) {
		t.Errorf("rate limits = %+v, want %+v", poll.RateLimits, want)
	}
	if len(poll.Gauges) != 0 {
		t.Errorf("gauges = %+v", poll.Gauges)
	}

	reqs := srv.Requests()
	if got, want := srv.Paths(), []string{"/organization/usage/completions", "/organization/usage/completions?page=page_AAAAAGd",
		"/organization/usage/embeddings", "/organization/usage/images", "/organization/costs"}; !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	start := strconv.FormatInt(openAITestUnix(openAITestD1), 10) // from rounded down to the 1d bucket
	end := strconv.FormatInt(openAITestNow.Unix(), 10)
	usageQuery := url.Values{"start_time": {start}, "end_time": {end}, "bucket_width": {"1d"},
		"group_by[]": {"model", "project_id"}, "limit": {"31"}}
	for i, r := range reqs {
		if r.Auth != "Bearer "+openAITestAdminKey {
			t.Errorf("request %d auth %q", i, r.Auth)
		}
		want := usageQuery
		if r.Path == "/organization/costs" {
			want = url.Values{"start_time": {start}, "end_time": {end}, "bucket_width": {"1d"},
				"group_by[]": {"line_item", "project_id"}, "limit": {"180"}}
		}
		if i == 1 {
			want = openAITestWith(want, "page", "page_AAAAAGd")
		}
		if r.Query.Encode() != want.Encode() {
			t.Errorf("request %d %s query\n got %s\nwant %s", i, r.Path, r.Query.Encode(), want.Encode())
		}
	}
}

func openAITestWith(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for kk, vv := range q {
		out[kk] = slices.Clone(vv)
	}
	out.Set(k, v)
	return out
}

func TestOpenAIPollBucketWidths(t *testing.T) {
	for width, want := range map[string]struct {
		limit string
		start time.Time
	}{
		"1h": {"168", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		"1m": {"1440", time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)},
	} {
		t.Run(width, func(t *testing.T) {
			srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) { clienttest.JSON(w, 200, openAITestEmptyPage) })
			o := newOpenAITestPoller(srv, ClientConfig{BucketWidth: width, UsageTypes: []string{"completions"}})
			if _, err := o.Poll(context.Background(), openAITestFrom.Add(17*time.Second), openAITestNow); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("requests %v", srv.Paths())
			}
			q := reqs[0].Query
			if q.Get("limit") != want.limit || q.Get("bucket_width") != width || q.Get("start_time") != strconv.FormatInt(want.start.Unix(), 10) {
				t.Errorf("usage query %s", q.Encode())
			}
			// costs stay daily
			q = reqs[1].Query
			if q.Get("bucket_width") != "1d" || q.Get("limit") != "180" || q.Get("start_time") != strconv.FormatInt(openAITestD1.Unix(), 10) {
				t.Errorf("costs query %s", q.Encode())
			}
		})
	}
}

func TestOpenAIPollEmptyPageWithCursorContinues(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path + "?" + r.URL.Query().Get("page") {
		case "/organization/usage/completions?":
			clienttest.JSON(w, 200, openAITestPage(true, "c1"))
		case "/organization/usage/completions?c1":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD2,
				`{"object":"organization.usage.completions.result","input_tokens":5,"project_id":null,"model":null}`)))
		default:
			clienttest.JSON(w, 200, openAITestEmptyPage)
		}
	})
	poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
	if err != nil {
		t.Fatal(err)
	}
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{{Start: openAITestD2, End: openAITestD3, Account: "openai", Kind: "input_tokens",
		Value: clienttest.Dec("5"), Category: "completions"}})
	if got, want := srv.Paths(), []string{"/organization/usage/completions", "/organization/usage/completions?page=c1", "/organization/costs"}; !slices.Equal(got, want) {
		t.Fatalf("requests %v", got)
	}
}

func TestOpenAIPollPagingFaults(t *testing.T) {
	firstBucket := openAITestBucket(openAITestD1, `{"object":"organization.usage.completions.result","output_tokens":9,"project_id":"p","model":"m"}`)
	cases := []struct {
		name      string
		pages     map[string]string // cursor → page
		wantPaths []string
	}{
		{"has_more without next_page", map[string]string{"": openAITestPage(true, "", firstBucket)},
			[]string{"/organization/usage/completions"}},
		{"has_more with empty next_page", map[string]string{"": strings.Replace(openAITestPage(true, "", firstBucket), `"next_page":null`, `"next_page":""`, 1)},
			[]string{"/organization/usage/completions"}},
		{"repeated cursor", map[string]string{"": openAITestPage(true, "c1", firstBucket), "c1": openAITestPage(true, "c2"), "c2": openAITestPage(true, "c1")},
			[]string{"/organization/usage/completions", "/organization/usage/completions?page=c1", "/organization/usage/completions?page=c2"}},
		{"cursor repeats itself", map[string]string{"": openAITestPage(true, "c1", firstBucket), "c1": openAITestPage(true, "c1")},
			[]string{"/organization/usage/completions", "/organization/usage/completions?page=c1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/organization/costs" {
					clienttest.JSON(w, 200, openAITestEmptyPage)
					return
				}
				clienttest.JSON(w, 200, c.pages[r.URL.Query().Get("page")])
			})
			poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
			clienttest.AssertClass(t, err, provider.ClassBadResponse)
			// partial results come back with the error
			clienttest.AssertUsage(t, poll.Usage, []provider.Usage{{Start: openAITestD1, End: openAITestD2, Account: "openai", Kind: "output_tokens",
				Value: clienttest.Dec("9"), Project: "p", Model: "m", Category: "completions"}})
			// a bad cursor ends that endpoint, not the poll: costs are still read
			if got, want := srv.Paths(), append(c.wantPaths, "/organization/costs"); !slices.Equal(got, want) {
				t.Fatalf("requests %v, want %v", got, want)
			}
		})
	}
}

func TestOpenAIPollStopsAfterMaxPages(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/organization/costs" {
			clienttest.JSON(w, 200, openAITestEmptyPage)
			return
		}
		mu.Lock()
		n++
		next := "c" + strconv.Itoa(n)
		mu.Unlock()
		clienttest.JSON(w, 200, openAITestPage(true, next))
	})
	_, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassBadResponse)
	if n != openAIMaxPages {
		t.Fatalf("read %d pages, want %d", n, openAIMaxPages)
	}
}

func TestOpenAIPollFailures(t *testing.T) {
	echoKey := `{"error":{"message":"Incorrect API key provided: ` + openAITestAdminKey + `. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		class      string
		status     int
		retryAfter time.Duration
		calls      int // requests made: a stop-class failure ends the poll
	}{
		{"401", func(w http.ResponseWriter, r *http.Request) { clienttest.JSON(w, 401, echoKey) },
			provider.ClassAuthFailed, 401, 0, 1},
		{"403 masked key", func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 403, `{"error":{"message":"Key sk-admin-TESTS***********cdef is not allowed","type":"invalid_request_error","param":null,"code":null}}`)
		}, provider.ClassAuthFailed, 403, 0, 1},
		{"429 rate limit", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			clienttest.JSON(w, 429, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		}, provider.ClassRateLimited, 429, 7 * time.Second, 1},
		{"429 insufficient_quota", func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 429, `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`)
		}, provider.ClassQuotaExhausted, 429, 0, 1},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 500, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`)
		}, provider.ClassServerError, 500, 0, 3},
		{"malformed json", func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 200, `{"object":"page","data":[{"object":"bucket","start_time":1772323200,"results":[}`)
		}, provider.ClassBadResponse, 200, 0, 3},
		{"truncated body", func(w http.ResponseWriter, r *http.Request) {
			body := openAITestPage(false, "", openAITestBucket(openAITestD1, `{"input_tokens":1}`))
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(200)
			_, _ = w.Write([]byte(body[:len(body)/2]))
		}, provider.ClassBadResponse, 200, 0, 3},
		{"html error page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Bad gateway</body></html>"))
		}, provider.ClassBadResponse, 200, 0, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := clienttest.NewServer(t, c.handler)
			poll, err := newOpenAITestPoller(srv, ClientConfig{APIKey: openAITestAPIKey, UsageTypes: []string{"completions", "embeddings"}}).
				Poll(context.Background(), openAITestFrom, openAITestNow)
			clienttest.AssertClass(t, err, c.class)
			var pe *provider.Error
			errors.As(err, &pe)
			if pe.Status != c.status || pe.RetryAfter != c.retryAfter || pe.Provider != Name {
				t.Errorf("error %+v", pe)
			}
			clienttest.AssertNoSecret(t, openAITestSecrets, err.Error())
			if len(poll.Usage) != 0 {
				t.Errorf("usage %+v", poll.Usage)
			}
			if got := len(srv.Requests()); got != c.calls {
				t.Errorf("%d requests (%v), want %d", got, srv.Paths(), c.calls)
			}
		})
	}
}

func TestOpenAIPollSiblingFailureDoesNotStopOthers(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/organization/usage/vector_stores":
			clienttest.JSON(w, 404, `{"error":{"message":"Invalid URL (GET /v1/organization/usage/vector_stores)","type":"invalid_request_error","param":null,"code":null}}`)
		case "/organization/usage/audio_speeches":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD2,
				`{"object":"organization.usage.audio_speeches.result","characters":1234,"num_model_requests":3,"project_id":"proj_a","user_id":null,"api_key_id":null,"model":"tts-1"}`)))
		case "/organization/usage/code_interpreter_sessions":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD2,
				`{"object":"organization.usage.code_interpreter_sessions.result","num_sessions":2,"project_id":"proj_a"}`)))
		default:
			clienttest.JSON(w, 200, openAITestEmptyPage)
		}
	})
	poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"vector_stores", "audio_speeches", "code_interpreter_sessions"}}).
		Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassClientError)
	if !strings.Contains(err.Error(), "vector_stores") {
		t.Errorf("error does not name the endpoint: %v", err)
	}
	u := func(kind, v, model, cat string) provider.Usage {
		return provider.Usage{Start: openAITestD2, End: openAITestD3, Account: "openai", Kind: kind, Value: clienttest.Dec(v), Project: "proj_a", Model: model, Category: cat}
	}
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{
		u("characters", "1234", "tts-1", "audio_speeches"),
		u("requests", "3", "tts-1", "audio_speeches"),
		u("num_sessions", "2", "", "code_interpreter_sessions"),
	})
	if got := len(srv.Requests()); got != 4 {
		t.Errorf("requests %v", srv.Paths())
	}
}

func TestOpenAIPollSkipsNulls(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/organization/usage/completions":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD1,
				`{"object":"organization.usage.completions.result","input_tokens":null,"input_cached_tokens":null,"output_tokens":42,"num_model_requests":null,"project_id":null,"user_id":null,"api_key_id":null,"model":null,"batch":null}`,
				`{"object":"organization.usage.completions.result","project_id":"proj_empty"}`),
				`{"object":"bucket","start_time":1772409600,"end_time":1772496000,"results":null}`,
				`{"object":"bucket","start_time":1772409600,"end_time":1772496000}`))
		case "/organization/costs":
			clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD1,
				`{"object":"organization.costs.result","amount":{"value":null,"currency":"usd"},"line_item":"a","project_id":null}`,
				`{"object":"organization.costs.result","amount":null,"line_item":"b","project_id":null}`,
				`{"object":"organization.costs.result","line_item":"c"}`,
				`{"object":"organization.costs.result","amount":{"value":"0.5","currency":null},"line_item":"d","project_id":null}`)))
		}
	})
	poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
	if err != nil {
		t.Fatal(err)
	}
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{
		{Start: openAITestD1, End: openAITestD2, Account: "openai", Kind: "output_tokens", Value: clienttest.Dec("42"), Category: "completions"},
		// a string amount is read exactly; a missing currency is USD, the
		// only one the Costs API documents
		{Start: openAITestD1, End: openAITestD2, Account: "openai", Kind: "cost_usd", Value: clienttest.Dec("0.5"), LineItem: "d"},
	})
}

func TestOpenAIPollBucketWithoutBounds(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/organization/costs" {
			clienttest.JSON(w, 200, openAITestEmptyPage)
			return
		}
		clienttest.JSON(w, 200, `{"object":"page","data":[{"object":"bucket","start_time":null,"end_time":1772409600,"results":[{"input_tokens":3}]},`+
			openAITestBucket(openAITestD2, `{"input_tokens":4}`)+`],"has_more":false,"next_page":null}`)
	})
	poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassBadResponse)
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{{Start: openAITestD2, End: openAITestD3, Account: "openai", Kind: "input_tokens", Value: clienttest.Dec("4"), Category: "completions"}})
}

func TestOpenAIPollNonUSDCost(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/organization/costs" {
			clienttest.JSON(w, 200, openAITestEmptyPage)
			return
		}
		clienttest.JSON(w, 200, openAITestPage(false, "", openAITestBucket(openAITestD1,
			`{"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"a","project_id":null}`,
			`{"object":"organization.costs.result","amount":{"value":0.07,"currency":"eur"},"line_item":"b","project_id":null}`,
			`{"object":"organization.costs.result","amount":{"value":0.08,"currency":"USD"},"line_item":"c","project_id":null}`)))
	})
	poll, err := newOpenAITestPoller(srv, ClientConfig{UsageTypes: []string{"completions"}}).Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassBadResponse)
	if !strings.Contains(err.Error(), `1 in "eur"`) {
		t.Errorf("error %v", err)
	}
	c := func(v, li string) provider.Usage {
		return provider.Usage{Start: openAITestD1, End: openAITestD2, Account: "openai", Kind: "cost_usd", Value: clienttest.Dec(v), LineItem: li}
	}
	clienttest.AssertUsage(t, poll.Usage, []provider.Usage{c("0.06", "a"), c("0.08", "c")})
}

func TestOpenAIPollTimeout(t *testing.T) {
	srv := clienttest.NewServer(t, clienttest.Slow)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := newOpenAITestPoller(srv, ClientConfig{}).Poll(ctx, openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassTimeout)
	clienttest.AssertNoSecret(t, openAITestSecrets, err.Error())
	if len(srv.Requests()) != 1 || time.Since(began) > 3*time.Second {
		t.Fatalf("requests %v after %s", srv.Paths(), time.Since(began))
	}
}

func TestOpenAIPollWithoutAdminKeyOrWindow(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL) })
	o := NewClient(ClientConfig{BaseURL: srv.URL, APIKey: openAITestAPIKey}, srv.Client())
	if poll, err := o.Poll(context.Background(), openAITestFrom, openAITestNow); err != nil || len(poll.Usage) != 0 {
		t.Fatalf("inference key only: %+v %v", poll, err)
	}
	o = newOpenAITestPoller(srv, ClientConfig{})
	if poll, err := o.Poll(context.Background(), openAITestNow, openAITestNow); err != nil || len(poll.Usage) != 0 {
		t.Fatalf("empty window: %+v %v", poll, err)
	}
	o = newOpenAITestPoller(srv, ClientConfig{BucketWidth: "5m"})
	_, err := o.Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassClientError)
	// the bad type is refused without a request; costs are still read
	srv2 := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) { clienttest.JSON(w, 200, openAITestEmptyPage) })
	o = newOpenAITestPoller(srv2, ClientConfig{UsageTypes: []string{"../costs"}})
	_, err = o.Poll(context.Background(), openAITestFrom, openAITestNow)
	clienttest.AssertClass(t, err, provider.ClassClientError)
	if got := srv2.Paths(); !slices.Equal(got, []string{"/organization/costs"}) {
		t.Fatalf("requests %v", got)
	}
}

func TestOpenAIDefaults(t *testing.T) {
	o := NewClient(ClientConfig{AdminKey: "k"}, nil)
	if o.cfg.BaseURL != "https://api.openai.com/v1" || o.cfg.BucketWidth != "1d" || o.cfg.Account != "openai" ||
		!slices.Equal(o.cfg.UsageTypes, []string{"completions", "embeddings", "moderations", "images", "audio_speeches",
			"audio_transcriptions", "vector_stores", "code_interpreter_sessions"}) || o.Provider() != Name {
		t.Fatalf("defaults %+v", o.cfg)
	}
	o = NewClient(ClientConfig{BaseURL: "http://proxy.local/v1/", Account: "acme"}, nil)
	if o.cfg.BaseURL != "http://proxy.local/v1" || o.cfg.Account != "acme" {
		t.Fatalf("config %+v", o.cfg)
	}
	var _ provider.Poller = o
}

func TestOpenAICheck(t *testing.T) {
	t.Run("api key: GET /models", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-ratelimit-limit-requests", "10000")
			w.Header().Set("x-ratelimit-remaining-requests", "9999")
			w.Header().Set("x-ratelimit-reset-requests", "6ms")
			w.Header().Set("x-ratelimit-limit-tokens", "2000000")
			w.Header().Set("x-ratelimit-remaining-tokens", "1999000")
			w.Header().Set("x-ratelimit-reset-tokens", "6m0s")
			clienttest.JSON(w, 200, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}`)
		})
		ch := newOpenAITestPoller(srv, ClientConfig{APIKey: openAITestAPIKey}).Check(context.Background())
		if !ch.Up || ch.Class != "" || ch.HTTPStatus != 200 || ch.Message != "" || ch.Latency <= 0 {
			t.Fatalf("check %+v", ch)
		}
		want := []provider.RateLimit{{Scope: "requests", Limit: 10000, Remaining: 9999, Reset: 6 * time.Millisecond},
			{Scope: "tokens", Limit: 2000000, Remaining: 1999000, Reset: 6 * time.Minute}}
		if !slices.Equal(ch.RateLimits, want) {
			t.Fatalf("rate limits %+v", ch.RateLimits)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/models" || reqs[0].Auth != "Bearer "+openAITestAPIKey || len(reqs[0].Query) != 0 {
			t.Fatalf("requests %+v", reqs)
		}
	})
	t.Run("admin key: one-bucket usage query", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) { clienttest.JSON(w, 200, openAITestEmptyPage) })
		before := time.Now().Add(-time.Minute).Unix()
		ch := newOpenAITestPoller(srv, ClientConfig{}).Check(context.Background())
		after := time.Now().Add(-time.Minute).Unix()
		if !ch.Up || ch.Class != "" || ch.HTTPStatus != 200 {
			t.Fatalf("check %+v", ch)
		}
		reqs := srv.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/organization/usage/completions" || reqs[0].Auth != "Bearer "+openAITestAdminKey {
			t.Fatalf("requests %+v", reqs)
		}
		q := reqs[0].Query
		st, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if q.Get("bucket_width") != "1m" || q.Get("limit") != "1" || st < before || st > after || len(q) != 3 {
			t.Fatalf("query %s", q.Encode())
		}
	})
	t.Run("auth_failed", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
			clienttest.JSON(w, 401, `{"error":{"message":"Incorrect API key provided: `+openAITestAPIKey+`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		})
		ch := newOpenAITestPoller(srv, ClientConfig{APIKey: openAITestAPIKey}).Check(context.Background())
		if ch.Up || ch.Class != provider.ClassAuthFailed || ch.HTTPStatus != 401 || !strings.HasPrefix(ch.Message, "Incorrect API key provided") {
			t.Fatalf("check %+v", ch)
		}
		clienttest.AssertNoSecret(t, openAITestSecrets, ch.Message)
	})
	t.Run("rate limited is up", func(t *testing.T) {
		srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-ratelimit-limit-requests", "60")
			w.Header().Set("x-ratelimit-remaining-requests", "0")
			clienttest.JSON(w, 429, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		})
		ch := newOpenAITestPoller(srv, ClientConfig{APIKey: openAITestAPIKey}).Check(context.Background())
		if !ch.Up || ch.Class != provider.ClassRateLimited || ch.HTTPStatus != 429 ||
			!slices.Equal(ch.RateLimits, []provider.RateLimit{{Scope: "requests", Limit: 60, Remaining: 0}}) {
			t.Fatalf("check %+v", ch)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := clienttest.NewServer(t, clienttest.Slow)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		ch := newOpenAITestPoller(srv, ClientConfig{}).Check(ctx)
		if ch.Up || ch.Class != provider.ClassTimeout || ch.HTTPStatus != 0 || ch.Latency < 100*time.Millisecond {
			t.Fatalf("check %+v", ch)
		}
		clienttest.AssertNoSecret(t, openAITestSecrets, ch.Message)
	})
	t.Run("no key", func(t *testing.T) {
		ch := NewClient(ClientConfig{}, nil).Check(context.Background())
		if ch.Up || ch.Class != provider.ClassClientError {
			t.Fatalf("check %+v", ch)
		}
	})
}

func TestOpenAIScrub(t *testing.T) {
	err := Scrub(&provider.Error{Provider: "openai", Op: "GET /x", Class: provider.ClassAuthFailed,
		Message: "bad key mykey-123 and sk-proj-abc***xyz.", Err: errors.New("wrapped mykey-123")}, "mykey-123")
	if got := err.Error(); got != "openai GET /x: auth_failed: bad key [redacted] and sk-[redacted].: wrapped [redacted]" {
		t.Fatalf("scrubbed %q", got)
	}
	if Scrub(nil, "k") != nil {
		t.Fatal("nil")
	}
}
