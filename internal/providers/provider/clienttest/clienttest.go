// Package clienttest is test support for the provider clients: a fake
// provider API that records every request it is sent, the answers the
// clients' tests write with it, and the checks they make of the usage a
// client reads, the errors it returns and the text it must not leak a key
// into. It is imported by the clients' tests only.
package clienttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Request is what the fake server saw of one request.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	URI    string // path and query, as sent
	Auth   string // the Authorization header
	Body   string
}

// Server is a fake provider API that records its requests.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewServer starts a server answering with h, recording every request
// first; it stops with the test. h can still read the request's body.
func NewServer(t testing.TB, h http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), URI: r.URL.RequestURI(),
			Auth: r.Header.Get("Authorization"), Body: string(body)})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// NewKeyedServer is NewServer for an API that authenticates with one
// header: a request whose header differs from want is a test error. Its
// answers are JSON unless h says otherwise.
func NewKeyedServer(t testing.TB, header, want string, h http.HandlerFunc) *Server {
	t.Helper()
	return NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get(header); got != want {
			t.Errorf("%s: %s = %q, want %q", r.URL.Path, header, got, want)
		}
		w.Header().Set("Content-Type", "application/json")
		h(w, r)
	})
}

// Requests is every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Paths is the path of every request received so far, with its page query
// parameter if it had one.
func (s *Server) Paths() []string {
	var out []string
	for _, r := range s.Requests() {
		p := r.Path
		if pg := r.Query.Get("page"); pg != "" {
			p += "?page=" + pg
		}
		out = append(out, p)
	}
	return out
}

// Seen is every request received so far as one line: method, URI and body.
func (s *Server) Seen() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, strings.TrimSpace(r.Method+" "+r.URI+" "+r.Body))
	}
	return out
}

// JSON answers status with a JSON body.
func JSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Slow answers only when the client has given up.
func Slow(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// Dec is the decimal s states; s must be one.
func Dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// UsageLine renders every field of a Usage; its value as exact text.
func UsageLine(u provider.Usage) string {
	return fmt.Sprintf("%s %s acct=%s kind=%s value=%s project=%s model=%s line=%s cat=%s key=%s",
		u.Start.UTC().Format(time.RFC3339), u.End.UTC().Format(time.RFC3339), u.Account, u.Kind, u.Value.String(),
		u.Project, u.Model, u.LineItem, u.Category, u.APIKey)
}

// AssertUsage compares every field of every record, in order; a value must
// equal the wanted one and be written the same.
func AssertUsage(t testing.TB, got, want []provider.Usage) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("usage[%d] missing, want %s", i, UsageLine(want[i]))
		case i >= len(want):
			t.Errorf("usage[%d] unexpected: %s", i, UsageLine(got[i]))
		default:
			g, w := got[i], want[i]
			if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Account != w.Account || g.Kind != w.Kind ||
				!g.Value.Equal(w.Value) || g.Value.String() != w.Value.String() || g.Project != w.Project ||
				g.Model != w.Model || g.LineItem != w.LineItem || g.Category != w.Category || g.APIKey != w.APIKey {
				t.Errorf("usage[%d]\n got %s\nwant %s", i, UsageLine(g), UsageLine(w))
			}
		}
	}
}

// SameLines fails the test unless got and want are the same lines, in
// order; what names them in the message.
func SameLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// AssertClass stops the test unless err is a *provider.Error of class.
func AssertClass(t testing.TB, err error, class string) {
	t.Helper()
	if got := provider.ClassOf(err); got != class {
		t.Fatalf("class = %q, want %q (err %v)", got, class, err)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("want a *Error, got %T %v", err, err)
	}
}

// AssertNoSecret fails the test if s holds any of secrets.
func AssertNoSecret(t testing.TB, secrets []string, s string) {
	t.Helper()
	for _, k := range secrets {
		if strings.Contains(s, k) {
			t.Errorf("text leaks a secret (%q): %s", k, s)
		}
	}
}
