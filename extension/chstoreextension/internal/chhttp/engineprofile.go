package chhttp

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The engine profile is the embedded engine's configuration of its one
// user ("default", the only one a chDB connection can be: every connection
// authenticates as it) as a second line behind the policy:
//
//   - settings that name files (format_schema, format_template_row,
//     output_format_schema, input_format_record_errors_file_path…) and
//     allow_experimental_eval_table_function are constant: a SET or
//     SETTINGS that changes them fails with SETTING_CONSTRAINT_VIOLATION
//     (452), whatever the connection's readonly level;
//   - max_execution_time, max_result_bytes and max_memory_usage may not be
//     set above the interface's limits nor below 1;
//   - max_http_get_redirects may not be raised above 0.
//
// chDB reads a configuration file only when the process's first engine
// connection opens (the engine is a process-wide singleton), so the file
// must be written, and its argument passed, before anything else connects.
// Measured limits of this line (chDB 26.7): settings given as connection
// arguments are not checked against constraints; "name = DEFAULT" resets a
// setting past constraints and readonly; changeable_in_readonly is refused
// at load ("not allowed unless settings_constraints_replace_previous is
// enabled", and chDB does not read that server setting), so readonly=1 and
// allowed settings cannot be combined by configuration: engine.go sets the
// request's settings first and readonly=1 after.

// engineProfileDir is where the profile is written, inside the data
// directory it belongs to.
const engineProfileDir = "nexus-engine-profile"

// WriteEngineProfile writes the engine profile for limits into dataDir and
// returns the connection argument that loads it. Pass it to every engine
// connection the process opens: only the first one's counts, the others
// ignore it. The engine's memory keeps its own defaults (see
// WriteEngineProfileWith).
func WriteEngineProfile(dataDir string, limits Limits) (string, error) {
	return WriteEngineProfileWith(dataDir, limits, EngineMemory{})
}

// WriteEngineProfileWith is WriteEngineProfile with the engine's memory
// bounded by mem.
func WriteEngineProfileWith(dataDir string, limits Limits, mem EngineMemory) (string, error) {
	limits = limits.WithDefaults()
	dir, err := filepath.Abs(filepath.Join(dataDir, engineProfileDir))
	if err != nil {
		return "", fmt.Errorf("write the engine profile: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("write the engine profile: %w", err)
	}
	users := filepath.Join(dir, "users.xml")
	config := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(users, []byte(usersXML(limits)), 0o640); err != nil {
		return "", fmt.Errorf("write the engine profile: %w", err)
	}
	if err := os.WriteFile(config, []byte(configXML(users, mem)), 0o640); err != nil {
		return "", fmt.Errorf("write the engine profile: %w", err)
	}
	return "--config-file=" + config, nil
}

// EngineMemory bounds the engine's memory, for the whole process. The
// collector's memory_limiter cannot see it: it watches the Go heap, and
// the engine allocates outside it.
type EngineMemory struct {
	// MaxServerMemory is the engine's hard limit (max_server_memory_usage):
	// an allocation that would take the engine's tracked memory past it
	// fails its statement with MEMORY_LIMIT_EXCEEDED (241), which a
	// writer retries. The caches are sized from it (ServerSettings). 0
	// leaves the engine's defaults: 90 % of the machine's memory, and
	// caches of up to 5 GiB each.
	MaxServerMemory int64
}

// ServerSettings are the engine's server settings that bound its memory,
// in the order they are written: the limit, then caches that hold
// fractions of it (each filled by the reads that use it, and kept until
// the cache is full), so that caches alone never reach the limit and
// leave the most of it to inserts, merges and queries. Merges are not
// started past half of it (merges_mutations_memory_usage_soft_limit).
// Every value is one the engine reads back in system.server_settings.
func (m EngineMemory) ServerSettings() [][2]string {
	if m.MaxServerMemory <= 0 {
		return nil
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	limit := m.MaxServerMemory
	return [][2]string{
		{"max_server_memory_usage", n(limit)},
		{"merges_mutations_memory_usage_soft_limit", n(limit / 2)},
		{"mark_cache_size", n(limit / 8)},
		{"primary_index_cache_size", n(limit / 16)},
		{"index_mark_cache_size", n(limit / 32)},
		{"query_condition_cache_size", n(limit / 32)},
		{"compiled_expression_cache_size", n(limit / 32)},
		// Off, as by default; written so that no engine upgrade turns
		// them on unbounded.
		{"uncompressed_cache_size", "0"},
		{"index_uncompressed_cache_size", "0"},
		// Files kept mapped (reads use mmap only past
		// min_bytes_to_use_mmap_io, off by default): their pages count in
		// the process's RSS.
		{"mmap_cache_size", "128"},
	}
}

// configXML is the engine's config.xml: the users file and mem's bounds.
func configXML(users string, mem EngineMemory) string {
	var b strings.Builder
	b.WriteString("<clickhouse>\n  <users_config>" + xmlEscape(users) + "</users_config>\n")
	for _, s := range mem.ServerSettings() {
		fmt.Fprintf(&b, "  <%s>%s</%s>\n", s[0], s[1], s[0])
	}
	if mem.MaxServerMemory > 0 {
		// The query cache is used only by statements that ask for it
		// (use_query_cache); bounded all the same.
		fmt.Fprintf(&b, "  <query_cache><max_size_in_bytes>%d</max_size_in_bytes></query_cache>\n", mem.MaxServerMemory/32)
	}
	b.WriteString("</clickhouse>\n")
	return b.String()
}

// usersXML mirrors chDB's built-in user (EmbeddedServer::setupUsers) and
// adds the constraints.
func usersXML(l Limits) string {
	var b strings.Builder
	b.WriteString("<clickhouse>\n  <profiles>\n    <default>\n      <constraints>\n")
	for _, name := range constantSettings {
		fmt.Fprintf(&b, "        <%s><const/></%s>\n", name, name)
	}
	bound := func(name, max string) {
		fmt.Fprintf(&b, "        <%s><min>1</min><max>%s</max></%s>\n", name, max, name)
	}
	bound("max_execution_time", l.seconds())
	bound("max_result_bytes", strconv.FormatInt(l.MaxResultBytes, 10))
	bound("max_memory_usage", strconv.FormatInt(l.MaxMemoryUsage, 10))
	b.WriteString("        <max_http_get_redirects><max>0</max></max_http_get_redirects>\n")
	b.WriteString("      </constraints>\n    </default>\n  </profiles>\n")
	b.WriteString("  <users>\n    <default>\n      <password></password>\n      <networks><ip>::/0</ip></networks>\n" +
		"      <profile>default</profile>\n      <quota>default</quota>\n" +
		"      <named_collection_control>1</named_collection_control>\n    </default>\n  </users>\n")
	b.WriteString("  <quotas><default></default></quotas>\n</clickhouse>\n")
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
