package nexusapiextension

import "github.com/nexus-otel/nexus/internal/ids"

// newID is a resource id (ids.New); the alert engine names its rules and
// events with it.
func newID(prefix string) string { return ids.New(prefix) }
