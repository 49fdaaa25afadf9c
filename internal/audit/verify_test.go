package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// chain appends n entries to tenant and one to another tenant, whose
// chain tampering with the first must not break.
func chain(t *testing.T, db string, n int) (*Log, store.Store, []Entry) {
	t.Helper()
	s, _ := storetest.Start(t, db)
	l := New(s, nil)
	var es []Entry
	for i := range n {
		e := entry("acme", "budget.update", "bud_1")
		e.After = Mask(map[string]any{"amount_usd": i})
		es = append(es, mustAppend(t, l, e))
	}
	mustAppend(t, l, entry("globex", "budget.create", "bud_2"))
	if v, err := l.Verify(t.Context(), "acme"); err != nil || !v.OK || v.Entries != uint64(n) {
		t.Fatalf("untouched chain: %+v %v", v, err)
	}
	return l, s, es
}

func exec(t *testing.T, s store.Store, q string, params store.Params) {
	t.Helper()
	if err := s.Exec(t.Context(), strings.ReplaceAll(q, "{t}", s.Database()+"."+Table)+" SETTINGS mutations_sync = 2", params); err != nil {
		t.Fatal(err)
	}
}

func broken(t *testing.T, l *Log, seq uint64, reason string) {
	t.Helper()
	v, err := l.Verify(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || v.BrokenSeq != seq || !strings.Contains(v.Reason, reason) {
		t.Fatalf("verification %+v, want seq %d broken (%s)", v, seq, reason)
	}
	all, err := l.VerifyAll(t.Context())
	if err != nil || len(all) != 2 || all[0].Tenant != "acme" || all[0].OK || !all[1].OK {
		t.Fatalf("verify all: %+v %v", all, err)
	}
}

func TestVerifyNamesEditedEntry(t *testing.T) {
	l, s, _ := chain(t, "audit_edit", 6)
	exec(t, s, `ALTER TABLE {t} UPDATE after = '{"amount_usd":1000}' WHERE tenant = 'acme' AND seq = 3`, nil)
	broken(t, l, 3, "edited")

	// An edit that is not even JSON is still shown (as a JSON string) and
	// exported, and still fails the check.
	exec(t, s, `ALTER TABLE {t} UPDATE after = 'not json' WHERE tenant = 'acme' AND seq = 3`, nil)
	page, _, err := l.List(t.Context(), Filter{Tenant: "acme", Limit: 4})
	if err != nil || len(page) != 4 || string(page[3].After) != `"not json"` {
		t.Fatalf("list after a bad edit: %v %+v", err, page)
	}
	var buf bytes.Buffer
	if n, err := l.Export(t.Context(), Filter{Tenant: "acme"}, &buf); err != nil || n != 6 || !strings.Contains(buf.String(), `"after":"not json"`) {
		t.Fatalf("export after a bad edit: %d %v", n, err)
	}
	broken(t, l, 3, "edited")
}

// An entry copied in the table (an insert retried, say) is exported as
// often as it is stored, even across a page boundary.
func TestExportKeepsCopies(t *testing.T) {
	l, s, _ := chain(t, "audit_copy", 4)
	exec(t, s, `INSERT INTO {t} SELECT * FROM {t} WHERE tenant = 'acme' AND seq = 2`, nil)
	l.page = 2
	var buf bytes.Buffer
	if n, err := l.Export(t.Context(), Filter{Tenant: "acme"}, &buf); err != nil || n != 5 || strings.Count(buf.String(), "\n") != 5 {
		t.Fatalf("export of a copied entry: %d %v\n%s", n, err, buf.String())
	}
	broken(t, l, 2, "seq 2 appears more than once")
}

func TestVerifyNamesRemovedEntry(t *testing.T) {
	l, s, _ := chain(t, "audit_remove", 6)
	exec(t, s, `ALTER TABLE {t} DELETE WHERE tenant = 'acme' AND seq IN (3, 4)`, nil)
	broken(t, l, 3, "entries 3 to 4 are missing")
}

// A prev_hash pointing elsewhere is named as such, whether or not the
// forger recomputed the entry's hash to match it.
func TestVerifyNamesForgedPrevHash(t *testing.T) {
	l, s, es := chain(t, "audit_forge", 6)
	forged := es[4]
	forged.PrevHash = es[1].Hash // seq 5 claims to follow seq 2
	exec(t, s, `ALTER TABLE {t} UPDATE prev_hash = {p:String}, hash = {h:String} WHERE tenant = 'acme' AND seq = 5`,
		store.Params{"p": forged.PrevHash, "h": Hash(forged)})
	broken(t, l, 5, "prev_hash of seq 5")
}

// Swapping two entries' places (their seqs: a key column, so by copy and
// delete) breaks the chain at the first.
func TestVerifyNamesReorderedEntries(t *testing.T) {
	l, s, es := chain(t, "audit_reorder", 6)
	exec(t, s, `INSERT INTO {t} SELECT * REPLACE (if(seq = 2, 3, 2) AS seq) FROM {t} WHERE tenant = 'acme' AND seq IN (2, 3)`, nil)
	exec(t, s, `ALTER TABLE {t} DELETE WHERE tenant = 'acme' AND ((seq = 2 AND hash = {h2:String}) OR (seq = 3 AND hash = {h3:String}))`,
		store.Params{"h2": es[1].Hash, "h3": es[2].Hash})
	broken(t, l, 2, "prev_hash of seq 2")
}

// Entries that left with retention do not break what remains.
func TestVerifyAcceptsRetentionCut(t *testing.T) {
	l, s, _ := chain(t, "audit_retention", 6)
	exec(t, s, `ALTER TABLE {t} DELETE WHERE tenant = 'acme' AND seq <= 2`, nil)
	if v, err := l.Verify(t.Context(), "acme"); err != nil || !v.OK || v.Entries != 4 {
		t.Fatalf("after retention: %+v %v", v, err)
	}
	if v, err := l.Verify(t.Context(), "nobody"); err != nil || !v.OK || v.Entries != 0 {
		t.Fatalf("empty chain: %+v %v", v, err)
	}
}

// Two Logs appending the same tenant (two collectors) fork the chain: the
// documented limit, which Verify must report; a duplicate straddling a
// page boundary is still seen.
func TestVerifyNamesFork(t *testing.T) {
	l, s, _ := chain(t, "audit_fork", 3)
	other := New(s, nil)
	mustAppend(t, l, entry("acme", "a.four", "4"))
	// other read the head before l's next append: both write seq 5.
	if err := other.loadHead(t.Context(), "acme", other.head("acme")); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, entry("acme", "a.five", "5"))
	if e := mustAppend(t, other, entry("acme", "a.five-too", "5")); e.Seq != 5 {
		t.Fatalf("the fork took seq %d", e.Seq)
	}
	for _, page := range []int{1000, 5, 4} {
		l.page = page
		broken(t, l, 5, "seq 5 appears more than once")
	}
}
