package nexusapiextension

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Roles, each including the ones before it.
const (
	roleViewer = "viewer"
	roleEditor = "editor"
	roleAdmin  = "admin"
)

var roleRank = map[string]int{roleViewer: 1, roleEditor: 2, roleAdmin: 3}

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxKeyID
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

// limiters hands out one token bucket per API key.
type limiters struct {
	mu    sync.Mutex
	rps   rate.Limit
	burst int
	byKey map[string]*rate.Limiter
}

func (l *limiters) get(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byKey[key]
	if !ok {
		lim = rate.NewLimiter(l.rps, l.burst)
		l.byKey[key] = lim
	}
	return lim
}

// route wraps h with authentication (Bearer key of at least role), the
// key's rate limit, panic recovery and a log line on failure.
func (a *api) route(pattern, role string, h handlerFunc) {
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.logger.Error("API handler panicked", zap.String("request_id", requestID(r)), zap.Any("panic", p))
				writeError(w, r, internal())
			}
		}()
		if role != "" {
			k, err := a.authenticate(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if roleRank[k.Role] < roleRank[role] {
				writeError(w, r, forbidden("this key's role ("+k.Role+") may not do this; it needs "+role))
				return
			}
			lim := a.limiters.get(k.ID)
			if !lim.Allow() {
				wait := lim.Reserve().Delay()
				lim.Reserve().Cancel()
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait.Round(time.Second)/time.Second))))
				writeError(w, r, tooMany())
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), ctxKeyID, k.ID))
		}
		if apiErr := h(w, r); apiErr != nil {
			if apiErr.Status >= 500 {
				a.logger.Error("API request failed", zap.String("request_id", requestID(r)), zap.String("path", r.URL.Path))
			}
			writeError(w, r, apiErr)
		}
	}))
}

// authenticate finds the key of the request's Bearer token.
func (a *api) authenticate(r *http.Request) (apiKey, *APIError) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return apiKey{}, unauthorized("missing API key: send Authorization: Bearer <key>")
	}
	k, found := a.keys.lookup(strings.TrimSpace(token))
	if !found {
		return apiKey{}, unauthorized("invalid or revoked API key")
	}
	return k, nil
}
