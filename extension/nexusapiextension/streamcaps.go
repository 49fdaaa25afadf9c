package nexusapiextension

import (
	"context"
	"strconv"
	"sync"
)

// streamRegistry knows the open live streams: so that their number is
// bounded per key and in total (each holds a connection, a goroutine and
// a buffer for as long as the client likes), and so that the streams of a
// key that is revoked can be ended rather than run on for ever.
type streamRegistry struct {
	mu        sync.Mutex
	maxPerKey int
	maxTotal  int
	byKey     map[string]map[*liveStream]struct{}
	total     int
}

// liveStream is one registered stream; cancel ends it.
type liveStream struct {
	key    string
	cancel context.CancelFunc
}

func newStreamRegistry(cfg StreamConfig) *streamRegistry {
	return &streamRegistry{maxPerKey: cfg.MaxPerKey, maxTotal: cfg.MaxTotal, byKey: map[string]map[*liveStream]struct{}{}}
}

// open registers a stream of key ended by cancel, or refuses it (429)
// when the key or the collector has as many as allowed.
func (s *streamRegistry) open(key string, cancel context.CancelFunc) (*liveStream, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.maxTotal {
		return nil, tooMany("this collector already serves " + strconv.Itoa(s.maxTotal) + " live streams (stream.max_total)")
	}
	if len(s.byKey[key]) >= s.maxPerKey {
		return nil, tooMany("this API key already has " + strconv.Itoa(s.maxPerKey) + " live streams open (stream.max_per_key); close one first")
	}
	o := &liveStream{key: key, cancel: cancel}
	if s.byKey[key] == nil {
		s.byKey[key] = map[*liveStream]struct{}{}
	}
	s.byKey[key][o] = struct{}{}
	s.total++
	return o, nil
}

// close unregisters o; closing twice is harmless.
func (s *streamRegistry) close(o *liveStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.byKey[o.key]
	if _, ok := set[o]; !ok {
		return
	}
	delete(set, o)
	if len(set) == 0 {
		delete(s.byKey, o.key)
	}
	s.total--
}

// closeUnless ends the streams of every key that usable refuses, and
// returns how many. They unregister themselves as their handlers return.
func (s *streamRegistry) closeUnless(usable func(key string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key, set := range s.byKey {
		if usable(key) {
			continue
		}
		for o := range set {
			o.cancel()
			n++
		}
	}
	return n
}

// count is how many streams are open, of key ("" for all).
func (s *streamRegistry) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == "" {
		return s.total
	}
	return len(s.byKey[key])
}
