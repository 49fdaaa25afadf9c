package schema_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// paramsFor are parameters every embedded query takes, typed as the
// queries declare them.
var paramsFor = map[string]store.Params{
	"reconciliation":         {"first": "2026-10-01", "last": "2026-10-31", "provider": "", "tenant": "acme"},
	"budgets":                {"id": "", "tenant": "acme"},
	"tenants":                {"id": ""},
	"provider_gauges_latest": {"names": schema.StringArrayParam([]string{"balance_usd", "limit_usd"}), "tenant": "acme"},
	"provider_billed":        {"month": "2026-10-01", "today": "2026-10-31", "tenant": ""},
	"provider_health_latest": {"tenant": "acme"},
}

// Every embedded query runs on the migrated schema of the real engine: a
// column the migrations renamed fails here, not in a request.
func TestEmbeddedSQLRuns(t *testing.T) {
	s, _ := storetest.Start(t, "schema_sql")
	names, err := fs.Glob(schema.SQLFiles(), "sql/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no queries: %v", err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "sql/"), ".sql")
		q := schema.SQL(s, name)
		if strings.Contains(q, "{db}") || strings.Contains(q, "--") {
			t.Errorf("%s: not rendered: %s", name, q)
		}
		rows, err := s.Query(context.Background(), q, paramsFor[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		rows.Close()
	}
}

// Retention comes from the store's settings: chstore's defaults keep raw
// calls 90 days, minutes 30, hours 365 and days for ever.
func TestRetentionOfStore(t *testing.T) {
	s, _ := storetest.Start(t, "schema_retention")
	r := schema.RetentionOf(s)
	if r.Raw() != 90*24*time.Hour {
		t.Fatalf("raw calls kept %s", r.Raw())
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := r.Horizons(now)
	if !h.Of(schema.GrainMinute).Equal(now.AddDate(0, 0, -30)) || !h.Of(schema.GrainHour).Equal(now.AddDate(0, 0, -365)) ||
		!h.Of(schema.GrainDay).IsZero() {
		t.Fatalf("horizons %v", h)
	}
}
