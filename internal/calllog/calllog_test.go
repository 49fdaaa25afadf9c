package calllog

import (
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// An empty store lists no calls ([] not nil) and counts zero; a range
// past the raw calls' retention (chstore's default, 90 days) is refused
// naming from; stats of a long range read the hour rollup.
func TestCallsOnEmptyStore(t *testing.T) {
	s, _ := storetest.Start(t, "calllog_empty")
	svc := New(s)
	now := time.Now().UTC().Truncate(time.Second)
	f := schema.Filter{Scope: schema.Scope{Provider: "openai"}, From: now.Add(-time.Hour), To: now}
	out, total, err := svc.List(t.Context(), f, Filter{Status: "error"}, 0, 50)
	if err != nil || out == nil || len(out) != 0 || total != 0 {
		t.Fatalf("list: %v %d %v", out, total, err)
	}
	old := schema.Filter{From: now.AddDate(0, 0, -120), To: now.AddDate(0, 0, -100)}
	_, _, err = svc.List(t.Context(), old, Filter{}, 0, 50)
	if inv, ok := domainerr.AsInvalid(err); !ok || inv.Fields[0].Field != "from" || inv.Fields[0].Message !=
		"raw calls are kept for 2160h: ask for a later from, or use /costs for older totals" {
		t.Fatalf("old range: %v", err)
	}
	st, err := svc.Stats(t.Context(), schema.Filter{From: now.AddDate(0, 0, -7), To: now}, Filter{}, "provider")
	if err != nil || st.Source != "rollup_1h" || st.Percentiles != "approximate" || st.Groups == nil || len(st.Groups) != 0 {
		t.Fatalf("stats: %+v %v", st, err)
	}
}
