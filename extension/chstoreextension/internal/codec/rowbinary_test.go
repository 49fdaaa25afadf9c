package codec

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func ptr[T any](v T) *T { return &v }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// sameValue compares decoded values: time.Time by instant and zone name,
// decimals by value, everything else deeply.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location().String() == y.Location().String()
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y)
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	}
	if isNil(a) || isNil(b) { // nil and a typed nil *T both mean NULL
		return isNil(a) && isNil(b)
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Pointer:
		if va.IsNil() || vb.IsNil() {
			return va.IsNil() == vb.IsNil()
		}
		return sameValue(va.Elem().Interface(), vb.Elem().Interface())
	case reflect.Slice:
		if va.Len() != vb.Len() {
			return false
		}
		for i := range va.Len() {
			if !sameValue(va.Index(i).Interface(), vb.Index(i).Interface()) {
				return false
			}
		}
		return true
	case reflect.Map:
		if va.Len() != vb.Len() {
			return false
		}
		for _, k := range va.MapKeys() {
			w := vb.MapIndex(k)
			if !w.IsValid() || !sameValue(va.MapIndex(k).Interface(), w.Interface()) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestParseTypeCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"String", "String"},
		{"LowCardinality(String)", "LowCardinality(String)"},
		{"DateTime64(9, 'UTC')", "DateTime64(9, 'UTC')"},
		{"DateTime64(9,'UTC')", "DateTime64(9, 'UTC')"},
		{"DateTime64(3)", "DateTime64(3)"},
		{"DateTime('Asia/Tokyo')", "DateTime('Asia/Tokyo')"},
		{"Decimal(18, 9)", "Decimal(18, 9)"},
		{"Decimal32(2)", "Decimal(9, 2)"},
		{"Decimal64(9)", "Decimal(18, 9)"},
		{"Decimal128(18)", "Decimal(38, 18)"},
		{"Decimal256(20)", "Decimal(76, 20)"},
		{"Decimal(12)", "Decimal(12, 0)"},
		{"Decimal", "Decimal(10, 0)"},
		{"Map(LowCardinality(String),String)", "Map(LowCardinality(String), String)"},
		{"Map(String, Array(Nullable(Float64)))", "Map(String, Array(Nullable(Float64)))"},
		{"Nullable(Float64)", "Nullable(Float64)"},
		{"LowCardinality(Nullable(String))", "LowCardinality(Nullable(String))"},
		{"Array(String)", "Array(String)"},
		{"Enum8('a' = 1, 'b' = 2)", "Enum8('a' = 1, 'b' = 2)"},
		{"Enum8('b' = 2, 'a' = 1)", "Enum8('a' = 1, 'b' = 2)"},
		{`Enum8('b\'x' = -2, 'a' = 1)`, `Enum8('b\'x' = -2, 'a' = 1)`},
		{"Enum16('x' = 1000, 'y' = -1000)", "Enum16('y' = -1000, 'x' = 1000)"},
		{"Enum('a', 'b')", "Enum8('a' = 1, 'b' = 2)"},
		{"Tuple(UInt8, String)", "Tuple(UInt8, String)"},
		{"Tuple(a UInt8, b String)", "Tuple(a UInt8, b String)"},
		{"Tuple(`a b` UInt8)", "Tuple(`a b` UInt8)"},
		{"FixedString(16)", "FixedString(16)"},
		{"Int128", "Int128"},
		{"UInt256", "UInt256"},
		{"Nullable(Nothing)", "Nullable(Nothing)"},
	} {
		typ, err := ParseType(tc.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tc.in, err)
			continue
		}
		if got := typ.String(); got != tc.want {
			t.Errorf("ParseType(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseTypeErrors(t *testing.T) {
	for _, tc := range []struct{ in, mention string }{
		{"Foo", `"Foo"`},
		{"Array(Foo)", `"Foo"`},
		{"Map(String, JSON)", `"JSON"`},
		{"Map(String)", "Map(KeyType, ValueType)"},
		{"Decimal(39, 40)", "Decimal"},
		{"Decimal(77, 2)", "Decimal"},
		{"DateTime64(10)", "DateTime64"},
		{"Nullable(Nullable(String))", "nested"},
		{"DateTime('Mars/Olympus')", "Mars/Olympus"},
		{"String(", "unexpected end"},
		{"Array(String))", "unexpected"},
		{"Enum8('a' = 1, 'a' = 2)", "duplicate"},
		{"Enum8('a' = 300)", "Enum8"},
		{"FixedString(x)", "FixedString"},
		{"", "type name"},
	} {
		_, err := ParseType(tc.in)
		if err == nil {
			t.Errorf("ParseType(%q): no error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ParseType(%q) error %q does not mention %q", tc.in, err, tc.mention)
		}
	}
}

var tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}()

