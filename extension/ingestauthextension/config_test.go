package ingestauthextension

import (
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/configtest"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := configtest.Load[*Config](t, NewFactory(), "")
	if err != nil || cfg.Store.String() != "chstore" || cfg.RefreshInterval != 3*time.Second {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = configtest.Load[*Config](t, NewFactory(), "custom")
	if err != nil || cfg.Store.String() != "chstore/shared" || cfg.RefreshInterval != 10*time.Second {
		t.Fatalf("custom: %+v %v", cfg, err)
	}
	if _, err := configtest.Load[*Config](t, NewFactory(), "too_often"); err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Fatalf("too_often: %v", err)
	}
}

// Header names are matched without regard to case, the dedicated header
// wins over a Bearer token, and a token of another scheme is none.
func TestKeyOf(t *testing.T) {
	for _, c := range []struct {
		sources map[string][]string
		want    string
	}{
		{map[string][]string{"Authorization": {"Bearer nxi_a"}}, "nxi_a"},
		{map[string][]string{"authorization": {"bearer  nxi_b "}}, "nxi_b"},
		{map[string][]string{"x-nexus-ingest-key": {"nxi_c"}, "authorization": {"Bearer sk-provider"}}, "nxi_c"},
		{map[string][]string{"X-Nexus-Ingest-Key": {"nxi_d"}}, "nxi_d"},
		{map[string][]string{"Authorization": {"Basic dXNlcjpwYXNz"}}, ""},
		{map[string][]string{"Authorization": {"Bearer "}}, ""},
		{map[string][]string{"X-Nexus-Ingest-Key": {}}, ""},
		{nil, ""},
	} {
		if got, ok := keyOf(c.sources); got != c.want || ok != (c.want != "") {
			t.Errorf("%v: %q %v, want %q", c.sources, got, ok, c.want)
		}
	}
}
