package nexusapiextension

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI parses the embedded document with kin-openapi and validates
// it as OpenAPI 3.1 (JSON Schema 2020-12 schemas, resolved references,
// examples checked against their schemas).
func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi.json is OpenAPI %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}
	return doc
}

// TestOpenAPIValid checks the document parses, validates, and agrees with
// the code on the things both state: the version and the error codes.
func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.Info.Version != Version {
		t.Errorf("info.version %q, the API reports %q in meta.version", doc.Info.Version, Version)
	}
	// Every operation names its role and answers X-Request-Id.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			role, _ := op.Extensions["x-required-role"].(string)
			if _, ok := roleRank[role]; !ok && role != "none" {
				t.Errorf("%s %s: x-required-role %q", method, path, role)
			}
			if (role == "none") != (op.Security != nil && len(*op.Security) == 0) {
				t.Errorf("%s %s: role %q but security %v", method, path, role, op.Security)
			}
			for status, resp := range op.Responses.Map() {
				if resp.Value.Headers["X-Request-Id"] == nil {
					t.Errorf("%s %s %s: no X-Request-Id header", method, path, status)
				}
			}
		}
	}
}

// documentedOps are the document's operations as mux patterns
// ("GET /api/v1/budgets/{id}") with their x-required-role ("" for none).
func documentedOps(doc *openapi3.T) map[string]string {
	out := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			role, _ := op.Extensions["x-required-role"].(string)
			if role == "none" {
				role = ""
			}
			out[method+" "+path] = role
		}
	}
	return out
}

// TestOpenAPIEveryRoute checks that every pattern the running server
// registered is documented with its role, and that every documented
// operation is registered: both lists come from their sources, the mux
// registrations and the document, never from a copy in this test.
func TestOpenAPIEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	ta := startAPI(t, freshDB("api_openapi_routes"), nil)
	documented := documentedOps(doc)
	var fallback struct {
		Pattern string `json:"pattern"`
		Role    string `json:"x-required-role"`
	}
	raw, _ := json.Marshal(doc.Extensions["x-fallback"])
	if err := json.Unmarshal(raw, &fallback); err != nil || fallback.Pattern == "" {
		t.Fatalf("x-fallback: %s", raw)
	}
	seen := map[string]bool{}
	for _, r := range ta.api.registered {
		if seen[r.pattern] {
			t.Errorf("%s registered twice", r.pattern)
		}
		seen[r.pattern] = true
		if r.pattern == fallback.Pattern {
			if r.role != fallback.Role {
				t.Errorf("fallback %s: role %q, documented %q", r.pattern, r.role, fallback.Role)
			}
			continue
		}
		role, ok := documented[r.pattern]
		switch {
		case !ok:
			t.Errorf("%s (role %q) is registered but not in openapi.json", r.pattern, r.role)
		case role != r.role:
			t.Errorf("%s: registered with role %q, documented x-required-role %q", r.pattern, r.role, role)
		}
	}
	if !seen[fallback.Pattern] {
		t.Errorf("x-fallback %s is not registered", fallback.Pattern)
	}
	for _, op := range slices.Sorted(func(yield func(string) bool) {
		for k := range documented {
			if !yield(k) {
				return
			}
		}
	}) {
		if !seen[op] {
			t.Errorf("%s is in openapi.json but the server does not register it", op)
		}
	}
	if t.Failed() {
		return
	}
	// The document served is the embedded one, to a viewer key.
	viewer := ta.key(roleViewer)
	req, _ := http.NewRequest("GET", ta.base+"/api/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var served map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil || resp.StatusCode != 200 || served["openapi"] != doc.OpenAPI {
		t.Fatalf("GET /api/v1/openapi.json: %d %v %v", resp.StatusCode, err, served["openapi"])
	}
	t.Logf("%d routes registered, %d documented operations", len(ta.api.registered), len(documented))
}
