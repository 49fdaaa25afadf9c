package chstoreextension

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// RetentionConfig says how long each table that grows keeps its rows; 0
// keeps them forever. Raw calls go first, coarse rollups last, so that long
// ranges stay answerable after the detail is gone. Every growing table has
// a key here, so that nothing grows without a say in the config; the tables
// that hold configuration and state (keptForever) have none.
type RetentionConfig struct {
	APICalls   time.Duration `mapstructure:"api_calls"`
	APICalls1m time.Duration `mapstructure:"api_calls_1m"`
	APICalls1h time.Duration `mapstructure:"api_calls_1h"`
	APICalls1d time.Duration `mapstructure:"api_calls_1d"`
	// The daily rollups by customer, user and tag hold who a call was
	// for: personal data, kept only as long as a year-over-year view needs.
	APICallsCustomer1d time.Duration `mapstructure:"api_calls_customer_1d"`
	APICallsUser1d     time.Duration `mapstructure:"api_calls_user_1d"`
	APICallsTag1d      time.Duration `mapstructure:"api_calls_tag_1d"`
	// Their hours only answer the partial days at a range's ends: kept a
	// month and a day, older edges read raw calls.
	APICallsCustomer1h time.Duration `mapstructure:"api_calls_customer_1h"`
	APICallsUser1h     time.Duration `mapstructure:"api_calls_user_1h"`
	// The recent raw calls by customer and by user answer the partial
	// hours at a range's ends, kept as long as the hours.
	APICallsByCustomer time.Duration `mapstructure:"api_calls_by_customer"`
	APICallsByUser     time.Duration `mapstructure:"api_calls_by_user"`
	ProviderUsage      time.Duration `mapstructure:"provider_usage"`
	ProviderGauges     time.Duration `mapstructure:"provider_gauges"`
	ProviderHealth     time.Duration `mapstructure:"provider_health"`
	AlertEvents        time.Duration `mapstructure:"alert_events"`
	// What the proxy did about budgets, call by call; holds who a call
	// was for.
	BudgetEvents time.Duration `mapstructure:"budget_events"`
	// Each run of a price sync (its health on /providers).
	PriceSyncs time.Duration `mapstructure:"price_syncs"`
	// The audit trail is evidence: nothing deletes an entry before this.
	AuditLog time.Duration `mapstructure:"audit_log"`
	// Sessions leave this long after they expired.
	Sessions time.Duration `mapstructure:"sessions"`
}

// day is the unit the defaults are thought in.
const day = 24 * time.Hour

// defaultRetention is what a config without a retention block gets; the
// README's table says the same.
func defaultRetention() RetentionConfig {
	return RetentionConfig{
		APICalls:           90 * day,
		APICalls1m:         30 * day,
		APICalls1h:         365 * day,
		APICalls1d:         0, // the day rollup is what answers "since the beginning"
		APICallsCustomer1d: 400 * day,
		APICallsUser1d:     400 * day,
		APICallsTag1d:      400 * day,
		APICallsCustomer1h: 32 * day,
		APICallsUser1h:     32 * day,
		APICallsByCustomer: 32 * day,
		APICallsByUser:     32 * day,
		// What providers billed: small (a row per bucket and line item)
		// and the reference for reconciliation, so kept two years.
		ProviderUsage: 730 * day,
		// Polled every interval per provider: as detailed as raw calls.
		ProviderGauges: 90 * day,
		ProviderHealth: 90 * day,
		// A year of alert history. The evaluator recovers its state from
		// an instance's latest event: one whose events are all older is
		// forgotten, and announced afresh if its condition still holds.
		AlertEvents:  365 * day,
		AuditLog:     730 * day,
		Sessions:     30 * day,
		BudgetEvents: 365 * day,
		PriceSyncs:   90 * day,
	}
}

// keptForever are the tables without retention: configuration (keys,
// budgets, rules, price lists) and the migration record. Deleting their old rows would
// revoke keys, drop budgets or re-run migrations, not age out history.
var keptForever = []string{"api_keys", "budgets", "alert_rules", "schema_migrations", "tenants", "ingest_keys",
	"users", "provider_credentials", "prices"}

// ttlTarget is one table under a retention setting.
type ttlTarget struct {
	key, table string
	// column is the row's time as stored; ttlExpr is column as the Date or
	// DateTime a TTL needs (DateTime64 columns are converted).
	column, ttlExpr string
	keep            time.Duration
}

func (r RetentionConfig) targets() []ttlTarget {
	// dt is a DateTime column; dt64 a DateTime64 one, which a TTL takes
	// converted (the exporter keeps times inside DateTime's range).
	dt := func(key, column string, keep time.Duration) ttlTarget {
		return ttlTarget{key: "retention." + key, table: key, column: column, ttlExpr: column, keep: keep}
	}
	dt64 := func(key, column string, keep time.Duration) ttlTarget {
		t := dt(key, column, keep)
		t.ttlExpr = "toDateTime(" + column + ")"
		return t
	}
	return []ttlTarget{
		dt64("api_calls", "timestamp", r.APICalls),
		dt("api_calls_1m", "ts", r.APICalls1m),
		dt("api_calls_1h", "ts", r.APICalls1h),
		dt("api_calls_1d", "ts", r.APICalls1d),
		dt("api_calls_customer_1d", "ts", r.APICallsCustomer1d),
		dt("api_calls_user_1d", "ts", r.APICallsUser1d),
		dt("api_calls_tag_1d", "ts", r.APICallsTag1d),
		dt("api_calls_customer_1h", "ts", r.APICallsCustomer1h),
		dt("api_calls_user_1h", "ts", r.APICallsUser1h),
		dt64("api_calls_by_customer", "timestamp", r.APICallsByCustomer),
		dt64("api_calls_by_user", "timestamp", r.APICallsByUser),
		dt("provider_usage", "bucket_start", r.ProviderUsage),
		dt64("provider_gauges", "ts", r.ProviderGauges),
		dt64("provider_health", "ts", r.ProviderHealth),
		dt64("alert_events", "at", r.AlertEvents),
		dt64("budget_events", "timestamp", r.BudgetEvents),
		dt64("price_syncs", "at", r.PriceSyncs),
		dt64("audit_log", "at", r.AuditLog),
		dt64("sessions", "expires_at", r.Sessions),
	}
}