// codecCases pin the exact bytes: each was checked against the engine's own
// RowBinary output (see engine_test.go for the live round trips).
var codecCases = []struct {
	typ  string
	in   any
	hex  string
	want any // canonical decoded value; nil means "same as in"
}{
	{"String", "", "00", nil},
	{"String", "héllo", "06 68c3a96c6c6f", nil},
	{"String", "a\n\nb\x00c", "06 610a0a6200 63", nil},
	{"String", []byte("raw"), "03 726177", "raw"},
	{"String", strings.Repeat("x", 200), "c801" + strings.Repeat("78", 200), nil},
	{"FixedString(4)", "ab", "61620000", "ab\x00\x00"},
	{"FixedString(2)", "ab", "6162", nil},
	{"UInt8", uint8(255), "ff", nil},
	{"UInt8", 0, "00", uint8(0)},
	{"UInt16", 65535, "ffff", uint16(65535)},
	{"UInt32", uint32(math.MaxUint32), "ffffffff", nil},
	{"UInt64", uint64(math.MaxUint64), "ffffffffffffffff", nil},
	{"UInt64", 1, "0100000000000000", uint64(1)},
	{"Int8", -128, "80", int8(-128)},
	{"Int8", int8(127), "7f", nil},
	{"Int16", int16(-2), "feff", nil},
	{"Int32", int32(math.MinInt32), "00000080", nil},
	{"Int64", int64(math.MinInt64), "0000000000000080", nil},
	{"Int64", int64(math.MaxInt64), "ffffffffffffff7f", nil},
	{"Int64", uint32(7), "0700000000000000", int64(7)},
	{"Int64", 3.0, "0300000000000000", int64(3)},
	{"Float32", float32(1.5), "0000c03f", nil},
	{"Float64", 1.5, "000000000000f83f", nil},
	{"Float64", 2, "0000000000000040", 2.0},
	{"Float64", math.Inf(-1), "000000000000f0ff", nil},
	{"Bool", true, "01", nil},
	{"Bool", false, "00", nil},
	{"Bool", 1, "01", true},
	{"UUID", "00112233-4455-6677-8899-aabbccddeeff", "7766554433221100 ffeeddccbbaa9988", nil},
	{"UUID", [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		"7766554433221100 ffeeddccbbaa9988", "00112233-4455-6677-8899-aabbccddeeff"},
	{"UUID", "00112233445566778899AABBCCDDEEFF", "7766554433221100 ffeeddccbbaa9988", "00112233-4455-6677-8899-aabbccddeeff"},
	{"Date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), "0c4d", nil},
	{"Date", time.Date(2024, 1, 2, 23, 30, 0, 0, tokyo), "0c4d", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	{"Date", "2024-01-02", "0c4d", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	{"Date", 19724, "0c4d", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	{"Date32", time.Date(1900, 1, 2, 0, 0, 0, 0, time.UTC), "229cffff", nil},
	{"DateTime", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "257d9365", nil},
	{"DateTime", uint32(1704164645), "257d9365", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
	{"DateTime", time.Time{}, "00000000", time.Unix(0, 0).UTC()},
	{"DateTime('Asia/Tokyo')", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "257d9365", time.Date(2024, 1, 2, 12, 4, 5, 0, tokyo)},
	{"DateTime64(9, 'UTC')", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC), "15ff5c37b768a617", nil},
	{"DateTime64(9)", int64(1704164645123456789), "15ff5c37b768a617", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)},
	{"DateTime64(3)", time.Date(1960, 1, 2, 3, 4, 5, 500_000_000, time.UTC), "7c1a7089b6ffffff", nil},
	{"DateTime64(3)", time.Date(2024, 1, 2, 3, 4, 5, 123_999_999, time.UTC), "03d920c88c010000", time.Date(2024, 1, 2, 3, 4, 5, 123_000_000, time.UTC)},
	{"Decimal(9, 2)", "1.5", "96000000", dec("1.5")},
	{"Decimal(9, 2)", dec("-1.5"), "6affffff", nil},
	{"Decimal(18, 9)", dec("123.000000001"), "010e5fa31c000000", nil},
	{"Decimal(18, 9)", "0.000000001", "0100000000000000", dec("0.000000001")},
	{"Decimal(18, 9)", dec("-999999999.999999999"), "01009c584c491ff2", nil},
	{"Decimal(18, 9)", 42, "002465c709000000", dec("42")},
	{"Decimal(18, 9)", dec("1.500000000000"), "002f685900000000", dec("1.5")},
	{"Decimal(18, 9)", decimal.Decimal{}, "0000000000000000", dec("0")},
	{"Decimal(38, 20)", "1.5", "0000981444 0dab2108 00000000000000", dec("1.5")},
	{"Decimal(38, 18)", dec("-12345678901234567890.123456789012345678"),
		"b20cc721af6fb63becccfd0f094fb6f6", nil},
	{"Decimal(76, 2)", "-1.5", "6a" + strings.Repeat("ff", 31), dec("-1.5")},
	{"Enum8('a' = 1, 'b' = -2)", "b", "fe", nil},
	{"Enum8('a' = 1, 'b' = -2)", 1, "01", "a"},
	{"Enum16('x' = 1000, 'y' = -1000)", "x", "e803", nil},
	{"LowCardinality(String)", "x", "0178", nil},
	{"LowCardinality(Nullable(String))", nil, "01", nil},
	{"Nullable(String)", nil, "01", nil},
	{"Nullable(String)", "x", "00 0178", ptr("x")},
	{"Nullable(String)", ptr("x"), "00 0178", ptr("x")},
	{"Nullable(String)", (*string)(nil), "01", nil},
	{"Nullable(Float64)", sql.NullFloat64{}, "01", nil},
	{"Nullable(Float64)", sql.NullFloat64{Float64: 1.5, Valid: true}, "00 000000000000f83f", ptr(1.5)},
	{"Nullable(Int32)", int32(-1), "00 ffffffff", ptr(int32(-1))},
	{"Nullable(Nothing)", nil, "01", nil},
	{"Array(String)", []string{}, "00", nil},
	{"Array(String)", []string{"a", ""}, "02 0161 00", nil},
	{"Array(String)", nil, "00", []string{}},
	{"Array(UInt8)", []byte{1, 2}, "02 0102", []uint8{1, 2}},
	{"Array(Int32)", []int32{-1, 2}, "02 ffffffff 02000000", nil},
	{"Array(Int64)", []any{1, int64(2)}, "02 0100000000000000 0200000000000000", []int64{1, 2}},
	{"Array(Nullable(UInt8))", []any{nil, 1}, "02 01 0001", []*uint8{nil, ptr(uint8(1))}},
	{"Array(Array(UInt8))", [][]uint8{{1}, {}}, "02 0101 00", nil},
	{"Map(String, String)", map[string]string{}, "00", nil},
	{"Map(String, String)", map[string]string{"k": "v"}, "01 016b 0176", nil},
	{"Map(LowCardinality(String), String)", map[string]string{"k": "v"}, "01 016b 0176", nil},
	{"Map(String, UInt64)", map[string]uint64{"k": 1}, "01 016b 0100000000000000", nil},
	{"Map(String, UInt64)", map[string]any{"k": 1}, "01 016b 0100000000000000", map[string]uint64{"k": 1}},
	{"Map(String, Array(String))", map[string][]string{"k": {"a"}}, "01 016b 01 0161", nil},
	{"Map(UInt8, String)", map[uint8]string{7: "v"}, "01 07 0176", nil},
	{"Tuple(a UInt8, b String)", []any{uint8(1), "x"}, "01 0178", nil},
	{"Tuple(a UInt8, b String)", map[string]any{"a": 1, "b": "x"}, "01 0178", []any{uint8(1), "x"}},
	{"Int128", bigInt("-2"), "fe" + strings.Repeat("ff", 15), nil},
	{"Int128", int64(5), "05" + strings.Repeat("00", 15), bigInt("5")},
	{"UInt256", "3", "03" + strings.Repeat("00", 31), bigInt("3")},
}

func TestCodec(t *testing.T) {
	for _, tc := range codecCases {
		typ, err := ParseType(tc.typ)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		want := mustHex(tc.hex)
		got, err := typ.Append([]byte{0xAA}, tc.in)
		if err != nil {
			t.Errorf("%s.Append(%#v): %v", tc.typ, tc.in, err)
			continue
		}
		if !bytes.Equal(got[1:], want) || got[0] != 0xAA {
			t.Errorf("%s.Append(%#v) = % x, want % x", tc.typ, tc.in, got[1:], want)
			continue
		}
		wantVal := tc.want
		if wantVal == nil && tc.in != nil && !isNil(tc.in) {
			if _, isNullable := unwrapLC(typ).(*nullableType); !isNullable {
				wantVal = tc.in
			}
		}
		val, rest, err := typ.Decode(append(want, 0x55))
		if err != nil {
			t.Errorf("%s.Decode(% x): %v", tc.typ, want, err)
			continue
		}
		if !bytes.Equal(rest, []byte{0x55}) {
			t.Errorf("%s.Decode left % x, want 55", tc.typ, rest)
		}
		if !sameValue(val, wantVal) {
			t.Errorf("%s.Decode(% x) = %#v (%T), want %#v (%T)", tc.typ, want, val, val, wantVal, wantVal)
		}
		if val != nil && reflect.TypeOf(val) != typ.goType() {
			t.Errorf("%s.Decode gave %T, goType says %s", tc.typ, val, typ.goType())
		}
		// skip agrees with Decode on the value's length.
		if rest, err := typ.skip(append(want, 0x55)); err != nil || len(rest) != 1 {
			t.Errorf("%s.skip: rest % x, err %v", tc.typ, rest, err)
		}
		// Every proper prefix is reported as truncated, never a panic.
		for i := range len(want) {
			if _, _, err := typ.Decode(want[:i]); err == nil {
				if _, isNothing := typ.(nothingType); !isNothing {
					t.Errorf("%s.Decode(% x) (truncated) gave no error", tc.typ, want[:i])
				}
			}
		}
	}
}

func TestDecodeTimezone(t *testing.T) {
	typ := MustParseType("DateTime64(3, 'Asia/Tokyo')")
	b, err := typ.Append(nil, time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := typ.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	tv := v.(time.Time)
	if tv.Location().String() != "Asia/Tokyo" || tv.Hour() != 12 || tv.Nanosecond() != 6_000_000 {
		t.Fatalf("decoded %v in %v", tv, tv.Location())
	}
	v, _, _ = MustParseType("DateTime").Decode(b[:4])
	if v.(time.Time).Location() != time.UTC {
		t.Fatalf("DateTime without timezone decoded in %v, want UTC", v.(time.Time).Location())
	}
}

func TestAppendErrors(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		in      any
		mention string
	}{
		{"UInt64", -1, "out of range"},
		{"UInt8", 256, "out of range [0, 255]"},
		{"Int8", 128, "out of range [-128, 127]"},
		{"Int64", uint64(math.MaxUint64), "out of range"},
		{"Int32", 1.5, "not an integer"},
		{"UInt32", "12", "unsupported Go type string"},
		{"String", 12, "unsupported Go type int"},
		{"String", nil, "NULL is only allowed in Nullable"},
		{"String", (*string)(nil), "nil pointer"},
		{"Float64", "1.5", "unsupported Go type string"},
		{"FixedString(2)", "abc", "3 bytes do not fit in 2"},
		{"Bool", 2, "only 0 and 1"},
		{"UUID", "not-a-uuid", "not a UUID"},
		{"Date", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "out of range"},
		{"Date32", time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), "out of range"},
		{"DateTime", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), "out of range"},
		{"DateTime", -1, "out of range"},
		{"DateTime", "yesterday", "cannot parse"},
		{"DateTime64(9)", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "out of range"},
		{"Decimal(18, 9)", dec("1.0000000001"), "more than 9 fractional digits"},
		{"Decimal(18, 9)", "0.0000000001", "more than 9 fractional digits"},
		{"Decimal(18, 9)", dec("1000000000"), "overflows"},
		{"Decimal(18, 9)", "-1000000000", "overflows"},
		{"Decimal(18, 9)", 1_000_000_000, "overflows"},
		{"Decimal(9, 2)", "10000000", "overflows"},
		{"Decimal(38, 18)", dec("100000000000000000000"), "overflows"},
		{"Decimal(38, 18)", dec("1.0000000000000000001"), "more than 18 fractional digits"},
		{"Decimal(38, 0)", dec("1e40"), "overflows"},
		{"Decimal(18, 9)", 1.5, "floats are inexact"},
		{"Decimal(18, 9)", "abc", "not a decimal"},
		{"Enum8('a' = 1)", "b", "not one of the enum's names"},
		{"Enum8('a' = 1)", 2, "not one of the enum's values"},
		{"Nullable(UInt8)", 300, "out of range"},
		{"Array(UInt8)", []int{1, 300}, "out of range"},
		{"Array(String)", 5, "unsupported Go type int"},
		{"Map(String, UInt8)", map[string]int{"k": -1}, "out of range"},
		{"Map(String, String)", []string{"a"}, "unsupported Go type"},
		{"Tuple(UInt8, String)", []any{1}, "has 1 elements, want 2"},
		{"Tuple(a UInt8, b String)", map[string]any{"a": 1}, `missing element "b"`},
		{"Tuple(a UInt8, b String)", []any{1, 2}, "unsupported Go type int"},
		{"Map(String, Array(UInt8))", map[string]any{"k": []int{1, 2, 999}}, "out of range"},
		{"Array(Nullable(Decimal(9, 2)))", []any{"1.5", nil, "0.001"}, "more than 2 fractional digits"},
		{"Int128", bigInt("170141183460469231731687303715884105728"), "out of range"},
		{"Nullable(Nothing)", 1, "Nothing"},
	} {
		typ := MustParseType(tc.typ)
		prefix := []byte{0xAB, 0xCD}
		out, err := typ.Append(prefix, tc.in)
		if !bytes.Equal(out, prefix) {
			t.Errorf("%s.Append(%#v) changed the buffer on error: % x", tc.typ, tc.in, out)
		}
		if err == nil {
			t.Errorf("%s.Append(%#v): no error", tc.typ, tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s.Append(%#v) error %q does not mention %q", tc.typ, tc.in, err, tc.mention)
		}
		if !strings.Contains(err.Error(), "rowbinary:") {
			t.Errorf("%s.Append(%#v) error %q lacks the package prefix", tc.typ, tc.in, err)
		}
	}
}

func TestRowEncoderErrorLeavesBufferUnchanged(t *testing.T) {
	types, err := ParseTypes("String", "Map(String, String)", "Decimal(18, 9)", "UInt64")
	if err != nil {
		t.Fatal(err)
	}
	enc := NewRowEncoder(types).WithNames("name", "attrs", "price", "count")
	buf, err := enc.Append(nil, "ok", map[string]string{"a": "b"}, "1.5", uint64(1))
	if err != nil {
		t.Fatal(err)
	}
	before := append([]byte(nil), buf...)
	// The first three columns encode fine; the fourth fails after they were written.
	got, err := enc.Append(buf, "second", map[string]string{"x": "y"}, dec("2.25"), -1)
	if err == nil {
		t.Fatal("no error for -1 in UInt64")
	}
	if !bytes.Equal(got, before) {
		t.Fatalf("buffer changed on error: % x, want % x", got, before)
	}
	var ee *EncodeError
	if !errors.As(err, &ee) || ee.Column != 3 || ee.Name != "count" || ee.Type != "UInt64" {
		t.Fatalf("error %#v", err)
	}
	for _, want := range []string{`column 3 "count"`, "UInt64", "int -1", "out of range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := enc.Append(buf, "too", "few"); err == nil || !strings.Contains(err.Error(), "2 values, want 4") {
		t.Errorf("wrong value count: %v", err)
	}
	// A bad decimal names the column and says why.
	_, err = enc.Append(buf, "x", nil, "0.0000000001", uint64(1))
	if err == nil || !strings.Contains(err.Error(), `column 2 "price" (Decimal(18, 9))`) ||
		!strings.Contains(err.Error(), "fractional digits") {
		t.Errorf("decimal error: %v", err)
	}
	// And the next good row appends normally after the failed ones.
	buf, err = enc.Append(buf, "third", nil, 3, uint(3))
	if err != nil {
		t.Fatal(err)
	}
	r := rowsReader(t, []string{"name", "attrs", "price", "count"}, types, buf)
	var n int
	for r.Next() {
		n++
	}
	if r.Err() != nil || n != 2 {
		t.Fatalf("read back %d rows, err %v", n, r.Err())
	}
}

// rowsReader wraps encoded rows in a RowBinaryWithNamesAndTypes header.
func rowsReader(t testing.TB, names []string, types []Type, rows []byte) *Reader {
	t.Helper()
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendStr(b, n)
	}
	for _, ty := range types {
		b = appendStr(b, ty.String())
	}
	r, err := NewReader(append(b, rows...))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func oneRow(t *testing.T, typ string, v any) *Reader {
	t.Helper()
	ty := MustParseType(typ)
	b, err := ty.Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	r := rowsReader(t, []string{"c"}, []Type{ty}, b)
	if !r.Next() {
		t.Fatalf("no row: %v", r.Err())
	}
	return r
}

type level string
type code int32

func TestScanConversions(t *testing.T) {
	tokyoTime := time.Date(2024, 1, 2, 12, 4, 5, 0, tokyo)
	for _, tc := range []struct {
		typ  string
		in   any
		dest any // pointer to fill
		want any // value dest should point at
	}{
		{"String", "x", new(string), "x"},
		{"String", "x", new([]byte), []byte("x")},
		{"String", "x", new(any), "x"},
		{"String", "x", new(*string), ptr("x")},
		{"String", "x", new(level), level("x")},
		{"String", "x", new(sql.NullString), sql.NullString{String: "x", Valid: true}},
		{"LowCardinality(String)", "x", new(string), "x"},
		{"UInt8", 200, new(uint8), uint8(200)},
		{"UInt8", 200, new(int16), int16(200)},
		{"UInt8", 200, new(uint64), uint64(200)},
		{"UInt32", uint32(math.MaxUint32), new(int64), int64(math.MaxUint32)},
		{"UInt32", 7, new(uint), uint(7)},
		{"Int32", -5, new(int64), int64(-5)},
		{"Int32", -5, new(int), -5},
		{"Int32", -5, new(code), code(-5)},
		{"Int32", -5, new(float64), -5.0},
		{"Int32", -5, new(string), "-5"},
		{"Int32", -5, new(sql.NullInt64), sql.NullInt64{Int64: -5, Valid: true}},
		{"Int64", -5, new(**int64), ptr(ptr(int64(-5)))},
		{"UInt64", uint64(math.MaxUint64), new(string), "18446744073709551615"},
		{"Float32", float32(0.1), new(float32), float32(0.1)},
		{"Float32", float32(0.1), new(string), "0.1"},
		{"Float64", 1e21, new(string), "1e21"},
		{"Float64", 1e20, new(string), "100000000000000000000"},
		{"Float64", 1e-7, new(string), "1e-7"},
		{"Float64", 0.00001, new(string), "0.00001"},
		{"Float64", math.NaN(), new(string), "nan"},
		{"Bool", true, new(bool), true},
		{"Bool", true, new(string), "true"},
		{"Decimal(18, 9)", "123.000000001", new(decimal.Decimal), dec("123.000000001")},
		{"Decimal(18, 9)", "123.000000001", new(string), "123.000000001"},
		{"Decimal(18, 9)", "1.5", new(string), "1.5"},
		{"Decimal(18, 9)", "1.5", new(float64), 1.5},
		{"Decimal(18, 9)", "-0.5", new(*decimal.Decimal), ptr(dec("-0.5"))},
		{"Int64", 5, new(decimal.Decimal), dec("5")},
		{"Decimal(18, 9)", "-0.5", new(decimal.NullDecimal), decimal.NullDecimal{Decimal: dec("-0.5"), Valid: true}},
		{"Nullable(Decimal(18, 9))", nil, new(decimal.NullDecimal), decimal.NullDecimal{}},
		{"Decimal(18, 9)", "2.25", new(sql.NullFloat64), sql.NullFloat64{Float64: 2.25, Valid: true}},
		{"Nullable(UInt32)", 9, new(sql.NullInt64), sql.NullInt64{Int64: 9, Valid: true}},
		{"DateTime('Asia/Tokyo')", tokyoTime, new(time.Time), tokyoTime},
		{"DateTime('Asia/Tokyo')", tokyoTime, new(string), "2024-01-02 12:04:05"},
		{"DateTime64(3)", time.Date(2024, 1, 2, 3, 4, 5, 100_000_000, time.UTC), new(string), "2024-01-02 03:04:05.100"},
		{"Date", "2024-01-02", new(string), "2024-01-02"},
		{"Date", "2024-01-02", new(time.Time), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"UUID", "00112233-4455-6677-8899-aabbccddeeff", new(string), "00112233-4455-6677-8899-aabbccddeeff"},
		{"Enum8('a' = 1, 'b' = 2)", "b", new(string), "b"},
		{"FixedString(3)", "ab", new(string), "ab\x00"},
		{"Nullable(String)", nil, new(*string), (*string)(nil)},
		{"Nullable(String)", nil, new(any), nil},
		{"Nullable(String)", nil, new(sql.NullString), sql.NullString{}},
		{"Nullable(String)", "x", new(*string), ptr("x")},
		{"Nullable(String)", "x", new(string), "x"},
		{"Nullable(String)", "x", new(any), any(ptr("x"))},
		{"Nullable(Int32)", 3, new(*int64), ptr(int64(3))},
		{"Nullable(Int32)", 3, new(int64), int64(3)},
		{"Nullable(Int32)", 3, new(string), "3"},
		{"LowCardinality(Nullable(String))", nil, new(*string), (*string)(nil)},
		{"Map(String, String)", map[string]string{"k": "v"}, new(map[string]string), map[string]string{"k": "v"}},
		{"Map(LowCardinality(String), String)", map[string]string{"k": "v"}, new(map[string]string), map[string]string{"k": "v"}},
		{"Map(String, String)", map[string]string{"k": "v"}, new(map[string]any), map[string]any{"k": "v"}},
		{"Map(String, UInt32)", map[string]uint32{"k": 1}, new(map[string]int64), map[string]int64{"k": 1}},
		{"Map(String, UInt32)", map[string]uint32{"k": 1}, new(map[string]string), map[string]string{"k": "1"}},
		{"Map(String, String)", map[string]string{"k": "it's"}, new(string), `{'k':'it\'s'}`},
		{"Array(String)", []string{"a", "b"}, new([]string), []string{"a", "b"}},
		{"Array(String)", []string{"a\nb"}, new(string), `['a\nb']`},
		{"Array(Int32)", []int32{1, 2}, new([]int64), []int64{1, 2}},
		{"Array(Nullable(Int32))", []any{nil, 2}, new([]*int64), []*int64{nil, ptr(int64(2))}},
		{"Array(Nullable(Int32))", []any{nil, 2}, new(string), "[NULL,2]"},
		{"Array(UUID)", []string{"00112233-4455-6677-8899-aabbccddeeff"}, new(string), "['00112233-4455-6677-8899-aabbccddeeff']"},
		{"Array(DateTime64(3))", []time.Time{time.Date(2024, 1, 2, 3, 4, 5, 100_000_000, time.UTC)}, new(string), "['2024-01-02 03:04:05.100']"},
		{"Tuple(UInt8, String)", []any{1, "x"}, new([]any), []any{uint8(1), "x"}},
		{"Tuple(UInt8, String)", []any{1, "x"}, new(string), "(1,'x')"},
		{"Tuple(UInt8, String)", []any{1, "x"}, new([]string), []string{"1", "x"}},
		{"Int128", bigInt("-170141183460469231731687303715884105728"), new(string), "-170141183460469231731687303715884105728"},
		{"Int128", int64(5), new(big.Int), *bigInt("5")},
	} {
		r := oneRow(t, tc.typ, tc.in)
		if err := r.Scan(tc.dest); err != nil {
			t.Errorf("%s %#v into %T: %v", tc.typ, tc.in, tc.dest, err)
			continue
		}
		got := reflect.ValueOf(tc.dest).Elem().Interface()
		if !sameValue(got, tc.want) {
			t.Errorf("%s %#v into %T: got %#v, want %#v", tc.typ, tc.in, tc.dest, got, tc.want)
		}
	}
}

func TestScanErrors(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		in      any
		dest    any
		mention string
	}{
		{"Int64", 1, new(int32), "cannot scan Int64 (Go int64) into *int32"},
		{"UInt64", 1, new(int64), "into *int64"},
		{"Int32", 1, new(uint64), "into *uint64"},
		{"String", "x", new(int64), "try *string"},
		{"Nullable(String)", nil, new(string), "cannot scan NULL into *string"},
		{"Nullable(Int64)", nil, new(int64), "cannot scan NULL"},
		{"DateTime", time.Unix(1, 0), new(int64), "into *int64"},
		{"String", "x", "not a pointer", "not a non-nil pointer"},
	} {
		r := oneRow(t, tc.typ, tc.in)
		err := r.Scan(tc.dest)
		if err == nil {
			t.Errorf("%s into %T: no error", tc.typ, tc.dest)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), `column "c"`) {
			t.Errorf("%s into %T: error %q should mention %q and the column", tc.typ, tc.dest, err, tc.mention)
		}
	}
}

func TestReaderProtocol(t *testing.T) {
	types, _ := ParseTypes("UInt8", "String")
	enc := NewRowEncoder(types)
	var rows []byte
	for i := range 3 {
		var err error
		if rows, err = enc.Append(rows, i, strings.Repeat("z", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := rowsReader(t, []string{"n", "s"}, types, rows)
	if got := r.Columns(); !reflect.DeepEqual(got, []string{"n", "s"}) {
		t.Fatalf("Columns = %v", got)
	}
	if got := r.ColumnTypes(); got[0].String() != "UInt8" || got[1].String() != "String" {
		t.Fatalf("ColumnTypes = %v", got)
	}
	var n uint8
	var s string
	if err := r.Scan(&n, &s); err == nil {
		t.Fatal("Scan before Next succeeded")
	}
	for i := range 3 {
		if !r.Next() {
			t.Fatalf("row %d: %v", i, r.Err())
		}
		if err := r.Scan(&n); err == nil || !strings.Contains(err.Error(), "1 destinations for 2 columns") {
			t.Fatalf("wrong dest count: %v", err)
		}
		if err := r.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		if int(n) != i || s != strings.Repeat("z", i) {
			t.Fatalf("row %d = %d %q", i, n, s)
		}
		vals, err := r.Values()
		if err != nil || !reflect.DeepEqual(vals, []any{uint8(i), strings.Repeat("z", i)}) {
			t.Fatalf("Values = %v, %v", vals, err)
		}
	}
	if r.Next() || r.Err() != nil {
		t.Fatalf("after last row: Next true or err %v", r.Err())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// A truncated body is an error from Next, not a panic or a short row.
	r = rowsReader(t, []string{"n", "s"}, types, rows[:len(rows)-1])
	count := 0
	for r.Next() {
		count++
	}
	if count != 2 || r.Err() == nil || !strings.Contains(r.Err().Error(), `row 3, column "s"`) {
		t.Fatalf("truncated: %d rows, err %v", count, r.Err())
	}

	// Empty output (a statement without a result set) has no columns, no rows.
	r, err := NewReader(nil)
	if err != nil || r.Next() || len(r.Columns()) != 0 {
		t.Fatalf("empty reader: %v", err)
	}
	// Unknown types in a header fail NewReader with the column and type.
	var hdr []byte
	hdr = binary.AppendUvarint(hdr, 1)
	hdr = appendStr(appendStr(hdr, "g"), "Object('json')")
	if _, err := NewReader(hdr); err == nil || !strings.Contains(err.Error(), `column "g"`) || !strings.Contains(err.Error(), "Object") {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := NewReader([]byte{5, 1}); err == nil {
		t.Fatal("truncated header accepted")
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	types, err := ParseTypes("LowCardinality(String)", "UInt64", "Int64", "Float64", "DateTime64(9)",
		"Decimal(18, 9)", "Map(LowCardinality(String), String)", "Nullable(String)", "Bool", "UUID", "Int32")
	if err != nil {
		t.Fatal(err)
	}
	enc := NewRowEncoder(types)
	row := []any{"svc", uint64(12345), int64(-5), 1.25, time.Now(), dec("123.000000001"),
		map[string]string{"a": "b", "c": "d"}, "x", true, "00112233-4455-6677-8899-aabbccddeeff", int32(7)}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if _, err = enc.Append(buf[:0], row...); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocated %v times per row", allocs)
	}
}

func TestAppendFloatText(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{0.1, 64, "0.1"}, {1e20, 64, "100000000000000000000"}, {1e21, 64, "1e21"}, {1e22, 64, "1e22"},
		{1e-7, 64, "1e-7"}, {123456.789e10, 64, "1234567890000000"}, {1.5e300, 64, "1.5e300"},
		{math.Inf(1), 64, "inf"}, {math.Inf(-1), 64, "-inf"}, {math.NaN(), 64, "nan"}, {math.Copysign(0, -1), 64, "-0"},
		{float64(float32(0.1)), 32, "0.1"}, {1e-5, 64, "0.00001"}, {0.0001, 64, "0.0001"}, {16777216, 32, "16777216"},
		{float64(float32(3.4e38)), 32, "3.4e38"}, {1e15, 64, "1000000000000000"}, {12345678901234567.0, 64, "12345678901234568"},
		{-1.25e-9, 64, "-1.25e-9"}, {-2.5, 64, "-2.5"},
	} {
		if got := string(appendFloat(nil, tc.f, tc.bits)); got != tc.want {
			t.Errorf("appendFloat(%v, %d) = %q, want %q", tc.f, tc.bits, got, tc.want)
		}
	}
}
