package costprocessor

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// The collector builds one processor per pipeline and signal. A cost
// instance in a traces and a logs pipeline would then keep two anomaly
// baselines, each learning from half the calls. The otlp receiver solves the
// same problem with core's sharedcomponent, which is internal to the core
// module (as contrib's copy is to contrib) and cannot be imported here; this
// is the small keyed map such components carry themselves.
//
// Unlike core's, it counts references: the state lives while any of its
// processors does, so shutting one pipeline's processor down leaves the
// others scoring against the same baselines.

// stateKey names one cost instance: its component ID, and the config the
// collector gives every pipeline of that ID. The config pointer keeps a
// reload (a new config object) or an unrelated test that reuses the ID from
// inheriting a state built from another config.
type stateKey struct {
	id  component.ID
	cfg *Config
}

type sharedState struct {
	*state
	refs int
}

// stateMap holds the state of every cost instance with a processor that is
// not shut down.
type stateMap struct {
	mu     sync.Mutex
	states map[stateKey]*sharedState
}

var states = &stateMap{states: map[stateKey]*sharedState{}}

// acquire returns the state of key, creating it when no processor holds
// it, and a release for the processor that will use it: the last release
// forgets the state. A release runs once however often it is called
// (Shutdown may come twice; it must be safe without Start).
func (m *stateMap) acquire(key stateKey, create func() (*state, error)) (*state, component.ShutdownFunc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.states[key]
	if !ok {
		s, err := create()
		if err != nil {
			return nil, nil, err
		}
		e = &sharedState{state: s}
		m.states[key] = e
	}
	e.refs++
	var once sync.Once
	release := func(context.Context) error {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			// The last processor stops the state's price refresh and
			// sync (the live feed belongs to its extension).
			if e.refs--; e.refs == 0 {
				delete(m.states, key)
				e.prices.shutdown()
			}
		})
		return nil
	}
	return e.state, release, nil
}
