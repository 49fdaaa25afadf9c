package openrouter

// Test helpers shared with the OpenAI client's tests: OpenRouter speaks
// the same API.

import (
	"errors"
	"fmt"
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

type openAITestRequest struct {
	Path  string
	Query url.Values
	Auth  string
}

// openAITestServer is a fake provider API that records its requests.
type openAITestServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []openAITestRequest
}

func newOpenAITestServer(t *testing.T, h http.HandlerFunc) *openAITestServer {
	t.Helper()
	s := &openAITestServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, openAITestRequest{Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization")})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *openAITestServer) requests() []openAITestRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func (s *openAITestServer) paths() []string {
	var out []string
	for _, r := range s.requests() {
		p := r.Path
		if pg := r.Query.Get("page"); pg != "" {
			p += "?page=" + pg
		}
		out = append(out, p)
	}
	return out
}

func openAITestJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// openAITestSlow answers only when the client has given up.
func openAITestSlow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func openAITestDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// openAIAssertUsage compares every field of every record, in order.
func openAIAssertUsage(t *testing.T, got, want []provider.Usage) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("usage[%d] missing, want %s", i, openAIFmtUsage(want[i]))
		case i >= len(want):
			t.Errorf("usage[%d] unexpected: %s", i, openAIFmtUsage(got[i]))
		default:
			g, w := got[i], want[i]
			if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Account != w.Account || g.Kind != w.Kind ||
				!g.Value.Equal(w.Value) || g.Value.String() != w.Value.String() || g.Project != w.Project ||
				g.Model != w.Model || g.LineItem != w.LineItem || g.Category != w.Category || g.APIKey != w.APIKey {
				t.Errorf("usage[%d]\n got %s\nwant %s", i, openAIFmtUsage(g), openAIFmtUsage(w))
			}
		}
	}
}

func openAIFmtUsage(u provider.Usage) string {
	return fmt.Sprintf("{%s..%s acct=%q kind=%q value=%s project=%q model=%q line_item=%q category=%q api_key=%q}",
		u.Start.UTC().Format(time.RFC3339), u.End.UTC().Format(time.RFC3339), u.Account, u.Kind, u.Value.String(),
		u.Project, u.Model, u.LineItem, u.Category, u.APIKey)
}

func openAIAssertClass(t *testing.T, err error, class string) {
	t.Helper()
	if got := provider.ClassOf(err); got != class {
		t.Fatalf("class = %q, want %q (err %v)", got, class, err)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("want a *Error, got %T %v", err, err)
	}
}

func openAIAssertNoKey(t *testing.T, s string) {
	t.Helper()
	for _, k := range []string{"TESTSECRET", openRouterTestAPIKey, openRouterTestMgmtKey} {
		if strings.Contains(s, k) {
			t.Fatalf("text leaks a key (%q): %s", k, s)
		}
	}
}
