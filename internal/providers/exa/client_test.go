package exa

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

const (
	exaTestAPIKey     = "exa-api-KEY-0000aaaa"
	exaTestServiceKey = "exa-service-KEY-ffff9999"
)

// exaTestKeys are what no error or message may show.
var exaTestKeys = []string{exaTestAPIKey, exaTestServiceKey}

// exaServer checks the x-api-key header against key and records requests.
func exaServer(t *testing.T, key string, handler http.HandlerFunc) *clienttest.Server {
	t.Helper()
	return clienttest.NewKeyedServer(t, "x-api-key", key, handler)
}

// exaUsageJSON is a per-key usage answer as documented.
func exaUsageJSON(id, name, start, end, total string, lines ...string) string {
	return fmt.Sprintf(`{"api_key_id":%q,"api_key_name":%q,"team_id":"team_42",
		"period":{"start":%q,"end":%q},"total_cost_usd":%s,"cost_breakdown":[%s]}`,
		id, name, start, end, total, strings.Join(lines, ","))
}

func exaLine(id, name, qty, amount string) string {
	return fmt.Sprintf(`{"price_id":%q,"price_name":%q,"quantity":%s,"amount_usd":%s}`, id, name, qty, amount)
}

func TestExaPollServiceKey(t *testing.T) {
	from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 26, 13, 0, 0, 0, time.FixedZone("CET", 3600)) // 12:00 UTC
	api := exaServer(t, exaTestAPIKey, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("no API request expected, got %s", r.URL)
	})
	admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		day, _, _ := strings.Cut(q.Get("start_date"), "T")
		switch r.URL.Path {
		case "/team-management/api-keys":
			fmt.Fprint(w, `{"apiKeys":[{"id":"key_1","name":"prod","createdAt":"2026-01-01T00:00:00Z"},{"id":"key/2","name":""},{"name":"no id"}]}`)
		case "/team-management/api-keys/key_1/usage":
			switch day {
			case "2026-11-25":
				fmt.Fprint(w, exaUsageJSON("key_1", "prod", q.Get("start_date"), q.Get("end_date"), "1.2340",
					exaLine("price_search", "Search (1-25 results)", "150", "1.05"),
					exaLine("price_contents", "Contents: text", "185", `"0.1840"`)))
			case "2026-11-26":
				fmt.Fprint(w, exaUsageJSON("key_1", "prod", q.Get("start_date"), q.Get("end_date"), "0.007",
					exaLine("price_search", "Search (1-25 results)", "1", "0.007"),
					exaLine("price_answer", "", "0", "null")))
			}
		case "/team-management/api-keys/key%2F2/usage", "/team-management/api-keys/key/2/usage":
			if r.URL.EscapedPath() != "/team-management/api-keys/key%2F2/usage" {
				t.Errorf("id not escaped: %s", r.URL.EscapedPath())
			}
			fmt.Fprint(w, `{"api_key_id":"key/2","api_key_name":"","team_id":"team_42","period":{"start":"x","end":"y"},"total_cost_usd":null,"cost_breakdown":[]}`)
		default:
			t.Errorf("unexpected %s", r.URL)
		}
	})
	e := NewClient(ClientConfig{BaseURL: api.URL, AdminBaseURL: admin.URL + "/", APIKey: exaTestAPIKey, ServiceKey: exaTestServiceKey}, admin.Client())
	if e.Provider() != Name {
		t.Fatalf("Provider() = %q", e.Provider())
	}
	p, err := e.Poll(context.Background(), from, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range p.Usage {
		got = append(got, clienttest.UsageLine(u))
	}
	d25, d26, d27 := "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"
	clienttest.SameLines(t, "usage", got, []string{
		d25 + " " + d26 + " acct=team_42 kind=cost_usd value=1.234 project= model= line= cat= key=prod",
		d25 + " " + d26 + " acct=team_42 kind=breakdown_cost_usd value=1.05 project= model= line=Search (1-25 results) cat= key=prod",
		d25 + " " + d26 + " acct=team_42 kind=quantity value=150 project= model= line=Search (1-25 results) cat= key=prod",
		d25 + " " + d26 + " acct=team_42 kind=breakdown_cost_usd value=0.184 project= model= line=Contents: text cat= key=prod",
		d25 + " " + d26 + " acct=team_42 kind=quantity value=185 project= model= line=Contents: text cat= key=prod",
		d26 + " " + d27 + " acct=team_42 kind=cost_usd value=0.007 project= model= line= cat= key=prod",
		d26 + " " + d27 + " acct=team_42 kind=breakdown_cost_usd value=0.007 project= model= line=Search (1-25 results) cat= key=prod",
		d26 + " " + d27 + " acct=team_42 kind=quantity value=1 project= model= line=Search (1-25 results) cat= key=prod",
		// null amount skipped; unnamed price line named by its id
		d26 + " " + d27 + " acct=team_42 kind=quantity value=0 project= model= line=price_answer cat= key=prod",
		// key/2 had a null total and no lines: nothing
	})
	if len(p.Gauges)+len(p.RateLimits) != 0 {
		t.Errorf("gauges/rate limits = %+v", p)
	}
	clienttest.SameLines(t, "requests", admin.Seen(), []string{
		"GET /team-management/api-keys",
		"GET /team-management/api-keys/key_1/usage?end_date=2026-11-25T23%3A59%3A59.999Z&start_date=2026-11-25T00%3A00%3A00.000Z",
		"GET /team-management/api-keys/key_1/usage?end_date=2026-11-26T12%3A00%3A00.000Z&start_date=2026-11-26T00%3A00%3A00.000Z",
		"GET /team-management/api-keys/key%2F2/usage?end_date=2026-11-25T23%3A59%3A59.999Z&start_date=2026-11-25T00%3A00%3A00.000Z",
		"GET /team-management/api-keys/key%2F2/usage?end_date=2026-11-26T12%3A00%3A00.000Z&start_date=2026-11-26T00%3A00%3A00.000Z",
	})
}

func TestExaKeyListShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"apiKeys":[{"id":"a","name":"A"}]}`:                 "a/A",
		`{"data":[{"id":"a","name":"A"},{"id":7,"name":""}]}`: "a/A 7/",
		`[{"id":"b","name":"B"}]`:                             "b/B",
		`{"api_keys":[]}`:                                     "",
		` [ ] `:                                               "",
	} {
		admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		e := NewClient(ClientConfig{AdminBaseURL: admin.URL, ServiceKey: exaTestServiceKey}, nil)
		keys, err := e.keys(context.Background())
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.ID+"/"+k.Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: keys %q, want %q", body, got, want)
		}
	}
	for _, body := range []string{`{"keys":{"id":"a"}}`, `{"total":3}`, `"nope"`, `{"data":[{"id":"a","name":7}]}`} {
		admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		e := NewClient(ClientConfig{AdminBaseURL: admin.URL, ServiceKey: exaTestServiceKey}, nil)
		p, err := e.Poll(context.Background(), time.Now().Add(-time.Hour), time.Now())
		if provider.ClassOf(err) != provider.ClassBadResponse || len(p.Usage) != 0 || len(admin.Seen()) != 1 {
			t.Errorf("%s: poll %+v, err %v", body, p, err)
		}
	}
	// entries whose id is not a string or number are skipped
	admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data":[{"id":{}},{"id":null}]}`) })
	e := NewClient(ClientConfig{AdminBaseURL: admin.URL, ServiceKey: exaTestServiceKey}, nil)
	if p, err := e.Poll(context.Background(), time.Now().Add(-time.Hour), time.Now()); err != nil || len(p.Usage) != 0 || len(admin.Seen()) != 1 {
		t.Errorf("poll %+v, err %v, requests %v", p, err, admin.Seen())
	}
}

