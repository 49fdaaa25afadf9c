package spend

import (
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func str(s string) *string { return &s }

// Budget changes answer domain errors: refused input names every field, a
// taken name (case aside) is a conflict, a missing budget not found; the
// API maps them to 400, 409 and 404.
func TestBudgetChangesOnStore(t *testing.T) {
	s, _ := storetest.Start(t, "spend_budgets")
	paris, _ := time.LoadLocation("Europe/Paris")
	svc := New(s, paris, 10*time.Second)
	ctx := t.Context()
	if err := svc.CheckBudgets(ctx); err != nil {
		t.Fatal(err)
	}

	_, err := svc.CreateBudget(ctx, "", BudgetInput{Name: str(""), Period: str("yearly"), AmountUSD: []byte(`"0"`)})
	inv, ok := domainerr.AsInvalid(err)
	if !ok || inv.Summary != "invalid budget" || len(inv.Fields) != 3 {
		t.Fatalf("invalid create: %v", err)
	}

	b, err := svc.CreateBudget(ctx, "", BudgetInput{Name: str("OpenAI monthly"), Period: str("monthly"), AmountUSD: []byte(`250.5`),
		Scope: &BudgetScopeInput{Provider: str("openai")}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Timezone != "Europe/Paris" || b.AmountUSD != "250.5" || len(b.Thresholds) != 3 {
		t.Fatalf("created %+v", b)
	}
	if _, err := svc.CreateBudget(ctx, "", BudgetInput{Name: str("openai MONTHLY"), Period: str("daily"), AmountUSD: []byte(`1`)}); err == nil {
		t.Fatal("a taken name was accepted")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("taken name: %v", err)
	}

	got, err := svc.UpdateBudget(ctx, "", b.ID, BudgetInput{AmountUSD: []byte(`"300"`)}, false)
	if err != nil || got.AmountUSD != "300" || got.Name != "OpenAI monthly" || got.Scope.Provider != "openai" {
		t.Fatalf("patch: %+v %v", got, err)
	}
	if _, err := svc.UpdateBudget(ctx, "", "bud_missing", BudgetInput{}, false); err == nil {
		t.Fatal("patched a missing budget")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("missing budget: %v", err)
	}

	st, err := svc.BudgetStatus(ctx, "", b.ID, time.Now())
	if err != nil || st.Spent != "0" || st.AmountUSD != "300" || st.BudgetID != b.ID {
		t.Fatalf("status: %+v %v", st, err)
	}

	if _, err := svc.DeleteBudget(ctx, "", b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Budget(ctx, "", b.ID); err == nil {
		t.Fatal("a deleted budget is still there")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("deleted budget: %v", err)
	}
	if live, err := svc.Budgets(ctx, ""); err != nil || len(live) != 0 {
		t.Fatalf("live budgets: %+v %v", live, err)
	}
}
