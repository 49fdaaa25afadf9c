// Package providertest is a local stand-in for the providers' APIs: one
// HTTP server mounting each provider's own stand-in (see its StandIn) at
// /{name}, for one settled day, with faults, delays and request counts on
// demand. Tests of the receivers, the API and the end-to-end suite point
// real clients at it through the base URLs they would otherwise send to the
// providers.
package providertest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/apollo"
	"github.com/nexus-otel/nexus/internal/providers/exa"
	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/providers/twilio"
)

// Day is the settled day every usage payload reports.
var Day = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// Expected figures of Day, as the stand-ins' payloads state them.
const (
	OpenAICostUSD      = openai.StandInCostUSD
	OpenRouterCostUSD  = openrouter.StandInCostUSD
	TwilioCostUSD      = twilio.StandInCostUSD
	ExaCostUSD         = exa.StandInCostUSD
	OpenRouterLimitUSD = openrouter.StandInLimitUSD
)

// Server is the fake provider API. A provider's base URL on it is Base(name):
// URL()+"/"+name plus the path of its public base URL ("/openai/v1"); a
// second API of a provider is under "/"+name+"-"+api ("/exa-admin").
type Server struct {
	*httptest.Server

	mounts map[string]http.Handler // by provider name

	mu       sync.Mutex
	faults   map[string]Fault // by path prefix
	requests map[string]int   // by path
	delay    time.Duration
}

// Fault is what a path answers instead of its payload.
type Fault struct {
	Status int
	Body   string
	Header http.Header
}

// New starts the server; it stops with the test.
func New(tb interface{ Cleanup(func()) }) *Server {
	s := &Server{faults: map[string]Fault{}, requests: map[string]int{}, mounts: map[string]http.Handler{}}
	for _, p := range providers.All {
		s.mounts[p.Name] = p.StandIn("/"+p.Name, Day)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Base is the base URL of provider name on this server: where its public
// base URL's path sits under /{name}.
func (s *Server) Base(name string) string {
	p, ok := providers.Lookup(name)
	if !ok {
		return s.URL + "/" + name
	}
	u, err := url.Parse(p.BaseURL)
	if err != nil {
		return s.URL + "/" + name
	}
	return s.URL + "/" + name + strings.TrimSuffix(u.Path, "/")
}

// Base URLs of each provider on this server, for the tests that name them.
func (s *Server) OpenAI() string     { return s.Base(openai.Name) }
func (s *Server) OpenRouter() string { return s.Base(openrouter.Name) }
func (s *Server) Exa() string        { return s.Base(exa.Name) }
func (s *Server) ExaAdmin() string   { return s.URL + "/" + exa.Name + "-admin" }
func (s *Server) Twilio() string     { return s.Base(twilio.Name) }
func (s *Server) Apollo() string     { return s.Base(apollo.Name) }

// SetDelay makes every answer wait d.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// Fail makes every path under prefix answer f.
func (s *Server) Fail(prefix string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[prefix] = f
}

// Heal removes every fault.
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string]Fault{}
}

// Requests is how many requests paths under prefix received.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.requests {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	delay := s.delay
	var fault *Fault
	for prefix, f := range s.faults {
		if strings.HasPrefix(r.URL.Path, prefix) {
			f := f
			fault = &f
		}
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		for k, v := range fault.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(fault.Status)
		_, _ = w.Write([]byte(fault.Body))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	s.mount(r.URL.Path).ServeHTTP(w, r)
}

// mount returns the stand-in serving path: the provider whose name is its
// first segment, or the part of it before a "-".
func (s *Server) mount(path string) http.Handler {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	name, _, _ := strings.Cut(seg, "-")
	if h, ok := s.mounts[name]; ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"not found"}}`))
	})
}
