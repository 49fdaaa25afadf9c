package chstoreextension

import (
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// retentionOf holds the retention each open store reports, keyed by the
// store, set at Start and dropped at Shutdown by the extension. It lives
// here rather than as a field of the stores so that the stores' own code
// (the insert path) and the schema's settings stay apart.
var retentionOf sync.Map // store.Store → RetentionConfig

var (
	_ store.RetentionReporter = (*embeddedStore)(nil)
	_ store.RetentionReporter = (*remoteStore)(nil)
)

// Retention is how long table keeps rows under this collector's
// retention settings (0: forever), false for a table that is not Nexus's.
func (s *embeddedStore) Retention(table string) (time.Duration, bool) {
	return reportRetention(s, table)
}

// Retention is as for the embedded store. Several collectors sharing a
// server each report their own settings; the table has the TTL of the one
// that started last.
func (s *remoteStore) Retention(table string) (time.Duration, bool) { return reportRetention(s, table) }

func reportRetention(s store.Store, table string) (time.Duration, bool) {
	cfg, ok := retentionOf.Load(s)
	if !ok {
		// Not opened by the extension, or shut down: nothing to say.
		return 0, false
	}
	return cfg.(RetentionConfig).lookup(table)
}

var _ store.RetentionReporter = (*chstore)(nil)

// Retention is the extension's answer to the same question, for writers
// that hold the extension rather than its store.
func (e *chstore) Retention(table string) (time.Duration, bool) {
	return e.cfg.Retention.lookup(table)
}
