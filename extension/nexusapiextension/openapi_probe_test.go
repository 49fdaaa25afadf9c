package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// docCheck is what the document must say about a probe's request.
type docCheck int

const (
	docSilent  docCheck = iota // it cannot say (a missing key, an oversized body)
	docAccepts                 // the request is valid by the document
	docRejects                 // the document's schemas refuse it too
)

// probe is one request to one operation and the answer it must get.
type probe struct {
	name   string
	key    string // "" sends no Authorization
	params map[string]string
	query  url.Values
	header http.Header
	body   []byte // nil sends none
	want   int
	// fields, for a 400, are the fields its details must name (all of
	// them, in any order); empty accepts any.
	fields []string
	// code is the error code wanted ("" any).
	code string
	doc  docCheck
}

// operation is one documented operation and what its probes need.
type operation struct {
	method, path string
	item         *openapi3.PathItem
	op           *openapi3.Operation
	role         string
}

func (o operation) id() string { return o.method + " " + o.path }

// ok is the operation's documented success status: a 2xx, else the
// redirect of a route a browser navigates to.
func (o operation) ok() int {
	for code := 200; code < 400; code++ {
		if o.op.Responses.Status(code) != nil {
			return code
		}
	}
	return 0
}

func (o operation) documents(status int) bool { return o.op.Responses.Status(status) != nil }

// example is the documented request body, or nil.
func (o operation) example() map[string]any {
	if o.op.RequestBody == nil {
		return nil
	}
	ex, _ := o.op.RequestBody.Value.Content.Get("application/json").Example.(map[string]any)
	return ex
}

// required are the request body's required fields, its allOf parts'
// gathered: what a client must send.
func (o operation) required() []string {
	var out []string
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		out = append(out, s.Required...)
		for _, part := range s.AllOf {
			walk(part.Value)
		}
	}
	walk(o.bodySchema())
	slices.Sort(out)
	return out
}

func (o operation) bodySchema() *openapi3.Schema {
	return o.op.RequestBody.Value.Content.Get("application/json").Schema.Value
}

// maxBody is the largest body the operation takes: its x-max-body-bytes
// where it has its own bound, else max_body_bytes.
func (o operation) maxBody() int {
	if n, ok := o.op.Extensions["x-max-body-bytes"].(float64); ok {
		return int(n)
	}
	return openAPIMaxBody
}

func operations(doc *openapi3.T) []operation {
	var out []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			role, _ := op.Extensions["x-required-role"].(string)
			out = append(out, operation{method: method, path: path, item: item, op: op, role: role})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.id(), b.id()) })
	return out
}

// invalidValue is a value the schema refuses, derived from the schema
// itself, so that every constrained parameter gets a probe without a list
// of them here; false when the schema constrains nothing.
func invalidValue(s *openapi3.Schema) (string, bool) {
	switch {
	case len(s.Enum) > 0:
		return "bogus", true
	case s.Type.Is("array") && s.Items != nil:
		return invalidValue(s.Items.Value)
	case s.Type.Is("integer") && s.Min != nil:
		return strconv.FormatFloat(*s.Min-1, 'f', -1, 64), true
	case s.Type.Is("boolean"):
		return "maybe", true
	case s.Format == "date-time":
		return "yesterday", true
	case s.Pattern != "":
		return "!", true
	case s.MaxLength != nil:
		return strings.Repeat("a", int(*s.MaxLength)+1), true
	}
	return "", false
}

// validValues are the values an enum or a boolean schema allows.
func validValues(s *openapi3.Schema) []string {
	switch {
	case s.Type.Is("array") && s.Items != nil:
		return validValues(s.Items.Value)
	case s.Type.Is("boolean"):
		return []string{"true", "false"}
	}
	out := make([]string, 0, len(s.Enum))
	for _, v := range s.Enum {
		out = append(out, v.(string))
	}
	return out
}

// streams tells whether o's success is an event stream.
func (o operation) streams() bool {
	ok := o.op.Responses.Status(200)
	return ok != nil && ok.Value.Content.Get("text/event-stream") != nil
}

