// Package semconv is the vocabulary the Nexus components share: the names
// of the span attributes a call is read from and written with
// (attributes.go), and the names, attributes and units of the provider
// usage metrics (metrics.go).
//
// It holds names only, no behaviour, so that any component can import it
// without importing another component: the cost processor and the nexus
// exporter agree on what a span says, and the apiusage receiver and the
// exporter agree on what a usage metric says, through this package rather
// than through each other. Reading a call out of a span stays in
// internal/apicall.
//
// Where an OpenTelemetry semantic convention names a thing (GenAI, HTTP,
// resource attributes), that name is used, with its deprecated spellings
// beside it because instrumentations still send them. Names under nexus.*
// and the provider prefixes (exa., twilio., apollo.) are Nexus's own: no
// convention covers them. The apiproxy receiver's own diagnostics
// (nexus.proxy.*) stay in that package: no other component reads them.
package semconv
