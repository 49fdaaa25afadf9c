package apiproxyreceiver

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// headerIngestKey carries the caller's ingest key when the proxy has an
// authenticator. Authorization is the provider's (the app's own provider
// key), so the ingest key needs a header of its own; it never goes
// upstream.
const headerIngestKey = "X-Nexus-Ingest-Key"

const codeUnauthenticated = "unauthenticated"

// resolveAuth finds the configured server authenticator among the host's
// extensions (nil when auth is not configured). The proxy knows the
// authenticator only by its interface, as the OTLP receiver does.
func (cfg *Config) resolveAuth(ctx context.Context, host component.Host) (extensionauth.Server, error) {
	a := cfg.Auth.Get()
	if a == nil {
		return nil, nil
	}
	srv, err := a.GetServerAuthenticator(ctx, host.GetExtensions())
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return srv, nil
}

// authenticate checks the caller's ingest key, before anything reaches
// the provider, and takes the header off the request. It returns the
// client info the call's span travels with (the tenant the key proves),
// or false after answering 401 itself. Without an authenticator every
// call passes with no client info: the default tenant.
func (p *proxy) authenticate(w http.ResponseWriter, r *http.Request, rt *route) (client.Info, bool) {
	vals := r.Header.Values(headerIngestKey)
	r.Header.Del(headerIngestKey)
	if p.auth == nil {
		return client.Info{}, true
	}
	// Only the ingest key is shown to the authenticator: the provider
	// key in Authorization is none of its business.
	ctx, err := p.auth.Authenticate(r.Context(), map[string][]string{headerIngestKey: vals})
	if err != nil || len(vals) == 0 {
		p.rejected.Add(context.Background(), 1, metric.WithAttributes(
			attribute.String("provider", rt.name), attribute.String("reason", codeUnauthenticated)))
		(&proxyError{status: http.StatusUnauthorized, code: codeUnauthenticated,
			message: "apiproxy: missing, unknown or revoked ingest key: send " + headerIngestKey + ": nxi_…"}).write(w)
		return client.Info{}, false
	}
	return client.FromContext(ctx), true
}

// authKey tells apart the callers whose spans must reach the pipeline in
// separate requests: each request's context carries one client info.
func authKey(info client.Info) string {
	if info.Auth == nil {
		return ""
	}
	return fmt.Sprint(info.Auth.GetAttribute(semconv.AuthTenant), "\x00", info.Auth.GetAttribute(semconv.AuthIngestKeyID))
}
