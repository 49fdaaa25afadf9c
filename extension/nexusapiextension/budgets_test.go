package nexusapiextension

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/spend"
)

func budgetOf(t *testing.T, e envelope) spend.Budget {
	t.Helper()
	var b spend.Budget
	e.decode(t, &b)
	return b
}

func TestBudgetsCRUD(t *testing.T) {
	db := freshDB("api_budgets_crud")
	ta := startAPI(t, db, func(c *Config) { c.TimeZone = "Europe/Paris"; c.MaxBodyBytes = 2048 })
	viewer, editor := ta.key("viewer"), ta.key("editor")

	// Create: defaults filled, thresholds sorted and unique, amount exact.
	if e := ta.do("POST", "/api/v1/budgets", "", map[string]any{"name": "x"}); e.status != 401 {
		t.Fatalf("no key: %d", e.status)
	}
	if e := ta.do("POST", "/api/v1/budgets", viewer, map[string]any{"name": "x", "period": "daily", "amountUsd": "1"}); e.status != 403 {
		t.Fatalf("viewer creating: %d", e.status)
	}
	e := ta.do("POST", "/api/v1/budgets", editor, []byte(`{"name":" OpenAI monthly ","scope":{"provider":"openai"},"period":"monthly",`+
		`"amountUsd":"250.50","thresholds":[100,50,80,50]}`))
	if e.status != 201 {
		t.Fatalf("create: %d %+v", e.status, e.Error)
	}
	a := budgetOf(t, e)
	if !strings.HasPrefix(a.ID, "bud_") || len(a.ID) != 20 || a.Name != "OpenAI monthly" || a.Scope != (spend.BudgetScope{Provider: "openai"}) ||
		a.Period != "monthly" || a.Timezone != "Europe/Paris" || a.AmountUSD != "250.5" || len(a.Thresholds) != 3 ||
		a.Thresholds[0] != 50 || a.Thresholds[2] != 100 || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("created: %+v", a)
	}
	// A JSON number is read as its digits, not as a float.
	e = ta.do("POST", "/api/v1/budgets", editor, []byte(`{"name":"Exa weekly","scope":{"provider":"exa","environment":"prod"},`+
		`"period":"weekly","timezone":"America/New_York","amountUsd":12.345678}`))
	if e.status != 201 {
		t.Fatalf("create 2: %d %+v", e.status, e.Error)
	}
	b := budgetOf(t, e)
	if b.AmountUSD != "12.345678" || b.Timezone != "America/New_York" || len(b.Thresholds) != 3 || b.Thresholds[1] != 80 {
		t.Fatalf("created 2: %+v", b)
	}

	// Every bad field is named.
	for _, c := range []struct {
		body   string
		status int
		fields []string
	}{
		{`{}`, 400, []string{"name", "period", "amountUsd"}},
		{`{"name":"","period":"yearly","amountUsd":"0","timezone":"Mars/Olympus","thresholds":[0,50,1001]}`, 400,
			[]string{"name", "period", "timezone", "amountUsd", "thresholds[0]", "thresholds[2]"}},
		{`{"name":"n","period":"daily","amountUsd":"1.1234567"}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":-5}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":"1e400"}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":"ten"}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":true}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":null}`, 400, []string{"amountUsd"}},
		{`{"name":"n","period":"daily","amountUsd":"1","thresholds":[]}`, 400, []string{"thresholds"}},
		{`{"name":"n","period":"daily","amountUsd":"1","timezone":"Local"}`, 400, []string{"timezone"}},
		{`{"name":"n","period":"daily","amountUsd":"1","scope":{"provider":"a\u0000b"}}`, 400, []string{"scope.provider"}},
		{`{"name":"n","period":"daily","amountUsd":"1","owner":"me"}`, 400, []string{"owner"}},
		{`{"name":"n","period":"daily","amountUsd":"1","scope":{"operation":"chat"}}`, 400, []string{"operation"}},
		{`{"name":5,"period":"daily","amountUsd":"1"}`, 400, []string{"name"}},
		{`{"name":"n","period":"daily","amountUsd":"1","thresholds":[50.5]}`, 400, []string{"thresholds"}},
		{`{"name":"n","period":"daily",`, 400, []string{"body"}},
		{`{"name":"n"} {}`, 400, []string{"body"}},
		{`{"name":"` + strings.Repeat("x", 4000) + `"}`, 413, nil},
	} {
		e := ta.do("POST", "/api/v1/budgets", editor, []byte(c.body))
		if e.status != c.status {
			t.Errorf("%.80s: %d %+v", c.body, e.status, e.Error)
			continue
		}
		var fields []string
		for _, d := range e.Error.Details {
			fields = append(fields, d.Field)
		}
		if strings.Join(fields, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%.80s: fields %v, want %v", c.body, fields, c.fields)
		}
	}
	// Names are unique among live budgets, whatever their case.
	if e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "openai MONTHLY", "period": "daily", "amountUsd": "1"}); e.status != 409 || e.Error.Code != "CONFLICT" {
		t.Fatalf("duplicate name: %d %+v", e.status, e.Error)
	}

	// List and pages.
	e = ta.do("GET", "/api/v1/budgets", viewer, nil)
	var list []spend.Budget
	e.decode(t, &list)
	if e.status != 200 || e.Pagination.Total != 2 || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("list: %d %+v %+v", e.status, e.Pagination, list)
	}
	e = ta.do("GET", "/api/v1/budgets?limit=1&page=3", viewer, nil)
	if e.status != 200 || e.Pagination.Total != 2 || e.Pagination.TotalPages != 2 || string(e.Data) != "[]" {
		t.Fatalf("page past the end: %s %+v", e.Data, e.Pagination)
	}
	if e := ta.do("GET", "/api/v1/budgets/"+a.ID, viewer, nil); e.status != 200 || budgetOf(t, e).AmountUSD != "250.5" {
		t.Fatalf("get: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/budgets/bud_nope", viewer, nil); e.status != 404 || e.Error.Code != "NOT_FOUND" {
		t.Fatalf("unknown id: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/budgets/bud_nope/status", viewer, nil); e.status != 404 {
		t.Fatalf("unknown id status: %d", e.status)
	}

	// PATCH merges what is sent, scope fields included.
	time.Sleep(2 * time.Millisecond)
	e = ta.do("PATCH", "/api/v1/budgets/"+a.ID, editor, map[string]any{"amountUsd": "300", "scope": map[string]string{"model": "gpt-4o"}})
	p := budgetOf(t, e)
	if e.status != 200 || p.Name != "OpenAI monthly" || p.AmountUSD != "300" || p.Scope != (spend.BudgetScope{Provider: "openai", Model: "gpt-4o"}) ||
		p.Period != "monthly" || len(p.Thresholds) != 3 || !p.CreatedAt.Equal(a.CreatedAt) || !p.UpdatedAt.After(a.UpdatedAt) {
		t.Fatalf("patch: %d %+v", e.status, p)
	}
	if e := ta.do("PATCH", "/api/v1/budgets/"+a.ID, editor, map[string]any{"name": "EXA weekly"}); e.status != 409 {
		t.Fatalf("patch to a taken name: %d", e.status)
	}
	if e := ta.do("PATCH", "/api/v1/budgets/"+a.ID, editor, map[string]any{"period": "hourly", "thresholds": []int{5000}}); e.status != 400 || len(e.Error.Details) != 2 {
		t.Fatalf("bad patch: %d %+v", e.status, e.Error)
	}
	if e := ta.do("PATCH", "/api/v1/budgets/"+a.ID, viewer, map[string]any{"amountUsd": "1"}); e.status != 403 {
		t.Fatalf("viewer patching: %d", e.status)
	}
	if e := ta.do("PATCH", "/api/v1/budgets/bud_nope", editor, map[string]any{"amountUsd": "1"}); e.status != 404 {
		t.Fatalf("patch unknown: %d", e.status)
	}
	// The same name is its own, not a conflict.
	if e := ta.do("PATCH", "/api/v1/budgets/"+a.ID, editor, map[string]any{"name": "OpenAI monthly"}); e.status != 200 {
		t.Fatalf("patch own name: %d %+v", e.status, e.Error)
	}

	// PUT replaces: required fields required, the rest back to defaults.
	if e := ta.do("PUT", "/api/v1/budgets/"+a.ID, editor, map[string]any{"name": "x"}); e.status != 400 || len(e.Error.Details) != 2 {
		t.Fatalf("partial put: %d %+v", e.status, e.Error)
	}
	e = ta.do("PUT", "/api/v1/budgets/"+a.ID, editor, map[string]any{"name": "All daily", "period": "daily", "amountUsd": 40})
	r := budgetOf(t, e)
	if e.status != 200 || r.ID != a.ID || r.Name != "All daily" || r.Scope != (spend.BudgetScope{}) || r.Timezone != "Europe/Paris" ||
		r.AmountUSD != "40" || len(r.Thresholds) != 3 || !r.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("put: %d %+v", e.status, r)
	}
	// The old name is free again.
	if e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "OpenAI monthly", "period": "monthly", "amountUsd": "5"}); e.status != 201 {
		t.Fatalf("reuse a replaced name: %d %+v", e.status, e.Error)
	}

	// DELETE: gone for GET, PATCH, status and a second DELETE; its name free.
	if e := ta.do("DELETE", "/api/v1/budgets/"+b.ID, viewer, nil); e.status != 403 {
		t.Fatalf("viewer deleting: %d", e.status)
	}
	if e := ta.do("DELETE", "/api/v1/budgets/"+b.ID, editor, nil); e.status != 200 || budgetOf(t, e).ID != b.ID {
		t.Fatalf("delete: %d", e.status)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/budgets/" + b.ID}, {"GET", "/api/v1/budgets/" + b.ID + "/status"},
		{"PATCH", "/api/v1/budgets/" + b.ID}, {"DELETE", "/api/v1/budgets/" + b.ID},
	} {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"amountUsd": "1"}
		}
		if e := ta.do(c.method, c.path, editor, body); e.status != 404 {
			t.Errorf("%s %s after delete: %d", c.method, c.path, e.status)
		}
	}
	if e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "exa weekly", "period": "weekly", "amountUsd": "5"}); e.status != 201 {
		t.Fatalf("reuse a deleted name: %d %+v", e.status, e.Error)
	}

	// A second API on the same database sees the same budgets.
	want := ta.do("GET", "/api/v1/budgets", viewer, nil)
	ta2 := startAPI(t, db, func(c *Config) { c.TimeZone = "Europe/Paris" })
	got := ta2.do("GET", "/api/v1/budgets", ta.admin, nil)
	if got.status != 200 || got.Pagination.Total != 3 || string(got.Data) != string(want.Data) {
		t.Fatalf("after restart:\n%s\nwant\n%s", got.Data, want.Data)
	}
	if e := ta2.do("GET", "/api/v1/budgets/"+b.ID, ta.admin, nil); e.status != 404 {
		t.Fatalf("deleted budget after restart: %d", e.status)
	}
	if err := ta2.api.spend.CheckBudgets(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func budgetStatusOf(t *testing.T, ta *testAPI, id string) spend.BudgetStatus {
	t.Helper()
	e := ta.do("GET", "/api/v1/budgets/"+id+"/status", ta.admin, nil)
	if e.status != 200 {
		t.Fatalf("status: %d %+v", e.status, e.Error)
	}
	var s spend.BudgetStatus
	e.decode(t, &s)
	return s
}

// Status counts the current period only, in the budget's zone, to the
// boundary; seeds are placed around the real period of now.
func TestBudgetStatus(t *testing.T) {
	// Its figures depend on today: if the day changes mid-run, it runs again.
	for attempt := 1; !runBudgetStatus(t); attempt++ {
		if attempt == 2 {
			t.Fatal("the day changed twice while the test ran")
		}
	}
}

// runBudgetStatus is one run of TestBudgetStatus; it answers false when
// the day changed while it ran.
func runBudgetStatus(t *testing.T) bool {
	ta := startAPI(t, freshDB("api_budgets_status"), nil)
	now := time.Now()

	// A daily budget on the other side of the date line.
	kiri, _ := time.LoadLocation("Pacific/Kiritimati")
	dayStart, dayEnd := spend.PeriodBounds("daily", now, kiri)
	// A monthly one in UTC.
	monthStart, monthEnd := spend.PeriodBounds("monthly", now, time.UTC)
	ta.seed(
		seedCall{At: dayStart.Add(now.Sub(dayStart) / 2), Provider: "openai", Model: "gpt-4o", Cost: "0.75"},
		seedCall{At: dayStart.Add(-time.Millisecond), Provider: "openai", Model: "gpt-4o", Cost: "5"}, // yesterday there
		seedCall{At: dayStart.Add(now.Sub(dayStart) / 3), Provider: "openai", Model: "o3", Cost: "9"}, // out of scope
		seedCall{At: monthStart, Provider: "exa", Cost: "1"},
		seedCall{At: monthStart.Add(now.Sub(monthStart) / 2), Provider: "exa", Cost: "2.5"},
		seedCall{At: monthStart.Add(-time.Nanosecond), Provider: "exa", Cost: "100"}, // last month
	)

	e := ta.do("POST", "/api/v1/budgets", ta.admin, map[string]any{"name": "gpt-4o today", "scope": map[string]string{"provider": "openai", "model": "gpt-4o"},
		"period": "daily", "timezone": "Pacific/Kiritimati", "amountUsd": "1"})
	if e.status != 201 {
		t.Fatalf("create: %d %+v", e.status, e.Error)
	}
	daily := budgetOf(t, e)
	s := budgetStatusOf(t, ta, daily.ID)
	asOf, err := time.Parse(time.RFC3339Nano, s.AsOf)
	if err != nil || asOf.Before(now) || asOf.Sub(now) > time.Minute {
		t.Fatalf("asOf %s: %v", s.AsOf, err)
	}
	if !asOf.Before(dayEnd) {
		return false // the day changed in Kiritimati while the test ran: run again, all on the new day
	}
	// No complete day yet: burn rate = spent / elapsed part of today, and
	// the forecast spends it over the rest of the day.
	elapsed := big.NewRat(int64(asOf.Sub(dayStart)), int64(dayEnd.Sub(dayStart)))
	burn := new(big.Rat).Quo(rat("0.75"), elapsed)
	fc := new(big.Rat).Add(rat("0.75"), new(big.Rat).Mul(burn, new(big.Rat).Sub(rat("1"), elapsed)))
	if s.PeriodStart != dayStart.In(kiri).Format(time.RFC3339) || !strings.HasSuffix(s.PeriodStart, "T00:00:00+14:00") ||
		s.PeriodEnd != dayEnd.In(kiri).Format(time.RFC3339) || s.Spent != "0.75" || s.Remaining != "0.25" || s.PercentUsed != 75 ||
		len(s.ThresholdsCrossed) != 1 || s.ThresholdsCrossed[0] != 50 || s.ElapsedDays != elapsed.FloatString(6) ||
		s.BurnRatePerDay != burn.FloatString(6) || s.Forecast != fc.FloatString(6) || s.ForecastDetail.Method != spend.MethodBurnRate ||
		s.ForecastExceedsAmount != (fc.Cmp(rat("1")) > 0) {
		t.Fatalf("daily status: %+v\nwant burn %s forecast %s", s, burn.FloatString(6), fc.FloatString(6))
	}

	e = ta.do("POST", "/api/v1/budgets", ta.admin, map[string]any{"name": "exa month", "scope": map[string]string{"provider": "exa"},
		"period": "monthly", "timezone": "UTC", "amountUsd": "3.5", "thresholds": []int{10, 100, 120}})
	monthly := budgetOf(t, e)
	s = budgetStatusOf(t, ta, monthly.ID)
	if s.PeriodStart != monthStart.Format(time.RFC3339) || s.PeriodEnd != monthEnd.Format(time.RFC3339) || s.Spent != "3.5" ||
		s.Remaining != "0" || s.PercentUsed != 100 || len(s.ThresholdsCrossed) != 2 || s.ThresholdsCrossed[1] != 100 {
		t.Fatalf("monthly status: %+v", s)
	}
	// However it was projected, the forecast is spent + projected rest.
	diff := new(big.Rat).Sub(rat(s.Forecast), new(big.Rat).Add(rat("3.5"), rat(s.ForecastDetail.ProjectedRemaining)))
	if diff.Abs(diff).Cmp(rat("0.000001")) > 0 ||
		s.ForecastExceedsAmount != (rat(s.Forecast).Cmp(rat("3.5")) > 0) {
		t.Fatalf("monthly forecast: %+v", s)
	}
	return true
}
