package livefeed

import (
	"strconv"
	"testing"
	"time"
)

func TestFanOutFilterAndDrops(t *testing.T) {
	h := NewHub(10)
	if h.Active() {
		t.Fatal("active without subscribers")
	}
	all, _ := h.Subscribe(8, nil, 0)
	openai, _ := h.Subscribe(8, func(e *Event) bool { return e.Labels.Provider == "openai" }, 0)
	slow, _ := h.Subscribe(1, nil, 0)
	if !h.Active() {
		t.Fatal("not active with subscribers")
	}
	for _, p := range []string{"openai", "exa", "openai"} {
		h.Publish(Event{Kind: KindCall, Labels: Labels{Provider: p}, Data: []byte(p)})
	}
	if len(all.C) != 3 || len(openai.C) != 2 {
		t.Fatalf("all got %d, openai got %d", len(all.C), len(openai.C))
	}
	if got := slow.Dropped(); got != 2 {
		t.Fatalf("slow subscriber dropped %d, want 2", got)
	}
	if got := slow.Dropped(); got != 0 {
		t.Fatalf("Dropped does not reset: %d", got)
	}
	all.Close()
	all.Close() // twice is harmless
	openai.Close()
	slow.Close()
	if h.Active() {
		t.Fatal("active after every subscriber closed")
	}
	// Calls carry no id: they are not replayable.
	if id := h.Publish(Event{Kind: KindCall}); id != 0 {
		t.Fatalf("call got id %d", id)
	}
}

func TestAlertReplay(t *testing.T) {
	h := NewHub(3)
	var ids []uint64
	for range 5 {
		ids = append(ids, h.Publish(Event{Kind: KindAlert, Data: []byte("a")}))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	// Resuming after the second: the hub keeps only the last three.
	s, missed := h.Subscribe(4, nil, ids[1])
	defer s.Close()
	if len(missed) != 3 || missed[0].ID != ids[2] || missed[2].ID != ids[4] {
		t.Fatalf("missed %+v, want ids %v", missed, ids[2:])
	}
	// Resuming at the newest: nothing missed.
	s2, missed := h.Subscribe(4, nil, ids[4])
	defer s2.Close()
	if len(missed) != 0 {
		t.Fatalf("missed %d after the newest id", len(missed))
	}
	// A restarted hub's ids are above the old ones (a restart takes more
	// than the millisecond waited here).
	time.Sleep(time.Millisecond)
	if next := NewHub(1).Publish(Event{Kind: KindAlert}); next <= ids[4] {
		t.Fatalf("new hub id %d not above %d", next, ids[4])
	}
}

func TestFrames(t *testing.T) {
	h := NewHub(1)
	s, _ := h.Subscribe(2, nil, 0)
	defer s.Close()
	id := h.Publish(Event{Kind: KindAlert, Data: []byte(`{"a":1}`)})
	h.Publish(Event{Kind: KindCall, Data: []byte(`{"c":2}`)})
	if got, want := string((<-s.C).Frame()), "id: "+strconv.FormatUint(id, 10)+"\nevent: alert\ndata: {\"a\":1}\n\n"; got != want {
		t.Fatalf("alert frame %q, want %q", got, want)
	}
	if got := string((<-s.C).Frame()); got != "event: call\ndata: {\"c\":2}\n\n" {
		t.Fatalf("call frame %q", got)
	}
}

// A watcher makes the hub active only while armed, receives one event per
// Arm, is not a subscriber, and gets call events unencoded unless a
// subscriber takes them too.
func TestWatcherArming(t *testing.T) {
	h := NewHub(1)
	w := h.Watch(KindCall)
	defer w.Close()
	c := &Call{Provider: "openai", Status: "error"}
	h.Publish(CallEvent(c))
	if h.Active() || len(w.C) != 0 {
		t.Fatalf("a disarmed watcher: active %v, received %d", h.Active(), len(w.C))
	}
	w.Arm()
	w.Arm() // twice counts once
	if !h.Active() || h.Subscribers() != 0 || !w.Armed() {
		t.Fatalf("armed: active %v, subscribers %d", h.Active(), h.Subscribers())
	}
	h.Publish(Event{Kind: KindAlert, Data: []byte("a")}) // another kind
	h.Publish(CallEvent(c))
	h.Publish(CallEvent(c)) // after the first: not wanted
	if h.Active() || w.Armed() || len(w.C) != 1 {
		t.Fatalf("after one call: active %v, armed %v, queued %d", h.Active(), w.Armed(), len(w.C))
	}
	if e := <-w.C; e.Call() != c || e.Data != nil || e.Frame() != nil {
		t.Fatalf("watched call: %+v", e)
	}
	// With a subscriber the same event is encoded, once, for both.
	s, _ := h.Subscribe(2, nil, 0)
	w.Arm()
	h.Publish(CallEvent(c))
	if got, want := string((<-s.C).Frame()), "event: call\ndata: {"; len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("subscriber frame %q", got)
	}
	if e := <-w.C; len(e.Data) == 0 || e.Call() != c {
		t.Fatalf("watcher next to a subscriber: %+v", e)
	}
	s.Close()
	w.Arm()
	w.Disarm()
	if h.Active() {
		t.Fatal("active with the watcher disarmed")
	}
	w.Arm()
	w.Close()
	w.Arm() // after Close: nothing
	if h.Active() || w.Armed() {
		t.Fatal("a closed watcher keeps the hub active")
	}
}

func TestSharedFilters(t *testing.T) {
	h := NewHub(10)
	calls := 0
	openai := func(e *Event) bool { calls++; return e.Labels.Provider == "openai" }
	subs := make([]*Subscription, 5)
	for i := range subs {
		buffer := 8
		if i == 4 {
			buffer = 1 // a slow reader in a group loses its own events only
		}
		subs[i], _ = h.SubscribeShared(buffer, "openai", openai, 0)
	}
	exa, _ := h.SubscribeShared(8, "exa", func(e *Event) bool { return e.Labels.Provider == "exa" }, 0)
	subs[1].Close() // from the middle of its group
	for _, p := range []string{"openai", "exa", "openai"} {
		h.Publish(Event{Kind: KindCall, Labels: Labels{Provider: p}, Data: []byte(p)})
	}
	if calls != 3 {
		t.Fatalf("the shared filter ran %d times for 3 events, want 3", calls)
	}
	// Reader 1 left before the events; reader 4 holds one of two.
	for i, want := range []int{2, 0, 2, 2, 1} {
		if len(subs[i].C) != want {
			t.Fatalf("reader %d got %d events, want %d", i, len(subs[i].C), want)
		}
	}
	if len(exa.C) != 1 || subs[4].Dropped() != 1 || subs[0].Dropped() != 0 {
		t.Fatalf("exa got %d; slow reader dropped %d", len(exa.C), subs[4].Dropped())
	}
	for _, s := range append(subs, exa) {
		s.Close()
	}
	if h.Active() || len(h.groups) != 0 {
		t.Fatalf("active %v, %d groups left after every reader closed", h.Active(), len(h.groups))
	}
}