// probesFor builds the probes of o: the cheap error answers of every
// operation (no key, a role too low, a signed-in person without a role in
// the tenant or without the CSRF token, each bad parameter, bad bodies, an
// oversized body, an unknown id), its other answers (fx.extra), its
// conflicts (fx.conflicts) and its success (fx.successes where it needs
// more than a key).
func (fx *fixtures) probesFor(o operation) []probe {
	params := fx.params(o)
	var body []byte
	if ex := o.example(); ex != nil {
		body = fx.unique(ex)
	}
	var out []probe
	if o.role != "none" {
		out = append(out, probe{name: "no key", params: params, body: body, want: 401})
		// Every route takes a browser session too: it confines and
		// authorises like a key, and its writes need the CSRF token.
		s := fx.session()
		write := o.method != http.MethodGet
		out = append(out, probe{name: "signed in, no role in the tenant", params: params, body: body, header: s.header(write, "nowhere"),
			want: 403, code: "FORBIDDEN", doc: docAccepts})
		if write {
			out = append(out, probe{name: "signed in, no CSRF token", params: params, body: body, header: s.header(false, ""),
				want: 403, code: "CSRF_FAILED", doc: docAccepts})
		}
	}
	if below := roleRank[o.role] - 1; below >= 1 {
		for role, rank := range roleRank {
			if rank == below {
				out = append(out, probe{name: role + " key", key: fx.keys[role], params: params, body: body, want: 403})
			}
		}
	}
	key := fx.keys[o.role]
	if fx.byPerson[o.id()] {
		key = fx.personKey
	}
	for _, pr := range append(slices.Clone(o.item.Parameters), o.op.Parameters...) {
		p := pr.Value
		bad, ok := invalidValue(p.Schema.Value)
		if !ok || p.In == "path" {
			continue
		}
		pb := probe{name: "bad " + p.Name, key: key, params: params, body: body, want: 400, fields: []string{p.Name}, doc: docRejects,
			query: url.Values{}, header: http.Header{}}
		if p.In == "header" {
			pb.header.Set(p.Name, bad)
		} else {
			pb.query.Set(p.Name, bad)
		}
		out = append(out, pb)
	}
	// Every value an enum or a boolean allows, and the fixtures' other
	// variants, must succeed: the other shapes of an answer (grouped
	// stats, a complete month…) are checked too.
	if !o.streams() {
		var variants []url.Values
		for _, pr := range o.op.Parameters {
			for _, v := range validValues(pr.Value.Schema.Value) {
				variants = append(variants, url.Values{pr.Value.Name: {v}})
			}
		}
		if v := fx.variants[o.id()]; v != nil {
			variants = append(variants, v()...)
		}
		for _, q := range variants {
			out = append(out, probe{name: q.Encode(), key: key, params: params, query: q, want: o.ok(), doc: docAccepts})
		}
	}
	if o.op.RequestBody != nil {
		out = append(out,
			probe{name: "body not an object", key: key, params: params, body: []byte(`[]`), want: 400, fields: []string{"body"}, doc: docRejects},
			probe{name: "unknown field", key: key, params: params, body: []byte(`{"bogusField": 1}`), want: 400, fields: []string{"bogusField"}, doc: docRejects},
			probe{name: "body too large", key: key, params: params, body: []byte(`{"name": "` + strings.Repeat("a", 2*o.maxBody()) + `"}`), want: 413})
		switch req := o.required(); {
		case len(req) > 0:
			out = append(out, probe{name: "required fields", key: key, params: fx.params(o), body: []byte(`{}`), want: 400, fields: req, doc: docRejects})
		case o.bodySchema().MinProps > 0:
			// A map of fields (provider credentials): which are required
			// depends on the path, so the answer names whichever.
			out = append(out, probe{name: "empty object", key: key, params: fx.params(o), body: []byte(`{}`), want: 400, doc: docRejects})
		default:
			out = append(out, probe{name: "empty body", key: key, params: fx.params(o), body: []byte(`{}`), want: o.ok(), doc: docAccepts})
		}
	}
	if len(params) > 0 && o.documents(404) {
		unknown := map[string]string{}
		for k := range params {
			unknown[k] = "nope"
		}
		out = append(out, probe{name: "unknown " + strings.Join(slices.Sorted(mapKeys(params)), ","), key: key, params: unknown, body: body, want: 404, doc: docAccepts})
	}
	if x := fx.extra[o.id()]; x != nil {
		out = append(out, x(o)...)
	}
	if c := fx.conflicts[o.id()]; c != nil {
		pb := c(o)
		pb.name, pb.key, pb.want, pb.doc = "conflict", key, 409, docAccepts
		out = append(out, pb)
	}
	success := probe{key: key, params: fx.params(o), query: fx.success[o.id()], body: body}
	if s := fx.successes[o.id()]; s != nil {
		success = s(o)
	}
	success.name, success.want, success.doc = "success", o.ok(), docAccepts
	return append(out, success)
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// run sends p to o on the real server and checks the answer: the status
// wanted, documented for o, the body valid against the documented
// response (headers included), the fields named, and the request as valid
// or invalid by the document as p says. It returns the status.
func (fx *fixtures) run(t *testing.T, o operation, p probe) int {
	t.Helper()
	path := o.path
	for k, v := range p.params {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	target := path
	if len(p.query) > 0 {
		target += "?" + p.query.Encode()
	}
	newReq := func(base string) *http.Request {
		var rd io.Reader
		if p.body != nil {
			rd = bytes.NewReader(p.body)
		}
		req := httptest.NewRequest(o.method, base+target, rd)
		req.RequestURI = ""
		for k, v := range p.header {
			req.Header[k] = v
		}
		if p.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if p.key != "" {
			req.Header.Set("Authorization", "Bearer "+p.key)
		}
		return req
	}
	streaming := o.streams()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := noRedirects.Do(newReq(fx.ta.base).WithContext(ctx))
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	defer resp.Body.Close()
	var raw []byte
	if streaming && resp.StatusCode == 200 {
		fx.checkStream(t, o, resp)
	} else {
		raw, _ = io.ReadAll(resp.Body)
	}
	if resp.StatusCode != p.want {
		t.Errorf("%s: HTTP %d, want %d: %s", p.name, resp.StatusCode, p.want, raw)
	}

	route := &routers.Route{Spec: fx.doc, Path: o.path, PathItem: o.item, Method: o.method, Operation: o.op}
	in := &openapi3filter.RequestValidationInput{Request: newReq("http://nexus"), PathParams: p.params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case p.doc == docAccepts && reqErr != nil:
		t.Errorf("%s: the server answers %d but the document refuses the request: %v", p.name, resp.StatusCode, reqErr)
	case p.doc == docRejects && reqErr == nil:
		t.Errorf("%s: the server refuses the request (%d) but the document accepts it", p.name, resp.StatusCode)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: streaming && resp.StatusCode == 200}}
	out.SetBodyBytes(raw)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s: HTTP %d does not match the document: %v\n%s", p.name, resp.StatusCode, err, raw)
	}
	if p.code != "" {
		var e struct{ Error *APIError }
		if json.Unmarshal(raw, &e) != nil || e.Error == nil || e.Error.Code != p.code {
			t.Errorf("%s: want error code %s: %s", p.name, p.code, raw)
		}
	}
	if resp.StatusCode == 400 && len(p.fields) > 0 {
		var e struct{ Error *APIError }
		_ = json.Unmarshal(raw, &e)
		var named []string
		if e.Error != nil {
			for _, d := range e.Error.Details {
				named = append(named, d.Field)
			}
		}
		slices.Sort(named)
		if !slices.Equal(slices.Compact(named), p.fields) {
			t.Errorf("%s: 400 names %v, want %v", p.name, named, p.fields)
		}
	}
	return resp.StatusCode
}

