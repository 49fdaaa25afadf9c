package nexusapiextension

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/calllog"
)

// callsDay is the past day the calls tests seed, and its range: twenty
// days ago, inside every table's retention whenever the tests run. The
// tests are written with the dates of a fixed example (callsDay =
// 2026-10-05); shift moves such a date text onto the real callsDay.
var (
	callsDay   = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20)
	callsRange = shift("from=2026-10-05T00:00:00Z&to=2026-10-06T00:00:00Z")
)

var exampleDate = regexp.MustCompile(`2026-10-(\d\d)`)

// shift rewrites each 2026-10-DD in s to the day as far from callsDay as
// DD is from the 5th.
func shift(s string) string {
	return exampleDate.ReplaceAllStringFunc(s, func(d string) string {
		day, _ := strconv.Atoi(d[8:])
		return callsDay.AddDate(0, 0, day-5).Format("2006-01-02")
	})
}

// exampleTime is a time of the example on the real callsDay's calendar.
func exampleTime(day, hour, minute int) time.Time {
	return callsDay.AddDate(0, 0, day-5).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

func callsAPI(t *testing.T, db string, tweak func(*Config)) *testAPI {
	t.Helper()
	return startAPI(t, freshDB(db), tweak)
}

// callsFive seeds five distinct calls on callsDay, one minute apart from
// 10:00, plus one the day before (outside callsRange).
func callsFive(ta *testAPI) {
	at := callsDay.Add(10 * time.Hour)
	ta.seed(
		seedCall{At: at, Duration: 120 * time.Millisecond, Provider: "openai", Model: "gpt-4o", Operation: "chat",
			Service: "web", Environment: "prod", Input: 1000, Output: 200, Cached: 300, Reasoning: 50, Cost: "0.001234567891"},
		seedCall{At: at.Add(1 * time.Minute), Provider: "openai", Model: "gpt-4o-mini", Operation: "chat",
			Service: "batch", Environment: "prod", Status: "error", ErrorClass: "rate_limited", HTTPStatus: 429, Cost: "0"},
		seedCall{At: at.Add(2 * time.Minute), Provider: "anthropic", Model: "claude", Operation: "messages",
			Service: "web", Environment: "staging", Input: 10, Output: 20},
		seedCall{At: at.Add(3 * time.Minute), Provider: "anthropic", Model: "claude", Operation: "messages",
			Service: "web", Environment: "prod", Cost: "0.5", Anomaly: true},
		seedCall{At: at.Add(4 * time.Minute), Duration: 1500*time.Millisecond + 250*time.Microsecond, Provider: "exa", Model: "search",
			Operation: "search", Service: "agent", Environment: "prod", Cost: "0.005"},
		seedCall{At: callsDay.Add(-time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat",
			Service: "web", Environment: "prod", Cost: "1"},
	)
}

func callsList(t *testing.T, ta *testAPI, key, query string) ([]calllog.Call, envelope) {
	t.Helper()
	e := ta.do("GET", "/api/v1/calls?"+query, key, nil)
	if e.status != 200 {
		t.Fatalf("GET /api/v1/calls?%s: %d %+v", query, e.status, e.Error)
	}
	if e.Pagination == nil {
		t.Fatalf("GET /api/v1/calls?%s: no pagination", query)
	}
	var out []calllog.Call
	e.decode(t, &out)
	return out, e
}

func TestCallsListNewestFirstWithAllFields(t *testing.T) {
	ta := callsAPI(t, "api_calls_list_test", nil)
	callsFive(ta)
	viewer := ta.key("viewer")

	calls, e := callsList(t, ta, viewer, callsRange)
	if e.Pagination.Total != 5 || e.Pagination.Page != 1 || e.Pagination.Limit != 50 || e.Pagination.TotalPages != 1 || len(calls) != 5 {
		t.Fatalf("pagination %+v, %d calls", e.Pagination, len(calls))
	}
	want := []string{"exa", "anthropic", "anthropic", "openai", "openai"}
	for i, c := range calls {
		if c.Provider != want[i] {
			t.Fatalf("call %d is %s, want %s (newest first)", i, c.Provider, want[i])
		}
		if i > 0 && c.Timestamp >= calls[i-1].Timestamp {
			t.Fatalf("not newest first: %s after %s", c.Timestamp, calls[i-1].Timestamp)
		}
	}

	// Every field, as stored.
	first := calls[4]
	if first.Timestamp != shift("2026-10-05T10:00:00Z") || first.DurationMs != 120 || first.Model != "gpt-4o" ||
		first.RequestModel != "gpt-4o" || first.Operation != "chat" || first.Service != "web" || first.Environment != "prod" ||
		first.HTTPStatus != 200 || first.Status != "ok" || first.ErrorClass != "" ||
		first.Tokens != (calllog.Tokens{Input: 1000, Output: 200, CachedInput: 300, Reasoning: 50}) ||
		first.CostUSD == nil || *first.CostUSD != "0.001234567891" || first.CostStatus != "computed" || first.UnpricedReason != "" ||
		first.PricingVersion != "test" || first.AnomalyScore != 0 || first.Anomaly || first.TraceID == "" || first.SpanID == "" {
		t.Fatalf("first call: %+v", first)
	}
	if calls[0].DurationMs != 1500.25 {
		t.Fatalf("durationMs %v, want 1500.25", calls[0].DurationMs)
	}
	errCall := calls[3]
	if errCall.Status != "error" || errCall.HTTPStatus != 429 || errCall.ErrorClass != "rate_limited" ||
		errCall.CostUSD == nil || *errCall.CostUSD != "0" {
		t.Fatalf("error call: %+v", errCall)
	}
	anomalous := calls[1]
	if !anomalous.Anomaly || anomalous.AnomalyScore != 9 || *anomalous.CostUSD != "0.5" {
		t.Fatalf("anomalous call: %+v", anomalous)
	}
	// Unpriced is null, never "0".
	unpriced := calls[2]
	if unpriced.CostUSD != nil || unpriced.CostStatus != "unpriced" || unpriced.UnpricedReason == "" {
		t.Fatalf("unpriced call: %+v", unpriced)
	}
	if _, raw := callsList(t, ta, viewer, callsRange+"&unpriced=true"); string(raw.Data) == "" ||
		!strings.Contains(string(raw.Data), `"costUsd":null`) {
		t.Fatalf("unpriced call's costUsd is not null: %s", raw.Data)
	}

	// Without a key: 401.
	if e := ta.do("GET", "/api/v1/calls?"+callsRange, "", nil); e.status != 401 || e.Error.Code != "UNAUTHORIZED" {
		t.Fatalf("no key: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/calls/stats?"+callsRange, "", nil); e.status != 401 {
		t.Fatalf("stats without key: %d", e.status)
	}
}

func TestCallsPagination(t *testing.T) {
	ta := callsAPI(t, "api_calls_page_test", nil)
	callsFive(ta)

	var seen []string
	for pg := 1; pg <= 3; pg++ {
		calls, e := callsList(t, ta, ta.admin, callsRange+"&limit=2&page="+strconv.Itoa(pg))
		if e.Pagination.Total != 5 || e.Pagination.TotalPages != 3 || e.Pagination.Page != pg || e.Pagination.Limit != 2 {
			t.Fatalf("page %d: %+v", pg, e.Pagination)
		}
		if want := min(2, 5-2*(pg-1)); len(calls) != want {
			t.Fatalf("page %d has %d calls, want %d", pg, len(calls), want)
		}
		for _, c := range calls {
			seen = append(seen, c.Timestamp)
		}
	}
	// Pages neither overlap nor skip, and keep the newest-first order.
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("pages out of order: %v", seen)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d calls over the pages", len(seen))
	}

	// Past the end: 200, [] and the real total.
	calls, e := callsList(t, ta, ta.admin, callsRange+"&limit=2&page=4")
	if len(calls) != 0 || string(e.Data) != "[]" || e.Pagination.Total != 5 || e.Pagination.TotalPages != 3 {
		t.Fatalf("page 4: %s %+v", e.Data, e.Pagination)
	}
	// Nothing in range at all is [] too.
	_, e = callsList(t, ta, ta.admin, shift("from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z"))
	if string(e.Data) != "[]" || e.Pagination.Total != 0 || e.Pagination.TotalPages != 0 {
		t.Fatalf("empty range: %s %+v", e.Data, e.Pagination)
	}

	// Deep pages are refused before the store is asked; the edge is allowed.
	if _, e := callsList(t, ta, ta.admin, callsRange+"&limit=1000&page=101"); e.Pagination.Total != 5 {
		t.Fatalf("offset 100000: %+v", e.Pagination)
	}
	// No from/to: the last 24 hours.
	ta.seed(seedCall{At: time.Now().Add(-time.Hour), Provider: "recent", Cost: "0.1"},
		seedCall{At: time.Now().Add(-25 * time.Hour), Provider: "yesterday", Cost: "0.1"})
	if calls, e := callsList(t, ta, ta.admin, ""); e.Pagination.Total != 1 || calls[0].Provider != "recent" {
		t.Fatalf("default range: %+v %s", e.Pagination, e.Data)
	}
	if s := callsStats(t, ta, ""); s.Count != 1 || s.Source != "calls" || s.CostUSD != "0.1" {
		t.Fatalf("default range stats: %+v", s)
	}
	for _, q := range []string{"limit=1000&page=102", "limit=1&page=100002", "limit=1&page=9223372036854775807", "page=9223372036854775807"} {
		e := ta.do("GET", "/api/v1/calls?"+callsRange+"&"+q, ta.admin, nil)
		if e.status != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "page" ||
			!strings.Contains(e.Error.Details[0].Message, "narrow the time range") {
			t.Fatalf("%s: %d %+v", q, e.status, e.Error)
		}
	}
}

func TestCallsFiltersNarrow(t *testing.T) {
	ta := callsAPI(t, "api_calls_filter_test", nil)
	callsFive(ta)

	for q, want := range map[string][]string{
		"":                    {"exa", "anthropic", "anthropic", "openai", "openai"},
		"provider=anthropic":  {"anthropic", "anthropic"},
		"model=gpt-4o":        {"openai"},
		"operation=chat":      {"openai", "openai"},
		"service=web":         {"anthropic", "anthropic", "openai"},
		"environment=staging": {"anthropic"},
		"status=error":        {"openai"},
		"status=ok":           {"exa", "anthropic", "anthropic", "openai"},
		"anomaly=true":        {"anthropic"},
		"anomaly=false":       {"exa", "anthropic", "openai", "openai"},
		"unpriced=true":       {"anthropic"},
		"unpriced=false":      {"exa", "anthropic", "openai", "openai"},
		"provider=openai&service=web&environment=prod&status=ok":       {"openai"},
		"provider=openai&status=ok&anomaly=true":                       {},
		shift("from=2026-10-05T10:01:00Z&to=2026-10-05T10:03:00Z"):     {"anthropic", "openai"},
		shift("from=2026-10-04T00:00:00Z&to=2026-10-05T10:00:00.001Z"): {"openai", "openai"},
	} {
		query := q
		if !strings.Contains(q, "from=") {
			query = callsRange + "&" + q
		}
		calls, e := callsList(t, ta, ta.admin, query)
		got := []string{}
		for _, c := range calls {
			got = append(got, c.Provider)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || e.Pagination.Total != int64(len(want)) {
			t.Errorf("%s: got %v (total %d), want %v", q, got, e.Pagination.Total, want)
		}
	}
}

func TestCallsSQLLookingValuesAreJustValues(t *testing.T) {
	ta := callsAPI(t, "api_calls_inject_test", nil)
	callsFive(ta)
	for _, field := range scopeFields {
		for _, v := range []string{"openai' OR '1'='1", "1; DROP TABLE " + ta.store.Database() + ".api_calls", "x') OR 1=1 --", `\' OR 1=1`} {
			q := callsRange + "&" + field + "=" + url.QueryEscape(v)
			calls, e := callsList(t, ta, ta.admin, q)
			if len(calls) != 0 || e.Pagination.Total != 0 {
				t.Fatalf("%s=%q matched %d calls", field, v, e.Pagination.Total)
			}
			s := ta.do("GET", "/api/v1/calls/stats?"+q, ta.admin, nil)
			var st callStats
			s.decode(t, &st)
			if s.status != 200 || st.Count != 0 {
				t.Fatalf("stats %s=%q: %d count %d", field, v, s.status, st.Count)
			}
			s = ta.do("GET", shift("/api/v1/calls/stats?from=2026-10-01T00:00:00Z&to=2026-10-06T00:00:00Z&")+field+"="+url.QueryEscape(v), ta.admin, nil)
			s.decode(t, &st)
			// Customer and user have their own day rollups.
			source := map[string]string{"customer": "rollup_customer_1d", "user": "rollup_user_1d"}[field]
			if source == "" {
				source = "rollup_1h"
			}
			if s.status != 200 || st.Count != 0 || st.Source != source {
				t.Fatalf("rollup stats %s=%q: %d %+v", field, v, s.status, st)
			}
		}
	}
	if n := scalarAll(t, ta, "SELECT toString(count()) FROM "+ta.store.Database()+".api_calls"); n != "6" {
		t.Fatalf("api_calls has %s rows after the attempts, want 6", n)
	}
	if _, e := callsList(t, ta, ta.admin, callsRange); e.Pagination.Total != 5 {
		t.Fatalf("after the attempts: total %d", e.Pagination.Total)
	}
}

func TestCallsBadRequestsNameTheField(t *testing.T) {
	ta := callsAPI(t, "api_calls_bad_test", func(c *Config) { c.MaxRange = 30 * 24 * time.Hour })
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{callsRange + "&status=failed", []string{"status"}},
		{callsRange + "&status=" + url.QueryEscape("ok' OR '1'='1"), []string{"status"}},
		{callsRange + "&anomaly=yes", []string{"anomaly"}},
		{callsRange + "&unpriced=1", []string{"unpriced"}},
		{shift("from=yesterday&to=2026-10-06T00:00:00Z"), []string{"from"}},
		{shift("from=2026-10-05T00:00:00Z&to=2026-10-06"), []string{"to"}},
		{shift("from=2026-10-06T00:00:00Z&to=2026-10-05T00:00:00Z"), []string{"to"}},
		{shift("from=2026-10-05T00:00:00Z&to=2026-10-05T00:00:00Z"), []string{"to"}},
		{shift("from=2026-01-01T00:00:00Z&to=2026-10-06T00:00:00Z"), []string{"from"}},
		{callsRange + "&page=0", []string{"page"}},
		{callsRange + "&page=two", []string{"page"}},
		{callsRange + "&limit=0", []string{"limit"}},
		{callsRange + "&limit=1001", []string{"limit"}},
		{"from=nope&status=x&anomaly=maybe&limit=-1", []string{"from", "status", "anomaly", "limit"}},
	} {
		for _, path := range []string{"/api/v1/calls", "/api/v1/calls/stats"} {
			want := tc.fields
			if path == "/api/v1/calls/stats" {
				// Stats are not paged: page and limit are not its fields.
				want = nil
				for _, f := range tc.fields {
					if f != "page" && f != "limit" {
						want = append(want, f)
					}
				}
				if len(want) == 0 {
					continue
				}
			}
			e := ta.do("GET", path+"?"+tc.query, ta.admin, nil)
			if e.status != 400 || e.Error.Code != "VALIDATION_ERROR" || len(e.Error.Details) != len(want) {
				t.Fatalf("%s?%s: %d %+v, want fields %v", path, tc.query, e.status, e.Error, want)
			}
			for i, f := range want {
				if e.Error.Details[i].Field != f {
					t.Fatalf("%s?%s: details %+v, want fields %v", path, tc.query, e.Error.Details, want)
				}
			}
		}
	}
	e := ta.do("GET", "/api/v1/calls/stats?"+callsRange+"&groupBy=cost_usd", ta.admin, nil)
	if e.status != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "groupBy" {
		t.Fatalf("groupBy=cost_usd: %d %+v", e.status, e.Error)
	}
}

// callsLatencySeed seeds n calls on callsDay from 10:00, one per minute,
// whose latencies are 1..n ms; every tenth an error, every 25th an
// anomaly, every 50th unpriced, the rest costing 0.000001 × their ms.
func callsLatencySeed(ta *testAPI, start time.Time, n int, step time.Duration) {
	var calls []seedCall
	for i := 1; i <= n; i++ {
		c := seedCall{At: start.Add(time.Duration(i-1) * step), Duration: time.Duration(i) * time.Millisecond,
			Provider: "openai", Model: "gpt-4o", Operation: "chat", Service: "web", Environment: "prod",
			Input: uint64(i), Output: 2, Cached: 1, Reasoning: 1, Cost: fmt.Sprintf("0.%06d", i)}
		if i%3 == 0 {
			c.Provider, c.Model = "anthropic", "claude"
		}
		if i%10 == 0 {
			c.Status = "error"
		}
		if i%25 == 0 {
			c.Anomaly = true
		}
		if i%50 == 0 {
			c.Cost = ""
		}
		calls = append(calls, c)
	}
	ta.seed(calls...)
}

func callsStats(t *testing.T, ta *testAPI, query string) callStats {
	t.Helper()
	e := ta.do("GET", "/api/v1/calls/stats?"+query, ta.admin, nil)
	if e.status != 200 {
		t.Fatalf("stats?%s: %d %+v", query, e.status, e.Error)
	}
	var s callStats
	e.decode(t, &s)
	return s
}

func TestCallStatsExactFromRawCalls(t *testing.T) {
	ta := callsAPI(t, "api_calls_stats_test", nil)
	callsLatencySeed(ta, callsDay.Add(10*time.Hour), 100, time.Minute)

	s := callsStats(t, ta, callsRange)
	// Sums over i = 1..100, with 50 and 100 unpriced:
	// cost = (5050 − 150) × 0.000001; input = 5050.
	if s.Source != "calls" || s.Percentiles != "exact" || s.Count != 100 || s.Errors != 10 || s.ErrorRate != 0.1 || s.Anomalies != 4 || s.Unpriced != 2 ||
		s.CostUSD != "0.0049" || s.Tokens != (calllog.Tokens{Input: 5050, Output: 200, CachedInput: 100, Reasoning: 100}) ||
		s.From != shift("2026-10-05T00:00:00Z") || s.To != shift("2026-10-06T00:00:00Z") {
		t.Fatalf("stats: %+v", s)
	}
	// quantilesExact is the sorted latencies' element floor(level × 100):
	// p50 = a[50] = 51 ms, p95 = a[95] = 96 ms, p99 = a[99] = 100 ms.
	if s.LatencyMs.P50 == nil || *s.LatencyMs.P50 != 51 || *s.LatencyMs.P95 != 96 || *s.LatencyMs.P99 != 100 {
		t.Fatalf("latency %v %v %v", deref(s.LatencyMs.P50), deref(s.LatencyMs.P95), deref(s.LatencyMs.P99))
	}

	// A raw-only filter: errors are i = 10, 20 … 100.
	s = callsStats(t, ta, callsRange+"&status=error")
	if s.Count != 10 || s.Errors != 10 || s.ErrorRate != 1 || *s.LatencyMs.P50 != 60 || *s.LatencyMs.P99 != 100 || s.Unpriced != 2 {
		t.Fatalf("errors only: %+v p50 %v", s, deref(s.LatencyMs.P50))
	}
	s = callsStats(t, ta, callsRange+"&provider=anthropic")
	// i = 3, 6 … 99: 33 calls; p50 = a[16] = 51 ms; errors at 30, 60, 90.
	if s.Count != 33 || s.Errors != 3 || *s.LatencyMs.P50 != 51 || math.Abs(s.ErrorRate-3.0/33) > 1e-15 {
		t.Fatalf("anthropic: %+v p50 %v", s, deref(s.LatencyMs.P50))
	}

	// No calls: zeros and null latency, never NaN.
	e := ta.do("GET", "/api/v1/calls/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", ta.admin, nil)
	if e.status != 200 || !strings.Contains(string(e.Data), `"errorRate":0,`) ||
		!strings.Contains(string(e.Data), `"latencyMs":{"p50":null,"p95":null,"p99":null}`) ||
		!strings.Contains(string(e.Data), `"costUsd":"0"`) || !strings.Contains(string(e.Data), `"count":0,`) {
		t.Fatalf("empty stats: %d %s", e.status, e.Data)
	}

	// Grouped: one row per provider, by count descending, each exact.
	e = ta.do("GET", "/api/v1/calls/stats?"+callsRange+"&groupBy=provider", ta.admin, nil)
	var g groupedCallStats
	e.decode(t, &g)
	if e.status != 200 || g.GroupBy != "provider" || g.Source != "calls" || len(g.Groups) != 2 {
		t.Fatalf("grouped: %d %s", e.status, e.Data)
	}
	oa, an := g.Groups[0], g.Groups[1]
	if *oa.Group != "openai" || oa.Count != 67 || oa.Errors != 7 || *an.Group != "anthropic" || an.Count != 33 || an.Errors != 3 ||
		*an.LatencyMs.P50 != 51 {
		t.Fatalf("groups: %s", e.Data)
	}
	// Group costs add up to the total, exactly.
	if oa.CostUSD != "0.003217" || an.CostUSD != "0.001683" {
		t.Fatalf("group costs %s + %s", oa.CostUSD, an.CostUSD)
	}
	e = ta.do("GET", "/api/v1/calls/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z&groupBy=model", ta.admin, nil)
	if e.status != 200 || !strings.Contains(string(e.Data), `"groups":[]`) {
		t.Fatalf("grouped, no calls: %s", e.Data)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCallStatsLongRangeReadsTheRollup(t *testing.T) {
	ta := callsAPI(t, "api_calls_rollup_test", nil)
	// 100 calls, one every 20 minutes from 2026-10-04 09:40, so the first
	// ones fall in the partial hour at the range's start and the last in
	// the partial hour at its end.
	start := exampleTime(4, 9, 40)
	callsLatencySeed(ta, start, 100, 20*time.Minute)
	// Outside the range but inside its first and last hour buckets: the
	// rollup hours hold them, the answer must not.
	ta.seed(
		seedCall{At: exampleTime(4, 9, 10), Duration: time.Second, Provider: "openai", Cost: "7"},
		seedCall{At: exampleTime(5, 18, 50), Duration: time.Second, Provider: "openai", Cost: "7"},
	)
	// The last call is at 09:40 + 99 × 20 min = 2026-10-05 18:40.
	rng := shift("from=2026-10-04T09:30:00Z&to=2026-10-05T18:45:00Z")

	s := callsStats(t, ta, rng)
	if s.Source != "rollup_1h" || s.Percentiles != "approximate" || s.Count != 100 || s.Errors != 10 || s.ErrorRate != 0.1 || s.Anomalies != 4 || s.Unpriced != 2 ||
		s.CostUSD != "0.0049" || s.Tokens != (calllog.Tokens{Input: 5050, Output: 200, CachedInput: 100, Reasoning: 100}) {
		t.Fatalf("rollup stats: %+v", s)
	}
	// t-digest percentiles are approximate (about 1% of the rank): within
	// 2 ms of the exact 51, 96 and 100 ms over latencies 1..100 ms.
	for _, c := range []struct {
		got  *float64
		want float64
	}{{s.LatencyMs.P50, 51}, {s.LatencyMs.P95, 96}, {s.LatencyMs.P99, 100}} {
		if c.got == nil || math.Abs(*c.got-c.want) > 2 {
			t.Fatalf("rollup percentiles %v %v %v", deref(s.LatencyMs.P50), deref(s.LatencyMs.P95), deref(s.LatencyMs.P99))
		}
	}
	t.Logf("rollup percentiles p50 %v p95 %v p99 %v", *s.LatencyMs.P50, *s.LatencyMs.P95, *s.LatencyMs.P99)

	// The same range with a raw-only filter reads raw calls, still with a
	// t-digest: exact quantiles over a long range would hold every latency.
	// The anomalies' latencies are 25, 50, 75 and 100 ms.
	s = callsStats(t, ta, rng+"&anomaly=true")
	if s.Source != "calls" || s.Percentiles != "approximate" || s.Count != 4 || s.Anomalies != 4 || s.Unpriced != 2 ||
		*s.LatencyMs.P50 < 50 || *s.LatencyMs.P50 > 75 || *s.LatencyMs.P99 < 75 || *s.LatencyMs.P99 > 100 {
		t.Fatalf("anomalies: %+v p50 %v p99 %v", s, deref(s.LatencyMs.P50), deref(s.LatencyMs.P99))
	}
	// Scope filters and groupBy apply to both the rollup and the edges.
	e := ta.do("GET", "/api/v1/calls/stats?"+rng+"&groupBy=provider", ta.admin, nil)
	var g groupedCallStats
	e.decode(t, &g)
	if g.Source != "rollup_1h" || len(g.Groups) != 2 || *g.Groups[0].Group != "openai" || g.Groups[0].Count != 67 ||
		g.Groups[0].CostUSD != "0.003217" || g.Groups[1].Count != 33 || g.Groups[1].CostUSD != "0.001683" {
		t.Fatalf("grouped rollup: %s", e.Data)
	}
	s = callsStats(t, ta, rng+"&provider=anthropic&service=web")
	if s.Source != "rollup_1h" || s.Count != 33 || s.Errors != 3 || s.CostUSD != "0.001683" {
		t.Fatalf("anthropic rollup: %+v", s)
	}
}

// A range reaching back past the raw calls' retention is refused, naming
// from, rather than answered without the rows that are gone.
func TestCallsOlderThanRetentionRefused(t *testing.T) {
	ta := callsAPI(t, "api_calls_retention_test", nil)
	now := time.Now().UTC().Truncate(time.Second)
	old := "from=" + now.AddDate(0, 0, -120).Format(time.RFC3339) + "&to=" + now.AddDate(0, 0, -100).Format(time.RFC3339)
	e := ta.do("GET", "/api/v1/calls?"+old, ta.admin, nil)
	if e.status != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "from" || !strings.Contains(e.Error.Details[0].Message, "kept for") {
		t.Fatalf("range past retention: %d %+v", e.status, e.Error)
	}
	recent := "from=" + now.AddDate(0, 0, -30).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339)
	if e := ta.do("GET", "/api/v1/calls?"+recent, ta.admin, nil); e.status != 200 {
		t.Fatalf("range within retention: %d %+v", e.status, e.Error)
	}
}
