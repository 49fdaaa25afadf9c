package nexusapiextension

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/ingestkeys"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// auditedWrite is a valid write and what its one audit entry must say.
type auditedWrite struct {
	c            caller
	method, path string
	body         any
	// tenant, action, resourceType and resourceID of the entry; resourceID
	// "" is the answer's data id.
	tenant, action, resourceType, resourceID string
	// get reads the state before the write ("" none); beforeField must
	// hold its value in the entry's before, afterField the answer's in
	// its after.
	get, beforeField, afterField string
	// absent must appear nowhere in the entry: secrets sent; secretField
	// is a field of the answer whose (secret) value must not either.
	absent      []string
	secretField string
}

// entriesOf are the audit entries of request id, every tenant's, read
// with the installation admin's key; since bounds the read.
func (w *peopleWorld) entriesOf(requestID string, since time.Time) []audit.Entry {
	w.t.Helper()
	var out []audit.Entry
	cursor := ""
	for page := 0; ; page++ {
		q := url.Values{"from": {since.UTC().Format(time.RFC3339Nano)}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		p := dataOf[auditPage](w.t, w.must(200, w.root, "GET", "/api/v1/audit?"+q.Encode(), nil))
		for _, e := range p.Entries {
			if e.RequestID == requestID {
				out = append(out, e)
			}
		}
		if cursor = p.NextCursor; cursor == "" || page > 100 {
			return out
		}
	}
}

// entryOf waits for request id's entry (the answer may reach the client
// a moment before its entry is stored) and checks it is the only one.
func (w *peopleWorld) entryOf(what, requestID string, since time.Time) (audit.Entry, bool) {
	w.t.Helper()
	var got []audit.Entry
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got = w.entriesOf(requestID, since); len(got) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != 1 {
		w.t.Errorf("%s: want exactly one audit entry for request %s, got %d: %+v", what, requestID, len(got), got)
		return audit.Entry{}, false
	}
	return got[0], true
}

// sendTraced sends a request with a request id of its own, checks the
// answer echoes it, and returns the answer and when it was sent.
func (w *peopleWorld) sendTraced(c caller, method, path string, body any) (answer, time.Time) {
	w.t.Helper()
	since := time.Now().Add(-2 * time.Second)
	id := w.unique("people-audit")
	a := w.ta.call(c, method, path, body, "X-Request-Id", id)
	if a.requestID != id {
		w.t.Errorf("%s %s: X-Request-Id %q, sent %q", method, path, a.requestID, id)
	}
	return a, since
}

// field is a top-level field of a JSON object, compacted ("" absent).
func field(raw json.RawMessage, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m[name] == nil {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, m[name]) != nil {
		return ""
	}
	return b.String()
}

// auditedWrites is a valid write of every write route, by pattern.
func (w *peopleWorld) auditedWrites() map[string]func() auditedWrite {
	def := schema.DefaultTenant
	admin, editor := w.admin[def], w.byName("key default/editor")
	adminSession, editorSession := w.byName("session default/admin"), w.byName("session default/editor")
	fresh := func(kind string) string { return w.make(kind, def) }
	return map[string]func() auditedWrite{
		"POST /api/v1/keys": func() auditedWrite {
			return auditedWrite{c: w.root, method: "POST", path: "/api/v1/keys", body: map[string]string{"name": w.unique("key"), "role": roleViewer},
				tenant: def, action: "keys.create", resourceType: "keys", afterField: "name", secretField: "key"}
		},
		"DELETE /api/v1/keys/{id}": func() auditedWrite {
			id := fresh("key")
			return auditedWrite{c: w.root, method: "DELETE", path: "/api/v1/keys/" + id, tenant: def, action: "keys.delete",
				resourceType: "keys", resourceID: id, afterField: "revokedAt"}
		},
		// Tenants and the key-encryption key are the installation's: their
		// entries belong in its trail (tenant ""), not in the trail of the
		// installation admin key's tenant, whose own admins read it.
		"POST /api/v1/tenants": func() auditedWrite {
			id := w.unique("t")
			return auditedWrite{c: w.root, method: "POST", path: "/api/v1/tenants", body: map[string]string{"id": id, "name": w.unique("Tenant")},
				action: "tenants.create", resourceType: "tenants", resourceID: id, afterField: "name"}
		},
		"PATCH /api/v1/tenants/{id}": func() auditedWrite {
			id := w.make("tenant", def)
			return auditedWrite{c: w.root, method: "PATCH", path: "/api/v1/tenants/" + id, body: map[string]string{"name": w.unique("Renamed")},
				action: "tenants.update", resourceType: "tenants", resourceID: id, get: "/api/v1/tenants/" + id, beforeField: "name", afterField: "name"}
		},
		"DELETE /api/v1/tenants/{id}": func() auditedWrite {
			id := w.make("tenant", def)
			return auditedWrite{c: w.root, method: "DELETE", path: "/api/v1/tenants/" + id, action: "tenants.delete", resourceType: "tenants",
				resourceID: id, get: "/api/v1/tenants/" + id, beforeField: "name"}
		},
		"POST /api/v1/ingest-keys": func() auditedWrite {
			return auditedWrite{c: admin, method: "POST", path: "/api/v1/ingest-keys", body: map[string]string{"name": w.unique("ingest")},
				tenant: def, action: "ingest-keys.create", resourceType: "ingest-keys", afterField: "name", secretField: "key"}
		},
		"DELETE /api/v1/ingest-keys/{id}": func() auditedWrite {
			id := fresh("ingest-key")
			return auditedWrite{c: admin, method: "DELETE", path: "/api/v1/ingest-keys/" + id, tenant: def, action: "ingest-keys.delete",
				resourceType: "ingest-keys", resourceID: id, afterField: "revokedAt"}
		},
		"POST /api/v1/auth/sign-out": func() auditedWrite {
			p := w.person(def, roleEditor)
			return auditedWrite{c: p, method: "POST", path: "/api/v1/auth/sign-out", tenant: def, action: "auth.sign_out",
				resourceType: "auth.sessions", resourceID: w.sessionIDs(p)[0]}
		},
		"POST /api/v1/auth/sign-out-everywhere": func() auditedWrite {
			p := w.person(def, roleViewer)
			return auditedWrite{c: p, method: "POST", path: "/api/v1/auth/sign-out-everywhere", tenant: def, action: "auth.sign_out_everywhere",
				resourceType: "auth.sessions", resourceID: p.actorID, afterField: "revoked"}
		},
		"DELETE /api/v1/auth/sessions/{id}": func() auditedWrite {
			// The person ends their other session, from this one.
			p := w.person(def, roleViewer)
			mine := w.sessionIDs(p)[0]
			w.signIn(p.email, p.password)
			var id string
			for _, s := range w.sessionIDs(p) {
				if s != mine {
					id = s
				}
			}
			return auditedWrite{c: p, method: "DELETE", path: "/api/v1/auth/sessions/" + id, tenant: def, action: "auth.session_revoke",
				resourceType: "auth.sessions", resourceID: id}
		},
		"POST /api/v1/users": func() auditedWrite {
			pw := "a secret passphrase " + w.unique("pw")
			return auditedWrite{c: admin, method: "POST", path: "/api/v1/users", body: map[string]any{"email": w.unique("u") + "@example.com",
				"name": w.unique("User"), "password": pw, "roles": map[string]string{def: roleViewer}},
				tenant: def, action: "users.create", resourceType: "users", afterField: "email", absent: []string{pw}}
		},
		"PATCH /api/v1/users/{id}": func() auditedWrite {
			id, pw := fresh("user"), "another secret passphrase "+w.unique("pw")
			// An installation admin managing people writes to the
			// installation's trail.
			return auditedWrite{c: w.root, method: "PATCH", path: "/api/v1/users/" + id, body: map[string]string{"name": w.unique("Renamed"), "password": pw},
				tenant: "", action: "users.update", resourceType: "users", resourceID: id, get: "/api/v1/users/" + id,
				beforeField: "name", afterField: "name", absent: []string{pw}}
		},
		"POST /api/v1/users/{id}/deactivate": func() auditedWrite {
			id := fresh("user")
			return auditedWrite{c: admin, method: "POST", path: "/api/v1/users/" + id + "/deactivate", tenant: def, action: "users.deactivate",
				resourceType: "users", resourceID: id, get: "/api/v1/users/" + id, beforeField: "active", afterField: "active"}
		},
		"PUT /api/v1/providers/{name}/credentials": func() auditedWrite {
			old, secret := "sk-or-old-"+w.unique("secret"), "sk-or-new-"+w.unique("secret")
			w.must(200, admin, "PUT", "/api/v1/providers/openrouter/credentials", map[string]string{"management_key": old})
			return auditedWrite{c: admin, method: "PUT", path: "/api/v1/providers/openrouter/credentials", body: map[string]string{"management_key": secret},
				tenant: def, action: "providers.credentials.replace", resourceType: "providers.credentials", resourceID: "openrouter",
				get: "/api/v1/providers/openrouter/credentials", beforeField: "fingerprint", afterField: "fingerprint", absent: []string{old, secret}}
		},
		"DELETE /api/v1/providers/{name}/credentials": func() auditedWrite {
			secret := "apollo-" + w.unique("secret")
			w.must(200, admin, "PUT", "/api/v1/providers/apollo/credentials", map[string]string{"api_key": secret})
			return auditedWrite{c: admin, method: "DELETE", path: "/api/v1/providers/apollo/credentials", tenant: def,
				action: "providers.credentials.delete", resourceType: "providers.credentials", resourceID: "apollo",
				get: "/api/v1/providers/apollo/credentials", beforeField: "fingerprint", absent: []string{secret}}
		},
		"POST /api/v1/credentials/rotate": func() auditedWrite {
			return auditedWrite{c: w.root, method: "POST", path: "/api/v1/credentials/rotate", action: "credentials.rotate",
				resourceType: "credentials", resourceID: "-", afterField: "resealed"}
		},
		"DELETE /api/v1/personal-data": func() auditedWrite {
			return auditedWrite{c: admin, method: "DELETE", path: "/api/v1/personal-data?user=u1", tenant: def, action: "personal-data.delete",
				resourceType: "personal-data", resourceID: "-"}
		},
		"POST /api/v1/prices": func() auditedWrite {
			return auditedWrite{c: editor, method: "POST", path: "/api/v1/prices", body: map[string]any{"provider": "openai", "model": "audit-model",
				"effective": "2031-01-01", "prices": map[string]string{"input_tokens": "1", "output_tokens": "2"}}, tenant: def, action: "prices.create",
				resourceType: "prices", resourceID: "openai/audit-model@2031-01-01", afterField: "version"}
		},
		"POST /api/v1/prices/reprice": func() auditedWrite {
			now := time.Now().UTC()
			return auditedWrite{c: editorSession, method: "POST", path: "/api/v1/prices/reprice", body: map[string]string{
				"from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}, tenant: def, action: "prices.reprice",
				resourceType: "prices", resourceID: "-", afterField: "pricingVersion"}
		},
		"POST /api/v1/budgets": func() auditedWrite {
			return auditedWrite{c: editor, method: "POST", path: "/api/v1/budgets", body: w.budgetBody(), tenant: def, action: "budgets.create",
				resourceType: "budgets", afterField: "name"}
		},
		"PUT /api/v1/budgets/{id}": func() auditedWrite {
			id := fresh("budget")
			return auditedWrite{c: editorSession, method: "PUT", path: "/api/v1/budgets/" + id, body: w.budgetBody(), tenant: def,
				action: "budgets.replace", resourceType: "budgets", resourceID: id, get: "/api/v1/budgets/" + id, beforeField: "name", afterField: "name"}
		},
		"PATCH /api/v1/budgets/{id}": func() auditedWrite {
			id := fresh("budget")
			return auditedWrite{c: editor, method: "PATCH", path: "/api/v1/budgets/" + id, body: map[string]string{"amountUsd": "250"}, tenant: def,
				action: "budgets.update", resourceType: "budgets", resourceID: id, get: "/api/v1/budgets/" + id, beforeField: "amountUsd", afterField: "amountUsd"}
		},
		"DELETE /api/v1/budgets/{id}": func() auditedWrite {
			id := fresh("budget")
			return auditedWrite{c: editor, method: "DELETE", path: "/api/v1/budgets/" + id, tenant: def, action: "budgets.delete",
				resourceType: "budgets", resourceID: id, get: "/api/v1/budgets/" + id, beforeField: "name"}
		},
		"POST /api/v1/providers/{name}/test": func() auditedWrite {
			return auditedWrite{c: editor, method: "POST", path: "/api/v1/providers/openai/test", tenant: def, action: "providers.test",
				resourceType: "providers", resourceID: "openai", afterField: "up", absent: []string{secretOpenAI}}
		},
		"POST /api/v1/alerts/rules": func() auditedWrite {
			return auditedWrite{c: editor, method: "POST", path: "/api/v1/alerts/rules", body: w.ruleBody(), tenant: def, action: "alerts.rules.create",
				resourceType: "alerts.rules", afterField: "name"}
		},
		"PUT /api/v1/alerts/rules/{id}": func() auditedWrite {
			id, body := fresh("rule"), w.ruleBody()
			body["threshold"] = "9"
			return auditedWrite{c: editor, method: "PUT", path: "/api/v1/alerts/rules/" + id, body: body, tenant: def, action: "alerts.rules.replace",
				resourceType: "alerts.rules", resourceID: id, get: "/api/v1/alerts/rules/" + id, beforeField: "threshold", afterField: "threshold"}
		},
		"PATCH /api/v1/alerts/rules/{id}": func() auditedWrite {
			id := fresh("rule")
			return auditedWrite{c: adminSession, method: "PATCH", path: "/api/v1/alerts/rules/" + id, body: map[string]string{"threshold": "7"},
				tenant: def, action: "alerts.rules.update", resourceType: "alerts.rules", resourceID: id, get: "/api/v1/alerts/rules/" + id,
				beforeField: "threshold", afterField: "threshold"}
		},
		"DELETE /api/v1/alerts/rules/{id}": func() auditedWrite {
			id := fresh("rule")
			return auditedWrite{c: editor, method: "DELETE", path: "/api/v1/alerts/rules/" + id, tenant: def, action: "alerts.rules.delete",
				resourceType: "alerts.rules", resourceID: id, get: "/api/v1/alerts/rules/" + id, beforeField: "name"}
		},
		// An action on a resource: its state before is the resource's own
		// GET, as for an edit.
		"POST /api/v1/alerts/events/{id}/ack": func() auditedWrite {
			id := fresh("event")
			return auditedWrite{c: editor, method: "POST", path: "/api/v1/alerts/events/" + id + "/ack", tenant: def, action: "alerts.events.ack",
				resourceType: "alerts.events", resourceID: id, get: "/api/v1/alerts/events/" + id, beforeField: "ackedAt", afterField: "ackedAt"}
		},
	}
}

// byName is the world's caller named name.
func (w *peopleWorld) byName(name string) caller {
	w.t.Helper()
	for _, c := range w.callers {
		if c.name == name {
			return c
		}
	}
	w.t.Fatalf("no caller %q", name)
	return caller{}
}

// check performs wr and checks its one audit entry.
func (w *peopleWorld) check(pattern string, wr auditedWrite) {
	t := w.t
	t.Helper()
	var before json.RawMessage
	if wr.get != "" {
		before = w.must(200, w.root, "GET", wr.get, nil).env.Data
		if wr.c.tenant != w.root.tenant {
			t.Fatalf("%s: the state before is read as the installation admin, of another tenant than %s", pattern, wr.c.name)
		}
	}
	a, since := w.sendTraced(wr.c, wr.method, wr.path, wr.body)
	if a.status < 200 || a.status > 299 {
		t.Errorf("%s as %s: the write failed: %s", pattern, wr.c.name, a)
		return
	}
	e, ok := w.entryOf(pattern, a.requestID, since)
	if !ok {
		return
	}
	whole, _ := json.Marshal(e)
	bad := func(format string, args ...any) {
		t.Errorf("%s as %s: %s\nentry: %s", pattern, wr.c.name, fmt.Sprintf(format, args...), whole)
	}
	if e.ActorType != wr.c.actorType || e.ActorID != wr.c.actorID || e.Via != wr.c.via {
		bad("actor %s/%s via %s, want %s/%s via %s", e.ActorType, e.ActorID, e.Via, wr.c.actorType, wr.c.actorID, wr.c.via)
	}
	if e.Tenant != wr.tenant || e.Action != wr.action || e.ResourceType != wr.resourceType || e.Outcome != audit.OutcomeSuccess {
		bad("tenant %q action %q resource type %q outcome %q, want %q %q %q success", e.Tenant, e.Action, e.ResourceType, e.Outcome,
			wr.tenant, wr.action, wr.resourceType)
	}
	rid := wr.resourceID
	switch rid {
	case "":
		rid = field(a.env.Data, "id")
		rid = strings.Trim(rid, `"`)
	case "-":
		rid = ""
	}
	if e.ResourceID != rid {
		bad("resource id %q, want %q", e.ResourceID, rid)
	}
	if e.ClientAddr == "" || e.Hash == "" || e.Seq == 0 || e.At.IsZero() {
		bad("no client address, hash, seq or time")
	}
	if wr.beforeField != "" {
		if got, want := field(e.Before, wr.beforeField), field(before, wr.beforeField); got != want || want == "" {
			bad("before.%s %s, want %s", wr.beforeField, got, want)
		}
	}
	if wr.afterField != "" {
		if got, want := field(e.After, wr.afterField), field(a.env.Data, wr.afterField); got != want || want == "" || want == "null" {
			bad("after.%s %s, want %s", wr.afterField, got, want)
		}
	}
	if wr.beforeField != "" && wr.beforeField == wr.afterField && field(e.Before, wr.beforeField) == field(e.After, wr.afterField) {
		bad("%s the same before and after", wr.afterField)
	}
	absent := wr.absent
	if wr.secretField != "" {
		secret := strings.Trim(field(a.env.Data, wr.secretField), `"`)
		if (!strings.HasPrefix(secret, apikeys.Prefix) && !strings.HasPrefix(secret, ingestkeys.Prefix)) || len(secret) < 20 {
			bad("the answer's %s is not a secret: %q", wr.secretField, secret)
		}
		absent = append(absent, secret)
	}
	for _, s := range absent {
		if s != "" && bytes.Contains(whole, []byte(s)) {
			bad("a secret is in the entry: %q", s)
		}
	}
}

// Every write route, written once validly: exactly one entry, naming
// who, where, what, the field changed before and after, and no secret.
// Refusals leave one entry each: denied for a role or a key, failure for
// a bad write.
func TestEveryWriteIsAuditedOnce(t *testing.T) {
	t.Setenv("NEXUS_KEK", testKEK)
	ta := startAPI(t, freshDB("people_audit"), withProviders(providertest.New(t)))
	w := newPeopleWorld(t, ta)
	writes := w.auditedWrites()
	covered := map[string]bool{}
	for _, rc := range w.protectedRoutes() {
		if rc.method == "GET" || !strings.Contains(rc.pattern, " ") {
			continue
		}
		covered[rc.pattern] = true
		write, ok := writes[rc.pattern]
		if !ok {
			t.Errorf("%s: a write route without an audited write: add one to auditedWrites", rc.pattern)
			continue
		}
		w.check(rc.pattern, write())
	}
	for pattern := range writes {
		if !covered[pattern] {
			t.Errorf("auditedWrites has %s, which is not a registered write route", pattern)
		}
	}

	def := schema.DefaultTenant
	viewer, editor := w.byName("key default/viewer"), w.byName("key default/editor")
	refusals := []struct {
		what    string
		c       caller
		method  string
		path    string
		body    any
		status  int
		tenant  string
		action  string
		outcome string
	}{
		{"a role short of the route's", viewer, "POST", "/api/v1/budgets", w.budgetBody(), 403, def, "auth.denied", audit.OutcomeDenied},
		// Its tenant's trail, or the installation's: either tells the
		// installation admin; nothing else may.
		{"a tenant admin at an installation route", w.admin[def], "POST", "/api/v1/tenants", map[string]string{"id": "nope", "name": "Nope"}, 403, def,
			"tenants.create", audit.OutcomeDenied},
		{"an unknown key", caller{name: "unknown key", key: "nxs_not_a_key_of_this_installation_000000", actorType: "anonymous"},
			"POST", "/api/v1/budgets", w.budgetBody(), 401, "", "auth.refused", audit.OutcomeDenied},
		{"an invalid write", editor, "POST", "/api/v1/budgets", map[string]string{"name": "", "period": "hourly"}, 400, def, "budgets.create",
			audit.OutcomeFailure},
	}
	for _, r := range refusals {
		a, since := w.sendTraced(r.c, r.method, r.path, r.body)
		if a.status != r.status {
			t.Errorf("%s: want %d, got %s", r.what, r.status, a)
			continue
		}
		e, ok := w.entryOf(r.what, a.requestID, since)
		if !ok {
			continue
		}
		tenantOK := e.Tenant == r.tenant || (r.action == "tenants.create" && e.Tenant == "")
		if !tenantOK || e.Action != r.action || e.Outcome != r.outcome || e.ActorType != r.c.actorType || e.ActorID != r.c.actorID {
			t.Errorf("%s: entry %s %s/%s in %q by %s %q, want %s %s in %q by %s %q", r.what, e.Action, e.Outcome, e.Detail, e.Tenant,
				e.ActorType, e.ActorID, r.action, r.outcome, r.tenant, r.c.actorType, r.c.actorID)
		}
		if e.Outcome != audit.OutcomeSuccess && e.Detail == "" {
			t.Errorf("%s: a refusal without its reason: %+v", r.what, e)
		}
		if r.c.key != "" && strings.Contains(string(e.After)+e.Detail+e.ResourceType, r.c.key) {
			t.Errorf("%s: the key presented is in the entry", r.what)
		}
	}
}

// An entry edited in the table breaks the chain where it was edited, and
// verification names it; an export has every entry the list has.
func TestAuditTamper(t *testing.T) {
	ta := startAPI(t, freshDB("people_tamper"), nil)
	root := caller{name: "installation admin key", key: ta.admin}
	editor := caller{name: "editor", key: ta.key(roleEditor)}
	for i := range 5 {
		if a := ta.call(editor, "POST", "/api/v1/budgets", map[string]any{"name": fmt.Sprintf("b%d", i), "period": "monthly", "amountUsd": "10"}); a.status != 201 {
			t.Fatalf("budget: %s", a)
		}
	}
	// The list, two at a time, and the export: the same entries.
	var listed []audit.Entry
	for cursor, pages := "", 0; ; pages++ {
		a := ta.call(root, "GET", "/api/v1/audit?tenant=default&limit=2&cursor="+url.QueryEscape(cursor), nil)
		if a.status != 200 || pages > 100 {
			t.Fatalf("audit list: %s", a)
		}
		var p auditPage
		if err := json.Unmarshal(a.env.Data, &p); err != nil {
			t.Fatal(err)
		}
		listed = append(listed, p.Entries...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	exp := ta.call(root, "GET", "/api/v1/audit/export?tenant=default", nil)
	if exp.status != 200 || !strings.HasPrefix(exp.header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("export: %s %v", exp, exp.header)
	}
	lines := strings.Split(strings.TrimSuffix(string(exp.body), "\n"), "\n")
	if len(listed) < 6 || len(lines) != len(listed) {
		t.Fatalf("export has %d lines, the list %d entries", len(lines), len(listed))
	}
	seqs := map[uint64]bool{}
	for _, l := range lines {
		var e audit.Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Tenant != "default" || e.Hash == "" {
			t.Fatalf("export line %q: %v", l, err)
		}
		seqs[e.Seq] = true
	}
	for _, e := range listed {
		if !seqs[e.Seq] {
			t.Fatalf("listed entry %d is not in the export", e.Seq)
		}
	}

	verify := func() audit.Verification {
		t.Helper()
		a := ta.call(root, "GET", "/api/v1/audit/verify?tenant=default", nil)
		var vs []audit.Verification
		if a.status != 200 || json.Unmarshal(a.env.Data, &vs) != nil || len(vs) != 1 || vs[0].Tenant != "default" {
			t.Fatalf("verify: %s", a)
		}
		return vs[0]
	}
	if v := verify(); !v.OK || v.Entries != uint64(len(listed)) {
		t.Fatalf("untouched chain: %+v, %d entries listed", v, len(listed))
	}
	n := listed[len(listed)/2].Seq
	if err := ta.store.Exec(t.Context(), "ALTER TABLE "+schema.Table(ta.store, audit.Table)+
		" UPDATE detail = 'x' WHERE tenant = {tenant:String} AND seq = {seq:UInt64} SETTINGS mutations_sync = 2",
		store.Params{"tenant": "default", "seq": fmt.Sprint(n)}); err != nil {
		t.Fatalf("tamper: %v", err)
	}
	if v := verify(); v.OK || v.BrokenSeq != n || v.Reason == "" {
		t.Fatalf("tampered entry %d: verification %+v", n, v)
	}
}
