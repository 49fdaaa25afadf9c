package chstoreextension

import (
	"context"
	"fmt"
	"sync"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/codec"
	"github.com/nexus-otel/nexus/internal/store"
)

// columnCache knows (once per table) the types a table declares, so that a
// batch checks and encodes exactly what the table expects, in either mode.
type columnCache struct {
	mu      sync.Mutex
	byTable map[string]map[string]codec.Type // table -> column -> type
}

// types returns the types of columns of db.table, read through s.
func (c *columnCache) types(ctx context.Context, s store.Store, db, table string, columns []string) ([]codec.Type, error) {
	c.mu.Lock()
	known := c.byTable[table]
	c.mu.Unlock()
	if known == nil {
		rows, err := s.Query(ctx, "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}",
			store.Params{"db": db, "t": table})
		if err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", db, table, err)
		}
		defer rows.Close()
		known = map[string]codec.Type{}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				return nil, fmt.Errorf("read columns of %s.%s: %w", db, table, err)
			}
			t, err := codec.ParseType(typ)
			if err != nil {
				return nil, fmt.Errorf("column %s.%s: %w", table, name, err)
			}
			known[name] = t
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(known) == 0 {
			return nil, fmt.Errorf("table %s.%s does not exist", db, table)
		}
		c.mu.Lock()
		if c.byTable == nil {
			c.byTable = map[string]map[string]codec.Type{}
		}
		c.byTable[table] = known
		c.mu.Unlock()
	}
	out := make([]codec.Type, len(columns))
	for i, col := range columns {
		t, ok := known[col]
		if !ok {
			return nil, fmt.Errorf("table %s.%s has no column %q", db, table, col)
		}
		out[i] = t
	}
	return out, nil
}
