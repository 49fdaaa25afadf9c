package chhttp

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseStatementFormat(t *testing.T) {
	cases := []struct {
		sql, kind, format, text string
		settingsAfter           string // text after the output SETTINGS keyword, "" if none
	}{
		{"SELECT 1", "SELECT", "", "SELECT 1", ""},
		{"SELECT 1 FORMAT JSON", "SELECT", "JSON", "SELECT 1 FORMAT JSON", ""},
		{"select 1 format JSONEachRow;  -- done\n", "SELECT", "JSONEachRow", "select 1 format JSONEachRow", ""},
		{"SELECT 1 FORMAT `JSON` SETTINGS max_threads = 1", "SELECT", "JSON", "SELECT 1 FORMAT `JSON` SETTINGS max_threads = 1", " max_threads = 1"},
		{"SELECT 'FORMAT CSV'", "SELECT", "", "SELECT 'FORMAT CSV'", ""},
		{"SELECT format FROM t", "SELECT", "", "SELECT format FROM t", ""},
		{"SELECT * FROM format(CSV, '1')", "SELECT", "", "SELECT * FROM format(CSV, '1')", ""},
		{"SELECT (SELECT 1 FORMAT CSV)", "SELECT", "", "SELECT (SELECT 1 FORMAT CSV)", ""},
		{"SELECT 1 AS format", "SELECT", "", "SELECT 1 AS format", ""},
		{"SELECT 1 /* FORMAT CSV */", "SELECT", "", "SELECT 1", ""},
		{"SELECT 1 # FORMAT CSV", "SELECT", "", "SELECT 1", ""},
		{"SELECT 1 SETTINGS a=1 FORMAT TSV", "SELECT", "TSV", "SELECT 1 SETTINGS a=1 FORMAT TSV", ""},
		{"(SELECT 1) FORMAT CSV", "(", "CSV", "(SELECT 1) FORMAT CSV", ""},
		{"SELECT $$x FORMAT CSV$$", "SELECT", "", "SELECT $$x FORMAT CSV$$", ""},
		{"SHOW TABLES FORMAT JSONCompact", "SHOW", "JSONCompact", "SHOW TABLES FORMAT JSONCompact", ""},
	}
	for _, c := range cases {
		st, err := parseStatement(c.sql)
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		if st.kind != c.kind || st.format != c.format || st.text != c.text {
			t.Errorf("%q: kind %q format %q text %q; want %q %q %q", c.sql, st.kind, st.format, st.text, c.kind, c.format, c.text)
		}
		got := ""
		if st.outSettingsAt >= 0 {
			got = st.text[st.outSettingsAt:]
		}
		if got != c.settingsAfter {
			t.Errorf("%q: after SETTINGS %q, want %q", c.sql, got, c.settingsAfter)
		}
	}
}

