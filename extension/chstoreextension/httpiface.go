package chstoreextension

import (
	"fmt"
	"net/http"

	"github.com/nexus-otel/nexus/internal/chdb"
	"github.com/nexus-otel/nexus/internal/chhttp"
)

// httpHandler builds the ClickHouse HTTP interface over the embedded engine.
// It gets connections of its own: the interface switches their current
// database per request, and its read path runs on a connection opened with
// readonly=2 so that the engine itself refuses writes.
func (e *chstore) httpHandler() (http.Handler, error) {
	dir := resolveDataDir(e.cfg.Embedded)
	ro, err := e.embedded.lib.Connect(dir, "--readonly=2")
	if err != nil {
		return nil, fmt.Errorf("http: open read-only engine connection: %w", err)
	}
	e.embedded.conns = append(e.embedded.conns, ro)
	var rw *chdb.Conn
	if !e.cfg.HTTP.ReadOnly {
		if rw, err = e.embedded.lib.Connect(dir); err != nil {
			return nil, fmt.Errorf("http: open engine connection: %w", err)
		}
		e.embedded.conns = append(e.embedded.conns, rw)
	}
	return chhttp.NewHandler(chhttp.Config{
		Endpoint:        e.cfg.HTTP.NetAddr.Endpoint,
		ReadOnly:        e.cfg.HTTP.ReadOnly,
		Username:        e.cfg.HTTP.Username,
		Password:        string(e.cfg.HTTP.Password),
		DefaultDatabase: e.cfg.Database,
	}, chhttp.NewConnEngine(rw, ro), e.logger.Named("http")), nil
}
