package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/audit"
)

// Every write through the API leaves exactly one audit entry: who (the
// principal), in which tenant, what (an action named after the route),
// on which resource, the resource before (read through the route's own
// GET, when it has one) and after (the write's answer, else its body),
// with secrets masked (audit.Mask), and the outcome. Handlers that know
// better name the resource and its states themselves (noteAudit).

// auditNote is what a handler says about its write.
type auditNote struct {
	action, resourceType, resourceID string
	before, after                    any
	noted                            bool
}

// noteAudit tells the audit entry of r's write which resource it changed
// and how it looked before and after (nil: unchanged from the default).
func noteAudit(r *http.Request, resourceType, resourceID string, before, after any) {
	n, ok := r.Context().Value(ctxAudit).(*auditNote)
	if !ok {
		return
	}
	n.noted = true
	if resourceType != "" {
		n.resourceType = resourceType
	}
	if resourceID != "" {
		n.resourceID = resourceID
	}
	if before != nil {
		n.before = before
	}
	if after != nil {
		n.after = after
	}
}

// auditAs names r's write action where the route's name would not say it
// (POST /auth/sign-out is a sign-out, not a creation).
func auditAs(r *http.Request, action string) {
	if n, ok := r.Context().Value(ctxAudit).(*auditNote); ok {
		n.action = action
	}
}

// auditAction names a route's write: "budgets.create" for POST on the
// collection, ".replace", ".update", ".delete" for PUT, PATCH, DELETE of
// one, and the verb for an action route ("alerts.events.ack").
func auditAction(pattern string) (action, resourceType string) {
	method, path, _ := strings.Cut(pattern, " ")
	var parts []string
	lastParam := false
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		if strings.HasPrefix(seg, "{") {
			lastParam = true
			continue
		}
		lastParam = false
		parts = append(parts, seg)
	}
	resourceType = strings.Join(parts, ".")
	switch {
	case method == http.MethodPost && !lastParam && len(parts) > 1 && strings.Contains(path, "{"):
		// POST /x/{id}/verb: the verb acts on x.
		return resourceType, strings.Join(parts[:len(parts)-1], ".")
	case method == http.MethodPost:
		return resourceType + ".create", resourceType
	case method == http.MethodPut:
		return resourceType + ".replace", resourceType
	case method == http.MethodPatch:
		return resourceType + ".update", resourceType
	case method == http.MethodDelete:
		return resourceType + ".delete", resourceType
	}
	return resourceType + "." + strings.ToLower(method), resourceType
}

// audited runs the write h and appends its audit entry.
func (a *api) audited(w http.ResponseWriter, r *http.Request, pattern string, h handlerFunc) {
	action, resourceType := auditAction(pattern)
	note := &auditNote{action: action, resourceType: resourceType, resourceID: firstPathValue(r)}
	if note.resourceID != "" {
		// The resource as it was: a PUT, PATCH or DELETE of /x/{id} reads
		// /x/{id}, an action POST /x/{id}/verb reads /x/{id} too.
		note.before = a.currentState(r, r.Method == http.MethodPost)
	}
	body := &boundedBuffer{max: int(a.cfg.MaxBodyBytes)}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(r.Body, body), r.Body}
	rec := &statusRecorder{ResponseWriter: w, body: boundedBuffer{max: 64 << 10}}
	r = r.WithContext(context.WithValue(r.Context(), ctxAudit, note))
	a.serve(rec, r, h)

	outcome := "success"
	switch {
	case rec.status == http.StatusForbidden:
		outcome = "denied"
	case rec.status >= 400:
		outcome = "failure"
	}
	after := note.after
	if after == nil && outcome == "success" {
		if data := responseData(rec.body.Bytes()); data != nil {
			after = data
			if note.resourceID == "" {
				note.resourceID = createdID(data)
			}
		}
	}
	if after == nil && outcome != "success" && body.Len() > 0 {
		// What was asked, for a refused write.
		after = json.RawMessage(body.Bytes())
	}
	tenant := tenantOf(r.Context())
	if installationWrite(pattern, keyOf(r.Context())) {
		tenant = ""
	}
	e := a.auditEntry(r, principalOf(r.Context()), tenant, note.action, outcome, "")
	e.ResourceType, e.ResourceID = note.resourceType, note.resourceID
	e.Before, e.After = audit.Mask(note.before), audit.Mask(after)
	if outcome != "success" {
		e.Detail = http.StatusText(rec.status)
	}
	a.appendAudit(r.Context(), e)
}