// notCheap are documented answers no probe produces, and why. 429, 500
// and 503 are documented wherever the middleware can give them and are
// driven elsewhere (ratelimit, readbudget and stream tests), except the
// stream's caps below.
var notCheap = map[string]map[int]string{
	"GET /api/v1/budgets/{id}/status": {400: "only when the period needs detail older than the rollups keep"},
	"GET /api/v1/auth/oidc/login":     {404: "only without single sign-on, which the probed collector has"},
	"GET /api/v1/auth/oidc/callback": {404: "only without single sign-on, which the probed collector has",
		400: "only for an identity whose name or email the users store refuses"},
	"PATCH /api/v1/users/{id}": {409: "only when an installation admin's change would leave none active; the probes go as a viewer person"},
}

// noRedirects answers a redirect as it is: the sign-on routes' answers
// are their redirects, not the pages they lead to.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// openAPIMaxBody is max_body_bytes in these tests: small, so that a 413
// costs a small body.
const openAPIMaxBody = 4096

// TestOpenAPIStatuses drives every documented operation on the real server
// (real HTTP, real store) with probes derived from the document, and checks
// each answer against it; then that every documented status of every
// operation was produced by some probe, but the notCheap ones.
func TestOpenAPIStatuses(t *testing.T) {
	doc := loadOpenAPI(t)
	srv := providertest.New(t)
	idp := startIdP(t)
	// A key-encryption key, so that provider credentials can be stored.
	t.Setenv(credentials.DefaultKEKEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	ta := startAPI(t, freshDB("api_openapi_probe"), func(c *Config) {
		withProviders(srv)(c)
		c.MaxBodyBytes = openAPIMaxBody
		c.Stream.MaxPerKey = 1
		c.Alerting.Rules = []AlertRuleConfig{{ID: configRuleFixture, Name: "From the config", Kind: kindKeyInvalid}}
		c.OIDC = probedSignOn(c, idp)
	})
	// The audit export is NDJSON: its lines are checked as the array the
	// document describes them as, each line one JSON value.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", ndjsonLines)
	fx := newFixtures(t, ta, doc, idp)
	produced := map[string]map[int]bool{}
	probes := 0
	for _, o := range operations(doc) {
		t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(o.id()), func(t *testing.T) {
			produced[o.id()] = map[int]bool{}
			ps := fx.probesFor(o)
			if c := fx.limits[o.id()]; c != nil {
				ps = append(ps, c())
			}
			for _, p := range ps {
				produced[o.id()][fx.run(t, o, p)] = true
			}
			probes += len(ps)
		})
	}
	for _, o := range operations(doc) {
		for code := range o.op.Responses.Map() {
			status, _ := strconv.Atoi(code)
			if produced[o.id()][status] || notCheap[o.id()][status] != "" ||
				(fx.limits[o.id()] == nil && status == 429) || status == 500 || status == 503 {
				continue
			}
			t.Errorf("%s documents %d but no probe produced it: add one (fixtures) or say why in notCheap", o.id(), status)
		}
	}
	t.Logf("%d operations, %d probes", len(produced), probes)
}

// ndjsonLines decodes an NDJSON body into its lines' values.
func ndjsonLines(body io.Reader, h http.Header, s *openapi3.SchemaRef, enc openapi3filter.EncodingFn) (any, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	lines := []any{}
	for line := range bytes.Lines(raw) {
		v, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(line), h, s, enc)
		if err != nil {
			return nil, err
		}
		lines = append(lines, v)
	}
	return lines, nil
}