func TestExaLookbackClamped(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var starts []string
	admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/team-management/api-keys" {
			fmt.Fprint(w, `[{"id":"k","name":"n"}]`)
			return
		}
		starts = append(starts, r.URL.Query().Get("start_date"))
		fmt.Fprint(w, `{"total_cost_usd":0,"cost_breakdown":[]}`)
	})
	e := NewClient(ClientConfig{AdminBaseURL: admin.URL, ServiceKey: exaTestServiceKey}, nil)
	p, err := e.Poll(context.Background(), now.Add(-200*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 100 || starts[0] != "2026-08-19T00:00:00.000Z" || starts[99] != "2026-11-26T00:00:00.000Z" {
		t.Errorf("%d days asked, first %q last %q", len(starts), starts[0], starts[len(starts)-1])
	}
	// a zero cost reported is a figure, not a missing one; no team id, key named from the list
	if len(p.Usage) != 100 || p.Usage[0].Value.String() != "0" || p.Usage[0].Kind != "cost_usd" || p.Usage[0].APIKey != "n" || p.Usage[0].Account != "" {
		t.Errorf("usage[0] = %+v of %d", p.Usage[0], len(p.Usage))
	}
	if got := exaDays(now, now); len(got) != 1 || !got[0].Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("exaDays(now, now) = %v", got)
	}
	midnight := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if got := exaDays(midnight.Add(-time.Hour), midnight); len(got) != 1 || !got[0].Equal(midnight.Add(-24*time.Hour)) {
		t.Errorf("exaDays at midnight = %v", got)
	}
}

func TestExaPollWithoutServiceKey(t *testing.T) {
	api := exaServer(t, exaTestAPIKey, func(w http.ResponseWriter, r *http.Request) {})
	e := NewClient(ClientConfig{BaseURL: api.URL, AdminBaseURL: api.URL, APIKey: exaTestAPIKey}, nil)
	p, err := e.Poll(context.Background(), time.Now().Add(-48*time.Hour), time.Now())
	if err != nil || len(p.Usage)+len(p.Gauges)+len(p.RateLimits) != 0 {
		t.Errorf("poll = %+v, %v", p, err)
	}
	if n := len(api.Seen()); n != 0 {
		t.Errorf("%d requests made: %v", n, api.Seen())
	}
}

func TestExaPollErrors(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		status   int
		body     string
		class    string
		message  string
		requests int // list + usage calls made
	}{
		{"no more credits", 402, `{"requestId":"req_1","error":"You have run out of credits","tag":"NO_MORE_CREDITS"}`,
			provider.ClassQuotaExhausted, "You have run out of credits", 2},
		{"key budget", 402, `{"requestId":"req_2","error":"API key budget exceeded","tag":"API_KEY_BUDGET_EXCEEDED"}`,
			provider.ClassQuotaExhausted, "API key budget exceeded", 2},
		{"budget on 403", 403, `{"requestId":"req_3","error":"API key budget exceeded","tag":"API_KEY_BUDGET_EXCEEDED"}`,
			provider.ClassQuotaExhausted, "API key budget exceeded", 2},
		{"unauthorized", 401, `{"requestId":"req_4","error":"Invalid service key","tag":"INVALID_API_KEY"}`,
			provider.ClassAuthFailed, "Invalid service key", 2},
		{"server", 500, `{"requestId":"req_5","error":"Internal error","tag":"INTERNAL_ERROR"}`,
			provider.ClassServerError, "Internal error", 2},
		// not found for one key: the other keys are still read
		{"gone key", 404, `{"requestId":"req_6","error":"API key not found","tag":"NOT_FOUND"}`,
			provider.ClassClientError, "API key not found", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/team-management/api-keys" {
					fmt.Fprint(w, `{"data":[{"id":"k1","name":"one"},{"id":"k2","name":"two"}]}`)
					return
				}
				if strings.Contains(r.URL.Path, "k1") {
					w.WriteHeader(tc.status)
					fmt.Fprint(w, tc.body)
					return
				}
				fmt.Fprint(w, `{"team_id":"t","total_cost_usd":"0.5","cost_breakdown":[]}`)
			})
			e := NewClient(ClientConfig{AdminBaseURL: admin.URL, ServiceKey: exaTestServiceKey}, nil)
			p, err := e.Poll(context.Background(), now.Add(-time.Hour), now)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Class != tc.class || pe.Status != tc.status || pe.Message != tc.message || pe.Provider != Name {
				t.Errorf("error = %+v", pe)
			}
			clienttest.AssertNoSecret(t, exaTestKeys, err.Error())
			if n := len(admin.Seen()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.requests == 3 && (len(p.Usage) != 1 || p.Usage[0].APIKey != "two" || p.Usage[0].Value.String() != "0.5") {
				t.Errorf("partial usage = %+v", p.Usage)
			}
		})
	}
}

