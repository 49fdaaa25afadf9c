package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/nexus-otel/nexus/internal/domainerr"
)

// Claims a provider may send in other shapes than mockoidc's are read
// as meant, and bounded: email_verified as a string, azp of this client,
// several audiences, a huge name, groups of mixed types and too many.
func TestHostileButAcceptedClaims(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, nil)
	many := make([]any, 0, 2*maxGroups)
	for range 2 * maxGroups {
		many = append(many, "engineering")
	}
	cases := []struct {
		name  string
		user  mockoidc.User
		check func(Identity) bool
	}{
		{"email_verified the string TRUE", extra(map[string]any{"email_verified": "TRUE"}), func(id Identity) bool { return id.EmailVerified }},
		{"azp this client", extra(map[string]any{"azp": m.ClientID}), func(id Identity) bool { return id.Roles["acme"] == "viewer" }},
		{"several audiences, this one among them", tampered(func(c *mockoidc.IDTokenClaims) {
			c.Audience = append(c.Audience, "another-client")
		}), func(id Identity) bool { return id.Roles["acme"] == "viewer" }},
		{"huge name", extra(map[string]any{"name": strings.Repeat("é", 100_000)}), func(id Identity) bool {
			return len(id.Name) <= maxName && len(id.Name) >= maxName-1 && utf8.ValidString(id.Name)
		}},
		{"name over preferred_username", extra(map[string]any{"name": "Jane Doe"}), func(id Identity) bool { return id.Name == "Jane Doe" }},
		{"groups of mixed types", extra(map[string]any{"groups": []any{1, "engineering", nil, strings.Repeat("g", maxGroup+1), ""}}), func(id Identity) bool {
			return id.Roles["acme"] == "viewer" && len(id.Groups) == 1 && id.Groups[0] == "engineering"
		}},
		{"groups a single string", extra(map[string]any{"groups": "engineering"}), func(id Identity) bool {
			return id.Roles["acme"] == "viewer" && len(id.Groups) == 1
		}},
		{"too many groups", extra(map[string]any{"groups": many}), func(id Identity) bool { return len(id.Groups) == maxGroups }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pending, state, code := signIn(t, m, p, tc.user)
			id, err := finish(t, p, pending, state, code)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.check(id) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func TestEmailDomain(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, func(c *Config) { c.AllowedEmailDomains = []string{"example.org"} })
	for _, email := range []string{"jane@example.com", "jane@sub.example.org", "jane@example.org.evil.com", "example.org@evil.com"} {
		pending, state, code := signIn(t, m, p, user(email, true, "engineering"))
		_, err := finish(t, p, pending, state, code)
		refused(t, err, ReasonEmailDomain)
	}
	pending, state, code := signIn(t, m, p, user("Jane@Example.ORG", true, "engineering"))
	if id, err := finish(t, p, pending, state, code); err != nil || id.Email != "Jane@Example.ORG" {
		t.Fatalf("allowed domain: %+v, %v", id, err)
	}
}

// The browser drops openid from the scope: the provider answers with no
// ID token, and there is no one to sign in.
func TestMissingIDToken(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, nil)
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Set("scope", "email profile groups")
	u.RawQuery = q.Encode()
	state, code := browse(t, u.String())
	_, err = finish(t, p, pending, state, code)
	refused(t, err, ReasonMissingIDToken)
}

// A token from a second mockoidc: it shares the first's sessions, client
// and (mockoidc's default) key, so the token is genuinely signed and
// for this client, but its issuer is the second server's.
func TestWrongIssuer(t *testing.T) {
	var second *mockoidc.MockOIDC
	first := startMock(t, func(a *mockoidc.MockOIDC) {
		second = startMock(t, func(b *mockoidc.MockOIDC) {
			b.ClientID, b.ClientSecret, b.SessionStore = a.ClientID, a.ClientSecret, a.SessionStore
		})
		_ = a.AddMiddleware(only(mockoidc.TokenEndpoint, second.Token))
	})
	p := newProvider(t, first, nil)
	pending, state, code := signIn(t, first, p, nil)
	_, err := finish(t, p, pending, state, code)
	refused(t, err, ReasonWrongIssuer)
	if first.Issuer() == second.Issuer() {
		t.Fatal("the two servers share an issuer")
	}
}

