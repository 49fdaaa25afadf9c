// Package livefeed carries what Nexus sees as it happens — priced calls,
// alert events — from the components that produce it to live readers (the
// API's Server-Sent Events stream) in the same process.
//
// Publishing never blocks: a reader that falls behind loses call summaries
// (they are a view; the store has every call) and is told how many. Alert
// events are kept in a bounded replay buffer, so that a reader that
// reconnects with the id of the last event it saw gets the ones it missed.
package livefeed

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Kinds of events.
const (
	KindCall  = "call"
	KindAlert = "alert"
	// KindBudget is a call the proxy refused under a blocking budget or
	// let pass under a warning one.
	KindBudget = "budget"
)

// Labels are the dimensions readers filter on.
type Labels struct {
	// Tenant is whose event it is ("" for none in particular).
	Tenant                                           string
	Provider, Model, Operation, Service, Environment string
	Customer, User, Team, Feature                    string
}

// Event is one published thing. Data is its JSON, encoded once by the
// publisher however many readers there are.
type Event struct {
	// ID orders events; only replayable (alert) events carry one.
	ID     uint64
	Kind   string
	Labels Labels
	// Data is nil for a call event (CallEvent) that reached watchers
	// only: it is encoded at publish when a subscriber takes it.
	Data []byte

	call  *Call  // a call event's call, encoded into Data on demand
	frame []byte // the SSE frame, rendered once at publish for every reader
}

// Call is the call of an event made by CallEvent, nil for other events.
// Nobody may modify it.
func (e *Event) Call() *Call { return e.call }

// Frame is the event as a Server-Sent Events frame. Alert events carry
// their id, so that a reconnecting client can resume after it; call
// summaries do not (they are not replayed).
func (e *Event) Frame() []byte { return e.frame }

func (e *Event) render() {
	if e.Data == nil && e.call != nil {
		e.Data, _ = json.Marshal(e.call) // a struct of strings and numbers always encodes
	}
	b := make([]byte, 0, len(e.Data)+len(e.Kind)+48)
	if e.ID != 0 {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, e.ID, 10)
		b = append(b, '\n')
	}
	b = append(b, "event: "...)
	b = append(b, e.Kind...)
	b = append(b, "\ndata: "...)
	b = append(b, e.Data...) // JSON from encoding/json has no raw newlines
	e.frame = append(b, "\n\n"...)
}

// Hub fans events out to subscribers.
type Hub struct {
	mu sync.RWMutex
	// groups holds the subscribers by filter: readers that share a key
	// (SubscribeShared) are matched once per event, not once each, which
	// with thousands of streams on the same filter is most of a publish.
	groups map[any]*group
	active atomic.Int64
	// watchers are in-process consumers (watch.go); armed counts those
	// that want events now.
	watchers map[*Watcher]struct{}
	armed    atomic.Int64

	// Alert ids are the publish time in microseconds (or the last id + 1
	// when that is not larger), so that they keep increasing across
	// restarts and an old Last-Event-ID never hides new events.
	seq    uint64
	replay []*Event // the last alert events, oldest first
	keep   int
}

// NewHub returns a hub keeping the last replay alert events for resume.
func NewHub(replay int) *Hub {
	return &Hub{groups: map[any]*group{}, watchers: map[*Watcher]struct{}{}, keep: replay}
}

// Subscribers is how many readers are subscribed (watchers are not
// readers: they are not counted).
func (h *Hub) Subscribers() int { return int(h.active.Load()) }

// Active reports whether anyone wants events now, a subscriber or an armed
// watcher: publishers skip building events nobody would read.
func (h *Hub) Active() bool { return h.active.Load() > 0 || h.armed.Load() > 0 }

