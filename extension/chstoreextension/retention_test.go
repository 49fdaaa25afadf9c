package chstoreextension

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/store"
)

// TestEveryTableHasRetention: each table the migrations create either has
// a retention key (and the default TTL for it) or is one of the tables kept
// for ever on purpose, so that a new table cannot grow unnoticed.
func TestEveryTableHasRetention(t *testing.T) {
	ext, s := startEmbedded(t, "ret_cover", nil)
	ctx := context.Background()
	rows, err := s.Query(ctx, "SELECT name FROM system.tables WHERE database = 'ret_cover' AND engine LIKE '%MergeTree' ORDER BY name", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	targets := map[string]ttlTarget{}
	for _, tt := range defaultRetention().targets() {
		targets[tt.table] = tt
	}
	for _, table := range tables {
		tt, ok := targets[table]
		if !ok {
			if !slices.Contains(keptForever, table) {
				t.Errorf("table %s has no retention key and is not listed as kept for ever", table)
			}
			continue
		}
		delete(targets, table)
		ttl, err := tableTTL(ctx, s, table)
		if err != nil {
			t.Fatal(err)
		}
		if normalizeTTL(ttl) != normalizeTTL(tt.ttl()) {
			t.Errorf("%s: TTL %q, want %q (%s = %v)", table, ttl, tt.ttl(), tt.key, tt.keep)
		}
	}
	for table := range targets {
		t.Errorf("retention key for %s, a table the migrations do not create", table)
	}

	// What the store tells writers.
	rr, ok := s.(store.RetentionReporter)
	if !ok {
		t.Fatal("the store does not report retention")
	}
	for table, want := range map[string]time.Duration{"api_calls": 90 * day, "api_calls_1d": 0,
		"provider_usage": 730 * day, "provider_gauges": 90 * day, "provider_health": 90 * day,
		"alert_events": 365 * day, "api_keys": 0, "budgets": 0} {
		for _, r := range []store.RetentionReporter{rr, ext} {
			if keep, ok := r.Retention(table); !ok || keep != want {
				t.Errorf("%T.Retention(%s) = %v, %v; want %v, true", r, table, keep, ok, want)
			}
		}
	}
	if _, ok := rr.Retention("nope"); ok {
		t.Error("Retention of an unknown table is known")
	}
	if _, ok := (&embeddedStore{}).Retention("api_calls"); ok {
		t.Error("a store the extension did not open reports retention")
	}
}

// TestRetentionChangeWarnsOfRowsThatGo: a retention that deletes rows the
// table holds says how many, of which table, before the horizon, once;
// the rows then go; a change that deletes nothing says nothing.
func TestRetentionChangeWarnsOfRowsThatGo(t *testing.T) {
	_, s := startEmbedded(t, "ret_warn", nil)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO ret_warn.provider_health (ts, provider, up) VALUES " +
		"(now64(3) - INTERVAL 10 DAY, 'openai', 1), (now64(3) - INTERVAL 9 DAY, 'openai', 1), (now64(3) - INTERVAL 8 DAY, 'exa', 0), " +
		"(now64(3) - INTERVAL 1 HOUR, 'openai', 1), (now64(3), 'exa', 1)")
	exec("INSERT INTO ret_warn.alert_events (id, at, version) VALUES ('e1', now64(3) - INTERVAL 40 DAY, now64(6)), ('e2', now64(3), now64(6))")
	core, logs := observer.New(zapcore.InfoLevel)
	logger := zap.New(core)

	cfg := defaultRetention()
	cfg.ProviderHealth = 7 * day
	cfg.AlertEvents = 30 * day
	cfg.ProviderGauges = 0 // longer (for ever): deletes nothing
	if err := applyRetention(ctx, s, cfg, "", logger); err != nil {
		t.Fatal(err)
	}
	warned := map[string]int64{}
	for _, e := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		f := e.ContextMap()
		warned[f["table"].(string)] = int64(f["rows"].(uint64))
		h, ok := f["horizon"].(time.Time)
		if !ok || f["key"] != "retention."+f["table"].(string) {
			t.Errorf("warning without horizon or key: %v", f)
		}
		if want := time.Now().Add(-cfg.ProviderHealth); f["table"] == "provider_health" && (h.Before(want.Add(-time.Minute)) || h.After(want)) {
			t.Errorf("provider_health horizon %v, want about %v", h, want)
		}
	}
	if len(warned) != 2 || warned["provider_health"] != 3 || warned["alert_events"] != 1 {
		t.Fatalf("warnings: %v, want provider_health 3 and alert_events 1", warned)
	}
	// The rows counted are the rows that go.
	for table, want := range map[string]string{"provider_health": "2", "alert_events": "1"} {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			exec("OPTIMIZE TABLE ret_warn." + table + " FINAL")
			n := scalar(t, s, "SELECT toString(count()) FROM ret_warn."+table)
			if n == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s rows left, want %s", table, n, want)
			}
		}
	}
	// Once: the same settings again change and say nothing.
	logs.TakeAll()
	if err := applyRetention(ctx, s, cfg, "", logger); err != nil {
		t.Fatal(err)
	}
	if n := logs.Len(); n != 0 {
		t.Fatalf("re-applying the same retention logged %d entries: %v", n, logs.All())
	}
	// Longer again: a change, nothing to delete, no warning.
	cfg.ProviderHealth = 30 * day
	if err := applyRetention(ctx, s, cfg, "", logger); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != 0 || logs.Len() != 1 {
		t.Fatalf("lengthening: %v", logs.All())
	}
}

func TestRetentionConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	// The defaults the README documents.
	if want := (RetentionConfig{APICalls: 2160 * time.Hour, APICalls1m: 720 * time.Hour, APICalls1h: 8760 * time.Hour,
		APICallsCustomer1d: 9600 * time.Hour, APICallsUser1d: 9600 * time.Hour, APICallsTag1d: 9600 * time.Hour,
		APICallsCustomer1h: 768 * time.Hour, APICallsUser1h: 768 * time.Hour, APICallsByCustomer: 768 * time.Hour, APICallsByUser: 768 * time.Hour, AuditLog: 730 * day, Sessions: 30 * day,
		ProviderUsage: 17520 * time.Hour, ProviderGauges: 2160 * time.Hour, ProviderHealth: 2160 * time.Hour,
		AlertEvents: 8760 * time.Hour, BudgetEvents: 8760 * time.Hour, PriceSyncs: 2160 * time.Hour}); cfg.Retention != want {
		t.Fatalf("default retention: %+v, want %+v", cfg.Retention, want)
	}
	cfg, err = loadConfig(t, "retention")
	if err != nil {
		t.Fatal(err)
	}
	want := RetentionConfig{APICalls: 30 * day, APICalls1m: 7 * day, APICalls1h: 90 * day, APICalls1d: 0,
		APICallsCustomer1d: 60 * day, APICallsUser1d: 30 * day, APICallsTag1d: 90 * day,
		APICallsCustomer1h: 7 * day, APICallsUser1h: 7 * day, APICallsByCustomer: 7 * day, APICallsByUser: 3 * day, ProviderUsage: 0, ProviderGauges: 14 * day, ProviderHealth: 14 * day, AlertEvents: 2 * 365 * day,
		BudgetEvents: 30 * day, PriceSyncs: 7 * day, AuditLog: 365 * day, Sessions: 7 * day}
	if cfg.Retention != want {
		t.Fatalf("retention: %+v, want %+v", cfg.Retention, want)
	}
	// Keys left out keep their defaults, as documented.
	cfg, err = loadConfig(t, "retention_partial")
	if err != nil {
		t.Fatal(err)
	}
	want = defaultRetention()
	want.ProviderHealth = 0
	if cfg.Retention != want {
		t.Fatalf("partial retention: %+v, want %+v", cfg.Retention, want)
	}
	_, err = loadConfig(t, "bad_retention")
	for _, msg := range []string{
		"retention.api_calls: must not be negative",
		"retention.api_calls_1m: 5m0s is shorter than an hour",
		"retention.provider_usage: must not be negative",
		"retention.provider_gauges: 30m0s is shorter than an hour",
		"retention.provider_health: 1h0m0.5s is not a whole number of seconds",
		"retention.alert_events: must not be negative",
	} {
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("bad_retention: error %v does not say %q", err, msg)
		}
	}
}
