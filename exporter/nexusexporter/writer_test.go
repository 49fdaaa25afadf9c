package nexusexporter

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestWindow(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	w := newWindow(now, 90*24*time.Hour, 5*time.Minute)
	ts := func(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }
	for _, tc := range []struct {
		name string
		at   pcommon.Timestamp
		want reason
	}{
		{"now", ts(now), ""},
		{"skewed ahead", ts(now.Add(4 * time.Minute)), ""},
		{"ahead", ts(now.Add(6 * time.Minute)), reasonInFuture},
		{"89 days", ts(now.Add(-89 * 24 * time.Hour)), ""},
		{"91 days", ts(now.Add(-91 * 24 * time.Hour)), reasonTooOld},
		{"unset", 0, reasonMissingTime},
		{"1 ns", 1, reasonTooOld},
		{"2200", ts(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)), reasonInFuture},
		{"past int64 nanoseconds", pcommon.Timestamp(1<<63 + 5), reasonInFuture},
	} {
		if got := w.check(tc.at); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// Without an age bound, old times pass; a window reaching past 2106
	// refuses what DateTime cannot hold as out of range.
	wide := newWindow(now, 0, 200*365*24*time.Hour)
	if got := wide.check(1); got != "" {
		t.Errorf("1 ns with no max_age: %q", got)
	}
	if got := wide.check(ts(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))); got != reasonOutOfRange {
		t.Errorf("2200 with max_future of 200 years: %q", got)
	}
	if got := w.noAge().check(ts(now.Add(-1000 * 24 * time.Hour))); got != "" {
		t.Errorf("old time without age bound: %q", got)
	}
	// A span that started in time but ends far ahead is refused.
	if got := w.checkSpan(ts(now), ts(now.Add(time.Hour))); got != reasonInFuture {
		t.Errorf("span ending in an hour: %q", got)
	}
	if got := w.checkSpan(ts(now), 0); got != "" {
		t.Errorf("span without end: %q", got)
	}
}

func TestBlockToken(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 5, time.UTC)
	mk := func(model string, units map[string]uint64) []row {
		return []row{{vals: []any{at, uint64(3), model, decimal.RequireFromString("0.000001"), nil, units, float32(0.5), true}}}
	}
	tok := blockToken("p", &apiCalls, mk("gpt-4o", map[string]uint64{"a": 1, "b": 2, "c": 3}))
	for range 20 { // map order is random: the token must not depend on it
		if got := blockToken("p", &apiCalls, mk("gpt-4o", map[string]uint64{"c": 3, "a": 1, "b": 2})); got != tok {
			t.Fatal("same rows, another token")
		}
	}
	for name, other := range map[string]string{
		"other value":  blockToken("p", &apiCalls, mk("gpt-4o-mini", map[string]uint64{"a": 1, "b": 2, "c": 3})),
		"other parent": blockToken("q", &apiCalls, mk("gpt-4o", map[string]uint64{"a": 1, "b": 2, "c": 3})),
		"other table":  blockToken("p", &providerHealth, mk("gpt-4o", map[string]uint64{"a": 1, "b": 2, "c": 3})),
	} {
		if other == tok {
			t.Errorf("%s: same token", name)
		}
	}
	// Length-prefixed: moving a character between values changes it.
	a := blockToken("p", &apiCalls, []row{{vals: []any{"ab", "c"}}})
	b := blockToken("p", &apiCalls, []row{{vals: []any{"a", "bc"}}})
	if a == b {
		t.Error("values are not delimited")
	}
}

func TestGroupByBlock(t *testing.T) {
	day := func(m time.Month, d int) row { return row{at: time.Date(2026, m, d, 1, 0, 0, 0, time.UTC)} }
	groups := groupByBlock([]row{day(12, 1), day(10, 5), day(12, 31), day(10, 1), {at: time.Unix(0, 0)}})
	var got []int
	for _, g := range groups {
		got = append(got, len(g.rows))
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 2 {
		t.Fatalf("blocks by month, oldest first: sizes %v", got)
	}
	if r := groups[2].rows; !r[0].at.Equal(day(12, 1).at) || !r[1].at.Equal(day(12, 31).at) {
		t.Fatal("rows of a block keep their order")
	}
}

// TestRefusedCallNamedByItsIDs: a refused call is logged by its trace and
// span ids, built only when it is logged.
func TestRefusedCallNamedByItsIDs(t *testing.T) {
	rows := callRows(calls(2, recent()), newWindow(time.Now(), 0, time.Minute))
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if got, want := rows[1].describe(), "trace 01000100000000000000000000000000 span 0200010000000000"; got != want {
		t.Fatalf("described as %q, want %q", got, want)
	}
	var rep pushReport
	rep.refuse("api_calls", rows[1], reasonInvalid, nil)
	if len(rep.examples) != 1 || !strings.Contains(rep.examples[0], "span 0200010000000000") {
		t.Fatalf("refusal logged as %q", rep.examples)
	}
	if got := (row{what: "openai.usage of openai", vals: []any{"x"}}).describe(); got != "openai.usage of openai" {
		t.Fatalf("metric row described as %q", got)
	}
}
