package nexusapiextension

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/schema"
)

// Roles, each including the ones before it.
// (apikeys: what a role may do is the keys' business; which role a route
// needs is the API's.)
const (
	roleViewer = apikeys.RoleViewer
	roleEditor = apikeys.RoleEditor
	roleAdmin  = apikeys.RoleAdmin
)

var roleRank = map[string]int{roleViewer: apikeys.Rank(roleViewer), roleEditor: apikeys.Rank(roleEditor), roleAdmin: apikeys.Rank(roleAdmin)}

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	// ctxKey holds the apiKey that authenticated the request.
	ctxAPIKey
)

func requestID(r *http.Request) string {
	if v, ok := r.Context().Value(ctxRequestID).(string); ok {
		return v
	}
	return ""
}

// handlerFunc is an API handler: it writes a success itself, or returns the
// error to answer with.
type handlerFunc func(w http.ResponseWriter, r *http.Request) *APIError

// withRequestID gives every request an id (the caller's X-Request-Id when
// it is sane), echoed in the response, error bodies and logs.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxRequestID, id)))
	})
}

// routeKind says what a route may hold: how long, and which budgets.
type routeKind int

const (
	// routeRead is a GET: bounded by request_timeout and counted in the
	// read budget, since reads are what can be made heavy at will.
	routeRead routeKind = iota
	// routeWrite is bounded by request_timeout but not counted: writes
	// are few, and an admin revoking a key must not queue behind reads.
	routeWrite
	// routeStream is the live stream: open until the client leaves, so no
	// request deadline; bounded by the stream caps instead (streams.go).
	routeStream
)

// route wraps h with authentication (Bearer key of at least role), the
// key's rate limit, the request deadline, the read budget, panic recovery
// and a log line on failure.
func (a *api) route(pattern, role string, h handlerFunc) {
	kind := routeWrite
	if strings.HasPrefix(pattern, "GET ") {
		kind = routeRead
	}
	a.handle(pattern, role, kind, h)
}

func (a *api) handle(pattern, role string, kind routeKind, h handlerFunc) {
	a.registered = append(a.registered, registeredRoute{pattern: pattern, role: role})
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.logger.Error("API handler panicked", zap.String("request_id", requestID(r)), zap.Any("panic", p))
				writeError(w, r, internal())
			}
		}()
		if role != "" {
			k, p, apiErr := a.admit(w, r)
			if apiErr != nil {
				writeError(w, r, apiErr)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p))
			if roleRank[k.Role] < roleRank[role] {
				a.auditDenied(r, p, tenantOfKey(k), "auth.denied", "role "+k.Role+" may not "+pattern+"; it needs "+role)
				writeError(w, r, forbidden("your role ("+k.Role+") may not do this; it needs "+role))
				return
			}
			if wait, ok := allow(a.limiters.get(k.ID), time.Now()); !ok {
				setRetryAfter(w, wait)
				writeError(w, r, tooMany("too many requests for this API key"))
				return
			}
			// The whole key, not only its id: its tenant confines every
			// read and write of the request (tenantOf).
			r = r.WithContext(context.WithValue(r.Context(), ctxAPIKey, k))
		}
		if kind != routeStream {
			// Every store call takes the request's context: none outlives
			// the deadline, and a client that leaves cancels its reads.
			ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if kind == routeRead && role != "" {
			release, apiErr := a.readGate.acquire(r.Context(), keyIDOf(r))
			if apiErr != nil {
				if apiErr.Status == http.StatusTooManyRequests || apiErr.Status == http.StatusServiceUnavailable {
					setRetryAfter(w, time.Second)
				}
				writeError(w, r, apiErr)
				return
			}
			defer release()
		}
		if kind == routeWrite && role != "" && r.Method != http.MethodGet {
			a.audited(w, r, pattern, h)
			return
		}
		a.serve(w, r, h)
	}))
}

// serve runs h, answering its error.
func (a *api) serve(w http.ResponseWriter, r *http.Request, h handlerFunc) {
	if apiErr := h(w, r); apiErr != nil {
		if apiErr.Status >= 500 {
			a.logger.Error("API request failed", zap.String("request_id", requestID(r)), zap.String("path", r.URL.Path))
		}
		writeError(w, r, apiErr)
	}
}

// keyIDOf is the id of the key that authenticated r ("" when none did).
func keyIDOf(r *http.Request) string { return keyOf(r.Context()).ID }

// keyOf is the key that authenticated the request of ctx (the zero key
// when none did).
func keyOf(ctx context.Context) apiKey {
	k, _ := ctx.Value(ctxAPIKey).(apiKey)
	return k
}

// admit authenticates r unless its address has failed too often: such an
// address is refused before its credentials are even looked at, so that a
// guesser cannot tell a right guess from a wrong one while throttled.
// Credentials presented and refused are a security event: audited.
func (a *api) admit(w http.ResponseWriter, r *http.Request) (apiKey, principal, *APIError) {
	addr := clientAddr(r)
	now := time.Now()
	if wait, blocked := a.authFails.blocked(addr, now); blocked {
		setRetryAfter(w, wait)
		return apiKey{}, principal{}, tooMany("too many failed authentications from this address")
	}
	k, p, apiErr := a.authenticate(r)
	if apiErr != nil {
		if apiErr.presented {
			a.authFails.failed(addr, now)
		}
		if apiErr.reason != "" {
			a.auditDenied(r, p, "", "auth.refused", apiErr.reason)
		}
	}
	return k, p, apiErr.orNil()
}

// authError is a refused authentication; presented tells a wrong key (a
// failure that counts against the address) from none at all; reason, for
// the audit trail only, says why.
type authError struct {
	*APIError
	presented bool
	reason    string
}

func (e *authError) orNil() *APIError {
	if e == nil {
		return nil
	}
	return e.APIError
}

// noTenant is the tenant of a request no key authenticated: no tenant
// id can be it (tenants.ValidID), so a read that somehow runs without a
// key finds nothing rather than everything ("" would read every tenant).
const noTenant = "-"

// tenantOf is the tenant of the caller of a request: every read and write
// is confined to it.
func tenantOf(ctx context.Context) string {
	k := keyOf(ctx)
	switch {
	case k.ID == "":
		return noTenant
	case k.Tenant == "":
		// Keys stored before tenants existed.
		return schema.DefaultTenant
	}
	return k.Tenant
}
