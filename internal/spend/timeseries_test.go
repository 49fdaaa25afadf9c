package spend

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// A page of series by customer or user, read by ranking the values first,
// is exactly that page of every series built whole: same series, same
// points, same order (ties by name), and the same count; a page past the
// end is empty.
func TestTimeseriesPagesByRank(t *testing.T) {
	s, _ := storetest.Start(t, "spend_ts_pages")
	svc := New(s, time.UTC, 10*time.Second)
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	var calls []storetest.Call
	for i := range 9 {
		for j := range 3 {
			// c0 and c1 tie on cost: the name breaks it.
			cost := fmt.Sprintf("0.%02d", max(i, 1)*(j+1))
			calls = append(calls, storetest.Call{At: d.Add(time.Duration(j*20+i) * time.Hour), Provider: "openai", Model: "m", Cost: cost,
				Customer: fmt.Sprintf("c%d", i), User: fmt.Sprintf("u%d", i%4)})
		}
	}
	storetest.SeedCalls(t, s, calls...)
	f := schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant}, From: d.Add(-5 * time.Hour), To: d.Add(70 * time.Hour)}
	for _, dim := range []string{schema.DimCustomer, schema.DimUser} {
		for _, step := range []string{"1h", "1d"} {
			whole, n, err := svc.CostTimeseries(t.Context(), f, dim, step, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(whole.Series) || (dim == schema.DimCustomer && n != 9) || (dim == schema.DimUser && n != 4) {
				t.Fatalf("%s %s: %d series, total %d", dim, step, len(whole.Series), n)
			}
			for offset := 0; offset <= n+2; offset += 2 {
				page, total, err := svc.CostTimeseries(t.Context(), f, dim, step, offset, 2)
				if err != nil {
					t.Fatal(err)
				}
				want := whole.Series[min(offset, n):min(offset+2, n)]
				got, _ := json.Marshal(page.Series)
				exp, _ := json.Marshal(want)
				if total != n || string(got) != string(exp) {
					t.Fatalf("%s %s from %d: total %d\ngot  %s\nwant %s", dim, step, offset, total, got, exp)
				}
			}
		}
	}
}
