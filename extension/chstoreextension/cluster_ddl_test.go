package chstoreextension

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// The DDL a cluster runs, migration by migration, is kept under
// testdata/cluster_ddl so that a change to it shows in review as the SQL a
// production cluster will run. After an intended change:
//
//	go test -run TestClusterDDLGolden ./extension/chstoreextension -update
var updateGolden = flag.Bool("update", false, "rewrite testdata/cluster_ddl from the migrations")

const (
	goldenDir     = "testdata/cluster_ddl"
	goldenCluster = "nexus_cluster"
	goldenHeader  = "-- Generated from the migrations for database `nexus` ON CLUSTER `nexus_cluster`.\n" +
		"-- Do not edit: go test -run TestClusterDDLGolden ./extension/chstoreextension -update\n\n"
)

// exporterTables are the tables the nexus exporter inserts into (its
// tableSpecs, and its insert journal replaying them). Every table a view
// fills from one of them takes those inserts too, and is found from the
// DDL itself.
var exporterTables = []string{"api_calls", "provider_usage", "provider_gauges", "provider_health"}

// clusterDDL is every statement a new cluster runs, per migration file
// name: the bootstrap (database and schema_migrations, as applyMigrations
// runs it), then each migration, the code-planned ones with their whole
// plan.
func clusterDDL(t *testing.T, db string) (names []string, ddl map[string][]string) {
	t.Helper()
	ddl = map[string][]string{}
	rec := &recordingStore{db: db}
	if err := applyMigrations(context.Background(), rec, goldenCluster, nil, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	names = append(names, "0000_bootstrap")
	ddl["0000_bootstrap"] = rec.execs
	ms, err := loadMigrations(db, goldenCluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		name := fmt.Sprintf("%04d_%s", m.version, m.name)
		stmts := statements(m.text)
		if m.plan != nil {
			// On a database that holds none of its tables yet the plan is
			// the whole text: the text is what the plan runs.
			planned, err := m.plan(context.Background(), &recordingStore{db: db})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(planned, stmts) {
				t.Errorf("%s: the plan on a fresh database differs from its text split into statements", name)
			}
		}
		names = append(names, name)
		ddl[name] = stmts
	}
	return names, ddl
}

func TestClusterDDLGolden(t *testing.T) {
	names, ddl := clusterDDL(t, "nexus")
	if *updateGolden {
		old, _ := filepath.Glob(filepath.Join(goldenDir, "*.sql"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(goldenDir, 0o750); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			text := goldenHeader + strings.Join(ddl[name], ";\n\n") + ";\n"
			if err := os.WriteFile(filepath.Join(goldenDir, name+".sql"), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".sql"); ddl[name] == nil {
			t.Errorf("%s has no migration any more (run with -update)", f)
		}
	}
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join(goldenDir, name+".sql"))
		if err != nil {
			t.Errorf("%s: %v (run with -update)", name, err)
			continue
		}
		// The golden file is split the way migrate splits a migration.
		want, got := statements(string(raw)), ddl[name]
		for i := range max(len(want), len(got)) {
			var w, g string
			if i < len(want) {
				w = want[i]
			}
			if i < len(got) {
				g = got[i]
			}
			if w != g {
				t.Errorf("%s: statement %d of %d (golden has %d) differs (run with -update after review):\n got: %s\nwant: %s",
					name, i+1, len(got), len(want), g, w)
				break
			}
		}
	}
}

var (
	ddlKind = regexp.MustCompile(`^(CREATE|ALTER|DROP|EXCHANGE|TRUNCATE|RENAME|INSERT)\b`)
	// engineCall is every engine a statement names, with its arguments up
	// to the first ')'.
	engineCall     = regexp.MustCompile(`ENGINE\s*=\s*(\w+)(?:\(([^)]*)\))?`)
	anyMergeTree   = regexp.MustCompile(`\b\w*MergeTree\b`)
	replicatedArgs = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
	// qualified is a database-qualified name: `db`.x or db.x.
	// tableName is a database-qualified name where a statement names a
	// table: `db`.x or db.x (other dotted names are columns of an alias).
	tableName     = regexp.MustCompile("(?i)\\b(?:FROM|JOIN|INTO|TABLE|TABLES|TO|VIEW|EXISTS)\\s+(`[^`]+`|[A-Za-z_]\\w*)\\.")
	exchangeOther = regexp.MustCompile("(?i)\\bEXCHANGE\\s+TABLES\\s+\\S+\\s+AND\\s+(`[^`]+`|[A-Za-z_]\\w*)\\.")
	quotedPrefix  = regexp.MustCompile("(`[^`]+`)\\.")
	createTable   = regexp.MustCompile("^CREATE TABLE IF NOT EXISTS `nexus`\\.(\\w+) ON CLUSTER `nexus_cluster`")
	alterSetting  = regexp.MustCompile("^ALTER TABLE `nexus`\\.(\\w+) ON CLUSTER `nexus_cluster`\\s+MODIFY SETTING (.*)$")
	exchange      = regexp.MustCompile("^EXCHANGE TABLES `nexus`\\.(\\w+) AND `nexus`\\.(\\w+) ON CLUSTER")
	dropTable     = regexp.MustCompile("^DROP TABLE IF EXISTS `nexus`\\.(\\w+) ON CLUSTER")
	viewTo        = regexp.MustCompile("^CREATE MATERIALIZED VIEW IF NOT EXISTS `nexus`\\.\\w+ ON CLUSTER `nexus_cluster` TO `nexus`\\.(\\w+) AS")
	viewFrom      = regexp.MustCompile("FROM `nexus`\\.(\\w+)")
	replWindow    = regexp.MustCompile(`(?:^|[^\w])replicated_deduplication_window = 10000\b`)
	replSeconds   = regexp.MustCompile(`\breplicated_deduplication_window_seconds = 604800\b`)
)

// TestClusterDDLInvariants checks what every statement a cluster runs must
// hold, whatever the migrations become.
func TestClusterDDLInvariants(t *testing.T) {
	names, ddl := clusterDDL(t, "nexus")
	onCluster := "ON CLUSTER `" + goldenCluster + "`"
	for _, name := range names {
		for i, stmt := range ddl[name] {
			stmt = withoutComments(stmt)
			at := fmt.Sprintf("%s statement %d", name, i+1)
			kind := ddlKind.FindString(stmt)
			switch {
			case kind == "":
				t.Errorf("%s: not a statement the cluster checks know:\n%s", at, stmt)
			case kind == "INSERT":
				// Replication carries an insert's rows to the other replicas.
				if strings.Contains(stmt, "ON CLUSTER") {
					t.Errorf("%s: INSERT with ON CLUSTER:\n%s", at, stmt)
				}
			case !strings.Contains(stmt, onCluster):
				t.Errorf("%s: %s without %s:\n%s", at, kind, onCluster, stmt)
			}
			for _, e := range engineCall.FindAllStringSubmatch(stmt, -1) {
				switch {
				case e[1] == "Null":
					// Holds nothing: its views carry what it is given.
				case !strings.HasPrefix(e[1], "Replicated") || !strings.HasSuffix(e[1], "MergeTree"):
					t.Errorf("%s: engine %s is not Replicated*MergeTree:\n%s", at, e[1], stmt)
				case !strings.HasPrefix(e[2], replicatedArgs):
					t.Errorf("%s: %s(%s) lacks the {shard}/{replica} macros", at, e[1], e[2])
				}
			}
			for _, mt := range anyMergeTree.FindAllString(stmt, -1) {
				if !strings.HasPrefix(mt, "Replicated") {
					t.Errorf("%s: %s outside its Replicated form:\n%s", at, mt, stmt)
				}
			}
			if strings.Contains(stmt, "non_replicated_deduplication_window") {
				t.Errorf("%s: a cluster gets the replicated window, not the single server's:\n%s", at, stmt)
			}
		}
	}
	checkDatabaseThroughTemplate(t)
	checkDedupWindows(t, names, ddl)
}

// checkDatabaseThroughTemplate renders the DDL for another database: it
// must name that database only, and be the golden DDL but for the name.
func checkDatabaseThroughTemplate(t *testing.T) {
	t.Helper()
	names, want := clusterDDL(t, "nexus")
	_, other := clusterDDL(t, "db_probe")
	for _, name := range names {
		if len(other[name]) != len(want[name]) {
			t.Errorf("%s: %d statements for db_probe, %d for nexus", name, len(other[name]), len(want[name]))
			continue
		}
		for i, stmt := range other[name] {
			code := withoutComments(stmt)
			var dbs [][]string
			for _, re := range []*regexp.Regexp{tableName, exchangeOther, quotedPrefix} {
				dbs = append(dbs, re.FindAllStringSubmatch(code, -1)...)
			}
			if len(dbs) == 0 && !strings.HasPrefix(code, "CREATE DATABASE IF NOT EXISTS `db_probe` ") {
				t.Errorf("%s statement %d names no table of the template's database:\n%s", name, i+1, stmt)
			}
			for _, q := range dbs {
				if q[1] != "`db_probe`" {
					t.Errorf("%s statement %d names database %s, not the template's:\n%s", name, i+1, q[1], stmt)
				}
			}
			if got := strings.ReplaceAll(stmt, "`db_probe`", "`nexus`"); got != want[name][i] {
				t.Errorf("%s statement %d depends on the database name beyond it:\n%s\n%s", name, i+1, got, want[name][i])
			}
		}
	}
}

// checkDedupWindows follows the tables through the DDL (created, altered,
// exchanged, dropped) and checks that each table the exporter inserts
// into, and each table a view fills from one of them, ends with the
// replicated de-duplication window of 10,000 blocks over 7 days.
func checkDedupWindows(t *testing.T, names []string, ddl map[string][]string) {
	t.Helper()
	settings := map[string]string{} // table → its SETTINGS clauses, in order
	feeds := map[string][]string{}  // source table → tables its views fill
	for _, name := range names {
		for _, stmt := range ddl[name] {
			one := strings.Join(strings.Fields(withoutComments(stmt)), " ")
			if m := createTable.FindStringSubmatch(one); m != nil {
				if _, exists := settings[m[1]]; !exists {
					_, s, _ := strings.Cut(one, " SETTINGS ")
					settings[m[1]] = s
				}
			}
			if m := alterSetting.FindStringSubmatch(one); m != nil {
				settings[m[1]] += ", " + m[2]
			}
			if m := exchange.FindStringSubmatch(one); m != nil {
				settings[m[1]], settings[m[2]] = settings[m[2]], settings[m[1]]
			}
			if m := dropTable.FindStringSubmatch(one); m != nil {
				delete(settings, m[1])
			}
			if m := viewTo.FindStringSubmatch(one); m != nil {
				for _, src := range viewFrom.FindAllStringSubmatch(one, -1) {
					if !slices.Contains(feeds[src[1]], m[1]) {
						feeds[src[1]] = append(feeds[src[1]], m[1])
					}
				}
			}
		}
	}
	need := slices.Clone(exporterTables)
	for i := 0; i < len(need); i++ {
		for _, target := range feeds[need[i]] {
			if !slices.Contains(need, target) {
				need = append(need, target)
			}
		}
	}
	t.Logf("tables that take the exporter's inserts: %v", need)
	if len(need) < len(exporterTables)+3 {
		t.Errorf("found only %v taking the exporter's inserts: the rollups' views were not found in the DDL", need)
	}
	for _, table := range need {
		s, exists := settings[table]
		switch {
		case !exists:
			t.Errorf("%s takes the exporter's inserts but the DDL leaves no such table", table)
		case !replWindow.MatchString(s) || !replSeconds.MatchString(s):
			t.Errorf("%s takes the exporter's inserts without the replicated de-duplication window; its settings: %s", table, s)
		}
	}
}

// withoutComments drops a statement's comment lines (statements keeps
// those between two statements with the second).
func withoutComments(stmt string) string {
	var b strings.Builder
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line + "\n")
		}
	}
	return strings.TrimSpace(b.String())
}

// recordingStore records what migrations run, and answers every query with
// no rows: a database that holds nothing yet.
type recordingStore struct {
	db    string
	execs []string
}

func (r *recordingStore) Database() string { return r.db }

func (r *recordingStore) Exec(_ context.Context, query string, _ store.Params) error {
	r.execs = append(r.execs, query)
	return nil
}

func (r *recordingStore) Query(context.Context, string, store.Params) (store.Rows, error) {
	return noRows{}, nil
}

func (r *recordingStore) PrepareBatch(context.Context, string, []string) (store.Batch, error) {
	return nil, errors.New("recordingStore: no inserts")
}

func (r *recordingStore) Ping(context.Context) error { return nil }

type noRows struct{}

func (noRows) Next() bool        { return false }
func (noRows) Scan(...any) error { return errors.New("no rows") }
func (noRows) Columns() []string { return nil }
func (noRows) Err() error        { return nil }
func (noRows) Close() error      { return nil }
