package insights

import (
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// On an empty store there is nothing to recommend and no trend; a window
// reaching past the raw calls' retention is refused naming from.
func TestInsightsOnEmptyStore(t *testing.T) {
	s, _ := storetest.Start(t, "insights_empty")
	cfg := DefaultConfig()
	svc := New(s, &cfg, func(string) bool { return false })
	now := time.Now().UTC()
	recs, err := svc.Recommendations(t.Context(), schema.Filter{From: now.Add(-24 * time.Hour), To: now}, nil)
	if err != nil || recs.Recommendations == nil || len(recs.Recommendations) != 0 || recs.CatalogVersion == "" {
		t.Fatalf("recommendations: %+v %v", recs, err)
	}
	_, err = svc.Recommendations(t.Context(), schema.Filter{From: now.AddDate(0, 0, -200), To: now}, nil)
	if inv, ok := domainerr.AsInvalid(err); !ok || inv.Fields[0].Field != "from" {
		t.Fatalf("old window: %v", err)
	}
	tr, err := svc.Trends(t.Context(), schema.Scope{}, now, "week", "spend")
	if err != nil || len(tr.Rows) != 0 || tr.Period != "week" {
		t.Fatalf("trends: %+v %v", tr, err)
	}
}
