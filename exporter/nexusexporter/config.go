package nexusexporter

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config configures the nexus exporter.
type Config struct {
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueConfig buffers data while the store is slow or down; with
	// `storage: file_storage` it survives restarts.
	QueueConfig               configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// Store is the chstore extension that owns the ClickHouse connection.
	Store component.ID `mapstructure:"store"`

	// AcceptedTime is the window of time a call may have; calls outside
	// it are refused, not stored as sent (see the README).
	AcceptedTime AcceptedTimeConfig `mapstructure:"accepted_time"`
}

// AcceptedTimeConfig bounds the start (and end) times of the calls the
// exporter stores. A call is stored in the month partition of its start time
// as the client sent it, and rolled up into DateTime buckets: a time far
// in the past or future would create partitions the engine refuses in
// bulk, or wrap in the rollups (DateTime ends in 2106).
type AcceptedTimeConfig struct {
	// MaxAge refuses calls that started longer ago (reason too_old). 0
	// means the api_calls table's retention when the store reports it (no
	// bound when that keeps rows for ever), else 90 days.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxFuture is the clock-skew allowance: calls that start or end
	// later than now + max_future are refused (reason in_future).
	MaxFuture time.Duration `mapstructure:"max_future"`
}

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Store.Type().String() == "" {
		errs = append(errs, errors.New("store: the id of a chstore extension is required (e.g. chstore)"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	if cfg.AcceptedTime.MaxAge < 0 {
		errs = append(errs, errors.New("accepted_time.max_age: must not be negative (0 follows the store's retention of api_calls)"))
	}
	if cfg.AcceptedTime.MaxFuture < 0 {
		errs = append(errs, errors.New("accepted_time.max_future: must not be negative"))
	}
	return errors.Join(errs...)
}