// auditDenied records a refused request: credentials refused, or a role
// short of the route's.
func (a *api) auditDenied(r *http.Request, p principal, tenant, action, reason string) {
	if p.ActorType == "" {
		p.ActorType = "anonymous"
	}
	e := a.auditEntry(r, p, tenant, action, "denied", reason)
	e.ResourceType = r.Method + " " + r.URL.Path
	a.appendAudit(r.Context(), e)
}

// auditEvent records a security event that is not a route's write
// (sign-in, sign-out, lock-out).
func (a *api) auditEvent(r *http.Request, p principal, tenant, action, outcome, detail string) {
	a.appendAudit(r.Context(), a.auditEntry(r, p, tenant, action, outcome, detail))
}

func (a *api) auditEntry(r *http.Request, p principal, tenant, action, outcome, detail string) audit.Entry {
	if tenant == noTenant {
		tenant = ""
	}
	return audit.Entry{Tenant: tenant, ActorType: p.ActorType, ActorID: p.ActorID, Via: p.Via, Action: action,
		RequestID: requestID(r), ClientAddr: clientAddr(r), Outcome: outcome, Detail: detail}
}

// appendAudit writes e. The write already happened, so a failure to
// record it cannot undo it: it is logged loudly (without the entry's
// states, which may hold personal data) for the operator to reconcile.
func (a *api) appendAudit(ctx context.Context, e audit.Entry) {
	if a.audit == nil {
		return
	}
	// Not the request's context: a client that hangs up right after its
	// write must not leave it unrecorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
	defer cancel()
	if _, err := a.audit.Append(ctx, e); err != nil {
		a.logger.Error("could not record an audit entry", zap.String("request_id", e.RequestID), zap.String("action", e.Action),
			zap.String("tenant", e.Tenant), zap.String("actor", e.ActorID), zap.Error(err))
	}
}

// installationWrite tells a write about the installation rather than one
// tenant: tenants, the credentials' key, and people as an installation
// admin manages them. Their entries go to the installation's trail ("").
func installationWrite(pattern string, k apiKey) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return strings.HasPrefix(path, "/api/v1/tenants") || strings.HasPrefix(path, "/api/v1/credentials/") ||
		(strings.HasPrefix(path, "/api/v1/users") && k.InstallationAdmin)
}

// currentState reads the resource r is about to change through the
// route's own GET (parent: the GET of the path without its last segment,
// for an action route), as the caller would see it; nil when there is none.
func (a *api) currentState(r *http.Request, parent bool) any {
	get := r.Clone(r.Context())
	get.Method, get.Body, get.ContentLength = http.MethodGet, http.NoBody, 0
	if parent {
		u := *get.URL
		u.Path = u.Path[:max(strings.LastIndex(u.Path, "/"), 0)]
		u.RawPath = ""
		get.URL = &u
	}
	if _, pattern := a.mux.Handler(get); pattern == "" || !strings.HasPrefix(pattern, "GET ") || strings.HasSuffix(pattern, "/api/") {
		return nil
	}
	rec := httptest.NewRecorder()
	a.mux.ServeHTTP(rec, get)
	if rec.Code != http.StatusOK {
		return nil
	}
	return responseData(rec.Body.Bytes())
}

// responseData is the data member of an API answer.
func responseData(body []byte) json.RawMessage {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	return env.Data
}

// createdID is the id of a created resource's answer.
func createdID(data json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(data, &v)
	return v.ID
}

func firstPathValue(r *http.Request) string {
	for _, name := range []string{"id", "name"} {
		if v := r.PathValue(name); v != "" {
			return v
		}
	}
	return ""
}

// statusRecorder keeps a response's status and the start of its body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   boundedBuffer
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_, _ = s.body.Write(p)
	return s.ResponseWriter.Write(p)
}

// boundedBuffer keeps the first max bytes written to it and drops the
// rest (an answer too large to audit whole is audited as "truncated").
type boundedBuffer struct {
	bytes.Buffer
	max       int
	truncated bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

func (b *boundedBuffer) Bytes() []byte {
	if b.truncated {
		return nil
	}
	return b.Buffer.Bytes()
}