func TestParseStatementInsert(t *testing.T) {
	cases := []struct {
		sql, header, format, data string
		settingsAfter             string
	}{
		{"INSERT INTO t FORMAT JSONEachRow\n{\"a\":1}\n", "INSERT INTO t", "JSONEachRow", "{\"a\":1}\n", ""},
		{"INSERT INTO t FORMAT JSONEachRow {\"a\":1}", "INSERT INTO t", "JSONEachRow", "{\"a\":1}", ""},
		{"INSERT INTO t FORMAT TSV\r\n1\t2\n", "INSERT INTO t", "TSV", "1\t2\n", ""},
		{"INSERT INTO t FORMAT TSV\n\nx", "INSERT INTO t", "TSV", "\nx", ""},
		{"insert into db.t (a, b) values (1, 'x'), (2, 'y')", "insert into db.t (a, b)", "Values", " (1, 'x'), (2, 'y')", ""},
		{"INSERT INTO values VALUES (1)", "INSERT INTO values", "Values", " (1)", ""},
		{"INSERT INTO `format` (format, values) FORMAT CSV\n1,2", "INSERT INTO `format` (format, values)", "CSV", "1,2", ""},
		{"INSERT INTO t SETTINGS async_insert = 1 FORMAT CSV\n1", "INSERT INTO t SETTINGS async_insert = 1", "CSV", "1", " async_insert = 1"},
		{"INSERT INTO TABLE FUNCTION remote('h', db.t) VALUES (1)", "INSERT INTO TABLE FUNCTION remote('h', db.t)", "Values", " (1)", ""},
		{"INSERT INTO t -- c\nFORMAT CSV\n'a'; DROP TABLE t", "INSERT INTO t", "CSV", "'a'; DROP TABLE t", ""},
		{"INSERT INTO t", "INSERT INTO t", "", "", ""},
		{"INSERT INTO t (a) ;", "INSERT INTO t (a)", "", "", ""},
	}
	for _, c := range cases {
		st, err := parseStatement(c.sql)
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		if st.insert == nil {
			t.Errorf("%q: not seen as an INSERT with data", c.sql)
			continue
		}
		data := ""
		if st.insert.format != "" {
			data = c.sql[st.insert.dataAt:]
		}
		if st.insert.header != c.header || st.insert.format != c.format || data != c.data {
			t.Errorf("%q: header %q format %q data %q; want %q %q %q", c.sql, st.insert.header, st.insert.format, data, c.header, c.format, c.data)
		}
		got := ""
		if st.insert.settingsAt >= 0 {
			got = st.insert.header[st.insert.settingsAt:]
		}
		if got != c.settingsAfter {
			t.Errorf("%q: after SETTINGS %q, want %q", c.sql, got, c.settingsAfter)
		}
	}
	for _, sql := range []string{"INSERT INTO t SELECT 1", "INSERT INTO t (a) SELECT 1", "INSERT INTO t WITH 1 AS x SELECT x", "INSERT INTO t (SELECT 1)"} {
		st, err := parseStatement(sql)
		if err != nil || st.insert != nil || st.kind != "INSERT" {
			t.Errorf("%q: want an INSERT … SELECT query, got %+v %v", sql, st, err)
		}
	}
}

func TestParseStatementErrors(t *testing.T) {
	cases := map[string]string{
		"":                         "Empty query",
		"  -- nothing\n":           "Empty query",
		";":                        "Empty query",
		" ; SELECT 1":              "Empty query",
		"SELECT 1; SELECT 2":       "Multi-statements are not allowed",
		"SELECT 1;;":               "Multi-statements are not allowed",
		"SELECT 'a":                "Single quoted string is not closed",
		"SELECT `a":                "Back quoted identifier is not closed",
		"SELECT 1 /* a /* b */":    "Multiline comment is not closed",
		"INSERT INTO t VALUES":     "",
		"INSERT INTO t FORMAT":     "expected format name",
		"SELECT 1; -- fine\n":      "",
		"SELECT ';' ; /* ok */":    "",
		"SELECT 1 /* a /* b */ */": "",
	}
	for sql, want := range cases {
		_, err := parseStatement(sql)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: unexpected %v", sql, err)
		case want != "" && (err == nil || !strings.Contains(err.msg, want)):
			t.Errorf("%q: got %v, want %q", sql, err, want)
		case err != nil && (err.code != codeSyntaxError || !strings.HasSuffix(err.msg, "(SYNTAX_ERROR)")):
			t.Errorf("%q: not a ClickHouse syntax error: %v", sql, err)
		}
	}
}

func TestUnescapeTSV(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         "plain",
		`a\tb\nc\\d`:    "a\tb\nc\\d",
		`it\'s`:         "it's",
		`\x41\x4a`:      "AJ",
		`trailing\`:     `trailing\`,
		"raw\nnewline":  "raw\nnewline",
		`\0`:            "\x00",
		`unknown \q ok`: "unknown q ok",
	} {
		if got := unescapeTSV(in); got != want {
			t.Errorf("unescapeTSV(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStatementLimits(t *testing.T) {
	// Unclosed heredoc openings are bounded (each scans the rest).
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range 1000 {
		fmt.Fprintf(&b, "$t%d$ ", i)
	}
	if _, err := parseStatement(b.String()); err == nil || !strings.Contains(err.msg, "heredoc") {
		t.Errorf("many unclosed heredocs: %v", err)
	}
	if _, err := parseStatement("SELECT '" + strings.Repeat("x", maxStatementBytes) + "'"); err == nil || !strings.Contains(err.msg, "Max query size") {
		t.Errorf("oversized statement: %v", err)
	}
	// An INSERT's data does not count.
	st, err := parseStatement("INSERT INTO t FORMAT TSV\n" + strings.Repeat("x\n", maxStatementBytes))
	if err != nil || st.insert == nil {
		t.Errorf("large INSERT data: %v", err)
	}
}
