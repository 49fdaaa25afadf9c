package chhttp

import (
	"strings"
	"testing"
)

func checkSQL(sql string, write bool) *sqlError {
	st, perr := parseStatement(sql)
	if perr != nil {
		return perr
	}
	return policy{write: write, limits: Limits{}.WithDefaults(), cpus: 2}.check(st)
}

func TestPolicyRefuses(t *testing.T) {
	refused := map[string]string{ // statement → what the refusal names
		// Attack 1 and 2: files through formats, settings and functions.
		"SELECT 1 FORMAT Template":                                           "Template",
		"SELECT 1 FORMAT `Template` SETTINGS max_threads = 1":                "Template",
		"SELECT (SELECT 1 FORMAT Protobuf)":                                  "Protobuf",
		"SELECT 1 SETTINGS format_template_row = '/etc/passwd'":              "format_template_row",
		"SELECT 1 FORMAT Template SETTINGS format_template_resultset = '/x'": "Template",
		"SELECT * FROM (SELECT 1 SETTINGS output_format_schema = '/tmp/x')":  "output_format_schema",
		"SELECT 1 SETTINGS input_format_record_errors_file_path = '/tmp/x'":  "input_format_record_errors_file_path",
		"SELECT * FROM format(Template, 'x')":                                "format",
		"SELECT format('{}', 1)":                                             "format",
		"SELECT * FROM file('/etc/passwd', 'LineAsString')":                  "file",
		"SELECT file('/etc/passwd')":                                         "file",
		"SELECT * FROM `\\x66ile`('/etc/passwd')":                            "file",
		"SELECT * FROM `fi\\le`('/etc/passwd')":                              "file",
		"SELECT * FROM file /* x */ ('/etc/passwd')":                         "file",
		"SELECT * FROM input('a UInt8')":                                     "input",
		"SELECT dictGet('d', 'a', 1)":                                        "dictGet",
		"SELECT * FROM `/etc/passwd`":                                        "file path",
		"SELECT * FROM default.`data.csv`":                                   "file path",
		"SELECT * FROM system.one, `/etc/passwd`":                            "file path",
		"SELECT 1 INTO OUTFILE '/tmp/x'":                                     "OUTFILE",
		"SELECT * FROM filesystem('/')":                                      "filesystem",
		"SELECT * FROM sqlite('/tmp/x.db', 't')":                             "sqlite",
		"SELECT * FROM executable('x.sh', 'TSV', 'a UInt8')":                 "executable",
		"SELECT * FROM eval('SELECT 1')":                                     "eval",
		"SELECT arrayMap(x -> file(x), ['/etc/passwd'])":                     "file",
		"SELECT * FROM zeros(10)":                                            "zeros",
		"SELECT * FROM mergeTreeIndex(system, one)":                          "mergeTreeIndex",
		"SELECT * FROM someFutureTableFunction(1)":                           "someFutureTableFunction",
		"SELECT 1 FORMAT NoSuchFormat":                                       "NoSuchFormat",
		"DESCRIBE TABLE url('http://x/', 'CSV')":                             "url",
		"EXPLAIN SELECT * FROM url('http://x/')":                             "url",
		"SELECT 1 SETTINGS max_execution_time = DEFAULT":                     "DEFAULT",
		"SELECT 1 SETTINGS readonly = DEFAULT":                               "readonly",
		"SELECT 1 SETTINGS `readonly` = 0":                                   "readonly",
		"SELECT 1 SETTINGS max_threads = 1, profile = 'x'":                   "profile",
		"SELECT 1 SETTINGS max_threads = 1+1":                                "literal",
		"WITH 1 AS x SELECT x SETTINGS max_http_get_redirects = 5":           "max_http_get_redirects",
		"SELECT 1 SETTINGS max_memory_usage = 0":                             "max_memory_usage",
		"SELECT 1 SETTINGS max_result_rows = 0":                              "max_result_rows",
		"SELECT 1 SETTINGS max_result_bytes = 0":                             "max_result_bytes",
		"SELECT 1 SETTINGS max_execution_time = 0":                           "max_execution_time",
		"SELECT 1 SETTINGS max_execution_time = 0.5":                         "max_execution_time",
		"SELECT 1 SETTINGS max_execution_time = 31":                          "max_execution_time",
		"SELECT 1 SETTINGS max_execution_time = '1e9'":                       "max_execution_time",
		"SELECT 1 SETTINGS max_memory_usage = -1":                            "max_memory_usage",
		"SELECT 1 SETTINGS max_threads = 64":                                 "max_threads",
		"SELECT 1 SETTINGS max_query_size = 100000000":                       "max_query_size",
		// Attack 3: the network.
		"SELECT * FROM url('http://127.0.0.1/x', 'LineAsString')":    "url",
		"SELECT * FROM URL('http://x/')":                             "URL",
		"SELECT * FROM `url`('http://x/')":                           "url",
		"SELECT (SELECT count() FROM url('http://x/y'))":             "url",
		"SELECT * FROM s3('http://x/b/k')":                           "s3",
		"SELECT * FROM remote('h:9000', system.one)":                 "remote",
		"SELECT * FROM remoteSecure('h:9440', system.one)":           "remoteSecure",
		"SELECT * FROM mysql('h:3306', 'd', 't', 'u', 'p')":          "mysql",
		"SELECT * FROM postgresql('h:5432', 'd', 't', 'u', 'p')":     "postgresql",
		"SELECT * FROM mongodb('h', 'd', 'c', 'u', 'p', 'x String')": "mongodb",
		"SELECT * FROM redis('h', 'k', 'k String')":                  "redis",
		"SELECT * FROM azureBlobStorage('http://x', 'c', 'b')":       "azureBlobStorage",
		"SELECT * FROM hdfs('hdfs://h/x', 'CSV')":                    "hdfs",
		"SELECT * FROM cluster('default', system.one)":               "cluster",
		"SELECT * FROM urlCluster('default', 'http://x/')":           "urlCluster",
		"SELECT * FROM view(SELECT * FROM url('http://x/'))":         "url",
		// Attack 5: state and statements.
		"CREATE TEMPORARY TABLE t AS SELECT 1":   "CREATE",
		"SET max_execution_time = 0":             "SET",
		"SYSTEM DROP DNS CACHE":                  "SYSTEM",
		"KILL QUERY WHERE 1":                     "KILL",
		"INSERT INTO t VALUES (1)":               "INSERT",
		"DROP TABLE t":                           "DROP",
		"BACKUP TABLE t TO Disk('default', 'x')": "BACKUP",
		"SELEC 1":                                "Syntax error",
	}
	for sql, want := range refused {
		err := checkSQL(sql, false)
		if err == nil {
			t.Errorf("%q: accepted", sql)
			continue
		}
		if !strings.Contains(err.msg, want) || !strings.HasPrefix(err.msg, "Code: ") {
			t.Errorf("%q: refusal %q does not name %q", sql, err.msg, want)
		}
	}
}

