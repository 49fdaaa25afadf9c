package privacy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestExportAndDelete(t *testing.T) {
	s, _ := storetest.Start(t, "privacy_requests")
	ctx := context.Background()
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	storetest.SeedCalls(t, s,
		storetest.Call{At: d.Add(time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "0.125", User: "u1", Customer: "acme"},
		storetest.Call{At: d.Add(26 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "0.5", User: "u1", Customer: "acme"},
		storetest.Call{At: d.Add(2 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "1", User: "u2", Customer: "acme"},
		storetest.Call{At: d.Add(3 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "2", User: "u3"},
		// The same user name in another tenant is another person.
		storetest.Call{At: d.Add(time.Hour), Tenant: "other", Provider: "openai", Model: "gpt-4o", Cost: "3", User: "u1"},
	)
	// What the proxy did about budgets names the person too.
	if err := budgetevents.Write(ctx, s, []budgetevents.Event{
		{At: d.Add(time.Hour), BudgetID: "bud_1", Action: budgetevents.Block, Provider: "openai", User: "u1", Customer: "acme"},
		{At: d.Add(2 * time.Hour), BudgetID: "bud_1", Action: budgetevents.Block, Provider: "openai", User: "u1", Customer: "acme"},
		{At: d.Add(3 * time.Hour), BudgetID: "bud_1", Action: budgetevents.Warn, Provider: "openai", User: "u2", Customer: "acme"},
		{At: d.Add(time.Hour), Tenant: "other", BudgetID: "bud_9", Action: budgetevents.Block, Provider: "openai", User: "u1"},
	}); err != nil {
		t.Fatal(err)
	}
	svc := New(s)
	tenant := schema.DefaultTenant

	got := map[string][]map[string]any{}
	err := svc.Export(ctx, tenant, "user", "u1", func(table string, row json.RawMessage) error {
		var m map[string]any
		if err := json.Unmarshal(row, &m); err != nil {
			t.Fatalf("%s row %s: %v", table, row, err)
		}
		got[table] = append(got[table], m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, recent, roll, hours := got[schema.TableCalls], got[schema.TableCallsByUser], got[schema.TableCallsUser1d], got[schema.TableCallsUser1h]
	if len(raw) != 2 || raw[0]["cost_usd"] != "0.125" || raw[0]["user"] != "u1" || raw[0]["tenant"] != tenant {
		t.Errorf("raw rows %v", raw)
	}
	if len(recent) != 2 || recent[0]["user"] != "u1" {
		t.Errorf("recent raw rows %v", recent)
	}
	if len(roll) != 2 || roll[0]["cost_usd"] != "0.125" || roll[1]["cost_usd"] != "0.5" || roll[0]["latency_ms"] != nil {
		t.Errorf("rollup rows %v", roll)
	}
	if len(hours) != 2 {
		t.Errorf("hour rollup rows %v", hours)
	}

	del, err := svc.Delete(ctx, tenant, "user", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Tables) != 5 || del.Tables[0] != (TableCount{schema.TableCalls, 2, 0}) || del.Tables[1] != (TableCount{schema.TableCallsByUser, 2, 0}) ||
		del.Tables[2] != (TableCount{schema.TableCallsUser1h, 2, 0}) || del.Tables[3] != (TableCount{schema.TableCallsUser1d, 2, 0}) ||
		del.Tables[4] != (TableCount{schema.TableBudgetEvents, 2, 0}) {
		t.Errorf("deletion %+v", del)
	}
	count := func(q string) string { return storetest.Scalar(t, s, q) }
	if n := count("SELECT count() FROM privacy_requests.api_calls WHERE user = 'u1' AND tenant = 'default'"); n != "0" {
		t.Errorf("%s raw calls of u1 remain", n)
	}
	for _, table := range privacyTables(schema.DimUser) {
		if n := count("SELECT count() FROM privacy_requests." + table + " WHERE user = 'u1' AND tenant = 'default'"); n != "0" {
			t.Errorf("%s %s rows of u1 remain", n, table)
		}
	}
	// Everyone else is intact: u2, u3, the other tenant's u1, and the
	// customer rollup (which holds no user, and still counts u1's calls).
	if n := count("SELECT count() FROM privacy_requests.api_calls"); n != "3" {
		t.Errorf("%s calls left, want 3", n)
	}
	if n := count("SELECT sum(calls) FROM privacy_requests.api_calls_user_1d WHERE user != 'u1' OR tenant != 'default'"); n != "3" {
		t.Errorf("other users' rollup calls %s", n)
	}
	if n := count("SELECT sum(calls) FROM privacy_requests.api_calls_customer_1d WHERE customer = 'acme'"); n != "3" {
		t.Errorf("customer rollup calls %s", n)
	}

	// The customer's rows go from the raw calls, its recent copy (which
	// kept u1's calls under the customer, not the user) and the customer
	// rollups.
	del, err = svc.Delete(ctx, tenant, "customer", "acme")
	if err != nil || len(del.Tables) != 5 || del.Tables[0].Before != 1 || del.Tables[1] != (TableCount{schema.TableCallsByCustomer, 3, 0}) ||
		del.Tables[3].Table != schema.TableCallsCustomer1d || del.Tables[3].Before == 0 || del.Tables[3].After != 0 ||
		del.Tables[4] != (TableCount{schema.TableBudgetEvents, 1, 0}) {
		t.Errorf("customer deletion %+v %v", del, err)
	}
	for _, table := range privacyTables(schema.DimCustomer) {
		if n := count("SELECT count() FROM privacy_requests." + table + " WHERE customer = 'acme'"); n != "0" {
			t.Errorf("%s %s rows of acme remain", n, table)
		}
	}

	// No value, or another identifier, is refused before anything runs.
	for _, c := range [][2]string{{"user", ""}, {"team", "x"}} {
		if _, err := svc.Delete(ctx, tenant, c[0], c[1]); err == nil {
			t.Errorf("delete %v: no error", c)
		} else if _, ok := domainerr.AsInvalid(err); !ok {
			t.Errorf("delete %v: %v", c, err)
		}
	}
}

// privacyTables are the tables holding dim, as the schema names them.
func privacyTables(dim string) []string {
	if dim == schema.DimUser {
		return []string{schema.TableCalls, schema.TableCallsByUser, schema.TableCallsUser1h, schema.TableCallsUser1d}
	}
	return []string{schema.TableCalls, schema.TableCallsByCustomer, schema.TableCallsCustomer1h, schema.TableCallsCustomer1d}
}
