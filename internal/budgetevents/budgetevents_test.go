package budgetevents

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// Events written, a batch written again, another tenant's and another
// budget's: a budget's list has each of its own once, newest first.
func TestWriteAndList(t *testing.T) {
	s, _ := storetest.Start(t, "budget_events")
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var evs []Event
	for i := range 5 {
		evs = append(evs, Event{ID: "bev_" + string(rune('a'+i)), Tenant: "acme", At: t0.Add(time.Duration(i) * time.Minute),
			BudgetID: "bud_1", BudgetName: "cap", Action: Block, Provider: "openai", Model: "gpt-4o-mini", Customer: "c1",
			WorstCaseUSD: decimal.RequireFromString("0.000990000001"), RemainingUSD: decimal.RequireFromString("0.0005")})
	}
	if err := Write(ctx, s, evs); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, s, evs[3:]); err != nil { // a batch sent again
		t.Fatal(err)
	}
	other := []Event{{ID: "bev_x", Tenant: "globex", At: t0, BudgetID: "bud_1", Action: Block, Provider: "openai"},
		{ID: "bev_y", Tenant: "acme", At: t0, BudgetID: "bud_2", Action: Warn, Provider: "openai"}}
	if err := Write(ctx, s, other); err != nil {
		t.Fatal(err)
	}
	page, err := List(ctx, s, "acme", "bud_1", t0.Add(-time.Minute), t0.Add(time.Hour), 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 5 || len(page.Events) != 3 || page.Events[0].ID != "bev_e" || page.Events[2].ID != "bev_c" {
		t.Fatalf("page %d %+v", page.Total, page.Events)
	}
	if e := page.Events[0]; !e.WorstCaseUSD.Equal(decimal.RequireFromString("0.000990000001")) || e.Customer != "c1" || !e.At.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("event read back: %+v", e)
	}
	rest, err := List(ctx, s, "acme", "bud_1", t0.Add(-time.Minute), t0.Add(time.Hour), 3, 3)
	if err != nil || len(rest.Events) != 2 || rest.Events[1].ID != "bev_a" {
		t.Fatalf("second page %+v %v", rest.Events, err)
	}
}

// The writer gathers events off the caller's path and stores them on
// close.
func TestWriter(t *testing.T) {
	s, _ := storetest.Start(t, "budget_events_writer")
	w := NewWriter(s, zap.NewNop())
	for range 10 {
		w.Add(Event{Tenant: "default", BudgetID: "bud_w", Action: Warn, Provider: "exa"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.Close(ctx)
	page, err := List(context.Background(), s, "", "bud_w", time.Now().Add(-time.Minute), time.Now().Add(time.Minute), 0, 100)
	if err != nil || page.Total != 10 || w.Dropped() != 0 {
		t.Fatalf("stored %d (%v), dropped %d", page.Total, err, w.Dropped())
	}
}
