package schema

import (
	"embed"
	"io/fs"
	"strings"

	"github.com/nexus-otel/nexus/internal/store"
)

// The read SQL that is the same for every request lives in sql/*.sql,
// where it reads as SQL; {db} stands for the store's database, everything
// else a request brings travels as a query parameter.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// SQL is the query sql/name.sql over s's database. The files are part of
// the binary: a missing one is a bug, and the tests read every one.
func SQL(s store.Store, name string) string {
	b, err := sqlFiles.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic("schema: no query " + name + ": " + err.Error())
	}
	// The comments are for the reader of the file, not the query log.
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return strings.ReplaceAll(strings.Join(lines, "\n"), "{db}", s.Database())
}

// SQLFiles is the embedded queries, for tests that run every one.
func SQLFiles() fs.FS { return sqlFiles }
