package providerstatus

import (
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	providerclient "github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A check run on request is stored as the receiver's are and shows in the
// status list; an unknown provider is not found, an unconfigured one a
// conflict.
func TestRecordedCheckIsListed(t *testing.T) {
	s, _ := storetest.Start(t, "providerstatus_check")
	redact := func(m string) string { return strings.ReplaceAll(m, "sk-secret", "[redacted]") }
	svc := New(s, time.UTC, redact, func(name string) bool { return name == "openai" })
	if _, ok := domainerr.AsNotFound(svc.CheckTestable("nope")); !ok {
		t.Fatal("an unknown provider was testable")
	}
	if _, ok := domainerr.AsConflict(svc.CheckTestable("exa")); !ok {
		t.Fatal("an unconfigured provider was testable")
	}
	if err := svc.CheckTestable("openai"); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	res, err := svc.Record(t.Context(), schema.DefaultTenant, "openai", at, providerclient.Check{Up: true, HTTPStatus: 200, Latency: 150 * time.Millisecond,
		Message: "key sk-secret ok", RateLimits: []providerclient.RateLimit{{Scope: "requests", Limit: 100, Remaining: 25}}})
	if err != nil || res.Class != "ok" || res.Message != "key [redacted] ok" || *res.RateLimits[0].Headroom != 0.25 {
		t.Fatalf("record: %+v %v", res, err)
	}
	list, err := svc.List(t.Context(), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range list {
		if st.Name != "openai" {
			continue
		}
		if !st.Configured || st.Health == nil || !st.Health.Up || len(st.RateLimits) != 1 || *st.RateLimits[0].Remaining != 25 {
			t.Fatalf("openai: %+v", st)
		}
		return
	}
	t.Fatal("openai not listed")
}
