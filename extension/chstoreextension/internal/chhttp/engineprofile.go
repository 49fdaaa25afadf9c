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
// ignore it.
func WriteEngineProfile(dataDir string, limits Limits) (string, error) {
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
	cfg := "<clickhouse>\n  <users_config>" + xmlEscape(users) + "</users_config>\n</clickhouse>\n"
	if err := os.WriteFile(config, []byte(cfg), 0o640); err != nil {
		return "", fmt.Errorf("write the engine profile: %w", err)
	}
	return "--config-file=" + config, nil
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
