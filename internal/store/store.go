// Package store is the contract between the chstore extension, which owns the
// ClickHouse connection, and the components that read or write through it
// (exporters, the API). Components depend on this package only, never on how
// the store is reached (embedded engine or remote server), the same way
// contrib components depend on xextension/storage rather than on filestorage.
package store

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
)

// Store reads and writes the Nexus database. The same SQL runs in every mode;
// parameters use ClickHouse's server-side {name:Type} placeholders and are
// never spliced into query text.
type Store interface {
	// Database is the database that holds the Nexus tables ("nexus").
	Database() string
	// Exec runs a statement that returns no rows (DDL, ALTER, INSERT … SELECT).
	Exec(ctx context.Context, query string, params Params) error
	// Query runs a statement and returns its rows.
	Query(ctx context.Context, query string, params Params) (Rows, error)
	// PrepareBatch starts an insert of columns into table (unqualified name,
	// inside Database). Values are appended in column order. The insert
	// runs with the settings ctx carries (WithInsertSettings), e.g. a
	// de-duplication token.
	PrepareBatch(ctx context.Context, table string, columns []string) (Batch, error)
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}

// Params binds {name:Type} placeholders; values are in ClickHouse's text
// form for the placeholder's type ("42", "2026-01-02 03:04:05.123456789").
type Params map[string]string

// Rows is a query result read row by row; its shape is clickhouse-go's
// driver.Rows so that both modes scan into the same Go types: String into
// *string, (U)IntN into *(u)intN, Float64 into *float64, DateTime64 into
// *time.Time, Decimal into *decimal.Decimal, Map(String, String) into
// *map[string]string.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Columns() []string
	Err() error
	Close() error
}

// Batch collects rows for one insert; Send writes them all or none.
type Batch interface {
	Append(values ...any) error
	Rows() int
	Send(ctx context.Context) error
	// Abort drops the rows without sending them.
	Abort() error
}

// Provider is implemented by the extension that owns the store.
type Provider interface {
	component.Component
	Store() Store
}

// ErrNotProvider is returned when the referenced extension is not a store.
var ErrNotProvider = errors.New("extension is not a Nexus store (chstore)")

// FromHost finds the store extension id among host's extensions.
func FromHost(host component.Host, id component.ID) (Store, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("store extension %q not found: add it under extensions: and service.extensions", id)
	}
	p, ok := ext.(Provider)
	if !ok {
		return nil, fmt.Errorf("%q: %w", id, ErrNotProvider)
	}
	return p.Store(), nil
}
