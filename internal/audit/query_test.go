package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// seed appends n entries spread over tenants, actors, actions and
// resources, and returns them as stored.
func seed(t *testing.T, l *Log, n int) []Entry {
	t.Helper()
	tenants := []string{"acme", "globex", ""}
	actions := []string{"budget.create", "key.revoke", "auth.sign_in"}
	var out []Entry
	for i := range n {
		e := entry(tenants[i%3], actions[(i/3)%3], "res_"+strconv.Itoa(i%4))
		e.ActorID = "usr_" + strconv.Itoa(i%2)
		e.ResourceType = []string{"budget", "key"}[i%2]
		out = append(out, mustAppend(t, l, e))
	}
	return out
}

// newestFirst sorts entries as List pages them.
func newestFirst(es []Entry) []Entry {
	out := slices.Clone(es)
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		if a.Tenant != b.Tenant {
			if a.Tenant > b.Tenant {
				return -1
			}
			return 1
		}
		return int(b.Seq) - int(a.Seq)
	})
	return out
}

func keys(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Tenant + "/" + strconv.FormatUint(e.Seq, 10)
	}
	return out
}

// listAll follows List's cursors to the end.
func listAll(t *testing.T, l *Log, f Filter) []Entry {
	t.Helper()
	var all []Entry
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		page, next, err := l.List(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if f.Limit > 0 && len(page) > f.Limit {
			t.Fatalf("page of %d over limit %d", len(page), f.Limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		f.Cursor = next
	}
}

// Every filter field narrows to the entries it names, and only within the
// caller's tenant unless TenantAll; pages of any size add up to the whole,
// newest first, with no entry twice or missing.
func TestListFiltersAndPages(t *testing.T) {
	s, _ := storetest.Start(t, "audit_list")
	l := New(s, nil)
	all := seed(t, l, 24)
	match := func(pred func(Entry) bool) []Entry {
		var out []Entry
		for _, e := range all {
			if pred(e) {
				out = append(out, e)
			}
		}
		return newestFirst(out)
	}
	from, to := all[7].At, all[16].At
	for _, tc := range []struct {
		name string
		f    Filter
		pred func(Entry) bool
	}{
		{"tenant", Filter{Tenant: "acme"}, func(e Entry) bool { return e.Tenant == "acme" }},
		{"installation", Filter{}, func(e Entry) bool { return e.Tenant == "" }},
		{"every tenant", Filter{TenantAll: true}, func(Entry) bool { return true }},
		{"actor", Filter{TenantAll: true, ActorID: "usr_1"}, func(e Entry) bool { return e.ActorID == "usr_1" }},
		{"action", Filter{Tenant: "globex", Action: "key.revoke"}, func(e Entry) bool { return e.Tenant == "globex" && e.Action == "key.revoke" }},
		{"resource type", Filter{TenantAll: true, ResourceType: "key"}, func(e Entry) bool { return e.ResourceType == "key" }},
		{"resource id", Filter{TenantAll: true, ResourceID: "res_2"}, func(e Entry) bool { return e.ResourceID == "res_2" }},
		{"time range", Filter{TenantAll: true, From: from, To: to}, func(e Entry) bool { return !e.At.Before(from) && e.At.Before(to) }},
		{"from only", Filter{Tenant: "acme", From: to}, func(e Entry) bool { return e.Tenant == "acme" && !e.At.Before(to) }},
		{"no match", Filter{TenantAll: true, Action: "nothing"}, func(Entry) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := match(tc.pred)
			if tc.name != "no match" && len(want) == 0 {
				t.Fatal("the seed has no entry for this filter")
			}
			for _, limit := range []int{0, 1, 5, 1000} {
				f := tc.f
				f.Limit = limit
				if got := listAll(t, l, f); !slices.Equal(keys(got), keys(want)) {
					t.Fatalf("limit %d:\n got %v\nwant %v", limit, keys(got), keys(want))
				}
			}
		})
	}

	// Entries appended while paging do not shift the pages that follow.
	page, next, err := l.List(t.Context(), Filter{TenantAll: true, Limit: 10})
	if err != nil || len(page) != 10 || next == "" {
		t.Fatalf("first page: %d %q %v", len(page), next, err)
	}
	mustAppend(t, l, entry("acme", "late.entry", "x"))
	rest := listAll(t, l, Filter{TenantAll: true, Limit: 10, Cursor: next})
	if got := keys(append(page, rest...)); !slices.Equal(got, keys(newestFirst(all))) {
		t.Fatalf("pages around an append:\n got %v\nwant %v", got, keys(newestFirst(all)))
	}
}

func TestListRefusesBadQueries(t *testing.T) {
	s, _ := storetest.Start(t, "audit_badquery")
	l := New(s, nil)
	for _, tc := range []struct {
		f     Filter
		field string
	}{
		{Filter{Limit: -1}, "limit"},
		{Filter{Limit: MaxLimit + 1}, "limit"},
		{Filter{Cursor: "not a cursor!"}, "cursor"},
		{Filter{Cursor: "eyJ4IjoxfQ"}, "cursor"}, // {"x":1}
		{Filter{Cursor: string(bytes.Repeat([]byte("A"), 1000))}, "cursor"},
		{Filter{From: time.Now(), To: time.Now().Add(-time.Hour)}, "to"},
	} {
		_, _, err := l.List(t.Context(), tc.f)
		inv, ok := domainerr.AsInvalid(err)
		if !ok || len(inv.Fields) != 1 || inv.Fields[0].Field != tc.field {
			t.Errorf("%+v: %v", tc.f, err)
		}
	}
}

// Export writes every matching entry, oldest first, one JSON object a
// line, across pages (three entries a page here), and counts them.
func TestExportNDJSON(t *testing.T) {
	s, _ := storetest.Start(t, "audit_export")
	l := New(s, nil)
	all := seed(t, l, 20)
	l.page = 3
	for _, f := range []Filter{{TenantAll: true}, {Tenant: "globex"}, {TenantAll: true, Action: "nothing"}, {Tenant: "acme", Limit: 1, Cursor: "ignored"}} {
		var buf bytes.Buffer
		n, err := l.Export(t.Context(), f, &buf)
		if err != nil {
			t.Fatal(err)
		}
		var want []Entry
		for _, e := range newestFirst(all) {
			if (f.TenantAll || e.Tenant == f.Tenant) && (f.Action == "" || e.Action == f.Action) {
				want = append([]Entry{e}, want...)
			}
		}
		var got []Entry
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var e Entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if Hash(e) != e.Hash {
				t.Fatalf("exported entry %s/%d does not hash to its hash", e.Tenant, e.Seq)
			}
			got = append(got, e)
		}
		if n != len(want) || !slices.Equal(keys(got), keys(want)) {
			t.Fatalf("%+v: wrote %d\n got %v\nwant %v", f, n, keys(got), keys(want))
		}
	}
}
