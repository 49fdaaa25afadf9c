// Package storetest starts the real chstore extension on the embedded engine
// for other components' tests: no fake store, the same engine, schema and
// SQL as production.
package storetest

import (
	"context"
	"os"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/extension/chstoreextension"
	"github.com/nexus-otel/nexus/internal/store"
)

// ID is the component id the store is registered under in Host.
var ID = component.MustNewID(chstoreextension.TypeStr)

// dataDir is shared by every test in a test binary: the engine serves one
// data directory per process. Tests keep apart by database.
var dataDir string

// Main wraps testing.M.Run with a data directory for the test binary; call
// it from TestMain. NEXUS_STORETEST_DIR names a data directory to use and keep instead:
// a benchmark's seeded store then outlives the run, for the next.
func Main(m *testing.M) {
	if dir := os.Getenv("NEXUS_STORETEST_DIR"); dir != "" {
		dataDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "nexus-storetest")
	if err != nil {
		panic(err)
	}
	dataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Host is a component.Host that carries extensions, as the collector's does.
type Host struct {
	component.Host
	Extensions map[component.ID]component.Component
}

// GetExtensions returns the extensions.
func (h Host) GetExtensions() map[component.ID]component.Component { return h.Extensions }

// Start starts a chstore extension on database db (migrated) and returns
// its store and a host that offers it under ID. It stops with the test.
func Start(t testing.TB, db string) (store.Store, Host) {
	t.Helper()
	if dataDir == "" {
		t.Fatal("storetest: call storetest.Main from TestMain")
	}
	f := chstoreextension.NewFactory()
	cfg := f.CreateDefaultConfig().(*chstoreextension.Config)
	cfg.Database = db
	cfg.Embedded.DataDir = dataDir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := Host{Host: componenttest.NewNopHost(), Extensions: map[component.ID]component.Component{ID: ext}}
	if err := ext.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	return ext.(store.Provider).Store(), h
}

// Scalar runs sql and returns its single value as text.
func Scalar(t testing.TB, s store.Store, sql string) string {
	t.Helper()
	rows, err := s.Query(context.Background(), sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", sql, rows.Err())
	}
	var v string
	if err := rows.Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
