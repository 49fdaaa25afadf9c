// Package pricebook is the pricing catalog as it changes at run time: the
// price lists added through the API (one tenant's negotiated rates) and
// those a sync keeps for every tenant (OpenRouter's published prices), on
// top of the catalog built into the binary and the config's overrides.
//
// The lists live in the prices table, so every collector of an
// installation sees the same ones: a Watcher reads them again when the
// table changes and hands out each tenant's catalog, whose version names
// the lists it holds (stored with every call it prices). Calls stored
// before a list was added keep their cost until re-priced (reprice.go).
package pricebook

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Table is the run-time price lists' table (migration 0018).
const Table = "prices"

// Sources of a price list.
const (
	SourceBuiltin    = "builtin"    // the catalog in the binary
	SourceConfig     = "config"     // the cost processor's pricing overrides
	SourceTenant     = "tenant"     // added through the API, for one tenant
	SourceOpenRouter = "openrouter" // OpenRouter's model list, for every tenant
)

// AllTenants is the tenant of lists that apply to every tenant.
const AllTenants = ""

// List is one price list of the catalog with where it came from.
type List struct {
	pricing.Entry
	// Source is one of the Source constants.
	Source string `json:"source"`
	// Tenant is the tenant a run-time list is for, AllTenants for a
	// synced one; empty for built-in and config lists.
	Tenant  string    `json:"tenant,omitempty"`
	AddedAt time.Time `json:"addedAt,omitzero"`
	AddedBy string    `json:"addedBy,omitempty"`
}

// columns is the order of every read and write of the table.
var columns = []string{"tenant", "source", "provider", "model", "operation", "country", "effective", "prices", "credits",
	"added_at", "added_by"}

// write stores lists (each a whole row: one with the same key and date
// replaces the earlier).
func write(ctx context.Context, s store.Store, lists []List) error {
	if len(lists) == 0 {
		return nil
	}
	b, err := s.PrepareBatch(ctx, Table, columns)
	if err != nil {
		return fmt.Errorf("prepare price lists insert: %w", err)
	}
	for _, l := range lists {
		eff, err := time.Parse(time.DateOnly, l.Effective)
		if err != nil {
			_ = b.Abort()
			return fmt.Errorf("price list %s %s%s: effective %q: %w", l.Provider, l.Model, l.Operation, l.Effective, err)
		}
		prices := l.Prices
		if prices == nil {
			prices = map[string]string{}
		}
		if err := b.Append(l.Tenant, l.Source, l.Provider, l.Model, l.Operation, l.Country, eff, prices, l.Credits,
			l.AddedAt.UTC(), l.AddedBy); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append price list: %w", err)
		}
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("store %d price lists: %w", len(lists), err)
	}
	return nil
}

// readAll reads every run-time list, oldest added first.
func readAll(ctx context.Context, s store.Store) ([]List, error) {
	rows, err := s.Query(ctx, "SELECT tenant, source, provider, model, operation, country, toString(effective), prices, credits, added_at, added_by FROM "+
		schema.Table(s, Table)+" FINAL ORDER BY added_at, tenant, source, provider, model, operation, country, effective", nil)
	if err != nil {
		return nil, fmt.Errorf("read price lists: %w", err)
	}
	defer rows.Close()
	var out []List
	for rows.Next() {
		var l List
		if err := rows.Scan(&l.Tenant, &l.Source, &l.Provider, &l.Model, &l.Operation, &l.Country, &l.Effective, &l.Prices,
			&l.Credits, &l.AddedAt, &l.AddedBy); err != nil {
			return nil, fmt.Errorf("read price lists: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read price lists: %w", err)
	}
	return out, nil
}

// stamp reads what tells that the table changed: its row count and its
// newest list (a merge lowers the count without a change: one harmless
// reload).
func stamp(ctx context.Context, s store.Store) (string, error) {
	rows, err := s.Query(ctx, "SELECT toString(count()) || '/' || toString(max(added_at)) FROM "+schema.Table(s, Table), nil)
	if err != nil {
		return "", fmt.Errorf("read price lists' state: %w", err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("read price lists' state: %w", err)
		}
	}
	return v, rows.Err()
}

// AddRequest is a price list added through the API.
type AddRequest struct {
	pricing.Entry
	// Force lets the list change prices already in effect (a date before
	// now for a key that has a price then): history is rewritten for the
	// calls priced from now on and for those re-priced.
	Force bool
}

// Add checks and stores a tenant's price list. It is refused, field by
// field, when the catalog would refuse it, and when it would change a
// price already in effect without Force. base is the tenant's catalog as
// it is (Watcher.Catalog).
func Add(ctx context.Context, s store.Store, base *pricing.Catalog, tenant, by string, req AddRequest, now time.Time) (List, error) {
	if probs := base.CheckEntry(req.Entry); len(probs) > 0 {
		fields := make([]domainerr.Field, len(probs))
		for i, p := range probs {
			fields[i] = domainerr.Field{Field: p.Field, Message: p.Message}
		}
		return List{}, domainerr.Invalid("invalid price list", fields...)
	}
	l := List{Entry: normal(req.Entry), Source: SourceTenant, Tenant: tenant, AddedAt: now.UTC().Truncate(time.Millisecond), AddedBy: by}
	if !req.Force {
		if eff, in := rewrites(base, l.Entry, now); in != "" {
			return List{}, domainerr.Invalid("the price list changes prices already in effect",
				domainerr.Field{Field: "effective", Message: fmt.Sprintf("%s is before now and the list effective %s already prices %s %s then: "+
					"choose a later date, or send force: true to rewrite that history", eff, in, l.Provider, l.Model+l.Operation)})
		}
	}
	if err := write(ctx, s, []List{l}); err != nil {
		return List{}, err
	}
	return l, nil
}

// rewrites tells whether e, effective before now, would replace a price
// that applies at now: the list in effect now for e's key then covers part
// of [e.Effective, now). It returns e's date and that list's.
func rewrites(c *pricing.Catalog, e pricing.Entry, now time.Time) (string, string) {
	eff, err := time.Parse(time.DateOnly, e.Effective)
	if err != nil || !eff.Before(now) {
		return "", ""
	}
	today := now.UTC().Format(time.DateOnly)
	inEffect := ""
	for _, o := range c.Entries() {
		if sameKey(o, e) && o.Effective <= today && o.Effective > inEffect {
			inEffect = o.Effective
		}
	}
	return e.Effective, inEffect
}

func sameKey(a, b pricing.Entry) bool {
	return a.Provider == b.Provider && a.Model == b.Model && a.Operation == b.Operation && a.Country == b.Country
}

// normal is e as the catalog keys it: lowercase keys, trimmed values.
func normal(e pricing.Entry) pricing.Entry {
	low := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	out := pricing.Entry{Provider: low(e.Provider), Model: low(e.Model), Operation: strings.Trim(low(e.Operation), "/"),
		Country: low(e.Country), Effective: strings.TrimSpace(e.Effective), Credits: strings.TrimSpace(e.Credits)}
	if len(e.Prices) > 0 {
		out.Prices = make(map[string]string, len(e.Prices))
		for u, p := range e.Prices {
			out.Prices[strings.TrimSpace(u)] = strings.TrimSpace(p)
		}
	}
	return out
}

// sortLists orders lists by provider, key, country, then newest effective
// date first: how a person reads a price history.
func sortLists(ls []List) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if ka, kb := a.Model+a.Operation, b.Model+b.Operation; ka != kb {
			return ka < kb
		}
		if a.Country != b.Country {
			return a.Country < b.Country
		}
		return a.Effective > b.Effective
	})
}
