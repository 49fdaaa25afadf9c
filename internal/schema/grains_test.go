package schema

import (
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCover(t *testing.T) {
	from, to := ts("2026-10-05T10:30:15.5Z"), ts("2026-10-07T11:45:00Z")
	got, _ := Cover(from, to, GrainDay, Horizons{})
	want := []Segment{
		{GrainRaw, from, ts("2026-10-05T10:31:00Z"), FamilyCalls},
		{GrainMinute, ts("2026-10-05T10:31:00Z"), ts("2026-10-05T11:00:00Z"), FamilyCalls},
		{GrainHour, ts("2026-10-05T11:00:00Z"), ts("2026-10-06T00:00:00Z"), FamilyCalls},
		{GrainDay, ts("2026-10-06T00:00:00Z"), ts("2026-10-07T00:00:00Z"), FamilyCalls},
		{GrainHour, ts("2026-10-07T00:00:00Z"), ts("2026-10-07T11:00:00Z"), FamilyCalls},
		{GrainMinute, ts("2026-10-07T11:00:00Z"), to, FamilyCalls},
	}
	if len(got) != len(want) {
		t.Fatalf("cover: %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Capped at hours, the same range never reads a day row.
	for _, s := range func() []Segment { s, _ := Cover(from, to, GrainHour, Horizons{}); return s }() {
		if s.Grain > GrainHour {
			t.Fatalf("hour cap: %+v", s)
		}
	}
	// With minutes kept only from 10:45 on, the older edge falls to raw
	// calls; with raw calls gone too, there is no exact cover.
	var horizon Horizons
	horizon[GrainMinute+1] = ts("2026-10-05T10:45:00Z")
	got, ok := Cover(from, ts("2026-10-05T12:00:00Z"), GrainDay, horizon)
	if !ok || len(got) != 3 || got[0] != (Segment{GrainRaw, from, ts("2026-10-05T10:45:00Z"), FamilyCalls}) ||
		got[1] != (Segment{GrainMinute, ts("2026-10-05T10:45:00Z"), ts("2026-10-05T11:00:00Z"), FamilyCalls}) {
		t.Errorf("minute horizon: %v %+v", ok, got)
	}
	horizon[0] = ts("2026-10-05T10:45:00Z")
	if _, ok := Cover(from, ts("2026-10-05T12:00:00Z"), GrainDay, horizon); ok {
		t.Error("cover without the data")
	}

	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	ny, _ := time.LoadLocation("America/New_York")
	if g := MaxGrainFor(LocalMidnights(ts("2026-10-01T00:00:00Z"), ts("2026-11-01T00:00:00Z"), kolkata)); g != GrainMinute {
		t.Errorf("Kolkata days: grain %d", g)
	}
	// New York's days are hour-aligned in UTC, across the DST change too.
	if g := MaxGrainFor(LocalMidnights(ts("2026-10-01T00:00:00Z"), ts("2026-12-01T00:00:00Z"), ny)); g != GrainHour {
		t.Errorf("New York days: grain %d", g)
	}
	if g := MaxGrainFor(LocalMidnights(ts("2026-10-01T00:00:00Z"), ts("2026-12-01T00:00:00Z"), time.UTC)); g != GrainDay {
		t.Errorf("UTC days: grain %d", g)
	}
}

// Attribution reads go to the family holding their dimension: whole UTC
// days from its day rollup, the partial days from raw calls; a combination
// no rollup holds reads raw calls only, and not past their retention.
func TestCoverFamily(t *testing.T) {
	from, to := ts("2026-10-05T10:30:00Z"), ts("2026-10-08T11:45:00Z")
	cases := []struct {
		scope  Scope
		groups []string
		want   Family
	}{
		{Scope{}, nil, FamilyCalls},
		{Scope{Team: "t", Feature: "f"}, []string{"team"}, FamilyCalls},
		{Scope{Customer: "acme"}, nil, FamilyCustomer},
		{Scope{}, []string{"customer"}, FamilyCustomer},
		{Scope{User: "u1"}, []string{"model"}, FamilyUser},
		{Scope{TagKey: "env"}, []string{"tag.env"}, FamilyTag},
		{Scope{}, []string{"tag.env"}, FamilyTag},
		{Scope{TagKey: "env"}, []string{"tag.region"}, FamilyRaw},
		{Scope{Customer: "acme", User: "u1"}, nil, FamilyRaw},
		{Scope{Customer: "acme"}, []string{"tag.env"}, FamilyRaw},
		{Scope{}, []string{"customer", "user"}, FamilyRaw},
	}
	for _, c := range cases {
		if got := FamilyOf(c.scope, c.groups...); got != c.want {
			t.Errorf("FamilyOf(%+v, %v) = %v, want %v", c.scope, c.groups, got, c.want)
		}
	}
	got, ok := CoverFamily(FamilyCustomer, from, to, GrainDay, Horizons{})
	// Whole days from the customer's days, the partial days whole from its
	// recent raw calls.
	want := []Segment{
		{GrainRaw, from, ts("2026-10-06T00:00:00Z"), FamilyCustomer},
		{GrainDay, ts("2026-10-06T00:00:00Z"), ts("2026-10-08T00:00:00Z"), FamilyCustomer},
		{GrainRaw, ts("2026-10-08T00:00:00Z"), to, FamilyCustomer},
	}
	if !ok || len(got) != len(want) {
		t.Fatalf("customer cover: %v %+v", ok, got)
	}
	for i := range want {
		if got[i] != want[i] || got[i].Table() != [...]string{TableCallsByCustomer, TableCallsCustomer1d, TableCallsByCustomer}[i] {
			t.Errorf("segment %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// The customer rollup's own horizon moves its days to raw calls.
	var h Horizons
	h[tableIndex(TableCallsCustomer1d)] = ts("2026-10-07T00:00:00Z")
	// (and the hour rollup's, its hours), so the range before 10-07 is
	// read from raw calls.
	h[tableIndex(TableCallsCustomer1h)] = ts("2026-10-07T00:00:00Z")
	got, _ = CoverFamily(FamilyCustomer, from, to, GrainDay, h)
	if len(got) != 3 || got[0].Grain != GrainRaw || !got[0].To.Equal(ts("2026-10-07T00:00:00Z")) {
		t.Errorf("customer horizon: %+v", got)
	}
	// An hourly series keeps the hour rollup: only a day's edges skip it.
	got, _ = CoverFamily(FamilyCustomer, from, to, GrainHour, Horizons{})
	if len(got) != 3 || got[1].Table() != TableCallsCustomer1h || got[0].Table() != TableCallsByCustomer {
		t.Errorf("customer hours: %+v", got)
	}
	// Past the recent calls' horizon, raw calls are api_calls'.
	h[tableIndex(TableCallsByCustomer)] = ts("2026-10-06T12:00:00Z")
	got, _ = CoverFamily(FamilyCustomer, from, to, GrainDay, h)
	if len(got) != 4 || got[0].Table() != TableCalls || got[0].Family != FamilyRaw || !got[0].To.Equal(ts("2026-10-06T12:00:00Z")) ||
		got[1].Table() != TableCallsByCustomer || !got[1].From.Equal(ts("2026-10-06T12:00:00Z")) || !got[1].To.Equal(ts("2026-10-07T00:00:00Z")) ||
		got[3].Table() != TableCallsByCustomer {
		t.Errorf("recent calls' horizon: %+v", got)
	}
	h[tableIndex(TableCallsByCustomer)] = ts("2026-10-09T00:00:00Z")
	got, _ = CoverFamily(FamilyCustomer, from, to, GrainDay, h)
	if len(got) != 4 || got[0].Table() != TableCalls || got[3].Table() != TableCalls {
		t.Errorf("all raw calls past the recent calls' horizon: %+v", got)
	}
	got, ok = CoverFamily(FamilyRaw, from, to, GrainDay, Horizons{})
	if !ok || len(got) != 1 || got[0].Grain != GrainRaw {
		t.Errorf("raw family: %+v", got)
	}
	h[0] = ts("2026-10-06T00:00:00Z")
	if _, ok := CoverFamily(FamilyRaw, from, to, GrainDay, h); ok {
		t.Error("raw family past the raw retention")
	}
}

// A read of one customer's (or a few customers') range is one read of
// their recent raw calls while those reach back to its start, and the
// rollups once they do not.
func TestCoverMembers(t *testing.T) {
	from, to := ts("2026-10-05T10:30:00Z"), ts("2026-11-04T11:45:00Z")
	got, ok := CoverMembers(FamilyUser, from, to, GrainDay, Horizons{})
	if !ok || len(got) != 1 || got[0] != (Segment{GrainRaw, from, to, FamilyUser}) || got[0].Table() != TableCallsByUser {
		t.Errorf("within the recent calls: %v %+v", ok, got)
	}
	var h Horizons
	h[tableIndex(TableCallsByCustomer)] = ts("2026-10-05T10:30:00.000000001Z")
	got, ok = CoverMembers(FamilyCustomer, from, to, GrainDay, h)
	if !ok || len(got) != 5 || got[3].Table() != TableCallsCustomer1d || got[3].Grain != GrainDay || got[0].Table() != TableCalls {
		t.Errorf("past the recent calls' horizon, the rollups: %v %+v", ok, got)
	}
	if got, _ := CoverMembers(FamilyCalls, from, to, GrainDay, Horizons{}); len(got) != 5 || got[2].Table() != TableCalls1d {
		t.Errorf("a family without recent raw calls: %+v", got)
	}
	if got, ok := CoverMembers(FamilyCustomer, to, to, GrainDay, Horizons{}); !ok || len(got) != 0 {
		t.Errorf("empty range: %+v", got)
	}
}
