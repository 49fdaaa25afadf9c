package e2e

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/dashboards"
)

// checkDimensionPanels is the part of TestDashboardPanelsAgainstTheDistribution
// about tenants and attribution dimensions: the top-N panels add up to the
// raw calls, and the tenant and dimension variables filter them.
func checkDimensionPanels(t *testing.T, ds []dashboards.Dashboard, conn *sql.DB, from, to time.Time,
	with func(dashboards.Value) dashboards.Vars, raw func(string) string, decimalEq func(what, got, want string)) {
	t.Helper()
	panel := func(uid, title string, vars dashboards.Vars) panelResult {
		t.Helper()
		for _, d := range ds {
			for _, p := range d.AllPanels() {
				if d.UID == uid && p.Title == title {
					query, err := dashboards.Expand(p.Targets[0].RawSQL, vars, from, to, time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					res := runPanelQuery(t, conn, query)
					if res.err != nil {
						t.Fatalf("%s/%s: %v\n%s", uid, title, res.err, query)
					}
					return res
				}
			}
		}
		t.Fatalf("no panel %s/%s", uid, title)
		return panelResult{}
	}
	sumOf := func(res panelResult, column string, match func(map[string]any) bool) string {
		total := decimal.Zero
		for _, r := range res.rows {
			m := map[string]any{}
			for i, c := range res.columns {
				m[c] = r[i]
			}
			if match == nil || match(m) {
				d, err := decimal.NewFromString(fmt.Sprint(m[column]))
				if err != nil {
					t.Fatalf("%s = %v: %v", column, m[column], err)
				}
				total = total.Add(d)
			}
		}
		return total.String()
	}
	all := with(dashboards.AllOf(fiveProviders...))
	total := raw("SELECT sum(cost_usd) FROM nexus.api_calls")
	for _, title := range []string{"Top customers by spend", "Top users by spend", "Top features by spend"} {
		decimalEq(title+" total", sumOf(panel("nexus-costs", title, all), "spend_usd", nil), total)
	}
	acmeRaw := raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE customer = 'acme'")
	decimalEq("Top customers: acme", sumOf(panel("nexus-costs", "Top customers by spend", all), "spend_usd",
		func(r map[string]any) bool { return r["customer"] == "acme" }), acmeRaw)
	picked := with(dashboards.AllOf(fiveProviders...))
	picked["customer"] = dashboards.Multi("acme")
	res := panel("nexus-costs", "Top customers by spend", picked)
	if len(res.rows) != 1 || res.rows[0][0] != "acme" {
		t.Errorf("Top customers with acme picked: %v", res.rows)
	}
	decimalEq("Top customers with acme picked", sumOf(res, "spend_usd", nil), acmeRaw)
	picked = with(dashboards.AllOf(fiveProviders...))
	picked["team"] = dashboards.Multi("search")
	decimalEq("Top features of team search", sumOf(panel("nexus-costs", "Top features by spend", picked), "spend_usd", nil),
		raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE team = 'search'"))
	decimalEq("Overview month to date, tenant default", sumOf(panel("nexus-overview", "Month to date", func() dashboards.Vars {
		v := with(dashboards.AllOf(fiveProviders...))
		v["tenant"] = dashboards.Single("default")
		return v
	}()), "spend_usd", nil), raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE timestamp >= toStartOfMonth(now())"))
	other := with(dashboards.AllOf(fiveProviders...))
	other["tenant"] = dashboards.Single("another-tenant")
	for _, p := range [][2]string{{"nexus-overview", "Month to date"}, {"nexus-costs", "Top customers by spend"}, {"nexus-alerts", "Slowest calls"}} {
		if got := sumOf(panel(p[0], p[1], other), map[bool]string{true: "spend_usd", false: "cost_usd"}[p[1] != "Slowest calls"], nil); got != "0" {
			t.Errorf("%s/%s for another tenant: %s, want nothing", p[0], p[1], got)
		}
	}
}
