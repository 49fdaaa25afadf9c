package budgetevents

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func budgetEntries(t *testing.T, log *audit.Log, tenant string) []audit.Entry {
	t.Helper()
	var all []audit.Entry
	for _, action := range []string{AuditBlock, AuditWarn} {
		es, _, err := log.List(t.Context(), audit.Filter{Tenant: tenant, Action: action, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	return all
}

func auditNew(t *testing.T, s store.Store, log *audit.Log, limit int) int {
	t.Helper()
	n, err := AuditNew(t.Context(), s, log, 24*time.Hour, limit)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Events of two tenants, one of them written twice and one older than the
// lookback: each recent one is appended once, oldest first, with its
// fields; a second run appends nothing, and both chains verify.
func TestAuditNewAppendsEachOnceInOrder(t *testing.T) {
	s, _ := storetest.Start(t, "budget_events_audit")
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	evs := []Event{
		{ID: "bev_2", Tenant: "acme", At: t0.Add(2 * time.Minute), BudgetID: "bud_1", BudgetName: "cap", Action: Block,
			Provider: "openai", Model: "gpt-4o-mini", Customer: "c1",
			WorstCaseUSD: decimal.RequireFromString("0.001"), RemainingUSD: decimal.RequireFromString("0.0004")},
		{ID: "bev_1", Tenant: "acme", At: t0, BudgetID: "bud_2", BudgetName: "soft", Action: Warn, Provider: "exa",
			WorstCaseUSD: decimal.RequireFromString("0.005"), RemainingUSD: decimal.RequireFromString("1.5")},
		{ID: "bev_3", Tenant: "globex", At: t0.Add(time.Minute), BudgetID: "bud_9", BudgetName: "g", Action: Block, Provider: "openrouter"},
		{ID: "bev_old", Tenant: "acme", At: t0.Add(-48 * time.Hour), BudgetID: "bud_1", Action: Block, Provider: "openai"},
	}
	if err := Write(ctx, s, evs); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, s, evs[:1]); err != nil { // a batch the proxy sent again
		t.Fatal(err)
	}
	log := audit.New(s, nil)
	if n := auditNew(t, s, log, 1000); n != 3 {
		t.Fatalf("appended %d, want 3", n)
	}
	if n := auditNew(t, s, log, 1000); n != 0 {
		t.Fatalf("second run appended %d", n)
	}
	// Another process (a restart) finds nothing new either.
	if n := auditNew(t, s, audit.New(s, nil), 1000); n != 0 {
		t.Fatalf("run after a restart appended %d", n)
	}

	acme := budgetEntries(t, log, "acme")
	if len(acme) != 2 {
		t.Fatalf("acme has %d budget entries: %+v", len(acme), acme)
	}
	bySeq := map[uint64]audit.Entry{}
	for _, e := range acme {
		bySeq[e.Seq] = e
	}
	warn, block := bySeq[1], bySeq[2]
	if warn.RequestID != "bev_1" || block.RequestID != "bev_2" {
		t.Fatalf("acme's entries not oldest first: seq 1 %q, seq 2 %q", warn.RequestID, block.RequestID)
	}
	if block.Action != AuditBlock || block.Outcome != audit.OutcomeDenied || block.ActorType != audit.ActorSystem ||
		block.ActorID != AuditActor || block.Via != AuditVia || block.ResourceType != "budgets" || block.ResourceID != "bud_1" {
		t.Fatalf("block entry %+v", block)
	}
	if want := `refused a call to openai gpt-4o-mini: worst case $0.001, $0.0004 left of budget "cap"`; block.Detail != want {
		t.Fatalf("detail %q, want %q", block.Detail, want)
	}
	if warn.Action != AuditWarn || warn.Outcome != audit.OutcomeSuccess || !strings.HasPrefix(warn.Detail, "let through a call to exa:") {
		t.Fatalf("warn entry %+v", warn)
	}
	var after Event
	if err := json.Unmarshal(block.After, &after); err != nil {
		t.Fatal(err)
	}
	if after.ID != "bev_2" || after.Customer != "c1" || !after.At.Equal(t0.Add(2*time.Minute)) ||
		!after.WorstCaseUSD.Equal(decimal.RequireFromString("0.001")) || !after.RemainingUSD.Equal(decimal.RequireFromString("0.0004")) {
		t.Fatalf("after %s", block.After)
	}
	if g := budgetEntries(t, log, "globex"); len(g) != 1 || g[0].RequestID != "bev_3" || g[0].Seq != 1 {
		t.Fatalf("globex entries %+v", g)
	}
	for _, tenant := range []string{"acme", "globex"} {
		if v, err := log.Verify(ctx, tenant); err != nil || !v.OK {
			t.Fatalf("verify %s: %+v %v", tenant, v, err)
		}
	}
}

// At most limit events a run; the next run continues with the next
// oldest, and the sum is every event once.
func TestAuditNewHonoursLimit(t *testing.T) {
	s, _ := storetest.Start(t, "budget_events_audit_limit")
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var evs []Event
	for i := range 7 {
		evs = append(evs, Event{ID: "bev_" + string(rune('a'+i)), Tenant: "acme", At: t0.Add(time.Duration(i) * time.Second),
			BudgetID: "bud_1", Action: Block, Provider: "openai"})
	}
	if err := Write(ctx, s, evs); err != nil {
		t.Fatal(err)
	}
	log := audit.New(s, nil)
	var runs []int
	for range 5 {
		runs = append(runs, auditNew(t, s, log, 3))
	}
	if runs[0] != 3 || runs[1] != 3 || runs[2] != 1 || runs[3] != 0 || runs[4] != 0 {
		t.Fatalf("runs appended %v, want [3 3 1 0 0]", runs)
	}
	es := budgetEntries(t, log, "acme")
	if len(es) != 7 {
		t.Fatalf("%d entries", len(es))
	}
	for _, e := range es {
		if want := "bev_" + string(rune('a'+int(e.Seq)-1)); e.RequestID != want {
			t.Fatalf("seq %d is %q, want %q", e.Seq, e.RequestID, want)
		}
	}
	if _, err := AuditNew(ctx, s, log, 24*time.Hour, 0); err == nil {
		t.Fatal("limit 0 accepted")
	}
	if _, err := AuditNew(ctx, s, log, 0, 10); err == nil {
		t.Fatal("lookback 0 accepted")
	}
}

// Hostile names are recorded, bounded and readable, and break nothing: a
// budget name with control characters and quotes, a 10 KB model name;
// an id the trail could not store unchanged is left out rather than
// audited on every run.
func TestAuditNewHostileEvent(t *testing.T) {
	s, _ := storetest.Start(t, "budget_events_audit_hostile")
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Minute)
	model := strings.Repeat("m", 10<<10)
	evs := []Event{
		{ID: "bev_h", Tenant: "acme", At: at, BudgetID: "bud_\x00\n1", BudgetName: "cap\x1b[31m\r\n\"quoted\"\x00",
			Action: Block, Provider: "openai", Model: model, Feature: "\xff\xfe"},
		{ID: strings.Repeat("x", 2000), Tenant: "acme", At: at, BudgetID: "bud_1", Action: Block, Provider: "openai"},
		{ID: "bev_odd", Tenant: "acme", At: at, BudgetID: "bud_1", Action: "explode", Provider: "openai"},
	}
	if err := Write(ctx, s, evs); err != nil {
		t.Fatal(err)
	}
	log := audit.New(s, nil)
	for i, want := range []int{1, 0} {
		if n := auditNew(t, s, log, 1000); n != want {
			t.Fatalf("run %d appended %d, want %d", i, n, want)
		}
	}
	es := budgetEntries(t, log, "acme")
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if strings.ContainsAny(e.Detail, "\x00\x1b\r\n") || len(e.Detail) > 512 || !strings.Contains(e.Detail, `\"quoted\"`) ||
		!strings.Contains(e.Detail, "mmm…") {
		t.Fatalf("detail %q", e.Detail)
	}
	var after Event
	if err := json.Unmarshal(e.After, &after); err != nil {
		t.Fatalf("after is not the event: %v", err)
	}
	if after.Model != model || after.ID != "bev_h" {
		t.Fatalf("after lost the event: model %d bytes, id %q", len(after.Model), after.ID)
	}
	if v, err := log.Verify(ctx, "acme"); err != nil || !v.OK || v.Entries != 1 {
		t.Fatalf("verify %+v %v", v, err)
	}
}
