package nexusapiextension

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// budgetAuditEntries is the default tenant's audit entries of action.
func (ta *testAPI) budgetAuditEntries(action string) []audit.Entry {
	ta.t.Helper()
	e := ta.do("GET", "/api/v1/audit?tenant=default&limit=1000&action="+action, ta.admin, nil)
	if e.status != 200 {
		ta.t.Fatalf("list audit: %d %+v", e.status, e.Error)
	}
	var p auditPage
	e.decode(ta.t, &p)
	return p.Entries
}

// The proxy's budget events reach the audit trail, once each, by the
// collector that evaluates alerts; one that does not evaluate leaves them.
func TestBudgetAuditCopiesProxyEvents(t *testing.T) {
	idle := startAPI(t, freshDB("budget_audit"), func(c *Config) { c.Alerting.Evaluate = false })
	at := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Minute)
	events := []budgetevents.Event{
		{ID: "bev_block1", At: at, BudgetID: "bud_cap", BudgetName: "monthly cap", Action: budgetevents.Block,
			Provider: "openai", Model: "gpt-4o-mini", Customer: "c1",
			WorstCaseUSD: decimal.RequireFromString("0.001"), RemainingUSD: decimal.RequireFromString("0.0004")},
		{ID: "bev_warn1", At: at.Add(time.Second), BudgetID: "bud_soft", BudgetName: "soft", Action: budgetevents.Warn,
			Provider: "exa", WorstCaseUSD: decimal.RequireFromString("0.005"), RemainingUSD: decimal.RequireFromString("2")},
	}
	if err := budgetevents.Write(context.Background(), idle.store, events); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2*budgetAuditEvery + 500*time.Millisecond)
	if got := idle.budgetAuditEntries(budgetevents.AuditBlock); len(got) != 0 {
		t.Fatalf("a collector that does not evaluate copied events: %+v", got)
	}

	ta := startAPIOn(t, idle.store, idle.host, nil) // evaluates: the default
	var blocks []audit.Entry
	for deadline := time.Now().Add(10 * time.Second); len(blocks) == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no budget.block entry within 10 s")
		}
		blocks = ta.budgetAuditEntries(budgetevents.AuditBlock)
	}
	b := blocks[0]
	if len(blocks) != 1 || b.Tenant != "default" || b.ActorType != audit.ActorSystem || b.ActorID != "apiproxy" ||
		b.Via != "proxy" || b.ResourceType != "budgets" || b.ResourceID != "bud_cap" || b.RequestID != "bev_block1" ||
		b.Outcome != audit.OutcomeDenied {
		t.Fatalf("block entries %+v", blocks)
	}
	if want := `refused a call to openai gpt-4o-mini: worst case $0.001, $0.0004 left of budget "monthly cap"`; b.Detail != want {
		t.Fatalf("detail %q, want %q", b.Detail, want)
	}
	var after budgetevents.Event
	if err := json.Unmarshal(b.After, &after); err != nil || after.ID != "bev_block1" || after.BudgetName != "monthly cap" ||
		after.Customer != "c1" || !after.At.Equal(at) {
		t.Fatalf("after %s (%v)", b.After, err)
	}
	warns := ta.budgetAuditEntries(budgetevents.AuditWarn)
	if len(warns) != 1 || warns[0].RequestID != "bev_warn1" || warns[0].Outcome != audit.OutcomeSuccess || warns[0].Seq <= b.Seq {
		t.Fatalf("warn entries %+v: want one, after the older block (seq %d)", warns, b.Seq)
	}

	// Later runs add nothing, and the chain verifies.
	time.Sleep(budgetAuditEvery + 500*time.Millisecond)
	if n, m := len(ta.budgetAuditEntries(budgetevents.AuditBlock)), len(ta.budgetAuditEntries(budgetevents.AuditWarn)); n != 1 || m != 1 {
		t.Fatalf("after more runs: %d blocks, %d warns", n, m)
	}
	if v, err := ta.api.audit.Verify(context.Background(), "default"); err != nil || !v.OK {
		t.Fatalf("verify %+v %v", v, err)
	}
}

// downStore fails every query while down is set, as a store that is gone.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (d *downStore) Query(ctx context.Context, q string, p store.Params) (store.Rows, error) {
	if d.down.Load() {
		return nil, errors.New("store down")
	}
	return d.Store.Query(ctx, q, p)
}

// A store down for many runs is logged once, and its recovery once; the
// events written meanwhile are copied after it, and the loop ends with
// its context.
func TestBudgetAuditLogsOncePerStateChange(t *testing.T) {
	s, _ := storetest.Start(t, freshDB("budget_audit_log"))
	ds := &downStore{Store: s}
	ds.down.Store(true)
	core, logs := observer.New(zapcore.InfoLevel)
	a := &api{store: ds, audit: audit.New(ds, nil), logger: zap.New(core)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runBudgetAudit(ctx, 10*time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	if err := budgetevents.Write(context.Background(), s, []budgetevents.Event{{ID: "bev_x", At: time.Now(),
		BudgetID: "bud_1", Action: budgetevents.Block, Provider: "openai"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // tens of failed runs
	ds.down.Store(false)
	for deadline := time.Now().Add(10 * time.Second); logs.FilterMessageSnippet("again").Len() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery logged: %v", logs.All())
		}
	}
	time.Sleep(100 * time.Millisecond) // more good runs
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not end with its context")
	}
	if all := logs.All(); len(all) != 2 || all[0].Level != zapcore.WarnLevel || all[1].Level != zapcore.InfoLevel {
		t.Fatalf("logs %v: want one warning and one recovery", all)
	}
	es, _, err := a.audit.List(context.Background(), audit.Filter{Tenant: "default", Action: budgetevents.AuditBlock})
	if err != nil || len(es) != 1 || es[0].RequestID != "bev_x" {
		t.Fatalf("entries %+v %v", es, err)
	}
}
