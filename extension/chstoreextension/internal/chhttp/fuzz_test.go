package chhttp

import (
	"strconv"
	"strings"
	"testing"
)

// policySeeds are the fuzz target's seed corpus: every attack of the
// security issue, their disguises, and what Grafana and clickhouse-go send.
var policySeeds = []string{
	// Attack 1: reading files.
	"SELECT 1 FORMAT Template",
	"SELECT 1 FORMAT Template SETTINGS format_template_row = '/etc/passwd'",
	"SELECT * FROM format(Template, 'x') SETTINGS format_template_resultset = '/etc/passwd'",
	"SELECT * FROM file('/etc/passwd', 'LineAsString')",
	"SELECT file('/etc/passwd')",
	"SELECT * FROM `\\x66ile`('/etc/passwd')",
	"SELECT * FROM \"fi\\le\"('/etc/passwd')",
	"SELECT * FROM file/**/('/etc/passwd')",
	"SELECT * FROM url('file:///etc/passwd', 'LineAsString')",
	"SELECT * FROM `/etc/passwd`",
	"SELECT * FROM default.`data.csv`",
	"SELECT * FROM system.one, `/etc/passwd`",
	"INSERT INTO t FROM INFILE '/etc/passwd' FORMAT LineAsString",
	// Attack 2: writing files.
	"SELECT 1 AS `x\nany-line\n` FORMAT Protobuf",
	"SELECT 1 AS `x` FORMAT Protobuf SETTINGS output_format_schema = '/tmp/x.proto'",
	"SELECT * FROM format(CSV, 'a') SETTINGS input_format_record_errors_file_path = '/tmp/e'",
	"SELECT 1 INTO OUTFILE '/tmp/x'",
	"INSERT INTO FUNCTION file('/tmp/x', 'CSV') SELECT 1",
	"SELECT (SELECT 1 FORMAT CapnProto)",
	// Attack 3: the network.
	"SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')",
	"SELECT * FROM URL('http://x/' || 'y')",
	"SELECT * FROM s3('http://x/b/k', 'CSV')",
	"SELECT * FROM remote('h:9000', system.one)",
	"SELECT * FROM remoteSecure('h:9440', system.one)",
	"SELECT * FROM mysql('h', 'd', 't', 'u', 'p')",
	"SELECT * FROM postgresql('h', 'd', 't', 'u', 'p')",
	"SELECT * FROM mongodb('h', 'd', 'c', 'u', 'p', 'x String')",
	"SELECT * FROM redis('h', 'k', 'k String')",
	"SELECT * FROM azureBlobStorage('http://x', 'c', 'b')",
	"SELECT * FROM hdfs('hdfs://h/x', 'CSV')",
	"SELECT * FROM cluster('default', system.one)",
	"SELECT (SELECT count() FROM url('http://x/'))",
	"SELECT * FROM view(SELECT * FROM url('http://x/'))",
	"SELECT 1 SETTINGS max_http_get_redirects = 10",
	// Attack 5: limits and state.
	"SELECT 1 SETTINGS max_execution_time = 0",
	"SELECT 1 SETTINGS max_memory_usage = 0, max_result_rows = 0",
	"SELECT 1 SETTINGS max_execution_time = 100000",
	"SELECT 1 SETTINGS max_execution_time = DEFAULT",
	"SELECT 1 SETTINGS readonly = DEFAULT",
	"SELECT sum(number) FROM numbers(1e13)",
	"CREATE TEMPORARY TABLE leak AS SELECT 1 AS x",
	"SET max_execution_time = 0",
	"SYSTEM DROP DNS CACHE",
	// The write path.
	"INSERT INTO t (a) SETTINGS async_insert = 1 VALUES",
	"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8192",
	"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS disk = disk(type = local, path = '/')",
	"CREATE TABLE t (a UInt8) ENGINE = Kafka SETTINGS kafka_broker_list = 'h:9092'",
	"ALTER TABLE t MODIFY SETTING storage_policy = 'x'",
	// What clients send.
	"SELECT displayName(), version(), revision(), timezone()",
	"SELECT toStartOfInterval(ts, INTERVAL 60 second) AS time, count() FROM nexus.api_calls WHERE ts >= toDateTime(1700000000) GROUP BY time ORDER BY time",
	"SELECT name FROM system.tables WHERE database = {db:String} FORMAT JSONEachRow SETTINGS max_threads = 1",
	"SHOW DATABASES",
	"DESC TABLE nexus.api_calls",
	"SELECT format, engine FROM t ORDER BY format DESC",
	"SELECT extract(DAY FROM now()), trim(BOTH ' ' FROM 'x')",
}

