package nexusapiextension

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The limits below bound what one client, one key or one rule can make
// this extension hold: memory, store capacity, connections, notifications.

// FailedAuthConfig throttles failed authentications per client address, so
// that keys cannot be guessed at the request rate.
type FailedAuthConfig struct {
	// Max failed authentications an address may make per Window before it
	// is answered 429 (token bucket: Max at once, refilled over Window).
	Max int `mapstructure:"max"`
	// Window is how long Max failures take to be forgiven.
	Window time.Duration `mapstructure:"window"`
	// MaxAddresses bounds how many addresses are remembered; the least
	// recently seen is forgotten first, so a flood of addresses costs
	// bounded memory.
	MaxAddresses int `mapstructure:"max_addresses"`
}

// ReadsConfig is the API's budget of concurrent store reads (GET
// requests). The store's read connections also serve the alert evaluator:
// the API never holds more than MaxConcurrent of them, and one key never
// more than MaxPerKey.
type ReadsConfig struct {
	// MaxConcurrent requests reading the store at once, over all keys.
	// Keep it below the store's read pool (chstore's
	// embedded.read_connections, 2 by default), so that the evaluator
	// always finds a connection.
	MaxConcurrent int `mapstructure:"max_concurrent"`
	// MaxPerKey requests of one key reading at once; more wait, then
	// answer 429.
	MaxPerKey int `mapstructure:"max_per_key"`
	// MaxWait is how long a request waits for a read slot (never beyond
	// its request_timeout) before it answers 429 (its key's share is
	// taken) or 503 (the API's is).
	MaxWait time.Duration `mapstructure:"max_wait"`
}

// StreamConfig bounds open live streams.
type StreamConfig struct {
	// MaxPerKey open streams of one key; more answer 429.
	MaxPerKey int `mapstructure:"max_per_key"`
	// MaxTotal open streams on this collector; more answer 429.
	MaxTotal int `mapstructure:"max_total"`
}

const (
	defaultKeysRefresh     = 3 * time.Second
	defaultRequestTimeout  = 30 * time.Second
	adminKeyFileName       = "admin.key"
	defaultDataDir         = "./data"
	dataDirEnv             = "NEXUS_DATA_DIR"
	minKeysRefreshInterval = 100 * time.Millisecond
)

func defaultFailedAuth() FailedAuthConfig {
	return FailedAuthConfig{Max: 10, Window: time.Minute, MaxAddresses: 10000}
}

func defaultReads() ReadsConfig {
	// One below the embedded store's two read connections.
	return ReadsConfig{MaxConcurrent: 1, MaxPerKey: 1, MaxWait: 10 * time.Second}
}

func defaultStream() StreamConfig { return StreamConfig{MaxPerKey: 4, MaxTotal: 1000} }

// validateLimits checks the limits; each error names its key.
func (cfg *Config) validateLimits() error {
	var errs []error
	fa := cfg.RateLimit.FailedAuth
	if fa.Max < 1 {
		errs = append(errs, errors.New("rate_limit.failed_auth.max: must be at least 1"))
	}
	if fa.Window < time.Second {
		errs = append(errs, errors.New("rate_limit.failed_auth.window: must be at least 1s"))
	}
	if fa.MaxAddresses < 1 {
		errs = append(errs, errors.New("rate_limit.failed_auth.max_addresses: must be at least 1"))
	}
	if cfg.KeysRefreshInterval < minKeysRefreshInterval {
		errs = append(errs, errors.New("keys_refresh_interval: must be at least 100ms"))
	}
	if cfg.RequestTimeout < time.Second {
		errs = append(errs, errors.New("request_timeout: must be at least 1s"))
	}
	if cfg.Reads.MaxConcurrent < 1 {
		errs = append(errs, errors.New("reads.max_concurrent: must be at least 1"))
	}
	if cfg.Reads.MaxPerKey < 1 || cfg.Reads.MaxPerKey > cfg.Reads.MaxConcurrent {
		errs = append(errs, fmt.Errorf("reads.max_per_key: must be from 1 to reads.max_concurrent (%d)", cfg.Reads.MaxConcurrent))
	}
	if cfg.Reads.MaxWait < 0 {
		errs = append(errs, errors.New("reads.max_wait: must not be negative"))
	}
	if cfg.Stream.MaxTotal < 1 {
		errs = append(errs, errors.New("stream.max_total: must be at least 1"))
	}
	if cfg.Stream.MaxPerKey < 1 || cfg.Stream.MaxPerKey > cfg.Stream.MaxTotal {
		errs = append(errs, fmt.Errorf("stream.max_per_key: must be from 1 to stream.max_total (%d)", cfg.Stream.MaxTotal))
	}
	return errors.Join(errs...)
}

// adminKeyPath is where a generated admin key is written: admin_key_file,
// or admin.key in $NEXUS_DATA_DIR (./data without it), the directory the
// shipped configs keep the store and the queue in.
func (cfg *Config) adminKeyPath() string {
	if cfg.AdminKeyFile != "" {
		return cfg.AdminKeyFile
	}
	dir := os.Getenv(dataDirEnv)
	if dir == "" {
		dir = defaultDataDir
	}
	return filepath.Join(dir, adminKeyFileName)
}
