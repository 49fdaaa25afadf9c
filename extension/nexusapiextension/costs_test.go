package nexusapiextension

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/spend"
)

// costQuery renders query parameters, escaped as a client would.
func costQuery(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// costDay is the UTC midnight 20 days ago. Fixed dates would age out of the
// store (minute rollups are kept 30 days, raw calls 90), so the tests place
// their calls at fixed clock times on days counted from here instead.
var costDay = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20)

// at is the time clock ("15:04:05.999999999") on the day costDay+day (UTC).
func at(day int, clock string) time.Time {
	c, err := time.Parse("15:04:05.999999999", clock)
	if err != nil {
		panic(err)
	}
	return costDay.AddDate(0, 0, day).Add(c.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// rfc is t as a query parameter.
func rfc(t time.Time) string { return t.Format(time.RFC3339Nano) }

// kol is local midnight in Kolkata of the day costDay+day.
func kol(day int) string {
	loc, _ := time.LoadLocation("Asia/Kolkata")
	d := costDay.AddDate(0, 0, day)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Format(time.RFC3339)
}

func date(day int) string { return costDay.AddDate(0, 0, day).Format(time.DateOnly) }

// costSeed puts calls on both sides of every boundary the summary has to
// get right: inside one hour bucket around 10:30, at the last nanosecond
// of a day, and unpriced.
func costSeed(ta *testAPI) {
	ta.seed(
		seedCall{At: at(0, "10:15:30"), Provider: "openai", Model: "gpt-4o", Operation: "chat", Service: "web", Environment: "prod",
			Input: 100, Output: 50, Cost: "0.000123456789"},
		seedCall{At: at(0, "10:45:00"), Provider: "openai", Model: "gpt-4o", Operation: "chat", Service: "batch", Environment: "prod",
			Input: 1000, Output: 200, Cost: "1.5", Status: "error"},
		seedCall{At: at(0, "11:00:00"), Provider: "openai", Model: "gpt-4o-mini", Operation: "chat", Service: "web", Environment: "staging",
			Input: 10, Output: 5},
		seedCall{At: at(0, "10:29:59.999"), Provider: "exa", Model: "", Operation: "search", Service: "web", Environment: "prod",
			Cost: "0.005"},
		seedCall{At: at(1, "23:59:59.999999999"), Provider: "twilio", Operation: "sms", Service: "notify", Environment: "prod",
			Cost: "0.0079"},
		// Outside every range below but the month's.
		seedCall{At: at(10, "08:00:00"), Provider: "apollo", Operation: "enrich", Service: "crm", Environment: "prod", Cost: "0.25"},
	)
}

func summary(t *testing.T, ta *testAPI, key string, kv ...string) ([]spend.CostGroup, envelope) {
	t.Helper()
	e := ta.do("GET", costQuery("/api/v1/costs/summary", kv...), key, nil)
	if e.status != 200 {
		t.Fatalf("summary %v: %d %+v", kv, e.status, e.Error)
	}
	var out []spend.CostGroup
	e.decode(t, &out)
	return out, e
}

func TestCostSummaryExactSumsAndEdges(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_summary"), nil)
	costSeed(ta)
	viewer := ta.key("viewer")

	groups, e := summary(t, ta, viewer, "from", rfc(at(0, "00:00:00")), "to", rfc(at(2, "00:00:00")))
	want := []spend.CostGroup{
		{Group: "openai", Cost: "1.500123456789", Calls: 3, Errors: 1, Unpriced: 1, Tokens: 1365, InputTokens: 1110, OutputTokens: 255},
		{Group: "twilio", Cost: "0.0079", Calls: 1},
		{Group: "exa", Cost: "0.005", Calls: 1},
	}
	if len(groups) != len(want) || e.Pagination.Total != 3 || e.Pagination.TotalPages != 1 {
		t.Fatalf("by provider: %+v %+v", groups, e.Pagination)
	}
	for i := range want {
		if groups[i] != want[i] {
			t.Errorf("group %d: %+v, want %+v", i, groups[i], want[i])
		}
	}

	// Edges inside rollup buckets: 10:30 cuts the 10:00 hour (and exa's
	// call a millisecond before it), the day's last nanosecond is in or
	// out by one nanosecond.
	for _, c := range []struct {
		from, to string
		want     map[string]string
	}{
		{rfc(at(0, "10:30:00")), rfc(at(0, "10:46:00")), map[string]string{"openai": "1.5"}},
		{rfc(at(0, "10:29:59.999")), rfc(at(0, "10:30:00")), map[string]string{"exa": "0.005"}},
		{rfc(at(0, "10:15:30.000000001")), rfc(at(0, "11:00:00")), map[string]string{"openai": "1.5", "exa": "0.005"}},
		{rfc(at(0, "10:00:00")), rfc(at(1, "23:59:59.999999999")), map[string]string{"openai": "1.500123456789", "exa": "0.005"}},
		{rfc(at(1, "23:59:59.999999999")), rfc(at(2, "00:00:00")), map[string]string{"twilio": "0.0079"}},
		{rfc(at(-4, "00:00:00")), rfc(at(27, "00:00:00")), map[string]string{"openai": "1.500123456789", "exa": "0.005", "twilio": "0.0079", "apollo": "0.25"}},
	} {
		groups, _ := summary(t, ta, viewer, "from", c.from, "to", c.to)
		got := map[string]string{}
		for _, g := range groups {
			got[g.Group] = g.Cost
		}
		if len(got) != len(c.want) {
			t.Errorf("[%s, %s): %v, want %v", c.from, c.to, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("[%s, %s): %v, want %v", c.from, c.to, got, c.want)
			}
		}
	}

	// Every groupBy, with filters.
	for _, c := range []struct {
		kv   []string
		want map[string]string
	}{
		{[]string{"groupBy", "model", "provider", "openai"}, map[string]string{"gpt-4o": "1.500123456789", "gpt-4o-mini": "0"}},
		{[]string{"groupBy", "operation"}, map[string]string{"chat": "1.500123456789", "search": "0.005", "sms": "0.0079"}},
		{[]string{"groupBy", "service", "environment", "prod"}, map[string]string{"web": "0.005123456789", "batch": "1.5", "notify": "0.0079"}},
		{[]string{"groupBy", "environment", "service", "web"}, map[string]string{"prod": "0.005123456789", "staging": "0"}},
		{[]string{"groupBy", "day"}, map[string]string{date(0): "1.505123456789", date(1): "0.0079"}},
		{[]string{"provider", "openai", "model", "gpt-4o", "operation", "chat", "service", "batch", "environment", "prod"}, map[string]string{"openai": "1.5"}},
		{[]string{"provider", "openai' OR 1=1 --"}, map[string]string{}},
		{[]string{"groupBy", "model", "model", "x\") UNION ALL SELECT 1 --"}, map[string]string{}},
	} {
		kv := append([]string{"from", rfc(at(0, "00:00:00")), "to", rfc(at(2, "00:00:00"))}, c.kv...)
		groups, e := summary(t, ta, viewer, kv...)
		got := map[string]string{}
		for _, g := range groups {
			got[g.Group] = g.Cost
		}
		if len(got) != len(c.want) || e.Pagination.Total != int64(len(c.want)) {
			t.Errorf("%v: %v (total %d), want %v", c.kv, got, e.Pagination.Total, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%v: %v, want %v", c.kv, got, c.want)
			}
		}
	}

	// Pages over groups, highest cost first.
	groups, e = summary(t, ta, viewer, "from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "limit", "2", "page", "2")
	if e.Pagination.Total != 4 || e.Pagination.TotalPages != 2 || e.Pagination.Page != 2 || len(groups) != 2 ||
		groups[0].Group != "twilio" || groups[1].Group != "exa" {
		t.Fatalf("page 2: %+v %+v", groups, e.Pagination)
	}
	groups, e = summary(t, ta, viewer, "from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "limit", "2", "page", "9")
	if e.Pagination.Total != 4 || e.Pagination.TotalPages != 2 || len(groups) != 0 || string(e.Data) != "[]" {
		t.Fatalf("page past the end: %s %+v", e.Data, e.Pagination)
	}
}

// In a zone half an hour off UTC, days cut hour buckets in two: the day
// grouping must still put each call on its own local day.
func TestCostSummaryDaysInZone(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_zone"), func(c *Config) { c.TimeZone = "Asia/Kolkata" })
	ta.seed(
		seedCall{At: at(0, "18:29:00"), Provider: "openai", Cost: "1.25"}, // 23:59 on the 5th in Kolkata
		seedCall{At: at(0, "18:31:00"), Provider: "openai", Cost: "2.5"},  // 00:01 on the 6th
		seedCall{At: at(0, "18:30:00"), Provider: "openai", Cost: "0.125"},
		seedCall{At: at(1, "18:29:59.5"), Provider: "openai", Cost: "4"},  // last second of the 6th
		seedCall{At: at(-1, "18:29:59"), Provider: "openai", Cost: "100"}, // the 4th: out of range
	)
	groups, e := summary(t, ta, ta.admin, "groupBy", "day", "from", kol(0), "to", kol(2))
	if len(groups) != 2 || e.Pagination.Total != 2 ||
		groups[0] != (spend.CostGroup{Group: date(1), Cost: "6.625", Calls: 3}) || groups[1] != (spend.CostGroup{Group: date(0), Cost: "1.25", Calls: 1}) {
		t.Fatalf("days in Kolkata: %+v", groups)
	}

	// The same days as a daily series, stamped with the zone's offset.
	var d spend.Timeseries
	e = ta.do("GET", costQuery("/api/v1/costs/timeseries", "step", "1d", "from", kol(0), "to", kol(2)), ta.admin, nil)
	if e.status != 200 {
		t.Fatalf("daily series: %d %+v", e.status, e.Error)
	}
	e.decode(t, &d)
	if len(d.Series) != 1 || len(d.Series[0].Points) != 2 ||
		d.Series[0].Points[0] != (spend.CostPoint{TS: kol(0), Cost: "1.25", Calls: 1}) ||
		d.Series[0].Points[1] != (spend.CostPoint{TS: kol(1), Cost: "6.625", Calls: 3}) {
		t.Fatalf("daily series: %+v", d)
	}
}

func TestCostTimeseries(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_series"), nil)
	costSeed(ta)
	get := func(kv ...string) (spend.Timeseries, envelope) {
		t.Helper()
		e := ta.do("GET", costQuery("/api/v1/costs/timeseries", kv...), ta.admin, nil)
		if e.status != 200 {
			t.Fatalf("timeseries %v: %d %+v", kv, e.status, e.Error)
		}
		var d spend.Timeseries
		e.decode(t, &d)
		return d, e
	}

	// Two hours: minute points, every one present, zeros included.
	d, _ := get("from", rfc(at(0, "10:00:00")), "to", rfc(at(0, "12:00:00")))
	if d.Step != "1m" || len(d.Series) != 1 || d.Series[0].Group != nil || len(d.Series[0].Points) != 120 {
		t.Fatalf("2h: step %s, %d series", d.Step, len(d.Series))
	}
	pts := d.Series[0].Points
	check := func(p spend.CostPoint, want spend.CostPoint) {
		t.Helper()
		if p != want {
			t.Errorf("point %+v, want %+v", p, want)
		}
	}
	check(pts[0], spend.CostPoint{TS: rfc(at(0, "10:00:00")), Cost: "0"})
	check(pts[15], spend.CostPoint{TS: rfc(at(0, "10:15:00")), Cost: "0.000123456789", Calls: 1})
	check(pts[29], spend.CostPoint{TS: rfc(at(0, "10:29:00")), Cost: "0.005", Calls: 1})
	check(pts[45], spend.CostPoint{TS: rfc(at(0, "10:45:00")), Cost: "1.5", Calls: 1, Errors: 1})
	check(pts[60], spend.CostPoint{TS: rfc(at(0, "11:00:00")), Cost: "0", Calls: 1})
	check(pts[119], spend.CostPoint{TS: rfc(at(0, "11:59:00")), Cost: "0"})
	if d.Series[0].Cost != "1.505123456789" || d.Series[0].Calls != 4 || d.Series[0].Errors != 1 {
		t.Errorf("series total: %+v", d.Series[0])
	}

	// Hours by provider; a range starting mid-hour counts only its part.
	d, e := get("step", "1h", "groupBy", "provider", "from", rfc(at(0, "10:30:00")), "to", rfc(at(2, "00:00:00")))
	if d.Step != "1h" || len(d.Series) != 2 || e.Pagination.Total != 2 || *d.Series[0].Group != "openai" || *d.Series[1].Group != "twilio" {
		t.Fatalf("by provider: %+v %+v", d, e.Pagination)
	}
	if p := d.Series[0].Points; len(p) != 38 || p[0] != (spend.CostPoint{TS: rfc(at(0, "10:00:00")), Cost: "1.5", Calls: 1, Errors: 1}) ||
		p[1] != (spend.CostPoint{TS: rfc(at(0, "11:00:00")), Cost: "0", Calls: 1}) {
		t.Fatalf("openai hours: %d %+v", len(p), p[:2])
	}
	if p := d.Series[1].Points; p[37] != (spend.CostPoint{TS: rfc(at(1, "23:00:00")), Cost: "0.0079", Calls: 1}) {
		t.Fatalf("twilio's last hour: %+v", p[37])
	}
	d, e = get("step", "1h", "groupBy", "provider", "from", rfc(at(0, "10:30:00")), "to", rfc(at(2, "00:00:00")), "page", "3", "limit", "1")
	if len(d.Series) != 0 || e.Pagination.Total != 2 {
		t.Fatalf("series page past the end: %+v %+v", d, e.Pagination)
	}

	// A month: days by default; scoped to nothing, still every day, at zero.
	d, _ = get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "provider", "openai' OR 1=1 --")
	if d.Step != "1d" || len(d.Series) != 1 || len(d.Series[0].Points) != 31 || d.Series[0].Cost != "0" {
		t.Fatalf("empty month: %+v", d)
	}

	// 2000 points at most; unknown step or groupBy named.
	for _, c := range []struct {
		kv    []string
		field string
	}{
		{[]string{"step", "1m", "from", rfc(at(-4, "00:00:00")), "to", rfc(at(-2, "00:00:00"))}, "step"},
		{[]string{"step", "2h"}, "step"},
		{[]string{"groupBy", "day"}, "groupBy"},
		{[]string{"groupBy", "provider; DROP TABLE x"}, "groupBy"},
	} {
		e := ta.do("GET", costQuery("/api/v1/costs/timeseries", c.kv...), ta.admin, nil)
		if e.status != 400 || len(e.Error.Details) == 0 || e.Error.Details[0].Field != c.field {
			t.Errorf("%v: %d %+v", c.kv, e.status, e.Error)
		}
	}
	// Exactly 2000 minutes is allowed.
	if d, _ := get("step", "1m", "from", rfc(at(-4, "00:00:00")), "to", rfc(at(-3, "09:20:00"))); len(d.Series[0].Points) != 2000 {
		t.Fatalf("2000 points: %d", len(d.Series[0].Points))
	}
}

func TestCostBadRequests(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_bad"), func(c *Config) { c.MaxRange = 90 * 24 * time.Hour })
	for _, path := range []string{"/api/v1/costs/summary", "/api/v1/costs/timeseries", "/api/v1/costs/reconciliation"} {
		if e := ta.do("GET", path, "", nil); e.status != 401 {
			t.Errorf("%s without key: %d", path, e.status)
		}
		for _, c := range []struct {
			kv    []string
			field string
		}{
			{[]string{"from", "2026-10-05T00:00:00Z", "to", "2026-10-04T00:00:00Z"}, "to"},
			{[]string{"from", "2026-10-05T00:00:00Z", "to", "2026-10-05T00:00:00Z"}, "to"},
			{[]string{"from", "2026-01-01T00:00:00Z", "to", "2026-10-01T00:00:00Z"}, "from"},
			{[]string{"from", "2026-10-05", "to", "2026-10-06T00:00:00Z"}, "from"},
			{[]string{"from", "2026-10-05T00:00:00Z", "to", "tomorrow"}, "to"},
			{[]string{"page", "0"}, "page"},
			{[]string{"limit", "5000"}, "limit"},
		} {
			e := ta.do("GET", costQuery(path, c.kv...), ta.admin, nil)
			if e.status != 400 || e.Error.Code != "VALIDATION_ERROR" || len(e.Error.Details) != 1 || e.Error.Details[0].Field != c.field {
				t.Errorf("%s %v: %d %+v", path, c.kv, e.status, e.Error)
			}
		}
	}
	e := ta.do("GET", costQuery("/api/v1/costs/summary", "groupBy", "cost"), ta.admin, nil)
	if e.status != 400 || e.Error.Details[0].Field != "groupBy" || !strings.Contains(e.Error.Details[0].Message, "provider") {
		t.Errorf("unknown groupBy: %d %+v", e.status, e.Error)
	}
	// Several bad fields are all named.
	e = ta.do("GET", costQuery("/api/v1/costs/summary", "groupBy", "x", "from", "x", "page", "-1"), ta.admin, nil)
	if e.status != 400 || len(e.Error.Details) != 3 {
		t.Errorf("three bad fields: %d %+v", e.status, e.Error)
	}
}

func TestCostReconciliation(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_recon"), nil)
	costSeed(ta)
	ctx := context.Background()
	b, err := ta.store.PrepareBatch(ctx, "provider_usage", []string{"provider", "account", "kind", "bucket_start", "bucket_end", "value", "polled_at"})
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { return ts(s + "T00:00:00Z") }
	for _, r := range []struct {
		provider, kind, start, end, value string
		polled                            time.Time
	}{
		{"openai", "cost_usd", date(0), date(1), "1.4", at(0, "12:00:00")},
		// Re-polled: replaces the figure above, never adds to it.
		{"openai", "cost_usd", date(0), date(1), "1.6", at(1, "12:00:00")},
		{"openai", "input_tokens", date(0), date(1), "999", at(1, "12:00:00")},
		{"exa", "cost_usd", date(0), date(1), "0.004", at(1, "12:00:00")},
		{"twilio", "cost_usd", date(1), date(2), "0.0079", at(2, "12:00:00")},
	} {
		if err := b.Append(r.provider, "acct", r.kind, day(r.start), day(r.end), decimal.RequireFromString(r.value), r.polled); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}

	get := func(kv ...string) ([]spend.ReconciliationRow, envelope) {
		t.Helper()
		e := ta.do("GET", costQuery("/api/v1/costs/reconciliation", kv...), ta.admin, nil)
		if e.status != 200 {
			t.Fatalf("reconciliation %v: %d %+v", kv, e.status, e.Error)
		}
		var rows []spend.ReconciliationRow
		e.decode(t, &rows)
		return rows, e
	}
	rows, e := get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")))
	want := []spend.ReconciliationRow{
		{Day: date(0), Provider: "exa", Billed: "0.004", Computed: "0.005", Difference: "0.001", Calls: 1},
		{Day: date(0), Provider: "openai", Billed: "1.6", Computed: "1.500123456789", Difference: "-0.099876543211", Calls: 3, UnpricedCalls: 1},
		{Day: date(1), Provider: "twilio", Billed: "0.0079", Computed: "0.0079", Difference: "0", Calls: 1},
	}
	if len(rows) != 3 || e.Pagination.Total != 3 {
		t.Fatalf("rows: %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	// A day overlapping the range is in; provider filters; pages.
	if rows, _ := get("from", rfc(at(1, "12:00:00")), "to", rfc(at(1, "13:00:00"))); len(rows) != 1 || rows[0].Provider != "twilio" {
		t.Errorf("one day: %+v", rows)
	}
	if rows, _ := get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(1, "00:00:00")), "provider", "openai"); len(rows) != 1 || rows[0] != want[1] {
		t.Errorf("openai: %+v", rows)
	}
	if rows, e := get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "provider", "openai' OR '1'='1"); len(rows) != 0 || e.Pagination.Total != 0 {
		t.Errorf("SQL-looking provider: %+v", rows)
	}
	if rows, e := get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "limit", "2", "page", "2"); len(rows) != 1 || rows[0] != want[2] ||
		e.Pagination.Total != 3 || e.Pagination.TotalPages != 2 {
		t.Errorf("page 2: %+v %+v", rows, e.Pagination)
	}
	if rows, e := get("from", rfc(at(-4, "00:00:00")), "to", rfc(at(27, "00:00:00")), "limit", "2", "page", "3"); len(rows) != 0 || e.Pagination.Total != 3 {
		t.Errorf("page past the end: %+v %+v", rows, e.Pagination)
	}
	// The view has no model: refused, not ignored.
	if e := ta.do("GET", costQuery("/api/v1/costs/reconciliation", "model", "gpt-4o"), ta.admin, nil); e.status != 400 || e.Error.Details[0].Field != "model" {
		t.Errorf("model filter: %d %+v", e.status, e.Error)
	}
}

// Minute rollups are kept 30 days and raw calls 90 (chstore's defaults):
// older edges are read from the tables that still hold them, and a range
// no table can answer exactly any more is refused, not approximated.
func TestCostOlderThanDetail(t *testing.T) {
	ta := startAPI(t, freshDB("api_costs_retention"), nil)
	d40 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -40)
	d100 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -100)
	ta.seed(
		seedCall{At: d40.Add(10*time.Hour + 15*time.Minute), Provider: "openai", Cost: "1"},
		seedCall{At: d40.Add(10*time.Hour + 45*time.Minute), Provider: "openai", Cost: "2"},
		seedCall{At: d100.Add(10*time.Hour + 15*time.Minute), Provider: "openai", Cost: "4"},
		seedCall{At: d100.Add(10*time.Hour + 45*time.Minute), Provider: "openai", Cost: "8"},
	)
	cost := func(from, to time.Time) string {
		t.Helper()
		groups, _ := summary(t, ta, ta.admin, "from", rfc(from), "to", rfc(to))
		if len(groups) != 1 {
			t.Fatalf("[%s, %s): %+v", from, to, groups)
		}
		return groups[0].Cost
	}
	// 40 days ago the minutes are gone but the raw calls are not.
	if c := cost(d40.Add(10*time.Hour+30*time.Minute), d40.Add(11*time.Hour)); c != "2" {
		t.Errorf("40 days ago, from 10:30: %s", c)
	}
	if c := cost(d40.Add(10*time.Hour+30*time.Minute), d40.Add(24*time.Hour)); c != "2" {
		t.Errorf("40 days ago, 10:30 to midnight: %s", c)
	}
	// 100 days ago only hours and days remain: whole hours are exact…
	if c := cost(d100.Add(10*time.Hour), d100.Add(11*time.Hour)); c != "12" {
		t.Errorf("100 days ago, whole hour: %s", c)
	}
	// …and half an hour cannot be told any more.
	e := ta.do("GET", costQuery("/api/v1/costs/summary", "from", rfc(d100.Add(10*time.Hour+30*time.Minute)), "to", rfc(d100.Add(11*time.Hour))), ta.admin, nil)
	if e.status != 400 || e.Error.Details[0].Field != "from" {
		t.Errorf("100 days ago, half an hour: %d %+v", e.status, e.Error)
	}
}
