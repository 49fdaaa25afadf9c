package chstoreextension

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
)

func TestEmbeddedMaxMemoryConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embedded.MaxMemory != 0 {
		t.Errorf("default embedded.max_memory: %d, want 0 (the engine's own)", cfg.Embedded.MaxMemory)
	}
	cfg, err = loadConfig(t, "embedded_max_memory")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embedded.MaxMemory != 768<<20 {
		t.Errorf("embedded.max_memory: %d, want 768 MiB", cfg.Embedded.MaxMemory)
	}
	if _, err := loadConfig(t, "bad_max_memory"); err == nil || !strings.Contains(err.Error(), "embedded.max_memory: must be 0") {
		t.Errorf("1 MiB: %v", err)
	}
}

// memoryChildEnv marks the process TestEmbeddedMemoryBounds starts.
const memoryChildEnv = "NEXUS_CHSTORE_MEMORY_TEST_CHILD"

// TestEmbeddedMemoryBounds starts the embedded store with embedded.max_memory
// set and reads the engine's server settings back: the engine reads them
// once, when the process's first connection opens, so the test runs itself
// again in a process of its own, where it is that first connection. A
// statement that needs more than the bound fails with the engine's memory
// error, and the engine goes on serving writes and reads.
func TestEmbeddedMemoryBounds(t *testing.T) {
	if os.Getenv(memoryChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEmbeddedMemoryBounds$", "-test.count=1", "-test.v=true")
		cmd.Env = append(os.Environ(), memoryChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestEmbeddedMemoryBounds") {
			t.Fatalf("the test's own process: %v\n%s", err, out)
		}
		return
	}
	const limit = 256 << 20
	_, s := startEmbedded(t, "mem_bounds", func(c *Config) { c.Embedded.MaxMemory = limit })
	want := chhttp.EngineMemory{MaxServerMemory: limit}.ServerSettings()
	names := make([]string, len(want))
	for i, kv := range want {
		names[i] = "'" + kv[0] + "'"
	}
	rows, err := s.Query(context.Background(), "SELECT name, value FROM system.server_settings WHERE name IN ("+
		strings.Join(names, ", ")+")", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatal(err)
		}
		got[name] = value
	}
	rows.Close()
	for _, kv := range want {
		if got[kv[0]] != kv[1] {
			t.Errorf("server setting %s = %q, want %q", kv[0], got[kv[0]], kv[1])
		}
	}
	if got["max_server_memory_usage"] != "268435456" || got["mark_cache_size"] != "33554432" {
		t.Errorf("server settings %v", got)
	}

	// 40 M UInt64 in one array: 320 MiB and more, past the bound, whatever
	// the statement's own limit.
	_, err = s.Query(context.Background(), "SELECT length(groupArray(number)) FROM numbers(40000000) SETTINGS max_memory_usage = 0", nil)
	if err == nil || !strings.Contains(err.Error(), "MEMORY_LIMIT_EXCEEDED") || !strings.Contains(err.Error(), "(total) memory limit exceeded") {
		t.Fatalf("a statement past the engine's bound: %v", err)
	}
	if err := s.Exec(context.Background(), "CREATE TABLE mem_bounds.t (a UInt64) ENGINE = MergeTree ORDER BY a", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(context.Background(), "INSERT INTO mem_bounds.t SELECT number FROM numbers(1000000)", nil); err != nil {
		t.Fatalf("an insert after the refusal: %v", err)
	}
	if v := scalar(t, s, "SELECT toString(sum(a)) FROM mem_bounds.t"); v != "499999500000" {
		t.Errorf("sum after the refusal: %s", v)
	}
}