func TestExaCheckServiceKey(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		up      bool
		class   string
		message string
	}{
		{200, `{"apiKeys":[]}`, true, "", ""},
		{401, `{"requestId":"r","error":"Unauthorized","tag":"INVALID_API_KEY"}`, false, provider.ClassAuthFailed, "Unauthorized"},
	} {
		admin := exaServer(t, exaTestServiceKey, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.Path != "/team-management/api-keys" {
				t.Errorf("request %s %s", r.Method, r.URL)
			}
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		})
		api := exaServer(t, exaTestAPIKey, func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("the API is not called when a service key is set")
		})
		e := NewClient(ClientConfig{BaseURL: api.URL, AdminBaseURL: admin.URL, APIKey: exaTestAPIKey, ServiceKey: exaTestServiceKey}, nil)
		ch := e.Check(context.Background())
		if ch.Up != tc.up || ch.Class != tc.class || ch.HTTPStatus != tc.status || ch.Message != tc.message {
			t.Errorf("check = %+v", ch)
		}
	}
}

func TestExaCheckAPIKey(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		up      bool
		class   string
		message string
	}{
		{"query required", 400, `{"requestId":"r1","error":"query is required","tag":"INVALID_REQUEST_BODY"}`, true, "", "key accepted"},
		{"validation 422", 422, `{"requestId":"r2","error":"Invalid request body"}`, true, "", "key accepted"},
		{"bad key as 400", 400, `{"requestId":"r3","error":"Invalid API key","tag":"INVALID_API_KEY"}`, false, provider.ClassAuthFailed, "Invalid API key"},
		{"401", 401, `{"requestId":"r4","error":"Invalid API key","tag":"INVALID_API_KEY"}`, false, provider.ClassAuthFailed, "Invalid API key"},
		{"402", 402, `{"requestId":"r5","error":"No more credits","tag":"NO_MORE_CREDITS"}`, false, provider.ClassQuotaExhausted, "No more credits"},
		{"429", 429, `{"requestId":"r6","error":"Too many requests","tag":"RATE_LIMITED"}`, true, provider.ClassRateLimited, "Too many requests"},
		{"503", 503, `upstream unavailable`, false, provider.ClassServerError, "upstream unavailable"},
		{"served", 200, `{"requestId":"r7","results":[],"costDollars":{"total":0}}`, true, "", "key accepted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := exaServer(t, exaTestAPIKey, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			e := NewClient(ClientConfig{BaseURL: api.URL, APIKey: exaTestAPIKey}, nil)
			ch := e.Check(context.Background())
			if ch.Up != tc.up || ch.Class != tc.class || ch.HTTPStatus != tc.status || ch.Message != tc.message || ch.Latency <= 0 {
				t.Errorf("check = %+v", ch)
			}
			clienttest.SameLines(t, "requests", api.Seen(), []string{"POST /search {}"})
			clienttest.AssertNoSecret(t, exaTestKeys, ch.Message)
		})
	}
	if ch := NewClient(ClientConfig{}, nil).Check(context.Background()); ch.Up || ch.Class != provider.ClassAuthFailed {
		t.Errorf("check without keys = %+v", ch)
	}
}
