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

// The attribution dimensions and the tenant narrow a read as parameters,
// never as SQL text: a hostile customer name is a value like any other,
// and a cost read over them counts exactly the matching raw calls.
func TestScopeDimensions(t *testing.T) {
	s, _ := storetest.Start(t, "schema_dims")
	// Two days back: a whole day of the range, read from the rollups.
	at := time.Now().UTC().AddDate(0, 0, -2).Truncate(time.Second)
	hostile := "x' OR 1=1 --"
	storetest.SeedCalls(t, s,
		storetest.Call{At: at, Provider: "openai", Cost: "1", Customer: "acme", Tags: map[string]string{"release": "canary"}},
		storetest.Call{At: at, Provider: "openai", Cost: "2", Customer: hostile, User: "u1"},
		storetest.Call{At: at, Provider: "openai", Cost: "4", Customer: "acme", Tenant: "beta"},
		storetest.Call{At: at, Provider: "openai", Cost: "8", Team: "search"},
	)
	f := schema.Filter{From: at.Truncate(24 * time.Hour).Add(-24 * time.Hour), To: time.Now().UTC().Truncate(time.Second)}
	for _, c := range []struct {
		scope schema.Scope
		want  string
	}{
		{schema.Scope{Tenant: schema.DefaultTenant}, "11"},
		{schema.Scope{Tenant: schema.DefaultTenant, Customer: "acme"}, "1"},
		{schema.Scope{Tenant: "beta", Customer: "acme"}, "4"},
		{schema.Scope{Tenant: schema.DefaultTenant, Customer: hostile}, "2"},
		{schema.Scope{Tenant: schema.DefaultTenant, User: "u1"}, "2"},
		{schema.Scope{Tenant: schema.DefaultTenant, Team: "search"}, "8"},
		{schema.Scope{Tenant: schema.DefaultTenant, TagKey: "release", TagValue: "canary"}, "1"},
		{schema.Scope{Tenant: schema.DefaultTenant, TagKey: "release", TagValue: "stable"}, "0"},
		{schema.Scope{}, "15"},
	} {
		f.Scope = c.scope
		where, params := f.Where("timestamp")
		if strings.Contains(where, hostile) || strings.Contains(where, "acme") {
			t.Fatalf("a value in the SQL: %s", where)
		}
		// The plan reads the family of rollups holding the scope's
		// dimensions (raw calls for the part no whole bucket covers).
		segs, ok := schema.CoverFamily(schema.FamilyOf(c.scope), f.From, f.To, schema.GrainDay, schema.Horizons{})
		if !ok {
			t.Fatalf("%+v: no plan", c.scope)
		}
		var got []string
		for _, q := range []string{
			"SELECT toString(sum(ifNull(cost_usd, 0))) FROM " + schema.Table(s, schema.TableCalls) + " WHERE " + where,
			"SELECT toString(sum(cost_usd)) FROM " + schema.CostSource(s, c.scope, segs, at, schema.SourceOpts{}, params),
		} {
			rows, err := s.Query(context.Background(), q, params)
			if err != nil {
				t.Fatalf("%+v: %v", c.scope, err)
			}
			var v string
			for rows.Next() {
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
			got = append(got, v)
		}
		if got[0] != c.want || got[1] != c.want {
			t.Errorf("%+v: raw %s, cost source %s, want %s", c.scope, got[0], got[1], c.want)
		}
	}
}
