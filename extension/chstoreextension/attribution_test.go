package chstoreextension

import (
	"context"
	"fmt"
	"testing"
)

// The attribution columns and skip indexes as system tables show them.
const attributionColumnsQuery = "SELECT arrayStringConcat(groupArray(concat(name, ' ', type)), '; ') FROM " +
	"(SELECT name, type FROM system.columns WHERE database = '%s' AND table = 'api_calls' " +
	"AND name IN ('customer', 'user', 'team', 'feature', 'tags') ORDER BY name)"

const attributionIndexesQuery = "SELECT arrayStringConcat(groupArray(concat(name, ' ', type_full, ' ', expr)), '; ') FROM " +
	"(SELECT name, type_full, expr FROM system.data_skipping_indices WHERE database = '%s' AND table = 'api_calls' " +
	"AND name IN ('idx_customer', 'idx_user') ORDER BY name)"

const wantAttributionColumns = "customer String; feature LowCardinality(String); tags Map(LowCardinality(String), String); " +
	"team LowCardinality(String); user String"

const wantAttributionIndexes = "idx_customer bloom_filter(0.01) customer; idx_user bloom_filter(0.01) user"

// TestAttributionColumnsOnFreshDatabase: a new database has the columns
// with the chosen types and the bloom filter indexes on customer and user.
func TestAttributionColumnsOnFreshDatabase(t *testing.T) {
	_, s := startEmbedded(t, "attr_fresh", nil)
	if got := scalar(t, s, fmt.Sprintf(attributionColumnsQuery, "attr_fresh")); got != wantAttributionColumns {
		t.Errorf("columns: %s\nwant      %s", got, wantAttributionColumns)
	}
	if got := scalar(t, s, fmt.Sprintf(attributionIndexesQuery, "attr_fresh")); got != wantAttributionIndexes {
		t.Errorf("indexes: %s\nwant      %s", got, wantAttributionIndexes)
	}
	ctx := context.Background()
	if err := s.Exec(ctx, "INSERT INTO attr_fresh.api_calls (timestamp, provider, span_id, customer, user, team, feature, tags) VALUES "+
		"(now64(9), 'openai', 'a', 'acme', 'u1', 'search', 'autocomplete', map('env', 'prod')), (now64(9), 'openai', 'b', '', '', '', '', map())", nil); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, s, "SELECT concat(toString(countIf(customer = 'acme')), ' ', toString(countIf(user = '')), ' ', "+
		"toString(countIf(tags['env'] = 'prod'))) FROM attr_fresh.api_calls"); got != "1 1 1" {
		t.Fatalf("acme, no user, env=prod = %s, want 1 1 1", got)
	}
}

// TestAttributionUpgradeKeepsData: a database migrated by an older build
// (through 0009, the last before attribution) holding calls gains the
// columns in place: old rows read empty dimensions, the rollups keep their
// totals, and new rows carry their dimensions.
func TestAttributionUpgradeKeepsData(t *testing.T) {
	ext, s := startEmbedded(t, "attr_upgrade", func(c *Config) { c.Migrate = false })
	ctx := context.Background()
	all, err := loadMigrations("attr_upgrade", "")
	if err != nil {
		t.Fatal(err)
	}
	older := 0
	for older < len(all) && all[older].version < 10 {
		older++
	}
	if err := applyMigrations(ctx, s, "", all[:older], ext.logger); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO attr_upgrade.api_calls (timestamp, provider, model, span_id, input_tokens) VALUES " +
		"(now64(9) - INTERVAL 1 DAY, 'openai', 'm', 'a', 5), (now64(9), 'openai', 'm', 'b', 5)")
	if err := migrate(ctx, s, "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if got, want := callTotals(t, s, "attr_upgrade"), totals(2, 10); got != want {
		t.Fatalf("after the upgrade: %s, want %s", got, want)
	}
	if got := scalar(t, s, fmt.Sprintf(attributionColumnsQuery, "attr_upgrade")); got != wantAttributionColumns {
		t.Errorf("columns: %s\nwant      %s", got, wantAttributionColumns)
	}
	if got := scalar(t, s, fmt.Sprintf(attributionIndexesQuery, "attr_upgrade")); got != wantAttributionIndexes {
		t.Errorf("indexes: %s\nwant      %s", got, wantAttributionIndexes)
	}
	if got := scalar(t, s, "SELECT toString(countIf(customer = '' AND user = '' AND team = '' AND feature = '' AND empty(tags))) FROM attr_upgrade.api_calls"); got != "2" {
		t.Fatalf("old rows with empty dimensions: %s, want 2", got)
	}
	exec("INSERT INTO attr_upgrade.api_calls (timestamp, provider, model, span_id, input_tokens, customer) VALUES (now64(9), 'openai', 'm', 'c', 7, 'acme')")
	if got := scalar(t, s, "SELECT toString(sum(input_tokens)) FROM attr_upgrade.api_calls WHERE customer = 'acme'"); got != "7" {
		t.Fatalf("acme's tokens after the upgrade: %s, want 7", got)
	}
	// Running the migrations again changes nothing (IF NOT EXISTS).
	if err := migrate(ctx, s, "", ext.logger); err != nil {
		t.Fatal(err)
	}
}