func FuzzSQLPolicy(f *testing.F) {
	for _, s := range policySeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	lim := Limits{}.WithDefaults()
	f.Fuzz(func(t *testing.T, sql string, write bool) {
		st, perr := parseStatement(sql)
		if perr != nil {
			return
		}
		if err := (policy{write: write, limits: lim, cpus: 2}).check(st); err != nil {
			if !strings.HasPrefix(err.msg, "Code: ") || err.code == 0 {
				t.Fatalf("%q: refusal is not ClickHouse-style: %+v", sql, err)
			}
			return
		}
		if v := denyFacts(sql, write, lim); v != "" {
			t.Fatalf("policy accepted %q (write=%v), but %s", sql, write, v)
		}
	})
}

// denyFacts is a second, simpler reading of what the policy must refuse:
// it looks at each token and its neighbours only, with no idea of clauses
// or positions, and reports the first fact an accepted statement breaks.
func denyFacts(sql string, write bool, lim Limits) string {
	var toks []token
	l := &lexer{src: sql}
	for {
		t, ok := l.next()
		if !ok || t.isPunct(sql, ';') && t.depth == 0 {
			break
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		return ""
	}
	low := func(i int) string {
		if i < 0 || i >= len(toks) || (toks[i].kind != tokWord && toks[i].kind != tokQuoted) {
			return ""
		}
		return strings.ToLower(toks[i].name(sql))
	}
	first := strings.ToLower(toks[0].text(sql))
	readOnly := map[string]bool{"select": true, "with": true, "show": true, "describe": true, "desc": true,
		"exists": true, "explain": true, "(": true, "use": true}
	if !readOnly[first] && (!write || first == "set" || first == "system" || first == "attach" || first == "kill") {
		return "its statement kind " + first + " is not allowed"
	}
	if first == "create" || first == "drop" {
		obj := low(1)
		if obj == "or" {
			obj = low(3)
		}
		switch obj {
		case "temporary", "dictionary", "function", "user", "role", "quota", "policy", "row", "profile",
			"settings", "named", "live", "window":
			return "it creates or drops a " + obj
		}
	}
	denied := map[string]bool{}
	for _, set := range []map[string]bool{deniedTableFunctions, deniedTableEngines, deniedDatabaseEngines, deniedFunctions} {
		for k := range set {
			if !allowedTableFunctions[k] && !allowedTableEngines[k] {
				denied[k] = true
			}
		}
	}
	ceilings := map[string]float64{"max_execution_time": lim.MaxExecutionTime.Seconds(),
		"max_result_bytes": float64(lim.MaxResultBytes), "max_memory_usage": float64(lim.MaxMemoryUsage)}
	for i, t := range toks {
		name := low(i)
		raw := strings.ToLower(strings.ReplaceAll(t.text(sql), `\`, ""))
		if i+1 < len(toks) && toks[i+1].isPunct(sql, '(') && name != "" {
			for _, n := range []string{name, strings.Trim(raw, "`\"")} {
				if denied[n] || strings.HasPrefix(n, "dict") {
					return "it calls " + n + "()"
				}
			}
		}
		switch {
		case name == "into" && low(i+1) == "outfile", name == "from" && low(i+1) == "infile":
			return "it has " + name + " " + low(i+1)
		case t.kind == tokWord && name == "format" && deniedFormats[low(i+1)]:
			return "it asks for format " + low(i+1)
		case t.kind == tokQuoted && (low(i-1) == "from" || low(i-1) == "join") && strings.Contains(name, "/"):
			return "it reads the table " + name
		case t.kind == tokWord && (name == "settings" || name == "setting" && low(i-1) == "modify"):
			for j := i + 1; j+2 < len(toks) && low(j) != "" && toks[j+1].isPunct(sql, '='); {
				setting := low(j)
				_, okRead := readSettings[setting]
				_, okWrite := writeSettings[setting]
				_, okTable := tableSettings[setting]
				if !okRead && !(write && (okWrite || okTable)) {
					return "it sets " + setting
				}
				v := toks[j+2]
				if v.isWord(sql, "DEFAULT") {
					return "it resets " + setting + " to DEFAULT"
				}
				if c, ok := ceilings[setting]; ok {
					text := v.text(sql)
					if v.kind == tokString {
						text = unescapeQuoted(v.stringValue(sql))
					}
					if f, err := strconv.ParseFloat(text, 64); err == nil && (f <= 0 || f > c) {
						return "it sets " + setting + " to " + text
					}
				}
				j += 3
				if j < len(toks) && toks[j].isPunct(sql, ',') {
					j++
				}
			}
		}
	}
	return ""
}
