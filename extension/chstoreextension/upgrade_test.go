package chstoreextension

import (
	"context"
	"strings"
	"testing"
)

// TestRollupsSkipTimesOutsideDateTime: a call timed where DateTime cannot
// go (after 2106, before 1970) stays out of the rollups rather than being
// counted in a wrapped year; calls inside the range are counted. (A call
// within a retention of 2106 is lost anyway: its TTL, ts + retention,
// wraps too and reads as expired.)
func TestRollupsSkipTimesOutsideDateTime(t *testing.T) {
	_, s := startEmbedded(t, "rollup_range", nil)
	if err := s.Exec(context.Background(), "INSERT INTO rollup_range.api_calls (timestamp, provider, model, span_id) VALUES "+
		"('2200-01-01 00:00:00', 'openai', 'far', 'a'), ('2106-02-07 06:28:16', 'openai', 'far', 'b'), "+
		"('1969-12-31 23:59:59', 'openai', 'far', 'c'), ('1900-01-01 00:00:00', 'openai', 'far', 'd'), "+
		"('2100-01-01 00:00:00', 'openai', 'edge', 'e'), (now64(9), 'openai', 'edge', 'f')", nil); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"api_calls_1m", "api_calls_1h", "api_calls_1d"} {
		got := scalar(t, s, "SELECT concat(toString(countIf(model = 'far')), ' ', toString(sumIf(calls, model = 'edge'))) FROM rollup_range."+table)
		if got != "0 2" {
			t.Errorf("%s: far-off rows, edge calls = %s; want 0 2", table, got)
		}
	}
}

// TestUpgradeKeepsData: a database migrated by an older build (up to 0005)
// holding calls is brought up to date in place: the rollups keep what they
// held, the views keep folding new calls in, with the range guard, and
// retried inserts count once from then on.
func TestUpgradeKeepsData(t *testing.T) {
	ext, s := startEmbedded(t, "upgrade_test", func(c *Config) { c.Migrate = false })
	ctx := context.Background()
	all, err := loadMigrations("upgrade_test", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, s, "", all[:5], ext.logger); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO upgrade_test.api_calls (timestamp, provider, model, span_id, input_tokens) VALUES " +
		"(now64(9) - INTERVAL 1 DAY, 'openai', 'm', 'a', 5), (now64(9), 'openai', 'm', 'b', 5)")
	exec("INSERT INTO upgrade_test.provider_health (ts, provider, up) VALUES (now64(3), 'openai', 1)")
	if got, want := callTotals(t, s, "upgrade_test"), totals(2, 10); got != want {
		t.Fatalf("before the upgrade: %s, want %s", got, want)
	}

	if err := migrate(ctx, s, "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if err := applyRetention(ctx, s, defaultRetention(), "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if got, want := callTotals(t, s, "upgrade_test"), totals(2, 10); got != want {
		t.Fatalf("after the upgrade: %s, want %s", got, want)
	}
	if n := scalar(t, s, "SELECT toString(count()) FROM upgrade_test.provider_health"); n != "1" {
		t.Fatalf("provider_health: %s rows after the upgrade", n)
	}
	for _, mv := range []string{"api_calls_1m_mv", "api_calls_1h_mv", "api_calls_1d_mv"} {
		q := scalar(t, s, "SELECT create_table_query FROM system.tables WHERE database = 'upgrade_test' AND name = '"+mv+"'")
		if !strings.Contains(q, "WHERE (timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC'))") && !strings.Contains(q, "WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC')") {
			t.Errorf("%s has no range guard after the upgrade: %s", mv, q)
		}
	}
	retriedInsertSelect(t, s, "upgrade_test")
	if got, want := callTotals(t, s, "upgrade_test"), totals(4, 24); got != want {
		t.Fatalf("after new calls: %s, want %s", got, want)
	}
}
