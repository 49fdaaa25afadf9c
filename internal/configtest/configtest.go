// Package configtest loads a component's testdata/config.yaml blocks as the
// collector does, for the config tests every component has.
package configtest

import (
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// Load reads the block <type>[/<name>] of testdata/config.yaml over the
// factory's defaults and validates it as the collector does. It returns
// Unmarshal's or Validate's error; a missing file or block fails the test.
func Load[C component.Config](tb testing.TB, f component.Factory, name string) (C, error) {
	tb.Helper()
	var zero C
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(f.Type(), name).String())
	if err != nil {
		tb.Fatal(err)
	}
	cfg := f.CreateDefaultConfig()
	if err := sub.Unmarshal(cfg); err != nil {
		return zero, err
	}
	return cfg.(C), confmap.Validate(cfg)
}