// Publish sends e to every matching subscriber and armed watcher without
// waiting. Alert events get the next id and are kept for replay; the id
// is returned. A call event is encoded only when a subscriber takes it.
// Readers share the one event: nobody may modify it.
func (h *Hub) Publish(ev Event) uint64 {
	e := &ev
	if e.Kind == KindAlert {
		h.mu.Lock()
		h.seq = max(h.seq+1, uint64(time.Now().UnixMicro()))
		e.ID = h.seq
		h.replay = append(h.replay, e)
		if len(h.replay) > h.keep {
			h.replay = h.replay[len(h.replay)-h.keep:]
		}
		e.render()
		h.mu.Unlock()
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if e.frame == nil && len(h.groups) > 0 {
		// Under the lock: a subscriber that arrives meanwhile still gets a
		// rendered event, and with nobody but watchers, nothing is encoded.
		e.render()
	}
	if h.armed.Load() > 0 {
		h.toWatchers(e)
	}
	for _, g := range h.groups {
		if g.match != nil && !g.match(e) {
			continue
		}
		// Each publish starts the group at another reader, so that none
		// is always served last.
		n := len(g.subs)
		first := int(g.next.Add(1) % uint64(n))
		for i := range n {
			s := g.subs[(first+i)%n]
			select {
			case s.c <- e:
			default:
				s.dropped.Add(1)
			}
		}
	}
	return e.ID
}

// group is the subscribers of one filter.
type group struct {
	match func(*Event) bool
	subs  []*Subscription
	next  atomic.Uint64 // publishes under the read lock are concurrent
}

// Subscription receives events on C until closed.
type Subscription struct {
	C       <-chan *Event
	c       chan *Event
	key     any // of its group in the hub
	idx     int // in its group's subs
	dropped atomic.Uint64
	hub     *Hub
	once    sync.Once
}

// Dropped returns and resets the number of events lost because the
// subscriber was not reading fast enough.
func (s *Subscription) Dropped() uint64 { return s.dropped.Swap(0) }

// Close stops delivery.
func (s *Subscription) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		g := h.groups[s.key]
		last := len(g.subs) - 1
		g.subs[s.idx], g.subs[last].idx = g.subs[last], s.idx
		g.subs[last] = nil
		g.subs = g.subs[:last]
		if last == 0 {
			delete(h.groups, s.key)
		}
		h.mu.Unlock()
		s.hub.active.Add(-1)
	})
}

// Subscribe registers a reader of the events match accepts (nil: all),
// buffering up to buffer of them. With after > 0 it also returns the kept
// alert events whose id is above after, oldest first, which the reader
// sends before anything from C (an event may then arrive twice; readers
// skip ids they have sent).
func (h *Hub) Subscribe(buffer int, match func(*Event) bool, after uint64) (*Subscription, []*Event) {
	return h.SubscribeShared(buffer, nil, match, after)
}

// SubscribeShared is Subscribe for a reader whose filter is key: readers
// with equal keys (==) are matched once per event, with the match of the
// first of them, so their match funcs must accept the same events (make
// match a function of key alone). A nil key shares with nobody. key must
// be comparable.
func (h *Hub) SubscribeShared(buffer int, key any, match func(*Event) bool, after uint64) (*Subscription, []*Event) {
	c := make(chan *Event, buffer)
	s := &Subscription{C: c, c: c, hub: h}
	if key == nil {
		key = s
	}
	s.key = key
	h.mu.Lock()
	g := h.groups[key]
	if g == nil {
		g = &group{match: match}
		h.groups[key] = g
	}
	s.idx = len(g.subs)
	g.subs = append(g.subs, s)
	var missed []*Event
	if after > 0 {
		for _, e := range h.replay {
			if e.ID > after && (match == nil || match(e)) {
				missed = append(missed, e)
			}
		}
	}
	h.mu.Unlock()
	h.active.Add(1)
	return s, missed
}

// Source is implemented by the component that owns a hub (the nexusapi
// extension); producers find it by id.
type Source interface {
	component.Component
	Feed() *Hub
}

// ErrNotSource is returned when the referenced extension carries no feed.
var ErrNotSource = errors.New("extension has no live feed (use a nexusapi extension)")

// FromHost returns the hub of the extension id.
func FromHost(host component.Host, id component.ID) (*Hub, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("live feed extension %q not found: add it under extensions: and service.extensions", id)
	}
	src, ok := ext.(Source)
	if !ok {
		return nil, fmt.Errorf("%q: %w", id, ErrNotSource)
	}
	return src.Feed(), nil
}
