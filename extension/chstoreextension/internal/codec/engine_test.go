package codec

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// The engine allows one data directory per process, so every test in this
// binary shares one directory and connection and uses its own tables.
var engine struct {
	conn *chdb.Conn
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rowbinary-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lib, err := chdb.Load("")
	if err == nil {
		engine.conn, err = lib.Connect(dir)
	}
	if err == nil {
		_, err = engine.conn.Query("CREATE DATABASE IF NOT EXISTS rb", "", nil)
	}
	engine.err = err
	code := m.Run()
	if engine.conn != nil {
		engine.conn.Close()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func testConn(t *testing.T) *chdb.Conn {
	t.Helper()
	if engine.err != nil {
		t.Fatalf("embedded engine unavailable (run `make engine`): %v", engine.err)
	}
	return engine.conn
}

func query(t *testing.T, sql, format string) []byte {
	t.Helper()
	res, err := testConn(t).Query(sql, format, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Data
}

// engineCol is one column of the all-types table: the Go values inserted
// for the three rows, the canonical values Decode must return, and the text
// the engine must print for what it stored (toString), written by hand so
// the test does not trust this package's own decoder.
type engineCol struct {
	name, typ string
	in        [3]any
	want      [3]any
	text      [3]string // `\N` for NULL
}

var maxU256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

func allTypesColumns() []engineCol {
	utc := time.UTC
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, utc) }
	return []engineCol{
		{"id", "UInt32", [3]any{1, 2, 3}, [3]any{uint32(1), uint32(2), uint32(3)}, [3]string{"1", "2", "3"}},
		{"s", "String",
			[3]any{"héllo wörld ✓", "a\n\nb\x00c\t'\\", ""},
			[3]any{"héllo wörld ✓", "a\n\nb\x00c\t'\\", ""},
			[3]string{"héllo wörld ✓", "a\n\nb\x00c\t'\\", ""}},
		{"fs", "FixedString(8)",
			[3]any{"abc", []byte("12345678"), ""},
			[3]any{"abc\x00\x00\x00\x00\x00", "12345678", strings.Repeat("\x00", 8)},
			[3]string{"abc\x00\x00\x00\x00\x00", "12345678", strings.Repeat("\x00", 8)}},
		{"lc", "LowCardinality(String)", [3]any{"svc-a", level("svc-b"), ""}, [3]any{"svc-a", "svc-b", ""}, [3]string{"svc-a", "svc-b", ""}},
		{"u8", "UInt8", [3]any{uint8(255), 0, true}, [3]any{uint8(255), uint8(0), uint8(1)}, [3]string{"255", "0", "1"}},
		{"u16", "UInt16", [3]any{65535, uint16(0), int64(7)}, [3]any{uint16(65535), uint16(0), uint16(7)}, [3]string{"65535", "0", "7"}},
		{"u32", "UInt32", [3]any{uint32(math.MaxUint32), 0, 7}, [3]any{uint32(math.MaxUint32), uint32(0), uint32(7)}, [3]string{"4294967295", "0", "7"}},
		{"u64", "UInt64", [3]any{uint64(math.MaxUint64), 0, uint(7)}, [3]any{uint64(math.MaxUint64), uint64(0), uint64(7)}, [3]string{"18446744073709551615", "0", "7"}},
		{"i8", "Int8", [3]any{127, -128, 0}, [3]any{int8(127), int8(-128), int8(0)}, [3]string{"127", "-128", "0"}},
		{"i16", "Int16", [3]any{32767, -32768, 0}, [3]any{int16(32767), int16(-32768), int16(0)}, [3]string{"32767", "-32768", "0"}},
		{"i32", "Int32", [3]any{int32(math.MaxInt32), math.MinInt32, code(0)}, [3]any{int32(math.MaxInt32), int32(math.MinInt32), int32(0)}, [3]string{"2147483647", "-2147483648", "0"}},
		{"i64", "Int64", [3]any{int64(math.MaxInt64), int64(math.MinInt64), time.Duration(0)}, [3]any{int64(math.MaxInt64), int64(math.MinInt64), int64(0)}, [3]string{"9223372036854775807", "-9223372036854775808", "0"}},
		{"f32", "Float32", [3]any{float32(1.5), float32(-0.1), 0}, [3]any{float32(1.5), float32(-0.1), float32(0)}, [3]string{"1.5", "-0.1", "0"}},
		{"f64", "Float64", [3]any{0.1, -1e300, math.Inf(1)}, [3]any{0.1, -1e300, math.Inf(1)}, [3]string{"0.1", "-1e300", "inf"}},
		{"b", "Bool", [3]any{true, false, 0}, [3]any{true, false, false}, [3]string{"true", "false", "false"}},
		{"d", "Date",
			[3]any{day(2024, 1, 2), day(1970, 1, 1), "2149-06-06"},
			[3]any{day(2024, 1, 2), day(1970, 1, 1), day(2149, 6, 6)},
			[3]string{"2024-01-02", "1970-01-01", "2149-06-06"}},
		{"d32", "Date32",
			[3]any{day(1900, 1, 1), day(2299, 12, 31), day(2024, 2, 29)},
			[3]any{day(1900, 1, 1), day(2299, 12, 31), day(2024, 2, 29)},
			[3]string{"1900-01-01", "2299-12-31", "2024-02-29"}},
		{"dt", "DateTime",
			[3]any{time.Date(2024, 1, 2, 3, 4, 5, 0, utc), time.Time{}, uint32(math.MaxUint32)},
			[3]any{time.Date(2024, 1, 2, 3, 4, 5, 0, utc), time.Unix(0, 0).UTC(), time.Date(2106, 2, 7, 6, 28, 15, 0, utc)},
			[3]string{"2024-01-02 03:04:05", "1970-01-01 00:00:00", "2106-02-07 06:28:15"}},
		{"dtz", "DateTime('Asia/Tokyo')",
			[3]any{time.Date(2024, 1, 2, 3, 4, 5, 0, utc), time.Date(2024, 1, 2, 3, 4, 5, 0, tokyo), "2024-06-01 00:00:00"},
			[3]any{time.Date(2024, 1, 2, 12, 4, 5, 0, tokyo), time.Date(2024, 1, 2, 3, 4, 5, 0, tokyo), time.Date(2024, 6, 1, 0, 0, 0, 0, tokyo)},
			[3]string{"2024-01-02 12:04:05", "2024-01-02 03:04:05", "2024-06-01 00:00:00"}},
		{"dt64", "DateTime64(9, 'UTC')",
			[3]any{time.Date(2024, 1, 2, 3, 4, 5, 123456789, utc), time.Date(1969, 12, 31, 23, 59, 59, 999999999, utc), time.Time{}},
			[3]any{time.Date(2024, 1, 2, 3, 4, 5, 123456789, utc), time.Date(1969, 12, 31, 23, 59, 59, 999999999, utc), time.Unix(0, 0).UTC()},
			[3]string{"2024-01-02 03:04:05.123456789", "1969-12-31 23:59:59.999999999", "1970-01-01 00:00:00.000000000"}},
		{"dt64ny", "DateTime64(3, 'America/New_York')",
			[3]any{time.Date(2024, 7, 1, 12, 0, 0, 500_000_000, utc), int64(1), time.Date(2024, 1, 1, 0, 0, 0, 999_999_999, ny)},
			[3]any{time.Date(2024, 7, 1, 8, 0, 0, 500_000_000, ny), time.Unix(0, 1_000_000).In(ny), time.Date(2024, 1, 1, 0, 0, 0, 999_000_000, ny)},
			[3]string{"2024-07-01 08:00:00.500", "1969-12-31 19:00:00.001", "2024-01-01 00:00:00.999"}},
		{"dec9", "Decimal(9, 2)", [3]any{"1234567.89", dec("-0.01"), 0}, [3]any{dec("1234567.89"), dec("-0.01"), dec("0")}, [3]string{"1234567.89", "-0.01", "0"}},
		{"dec18", "Decimal(18, 9)",
			[3]any{"123.000000001", dec("-999999999.999999999"), "0.000001234"},
			[3]any{dec("123.000000001"), dec("-999999999.999999999"), dec("0.000001234")},
			[3]string{"123.000000001", "-999999999.999999999", "0.000001234"}},
		{"dec38", "Decimal(38, 18)",
			[3]any{"-12345678901234567890.123456789012345678", dec("99999999999999999999.999999999999999999"), 1},
			[3]any{dec("-12345678901234567890.123456789012345678"), dec("99999999999999999999.999999999999999999"), dec("1")},
			[3]string{"-12345678901234567890.123456789012345678", "99999999999999999999.999999999999999999", "1"}},
		{"dec76", "Decimal(76, 20)",
			[3]any{"1234567890123456789012345678901234567890.12345678901234567890", "-1.5", 0},
			[3]any{dec("1234567890123456789012345678901234567890.1234567890123456789"), dec("-1.5"), dec("0")},
			[3]string{"1234567890123456789012345678901234567890.1234567890123456789", "-1.5", "0"}},
		{"uuid", "UUID",
			[3]any{"00112233-4455-6677-8899-aabbccddeeff", [16]byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xfe}, "00000000-0000-0000-0000-000000000000"},
			[3]any{"00112233-4455-6677-8899-aabbccddeeff", "ff010203-0405-0607-0809-0a0b0c0d0efe", "00000000-0000-0000-0000-000000000000"},
			[3]string{"00112233-4455-6677-8899-aabbccddeeff", "ff010203-0405-0607-0809-0a0b0c0d0efe", "00000000-0000-0000-0000-000000000000"}},
		{"e8", "Enum8('a' = 1, 'b' = -2)", [3]any{"a", "b", 1}, [3]any{"a", "b", "a"}, [3]string{"a", "b", "a"}},
		{"e16", "Enum16('x' = 1000, 'y' = -1000)", [3]any{"x", -1000, level("y")}, [3]any{"x", "y", "y"}, [3]string{"x", "y", "y"}},
		{"ns", "Nullable(String)", [3]any{"x", ptr(""), nil}, [3]any{ptr("x"), ptr(""), nil}, [3]string{"x", "", `\N`}},
		{"nf", "Nullable(Float64)", [3]any{1.5, ptr(-0.25), (*float64)(nil)}, [3]any{ptr(1.5), ptr(-0.25), nil}, [3]string{"1.5", "-0.25", `\N`}},
		{"ni", "Nullable(Int64)", [3]any{sql.NullInt64{Int64: 5, Valid: true}, int64(-1), sql.NullInt64{}}, [3]any{ptr(int64(5)), ptr(int64(-1)), nil}, [3]string{"5", "-1", `\N`}},
		{"lcn", "LowCardinality(Nullable(String))", [3]any{"k", "", nil}, [3]any{ptr("k"), ptr(""), nil}, [3]string{"k", "", `\N`}},
		{"arr", "Array(String)",
			[3]any{[]string{"a", "b'c", "d\ne"}, []string{}, nil},
			[3]any{[]string{"a", "b'c", "d\ne"}, []string{}, []string{}},
			[3]string{`['a','b\'c','d\ne']`, "[]", "[]"}},
		{"arri", "Array(Int32)", [3]any{[]int32{1, -2}, []any{int64(3)}, []int{}}, [3]any{[]int32{1, -2}, []int32{3}, []int32{}}, [3]string{"[1,-2]", "[3]", "[]"}},
		{"arrn", "Array(Nullable(UInt8))", [3]any{[]any{nil, 1}, []*uint8{ptr(uint8(2))}, nil}, [3]any{[]*uint8{nil, ptr(uint8(1))}, []*uint8{ptr(uint8(2))}, []*uint8{}}, [3]string{"[NULL,1]", "[2]", "[]"}},
		{"m", "Map(String, String)",
			[3]any{map[string]string{"k": "v"}, map[string]string{"a\n": "b'"}, map[string]string{}},
			[3]any{map[string]string{"k": "v"}, map[string]string{"a\n": "b'"}, map[string]string{}},
			[3]string{"{'k':'v'}", `{'a\n':'b\''}`, "{}"}},
		{"mlc", "Map(LowCardinality(String), UInt64)",
			[3]any{map[string]uint64{"x": 1}, map[string]any{"y": 2}, nil},
			[3]any{map[string]uint64{"x": 1}, map[string]uint64{"y": 2}, map[string]uint64{}},
			[3]string{"{'x':1}", "{'y':2}", "{}"}},
		{"ma", "Map(String, Array(Nullable(String)))",
			[3]any{map[string][]any{"k": {"a", nil}}, nil, map[string]any{"z": []string{}}},
			[3]any{map[string][]*string{"k": {ptr("a"), nil}}, map[string][]*string{}, map[string][]*string{"z": {}}},
			[3]string{"{'k':['a',NULL]}", "{}", "{'z':[]}"}},
		{"tup", "Tuple(a UInt8, b String)",
			[3]any{[]any{1, "x"}, map[string]any{"a": 2, "b": "y z"}, []any{0, ""}},
			[3]any{[]any{uint8(1), "x"}, []any{uint8(2), "y z"}, []any{uint8(0), ""}},
			[3]string{"(1,'x')", "(2,'y z')", "(0,'')"}},
		{"i128", "Int128",
			[3]any{bigInt("-170141183460469231731687303715884105728"), 5, "0"},
			[3]any{bigInt("-170141183460469231731687303715884105728"), bigInt("5"), bigInt("0")},
			[3]string{"-170141183460469231731687303715884105728", "5", "0"}},
		{"u256", "UInt256", [3]any{maxU256, 0, uint64(1)}, [3]any{bigInt(maxU256), bigInt("0"), bigInt("1")}, [3]string{maxU256, "0", "1"}},
	}
}

