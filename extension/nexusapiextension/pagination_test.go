package nexusapiextension

import (
	"slices"
	"testing"
)

// A page so large that page × limit overflows is refused naming page, on
// every paginated resource, in memory and in SQL alike.
func TestHugePageRefused(t *testing.T) {
	ta := startAPI(t, freshDB("api_huge_page"), nil)
	for _, path := range []string{
		"/api/v1/keys", "/api/v1/budgets", "/api/v1/alerts/rules", "/api/v1/alerts/events",
		"/api/v1/calls", "/api/v1/costs/summary", "/api/v1/costs/reconciliation",
		"/api/v1/insights/trends",
	} {
		for _, q := range []string{"?page=4611686018427387905", "?page=4611686018427387905&limit=4",
			"?page=9223372036854775807&limit=1000", "?page=1000000001"} {
			e := ta.do("GET", path+q, ta.admin, nil)
			if e.status != 400 || !slices.Contains(fieldsOf(e), "page") {
				t.Errorf("GET %s%s: %d %+v, want 400 naming page", path, q, e.status, e.Error)
			}
		}
	}
	// The largest page allowed is an empty page, not an error.
	for _, path := range []string{"/api/v1/keys", "/api/v1/alerts/events", "/api/v1/budgets"} {
		if e := ta.do("GET", path+"?page=1000000000&limit=1000", ta.admin, nil); e.status != 200 || string(e.Data) != "[]" {
			t.Errorf("GET %s last page: %d %s %+v", path, e.status, e.Data, e.Error)
		}
	}
}
