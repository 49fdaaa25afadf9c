package chstoreextension

import (
	"fmt"
	"net/http"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
)

// httpHandler builds the ClickHouse HTTP interface over the embedded engine.
// The interface runs each request on an engine connection of its own, with
// the limits of max_query_time and http.max_result_bytes /
// http.max_memory_usage, and at readonly=1 on the read path (see
// internal/chhttp and the README's "The engine under attack").
func (e *chstore) httpHandler() (http.Handler, error) {
	limits := e.cfg.httpLimits()
	eng, err := chhttp.NewEngine(e.embedded.lib, e.embedded.dir, chhttp.EngineConfig{
		Limits:        limits,
		MaxConcurrent: e.cfg.HTTP.MaxConcurrentQueries,
		QueueTimeout:  e.cfg.HTTP.QueueTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	e.httpEngine = eng
	return chhttp.NewHandler(chhttp.Config{
		Endpoint:           e.cfg.HTTP.NetAddr.Endpoint,
		ReadOnly:           e.cfg.HTTP.ReadOnly,
		Username:           e.cfg.HTTP.Username,
		Password:           string(e.cfg.HTTP.Password),
		Users:              tenantUsers(e.cfg.HTTP.Users),
		DefaultDatabase:    e.cfg.Database,
		Limits:             limits,
		CORSAllowedOrigins: e.cfg.HTTP.CORSAllowedOrigins,
		AllowedHosts:       e.cfg.HTTP.AllowedHosts,
	}, eng, e.logger.Named("http")), nil
}

func tenantUsers(us []TenantUser) []chhttp.User {
	out := make([]chhttp.User, len(us))
	for i, u := range us {
		out[i] = chhttp.User{Name: u.Username, Password: string(u.Password), Tenant: u.Tenant}
	}
	return out
}
