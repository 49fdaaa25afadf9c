package chstoreextension

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// RetentionConfig says how long each table keeps its rows; 0 keeps them
// forever. Raw calls go first, coarse rollups last, so that long ranges stay
// answerable after the detail is gone.
type RetentionConfig struct {
	APICalls   time.Duration `mapstructure:"api_calls"`
	APICalls1m time.Duration `mapstructure:"api_calls_1m"`
	APICalls1h time.Duration `mapstructure:"api_calls_1h"`
	APICalls1d time.Duration `mapstructure:"api_calls_1d"`
}

func defaultRetention() RetentionConfig {
	const day = 24 * time.Hour
	return RetentionConfig{APICalls: 90 * day, APICalls1m: 30 * day, APICalls1h: 365 * day}
}

// ttlTarget is one table under a retention setting.
type ttlTarget struct {
	key, table, timeColumn string
	keep                   time.Duration
}

func (r RetentionConfig) targets() []ttlTarget {
	return []ttlTarget{
		{"retention.api_calls", "api_calls", "toDateTime(timestamp)", r.APICalls},
		{"retention.api_calls_1m", "api_calls_1m", "ts", r.APICalls1m},
		{"retention.api_calls_1h", "api_calls_1h", "ts", r.APICalls1h},
		{"retention.api_calls_1d", "api_calls_1d", "ts", r.APICalls1d},
	}
}

func (r RetentionConfig) validate() []error {
	var errs []error
	for _, t := range r.targets() {
		if t.keep < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative (0 keeps rows forever)", t.key))
		} else if t.keep > 0 && t.keep < time.Hour {
			errs = append(errs, fmt.Errorf("%s: %s is shorter than an hour; use 0 to keep rows forever", t.key, t.keep))
		}
	}
	return errs
}

// applyRetention sets each table's TTL to the configured retention. A TTL
// change rewrites old parts, so tables whose TTL already matches are left
// alone: restarts cost nothing.
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
		want := ""
		if t.keep > 0 {
			want = fmt.Sprintf("%s + toIntervalSecond(%d)", t.timeColumn, int64(t.keep/time.Second))
		}
		if normalizeTTL(current) == normalizeTTL(want) {
			continue
		}
		table := quoteIdent(s.Database()) + "." + quoteIdent(t.table)
		stmt := "ALTER TABLE " + table + onCluster + " MODIFY TTL " + want
		if want == "" {
			stmt = "ALTER TABLE " + table + onCluster + " REMOVE TTL"
		}
		if err := s.Exec(ctx, stmt, nil); err != nil {
			return fmt.Errorf("%s: set TTL of %s: %w", t.key, t.table, err)
		}
		logger.Info("table retention changed", zap.String("table", t.table), zap.Duration("keep", t.keep))
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