func TestPolicyWritePath(t *testing.T) {
	for sql, ok := range map[string]bool{
		"INSERT INTO t (a, b) SETTINGS async_insert = 1 VALUES":                                                                           true,
		"INSERT INTO db.t SELECT number FROM numbers(10)":                                                                                 true,
		"CREATE TABLE IF NOT EXISTS db.t (a UInt8, s String DEFAULT 'x') ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8192": true,
		"CREATE MATERIALIZED VIEW IF NOT EXISTS db.mv TO db.t AS SELECT engine FROM system.tables":                                        true,
		"CREATE DATABASE IF NOT EXISTS nexus":                                                                                             true,
		"ALTER TABLE db.t MODIFY TTL toDateTime(ts) + toIntervalSecond(60)":                                                               true,
		"ALTER TABLE db.t MODIFY SETTING ttl_only_drop_parts = 1":                                                                         true,
		"OPTIMIZE TABLE db.t FINAL":                                                                                                       true,
		"DROP TABLE IF EXISTS db.t":                                                                                                       true,
		"TRUNCATE TABLE db.t":                                                                                                             true,
		"SELECT extract(DAY FROM toDateTime(0)), trim(BOTH ' ' FROM concat('a', ' '))":                                                    true,
		"SELECT x FROM t ARRAY JOIN arrayMap(y -> y, arr) AS x":                                                                           true,
		"CREATE TEMPORARY TABLE t (a UInt8)":                                                                                              false,
		"CREATE DICTIONARY d (a UInt8) PRIMARY KEY a SOURCE(FILE(path '/etc/passwd' format 'TSV'))":                                       false,
		"CREATE FUNCTION f AS x -> x":                                                                                                     false,
		"CREATE USER u":                                                                                                                   false,
		"CREATE TABLE t (a UInt8) ENGINE = URL('http://x/', CSV)":                                                                         false,
		"CREATE TABLE t (a UInt8) ENGINE = Kafka SETTINGS kafka_broker_list = 'h:9092'":                                                   false,
		"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS disk = disk(type = local, path = '/')":                           false,
		"CREATE TABLE t (s String DEFAULT file('/etc/passwd')) ENGINE = Memory":                                                           false,
		"CREATE DATABASE d ENGINE = Filesystem('/')":                                                                                      false,
		"ALTER TABLE t MODIFY SETTING storage_policy = 'x'":                                                                               false,
		"ALTER USER default SETTINGS readonly = 0":                                                                                        false,
		"INSERT INTO FUNCTION file('/tmp/x', 'CSV') VALUES":                                                                               false,
		"INSERT INTO t FROM INFILE '/etc/passwd' FORMAT LineAsString":                                                                     false,
		"ATTACH TABLE t FROM '/var/lib/x' (a UInt8) ENGINE = MergeTree ORDER BY a":                                                        false,
		"SET max_threads = 1":                                                                                                             false,
		"SYSTEM SHUTDOWN":                                                                                                                 false,
	} {
		err := checkSQL(sql, true)
		if (err == nil) != ok {
			t.Errorf("write path %q: accepted=%v (%v)", sql, err == nil, err)
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	for _, sql := range []string{
		"SELECT 'file(/etc/passwd)', 'url(http://x)'",
		"SELECT 1 -- file('/etc/passwd')",
		"SELECT $$ file('/x') $$",
		"SELECT profile, file, format, engine FROM t ORDER BY format DESC",
		"SELECT format FROM t",
		"SELECT filesystemAvailable(), getSetting('max_threads'), log(2)",
		"SELECT * FROM numbers(10) SETTINGS max_threads = 1, max_block_size = 100",
		"SELECT number FROM numbers_mt(10) FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0",
		"SELECT * FROM generateRandom('a UInt8') LIMIT 1",
		"SELECT * FROM values('a UInt8', 1, 2)",
		"SELECT * FROM generate_series(1, 3)",
		"SELECT * FROM system.tables, system.one",
		"SELECT * FROM merge('nexus', '^api_calls$')",
		"SELECT * FROM view(SELECT 1)",
		"SELECT * FROM null('a UInt8')",
		"SELECT 1 SETTINGS max_execution_time = 30, max_result_rows = 10, max_memory_usage = 1000000",
		"SELECT 1 SETTINGS max_execution_time = 2.5, limit = 10, session_timezone = 'UTC'",
		"(SELECT 1) UNION ALL (SELECT 2) FORMAT CSVWithNames",
		"WITH t AS (SELECT 1 AS x) SELECT x FROM t",
		"SHOW TABLES FROM system",
		"SHOW SETTINGS LIKE 'max%'",
		"DESCRIBE TABLE numbers(3)",
		"DESCRIBE TABLE (SELECT provider FROM nexus.api_calls_1d)", // what the dashboards test asks
		"DESC TABLE (SELECT 1)",
		"DESC system.one",
		"EXISTS TABLE system.one",
		"EXPLAIN PLAN header = 1 SELECT 1",
		"USE nexus",
		"SELECT `a.b` FROM t",
		"SELECT a AS `cost/day` FROM t",
		"SELECT displayName(), version(), revision(), timezone()",
	} {
		if err := checkSQL(sql, false); err != nil {
			t.Errorf("%q: refused: %v", sql, err)
		}
	}
}

// TestSettingClamp: a client that speaks the native protocol over HTTP
// has max_execution_time above the ceiling lowered; others are refused.
func TestSettingClamp(t *testing.T) {
	p := policy{limits: Limits{}.WithDefaults(), cpus: 2}
	v := settingValue{literal: "'65'", text: "65"}
	if lit, err := p.checkSetting(nil, "max_execution_time", v, true); err != nil || lit != "30" {
		t.Errorf("clamped: %q %v", lit, err)
	}
	if _, err := p.checkSetting(nil, "max_execution_time", v, false); err == nil {
		t.Error("raise accepted")
	}
	if _, err := p.checkSetting(nil, "max_execution_time", settingValue{literal: "'0'", text: "0"}, true); err == nil {
		t.Error("0 accepted from a clamping client")
	}
}

// TestValuesData: expressions in an INSERT's VALUES data are evaluated by
// the engine, so they get the call checks too.
func TestValuesData(t *testing.T) {
	for data, ok := range map[string]bool{
		"(1, 'x'), (2, now())":                 true,
		"(1, 'file(\\'/etc/passwd\\')')":       true,
		"(1, file('/etc/passwd'))":             false,
		"((SELECT * FROM url('http://x/')))":   false,
		"(dictGet('d', 'a', 1))":               false,
		"({v:UInt32}, {n:String}, {c:String})": true,
	} {
		if err := checkValuesData([]byte(data)); (err == nil) != ok {
			t.Errorf("%q: accepted=%v (%v)", data, err == nil, err)
		}
	}
}

// TestPolicyListsMatchEngine checks the lists against chDB: every allowed
// name exists, and every table function, engine and format the engine has
// is either allowed or denied, so an engine upgrade that brings new ones
// fails here until someone decides about them.
func TestPolicyListsMatchEngine(t *testing.T) {
	names := func(sql string) map[string]bool {
		res, err := testSetup.Query(sql, "TabSeparatedRaw", nil)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, n := range strings.Fields(string(res.Data)) {
			m[strings.ToLower(n)] = true
		}
		return m
	}
	complete := func(what string, engine, allowed, denied map[string]bool) {
		for n := range engine {
			if !allowed[n] && !denied[n] {
				t.Errorf("%s %s is neither allowed nor denied", what, n)
			}
		}
		for n := range allowed {
			if !engine[n] {
				t.Errorf("allowed %s %s does not exist in the engine", what, n)
			}
			if denied[n] && what != "format" {
				t.Errorf("%s %s is both allowed and denied", what, n)
			}
		}
	}
	complete("table function", names("SELECT name FROM system.table_functions"), allowedTableFunctions, deniedTableFunctions)
	complete("table engine", names("SELECT name FROM system.table_engines"), allowedTableEngines, deniedTableEngines)
	complete("database engine", names("SELECT name FROM system.database_engines"), allowedDatabaseEngines, deniedDatabaseEngines)
	complete("format", names("SELECT name FROM system.formats"), allowedFormats, deniedFormats)
	functions := names("SELECT name FROM system.functions")
	for n := range deniedFunctions {
		if !functions[n] && n != "disk" && n != "input" {
			t.Errorf("denied function %s does not exist in the engine", n)
		}
	}
	// An allowed table function must run at readonly=1 (engine.go's read
	// path); the denied call names must not shadow ordinary functions
	// other than the ones meant.
	for n := range deniedCallNames {
		if functions[n] && !deniedFunctions[n] && n != "fuzzquery" {
			t.Errorf("%s is a function of the engine and would be refused as a call", n)
		}
	}
	settings := names("SELECT name FROM system.settings")
	aliases := map[string]string{}
	res, err := testSetup.Query("SELECT name, alias_for FROM system.settings WHERE alias_for != ''", "TabSeparatedRaw", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Data)), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 {
			aliases[strings.ToLower(f[0])] = strings.ToLower(f[1])
		}
	}
	for _, set := range []map[string]settingRule{readSettings, writeSettings} {
		for n, rule := range set {
			if !settings[n] {
				t.Errorf("allowed setting %s does not exist in the engine", n)
			}
			if target, ok := aliases[n]; ok && rule == anyLiteral {
				if _, limit := readSettings[target]; limit && readSettings[target] != anyLiteral {
					t.Errorf("allowed setting %s is an alias of the limit %s", n, target)
				}
			}
		}
	}
	mergeTree := names("SELECT name FROM system.merge_tree_settings")
	for n := range tableSettings {
		if !mergeTree[n] {
			t.Errorf("table setting %s does not exist in the engine", n)
		}
	}
	for _, n := range constantSettings {
		if !settings[n] {
			t.Errorf("constant setting %s does not exist in the engine", n)
		}
		if _, ok := readSettings[n]; ok {
			t.Errorf("constant setting %s is allowed", n)
		}
	}
}