// The provider signs with its key but publishes another's (a second
// mockoidc's, with a fresh key): no token it issues verifies.
func TestBadSignature(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mockoidc.NewServer(key)
	if err != nil {
		t.Fatal(err)
	}
	m := startMock(t, func(m *mockoidc.MockOIDC) { _ = m.AddMiddleware(only(mockoidc.JWKSEndpoint, other.JWKS)) })
	p := newProvider(t, m, nil)
	// A claimed wrong issuer does not hide the forgery: the signature is
	// checked first.
	for _, u := range []mockoidc.User{nil, tampered(func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://evil.example" })} {
		pending, state, code := signIn(t, m, p, u)
		_, err = finish(t, p, pending, state, code)
		refused(t, err, ReasonBadSignature)
	}
}

// mockoidc's clock an hour behind: the token it issues expired fifty
// minutes ago by ours.
func TestExpiredToken(t *testing.T) {
	m := startMock(t, func(m *mockoidc.MockOIDC) { m.FastForward(-time.Hour) })
	p := newProvider(t, m, nil)
	pending, state, code := signIn(t, m, p, nil)
	_, err := finish(t, p, pending, state, code)
	refused(t, err, ReasonTokenExpired)
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("cause not reachable: %v", err)
	}
}

// Two providers against one server, each with its own client: a code
// issued to one cannot be used by the other (the provider refuses the
// client), and the other cannot even start a sign-in.
func TestOtherClient(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, nil)
	q := newProvider(t, m, func(c *Config) { c.ClientID = "another-client" })
	pending, state, code := signIn(t, m, p, nil)
	_, err := finish(t, q, pending, state, code)
	refused(t, err, ReasonExchangeFailed)

	authURL, _, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("authorize for an unknown client answered %s", resp.Status)
	}
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{}, nil); err == nil {
		t.Fatal("sign-in off, yet a provider")
	}
	bad := validConfig()
	bad.ClientID = ""
	if _, err := New(ctx, bad, nil); !isInvalid(err, "client_id") {
		t.Fatalf("invalid config: %v", err)
	}

	// Discovery at one URL claiming another issuer.
	second := startMock(t, nil)
	m := startMock(t, func(m *mockoidc.MockOIDC) { _ = m.AddMiddleware(only(mockoidc.DiscoveryEndpoint, second.Discovery)) })
	var mismatch *oidc.IssuerMismatchError
	if _, err := New(ctx, configFor(m), nil); !errors.As(err, &mismatch) {
		t.Fatalf("issuer mismatch: %v", err)
	}

	// A discovery document sending the code to plain http elsewhere.
	m = startMock(t, func(m *mockoidc.MockOIDC) {
		_ = m.AddMiddleware(only(mockoidc.DiscoveryEndpoint, func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			m.Discovery(rec, r)
			var doc map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &doc)
			doc["token_endpoint"] = "http://idp.example/token"
			_ = json.NewEncoder(w).Encode(doc)
		}))
	})
	if _, err := New(ctx, configFor(m), nil); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
		t.Fatalf("http token endpoint: %v", err)
	}

	// A document far over any real one.
	m = startMock(t, func(m *mockoidc.MockOIDC) {
		_ = m.AddMiddleware(only(mockoidc.DiscoveryEndpoint, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 2*maxResponse) + `"}`))
		}))
	})
	if _, err := New(ctx, configFor(m), nil); err == nil || !strings.Contains(err.Error(), errTooLarge.Error()) {
		t.Fatalf("oversized discovery: %v", err)
	}
}

func isInvalid(err error, field string) bool {
	inv, ok := domainerr.AsInvalid(err)
	return ok && len(inv.Fields) == 1 && inv.Fields[0].Field == field
}

// hang answers path only when the client gives up (the body is read
// first: only then does the server notice a client that went away).
func hang(path string) func(*mockoidc.MockOIDC) {
	return func(m *mockoidc.MockOIDC) {
		_ = m.AddMiddleware(only(path, func(_ http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}))
	}
}

// A provider that never answers holds neither New (the caller's deadline)
// nor Finish (the client's timeout).
func TestHungProvider(t *testing.T) {
	m := startMock(t, hang(mockoidc.DiscoveryEndpoint))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := New(ctx, configFor(m), nil); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("hung discovery: %v after %v", err, time.Since(start))
	}

	m = startMock(t, hang(mockoidc.TokenEndpoint))
	p, err := New(context.Background(), configFor(m), &http.Client{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pending, state, code := signIn(t, m, p, nil)
	start = time.Now()
	_, err = finish(t, p, pending, state, code)
	refused(t, err, ReasonExchangeFailed)
	if time.Since(start) > 5*time.Second {
		t.Fatalf("hung exchange took %v", time.Since(start))
	}
}

func TestErrorKinds(t *testing.T) {
	err := refuse(ReasonNoRole, errors.New("cause"))
	if !errors.Is(err, ErrNoRole) || !errors.Is(err, ErrSignIn) || !errors.Is(ErrNoRole, ErrSignIn) ||
		errors.Is(refuse(ReasonStateMismatch, nil), ErrNoRole) || err.Detail() != "cause" || err.Error() != "sign-in refused" {
		t.Fatalf("error kinds: %v", err)
	}
}
