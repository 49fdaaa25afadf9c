package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDistVersion(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"dist:\n  module: x\n  version: 1.2.3\nreceivers:\n  - version: 9\n": "1.2.3",
		"dist:\n  version: \"0.4.0\"\n":                                      "0.4.0",
		"receivers:\n  version: 9\ndist:\n  name: x\n":                       "dev",
	} {
		p := filepath.Join(dir, "builder-config.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := distVersion(p); got != want {
			t.Errorf("%q: version %q, want %q", body, got, want)
		}
	}
	if got := distVersion(filepath.Join(dir, "absent.yaml")); got != "dev" {
		t.Errorf("absent file: %q", got)
	}
}