// engineText reads what the engine stored, as toString prints it, through
// JSON so strings with newlines and NULs arrive intact.
func engineText(t *testing.T, table string, cols []engineCol) [][]string {
	t.Helper()
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = fmt.Sprintf("toString(%s) AS %s", c.name, c.name)
		if strings.HasPrefix(c.typ, "FixedString") {
			// toString drops a FixedString's trailing NULs; the text formats
			// (and clickhouse-go) keep them.
			exprs[i] = c.name
		}
	}
	data := query(t, "SELECT "+strings.Join(exprs, ", ")+" FROM "+table+" ORDER BY id", "JSONEachRow")
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]*string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("engine JSON %q: %v", sc.Text(), err)
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			if v := m[c.name]; v != nil {
				row[i] = *v
			} else {
				row[i] = `\N`
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func TestEngineRoundTripAllTypes(t *testing.T) {
	conn := testConn(t)
	cols := allTypesColumns()
	names := make([]string, len(cols))
	typeStrs := make([]string, len(cols))
	defs := make([]string, len(cols))
	for i, c := range cols {
		names[i], typeStrs[i], defs[i] = c.name, c.typ, c.name+" "+c.typ
	}
	const table = "rb.all_types"
	query(t, "CREATE OR REPLACE TABLE "+table+" ("+strings.Join(defs, ", ")+") ENGINE = MergeTree ORDER BY id", "")

	types, err := ParseTypes(typeStrs...)
	if err != nil {
		t.Fatal(err)
	}
	enc := NewRowEncoder(types).WithNames(names...)
	var body []byte
	for r := range 3 {
		row := make([]any, len(cols))
		for i, c := range cols {
			row[i] = c.in[r]
		}
		if body, err = enc.Append(body, row...); err != nil {
			t.Fatalf("row %d: %v", r, err)
		}
	}
	n, err := conn.Insert("INSERT INTO "+table+" ("+strings.Join(names, ", ")+")", "RowBinary", body)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("engine wrote %d rows, want 3", n)
	}

	// 1. The engine stored exactly the intended values (hand-written text).
	stored := engineText(t, table, cols)
	if len(stored) != 3 {
		t.Fatalf("engine returned %d rows", len(stored))
	}
	for r := range 3 {
		for i, c := range cols {
			if stored[r][i] != c.text[r] {
				t.Errorf("row %d %s %s: engine stored %q, want %q", r, c.name, c.typ, stored[r][i], c.text[r])
			}
		}
	}

	// 2. Reading RowBinaryWithNamesAndTypes gives the canonical values, and
	// the header's types are spelled as this package spells them.
	data := query(t, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" ORDER BY id", "RowBinaryWithNamesAndTypes")
	rd, err := NewReader(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rd.Columns(), names) {
		t.Fatalf("columns %v", rd.Columns())
	}
	for i, ct := range rd.ColumnTypes() {
		if ct.String() != types[i].String() {
			t.Errorf("column %s: engine header type %q, ParseType(%q).String() = %q", names[i], ct, typeStrs[i], types[i])
		}
	}
	for r := 0; rd.Next(); r++ {
		vals, err := rd.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if !sameValue(vals[i], c.want[r]) {
				t.Errorf("row %d %s: decoded %#v (%T), want %#v (%T)", r, c.name, vals[i], vals[i], c.want[r], c.want[r])
			}
		}
		// 3. Scan into the canonical Go types.
		dests := make([]any, len(cols))
		for i := range cols {
			dests[i] = reflect.New(types[i].goType()).Interface()
		}
		if err := rd.Scan(dests...); err != nil {
			t.Fatalf("row %d: %v", r, err)
		}
		for i, c := range cols {
			if got := reflect.ValueOf(dests[i]).Elem().Interface(); !sameValue(got, c.want[r]) {
				t.Errorf("row %d %s: scanned %#v, want %#v", r, c.name, got, c.want[r])
			}
		}
		// 4. Scan into *string prints what the engine prints.
		for i, c := range cols {
			var s string
			err := rd.Scan(oneDest(len(cols), i, &s)...)
			if c.text[r] == `\N` {
				if err == nil || !strings.Contains(err.Error(), "NULL") {
					t.Errorf("row %d %s: NULL into *string: %v", r, c.name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("row %d %s: %v", r, c.name, err)
			} else if s != stored[r][i] {
				t.Errorf("row %d %s: Scan(*string) = %q, engine prints %q", r, c.name, s, stored[r][i])
			}
		}
	}
	if rd.Err() != nil {
		t.Fatal(rd.Err())
	}

	// 5. The engine agrees on equality with its own literals, which rules
	// out byte-order mistakes that would still round-trip through this package.
	for _, cond := range []string{
		"uuid = toUUID('00112233-4455-6677-8899-aabbccddeeff')",
		"dec18 = toDecimal64('123.000000001', 9)",
		"dec38 = toDecimal128('-12345678901234567890.123456789012345678', 18)",
		"dt64 = toDateTime64('2024-01-02 03:04:05.123456789', 9, 'UTC')",
		"dtz = toDateTime('2024-01-02 12:04:05', 'Asia/Tokyo')",
		"d = toDate('2024-01-02') AND d32 = toDate32('1900-01-01')",
		"e8 = 'a' AND e16 = 'x' AND b AND i128 = toInt128('-170141183460469231731687303715884105728')",
		"m['k'] = 'v' AND mlc['x'] = 1 AND tup.b = 'x' AND arr[2] = 'b\\'c'",
		"s = 'héllo wörld ✓' AND length(fs) = 8",
	} {
		if got := string(query(t, "SELECT count() FROM "+table+" WHERE id = 1 AND "+cond, "TabSeparated")); got != "1\n" {
			t.Errorf("engine: %s matched %q rows, want 1", cond, got)
		}
	}
	if got := string(query(t, "SELECT hex(s) FROM "+table+" WHERE id = 2", "TabSeparated")); got != "610A0A62006309275C\n" {
		t.Errorf("binary string stored as %s", got)
	}
	// TabSeparated too, for the decimals.
	if got := string(query(t, "SELECT dec18, dec38 FROM "+table+" ORDER BY id", "TabSeparated")); got !=
		"123.000000001\t-12345678901234567890.123456789012345678\n"+
			"-999999999.999999999\t99999999999999999999.999999999999999999\n"+
			"0.000001234\t1\n" {
		t.Errorf("TabSeparated decimals:\n%s", got)
	}
}

// oneDest is a Scan argument list that puts target at column i and
// discards the others.
func oneDest(n, i int, target any) []any {
	out := make([]any, n)
	for j := range out {
		out[j] = new(any)
	}
	out[i] = target
	return out
}

func TestEngineScanLikeClickhouseGo(t *testing.T) {
	conn := testConn(t)
	query(t, `CREATE OR REPLACE TABLE rb.scan (
		ts DateTime64(9, 'UTC'), svc LowCardinality(String), dur UInt32, n Int32,
		cost Decimal(18, 9), attrs Map(LowCardinality(String), String), tags Array(String),
		note Nullable(String), ratio Nullable(Float64)
	) ENGINE = MergeTree ORDER BY ts`, "")
	types, err := ParseTypes("DateTime64(9, 'UTC')", "LowCardinality(String)", "UInt32", "Int32",
		"Decimal(18, 9)", "Map(LowCardinality(String), String)", "Array(String)", "Nullable(String)", "Nullable(Float64)")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2025, 3, 4, 5, 6, 7, 890123456, time.UTC)
	body, err := NewRowEncoder(types).Append(nil, ts, "checkout", uint32(1500), int32(-3),
		dec("0.000001234"), map[string]string{"http.method": "GET"}, []string{"a", "b"}, nil, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Insert("INSERT INTO rb.scan (ts, svc, dur, n, cost, attrs, tags, note, ratio)", "RowBinary", body); err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(query(t, "SELECT ts, svc, dur, n, cost, attrs, tags, note, ratio, count() OVER () AS total FROM rb.scan", "RowBinaryWithNamesAndTypes"))
	if err != nil {
		t.Fatal(err)
	}
	if !rd.Next() {
		t.Fatal(rd.Err())
	}
	var (
		gotTS    time.Time
		svc      string
		dur      int64 // widened from UInt32
		n        int64 // widened from Int32
		cost     float64
		attrs    map[string]string
		tags     []string
		note     *string
		ratio    *float64
		total    uint64
		costText string
	)
	if err := rd.Scan(&gotTS, &svc, &dur, &n, &cost, &attrs, &tags, &note, &ratio, &total); err != nil {
		t.Fatal(err)
	}
	if !gotTS.Equal(ts) || svc != "checkout" || dur != 1500 || n != -3 || cost != 0.000001234 ||
		attrs["http.method"] != "GET" || len(tags) != 2 || note != nil || ratio == nil || *ratio != 0.5 || total != 1 {
		t.Fatalf("scanned %v %q %d %d %v %v %v %v %v %d", gotTS, svc, dur, n, cost, attrs, tags, note, ratio, total)
	}
	if err := rd.Scan(oneDest(10, 4, &costText)...); err != nil || costText != "0.000001234" {
		t.Fatalf("decimal as text %q, %v", costText, err)
	}
	var small int16
	err = rd.Scan(oneDest(10, 2, &small)...)
	if err == nil || !strings.Contains(err.Error(), `column "dur" (UInt32)`) {
		t.Fatalf("narrowing scan: %v", err)
	}
	if err := rd.Scan(&gotTS); err == nil {
		t.Fatal("Scan with 1 of 10 destinations succeeded")
	}
}

func TestEngineLiterals(t *testing.T) {
	// Types a query produces without a table: NULL, empty arrays, computed
	// maps and tuples, wide decimals.
	rd, err := NewReader(query(t, `SELECT NULL AS n, [] AS e, map('a', 1) AS m, tuple(1, 'x') AS t,
		toDecimal256('-1.5', 40) AS d, toUUID('00112233-4455-6677-8899-aabbccddeeff') AS u, true AS b,
		CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS en, 0.1 + 0.2 AS f, toInt128(-2) AS i`, "RowBinaryWithNamesAndTypes"))
	if err != nil {
		t.Fatal(err)
	}
	if !rd.Next() {
		t.Fatal(rd.Err())
	}
	vals, err := rd.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{nil, []any{}, map[string]uint8{"a": 1}, []any{uint8(1), "x"}, dec("-1.5"),
		"00112233-4455-6677-8899-aabbccddeeff", true, "b", 0.30000000000000004, bigInt("-2")}
	for i := range want {
		if !sameValue(vals[i], want[i]) {
			t.Errorf("%s (%s): %#v, want %#v", rd.Columns()[i], rd.ColumnTypes()[i], vals[i], want[i])
		}
	}
	var f string
	if err := rd.Scan(oneDest(10, 8, &f)...); err != nil || f != "0.30000000000000004" {
		t.Errorf("float text %q %v", f, err)
	}
	if rd.Next() || rd.Err() != nil {
		t.Fatalf("extra row or error %v", rd.Err())
	}
	// A result with no rows still has a header.
	rd, err = NewReader(query(t, "SELECT 1 AS x WHERE 0", "RowBinaryWithNamesAndTypes"))
	if err != nil || rd.Next() || rd.Err() != nil || len(rd.Columns()) != 1 {
		t.Fatalf("empty result: %v %v %v", err, rd.Err(), rd.Columns())
	}
}

func TestEngineBadRowsSkipped(t *testing.T) {
	conn := testConn(t)
	query(t, "CREATE OR REPLACE TABLE rb.bad (id UInt64, price Decimal(18, 9), name String) ENGINE = MergeTree ORDER BY id", "")
	types, _ := ParseTypes("UInt64", "Decimal(18, 9)", "String")
	enc := NewRowEncoder(types).WithNames("id", "price", "name")
	rows := [][]any{
		{1, "1.5", "ok"},
		{-1, "1.5", "negative id"},                  // out of range
		{3, "0.0000000001", "too precise"},          // would round
		{4, dec("1000000000"), "too big"},           // overflows P-S
		{5, 2.5, "float price"},                     // inexact Go type
		{6, "2.000000001", 42},                      // wrong Go type, last column
		{7, dec("-999999999.999999999"), "also ok"}, // extremes are fine
	}
	var body []byte
	var errs []string
	for _, r := range rows {
		var err error
		if body, err = enc.Append(body, r...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) != 5 {
		t.Fatalf("errors: %q", errs)
	}
	for i, want := range []string{`column 0 "id" (UInt64)`, `column 1 "price" (Decimal(18, 9))`, "overflows", "floats are inexact", `column 2 "name" (String): cannot encode int 42`} {
		if !strings.Contains(errs[i], want) {
			t.Errorf("error %q does not mention %q", errs[i], want)
		}
	}
	if n, err := conn.Insert("INSERT INTO rb.bad (id, price, name)", "RowBinary", body); err != nil || n != 2 {
		t.Fatalf("insert: %d rows, %v", n, err)
	}
	if got := string(query(t, "SELECT id, price, name FROM rb.bad ORDER BY id", "TabSeparated")); got != "1\t1.5\tok\n7\t-999999999.999999999\talso ok\n" {
		t.Fatalf("stored:\n%s", got)
	}
}

func TestEngineLargeBatch(t *testing.T) {
	// Larger than the 4 MiB chunks chdb.Insert streams in, so rows are cut
	// mid-value at chunk boundaries.
	conn := testConn(t)
	query(t, "CREATE OR REPLACE TABLE rb.large (id UInt64, body String, attrs Map(String, String)) ENGINE = MergeTree ORDER BY id", "")
	types, _ := ParseTypes("UInt64", "String", "Map(String, String)")
	enc := NewRowEncoder(types)
	var body []byte
	const rows = 30000
	payload := strings.Repeat("line\n\n", 50)
	for i := range rows {
		var err error
		if body, err = enc.Append(body, uint64(i), payload, map[string]string{"i": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(body) < 8<<20 {
		t.Fatalf("body only %d bytes", len(body))
	}
	if n, err := conn.Insert("INSERT INTO rb.large (id, body, attrs)", "RowBinary", body); err != nil || n != rows {
		t.Fatalf("insert: %d rows, %v", n, err)
	}
	got := string(query(t, "SELECT count(), sum(length(body)), countIf(attrs['i'] = toString(id)) FROM rb.large", "TabSeparated"))
	if want := fmt.Sprintf("%d\t%d\t%d\n", rows, rows*len(payload), rows); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	rd, err := NewReader(query(t, "SELECT id, body, attrs FROM rb.large ORDER BY id", "RowBinaryWithNamesAndTypes"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		id    uint64
		s     string
		attrs map[string]string
		count int
	)
	for rd.Next() {
		if err := rd.Scan(&id, &s, &attrs); err != nil {
			t.Fatal(err)
		}
		if id != uint64(count) || s != payload || attrs["i"] != fmt.Sprint(count) {
			t.Fatalf("row %d: id %d, attrs %v", count, id, attrs)
		}
		count++
	}
	if rd.Err() != nil || count != rows {
		t.Fatalf("read %d rows, %v", count, rd.Err())
	}
}

func TestEngineQuotedTextMatches(t *testing.T) {
	// Every byte 0..127 and some UTF-8 inside an array and a map, which the
	// text format quotes and escapes: Scan(*string) must print what the
	// engine prints.
	var all []byte
	for c := range 128 {
		all = append(all, byte(c))
	}
	all = append(all, "é✓"...)
	ty := MustParseType("Tuple(Array(String), Map(String, FixedString(3)), Enum8('it''s' = 1))")
	cell, err := ty.Append(nil, []any{[]string{string(all), ""}, map[string]string{string(all): "a\n"}, 1})
	if err != nil {
		t.Fatal(err)
	}
	query(t, "CREATE OR REPLACE TABLE rb.quoted (c "+ty.String()+") ENGINE = Memory", "")
	if _, err := testConn(t).Insert("INSERT INTO rb.quoted (c)", "RowBinary", cell); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(string(query(t, "SELECT c FROM rb.quoted", "TabSeparatedRaw")), "\n")
	rd, err := NewReader(query(t, "SELECT c FROM rb.quoted", "RowBinaryWithNamesAndTypes"))
	if err != nil || !rd.Next() {
		t.Fatal(err, rd.Err())
	}
	var got string
	if err := rd.Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Scan(*string):\n%q\nengine prints:\n%q", got, want)
	}
}