// lookup is how long table keeps rows (0: forever); false for a table that
// is not Nexus's.
func (r RetentionConfig) lookup(table string) (time.Duration, bool) {
	for _, t := range r.targets() {
		if t.table == table {
			return t.keep, true
		}
	}
	for _, name := range keptForever {
		if name == table {
			return 0, true
		}
	}
	return 0, false
}

func (r RetentionConfig) validate() []error {
	var errs []error
	for _, t := range r.targets() {
		if t.keep < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative (0 keeps rows forever)", t.key))
		} else if t.keep > 0 && t.keep < time.Hour {
			errs = append(errs, fmt.Errorf("%s: %s is shorter than an hour; use 0 to keep rows forever", t.key, t.keep))
		} else if t.keep%time.Second != 0 {
			// The TTL is written in whole seconds; a fraction would make it
			// differ from the config at every start and rewrite the table.
			errs = append(errs, fmt.Errorf("%s: %s is not a whole number of seconds", t.key, t.keep))
		}
	}
	return errs
}

// ttl is the TTL expression the table should have ("" for none). The API
// reads horizons back from this form (column + toIntervalSecond(n)).
func (t ttlTarget) ttl() string {
	if t.keep <= 0 {
		return ""
	}
	return fmt.Sprintf("%s + toIntervalSecond(%d)", t.ttlExpr, int64(t.keep/time.Second))
}

// applyRetention sets each table's TTL to the configured retention. A TTL
// change rewrites old parts, so tables whose TTL already matches are left
// alone: restarts cost nothing. Before a TTL that deletes rows the table
// holds, it says how many will go: a retention block removed or shortened
// by mistake then shows in the log before the next merge acts on it.
func applyRetention(ctx context.Context, s store.Store, cfg RetentionConfig, cluster string, logger *zap.Logger) error {
	onCluster := ""
	if cluster != "" {
		onCluster = " ON CLUSTER " + quoteIdent(cluster)
	}
	for _, t := range cfg.targets() {
		current, err := tableTTL(ctx, s, t.table)
		if err != nil {
			return err
		}
		want := t.ttl()
		if normalizeTTL(current) == normalizeTTL(want) {
			continue
		}
		table := quoteIdent(s.Database()) + "." + quoteIdent(t.table)
		if want != "" {
			if err := warnExpiring(ctx, s, t, table, logger); err != nil {
				return err
			}
		}
		stmt := "ALTER TABLE " + table + onCluster + " MODIFY TTL " + want
		if want == "" {
			stmt = "ALTER TABLE " + table + onCluster + " REMOVE TTL"
		}
		if err := s.Exec(ctx, stmt, nil); err != nil {
			return fmt.Errorf("%s: set TTL of %s: %w", t.key, t.table, err)
		}
		logger.Info("table retention changed", zap.String("table", t.table), zap.String("key", t.key),
			zap.Duration("keep", t.keep), zap.String("previous_ttl", current))
	}
	return nil
}

// warnExpiring counts the rows older than the new horizon, which the new
// TTL deletes (at once on the rewrite of old parts that MODIFY TTL starts,
// else at the next merge), and logs them when there are any.
func warnExpiring(ctx context.Context, s store.Store, t ttlTarget, table string, logger *zap.Logger) error {
	horizon := time.Now().Add(-t.keep).UTC().Truncate(time.Second)
	rows, err := s.Query(ctx, "SELECT toString(count()) FROM "+table+" WHERE "+quoteIdent(t.column)+" < {h:DateTime('UTC')}",
		store.Params{"h": horizon.Format(time.DateTime)})
	if err != nil {
		return fmt.Errorf("%s: count rows older than %s in %s: %w", t.key, horizon.Format(time.RFC3339), t.table, err)
	}
	defer rows.Close()
	var text string
	if rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	n, _ := strconv.ParseUint(text, 10, 64)
	if n > 0 {
		logger.Warn("retention change deletes existing rows: set the key to keep them",
			zap.String("table", t.table), zap.String("key", t.key), zap.Uint64("rows", n),
			zap.Time("horizon", horizon), zap.Duration("keep", t.keep))
	}
	return nil
}

// tableTTL reads the TTL expression of a table from its engine definition
// ("" when it has none).
func tableTTL(ctx context.Context, s store.Store, table string) (string, error) {
	rows, err := s.Query(ctx, "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
		store.Params{"db": s.Database(), "t": table})
	if err != nil {
		return "", fmt.Errorf("read TTL of %s: %w", table, err)
	}
	defer rows.Close()
	var engine string
	if rows.Next() {
		if err := rows.Scan(&engine); err != nil {
			return "", err
		}
	}
	i := strings.Index(engine, " TTL ")
	if i < 0 {
		return "", rows.Err()
	}
	ttl := engine[i+len(" TTL "):]
	if j := strings.Index(ttl, " SETTINGS "); j >= 0 {
		ttl = ttl[:j]
	}
	return ttl, rows.Err()
}

// normalizeTTL makes the engine's rendering of a TTL comparable with ours.
func normalizeTTL(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "`", "")), "")
}
