package nexusapiextension

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of the API (OpenAPI 3.1). It is
// written by hand and kept true by openapi_test.go, which drives the real
// server against it: a route missing from it, or an answer it does not
// describe, fails the tests.
//
//go:embed openapi.json
var openAPIDocument []byte

// serveOpenAPI answers GET /api/v1/openapi.json with the document itself,
// not wrapped in the envelope: tools that load OpenAPI documents expect
// the document at the top level.
func (a *api) serveOpenAPI(w http.ResponseWriter, _ *http.Request) *APIError {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
	return nil
}

// registeredRoute is one pattern the server's mux answers and the role it
// needs ("" for none). The mux cannot list its patterns, so they are
// recorded as they are registered: that list, not a copy kept by hand, is
// what the document is checked against.
type registeredRoute struct {
	pattern string
	role    string
}

// public registers a route that needs no key (health and readiness, for
// probes and load balancers that hold none).
func (a *api) public(pattern string, h http.HandlerFunc) {
	a.registered = append(a.registered, registeredRoute{pattern: pattern})
	a.mux.HandleFunc(pattern, h)
}
