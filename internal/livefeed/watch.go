package livefeed

import (
	"sync"
	"sync/atomic"
)

// A Watcher is an in-process consumer (the alert evaluator) that wants to
// hear of the next event of one kind, not of every one. A publisher builds
// an event only while the hub is Active; an armed watcher makes it so
// until the hub hands it one event, which disarms it. A watcher thus costs
// publishers one event per Arm, where a subscription makes them build
// every event for as long as it lasts. Watchers are not subscribers:
// Subscribers does not count them.
type Watcher struct {
	// C receives the event that disarmed the watcher.
	C     <-chan *Event
	c     chan *Event
	kind  string
	hub   *Hub
	armed atomic.Bool
	// mu orders Arm and Close: a watcher armed after it closed would keep
	// the hub active for good.
	mu     sync.Mutex
	closed bool
}

// Watch registers a watcher of the events of kind. It starts disarmed.
func (h *Hub) Watch(kind string) *Watcher {
	c := make(chan *Event, 1)
	w := &Watcher{C: c, c: c, kind: kind, hub: h}
	h.mu.Lock()
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	return w
}

// Arm asks for the next event of the watcher's kind. Arming an armed
// watcher changes nothing.
func (w *Watcher) Arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed && w.armed.CompareAndSwap(false, true) {
		w.hub.armed.Add(1)
	}
}

// Disarm withdraws the request, if it is still open.
func (w *Watcher) Disarm() { w.take() }

// Armed tells whether the watcher waits for an event.
func (w *Watcher) Armed() bool { return w.armed.Load() }

// take disarms the watcher and tells whether it was armed; exactly one of
// concurrent takers wins, so the hub's count stays exact.
func (w *Watcher) take() bool {
	if w.armed.CompareAndSwap(true, false) {
		w.hub.armed.Add(-1)
		return true
	}
	return false
}

// Close stops delivery for good.
func (w *Watcher) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	w.take()
	w.hub.mu.Lock()
	delete(w.hub.watchers, w)
	w.hub.mu.Unlock()
}

// toWatchers hands e to each armed watcher of its kind, disarming it; the
// caller holds h.mu for reading.
func (h *Hub) toWatchers(e *Event) {
	for w := range h.watchers {
		if w.kind != e.Kind || !w.take() {
			continue
		}
		select {
		case w.c <- e:
		default: // the previous event is still unread: it wakes the reader alike
		}
	}
}
