package anomaly

import (
	"errors"
	"fmt"
	"math"
)

// Config tunes a Detector. Start from DefaultConfig and change what you need;
// the mapstructure names are the ones a collector configuration would use.
type Config struct {
	// Threshold is the score at or above which an observation is anomalous.
	// The score is a robust z-score on log scale (see Detector), so 6 means
	// "six standard deviations above the series' usual level": for
	// log-normal traffic that is a rate of about 1e-9 per call, low enough
	// that normal traffic is essentially never flagged (measured: no flag in
	// 10M log-normal calls of established series; about 2e-6 per call in a
	// series' first hundred calls). With a series whose log-spread is 0.25
	// (a typical API latency) a 10x spike scores about 9; with spread 0.5 it
	// scores 4.6 and is not flagged, as 10x is then not that rare. Traffic
	// with tails heavier than log-normal flags more: log-t(3) noise of scale
	// 0.25 flags 0.26% of calls (those above ~5x the typical latency).
	Threshold float64 `mapstructure:"threshold"`

	// Warmup is how many observations of a metric a series must have seen
	// before that metric is scored. Until then the score is 0.
	Warmup int `mapstructure:"warmup"`

	// MaxSeries bounds the number of series held; when full, the least
	// recently seen series is forgotten (it restarts its warm-up if seen
	// again). A series costs about 300 bytes with its key: 10,000 ≈ 3 MB.
	MaxSeries int `mapstructure:"max_series"`

	// Alpha is the weight of a new observation once a series is established
	// (an exponentially weighted window of about 1/Alpha calls). Until a
	// series has seen 1/Alpha observations the weight is 1/n, i.e. a plain
	// running average, so young series converge fast.
	Alpha float64 `mapstructure:"alpha"`

	// Clip is the Huber constant: a residual is clipped to ±Clip·scale
	// before it updates the baseline, which bounds how far one outlier can
	// move the center (by Alpha·Clip·scale) and grow the scale (by a factor
	// of about 1+1.56·Alpha for Clip 2), whatever its size.
	Clip float64 `mapstructure:"clip"`

	// MinRelScale is the smallest spread assumed for a series, as a relative
	// deviation (0.1 = 10%). It keeps a perfectly constant series (a fixed
	// price per call) from flagging tiny jitter: with the defaults such a
	// series flags only at ≥ (1+MinRelScale)^Threshold ≈ 1.77x its level.
	MinRelScale float64 `mapstructure:"min_rel_scale"`

	// Shards splits the series over this many independently locked parts, to
	// cut lock contention when many goroutines observe at once. With more
	// than one shard, MaxSeries is divided between the shards and eviction
	// is least-recently-seen within a shard (approximately global LRU). The
	// shard of a key is a fixed hash of it, so results stay deterministic.
	// The default, 1, keeps exact LRU and skips the hash (about 15 ns). On
	// a 2-core machine, two goroutines observing got no gain from 16 shards:
	// 71-179 ns per observation (wall, both goroutines) against a steady
	// 77-84 ns with one lock, as the series' state moves between the cores'
	// caches either way. Shards may pay off with many cores contending.
	Shards int `mapstructure:"shards"`
}

// DefaultConfig returns the defaults: Threshold 6, Warmup 20, MaxSeries
// 10,000, Alpha 0.02, Clip 2, MinRelScale 0.1, Shards 1.
func DefaultConfig() Config {
	return Config{
		Threshold:   6,
		Warmup:      20,
		MaxSeries:   10000,
		Alpha:       0.02,
		Clip:        2,
		MinRelScale: 0.1,
		Shards:      1,
	}
}

// maxShards bounds Shards; more would only waste memory.
const maxShards = 1024

// Validate reports every invalid field; each error names its field.
func (c Config) Validate() error {
	var errs []error
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !(c.Threshold > 0) || !finite(c.Threshold) {
		errs = append(errs, fmt.Errorf("threshold: must be > 0 and finite, got %v", c.Threshold))
	}
	if c.Warmup < 1 {
		errs = append(errs, fmt.Errorf("warmup: must be >= 1, got %d", c.Warmup))
	}
	if c.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("max_series: must be >= 1, got %d", c.MaxSeries))
	} else if c.MaxSeries > math.MaxInt32 {
		errs = append(errs, fmt.Errorf("max_series: must be <= %d, got %d", math.MaxInt32, c.MaxSeries))
	}
	if !(c.Alpha > 0 && c.Alpha < 1) {
		errs = append(errs, fmt.Errorf("alpha: must be > 0 and < 1, got %v", c.Alpha))
	}
	if !(c.Clip > 0) || !finite(c.Clip) {
		errs = append(errs, fmt.Errorf("clip: must be > 0 and finite, got %v", c.Clip))
	}
	if !(c.MinRelScale > 0) || !finite(c.MinRelScale) {
		errs = append(errs, fmt.Errorf("min_rel_scale: must be > 0 and finite, got %v", c.MinRelScale))
	}
	switch {
	case c.Shards < 1 || c.Shards > maxShards:
		errs = append(errs, fmt.Errorf("shards: must be between 1 and %d, got %d", maxShards, c.Shards))
	case c.MaxSeries >= 1 && c.Shards > c.MaxSeries:
		errs = append(errs, fmt.Errorf("shards: must be <= max_series (%d), got %d", c.MaxSeries, c.Shards))
	}
	return errors.Join(errs...)
}

// withDefaults fills zero-valued fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Threshold == 0 {
		c.Threshold = d.Threshold
	}
	if c.Warmup == 0 {
		c.Warmup = d.Warmup
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = d.MaxSeries
	}
	if c.Alpha == 0 {
		c.Alpha = d.Alpha
	}
	if c.Clip == 0 {
		c.Clip = d.Clip
	}
	if c.MinRelScale == 0 {
		c.MinRelScale = d.MinRelScale
	}
	if c.Shards == 0 {
		c.Shards = d.Shards
	}
	return c
}
