package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

var locCache sync.Map // name -> *time.Location

func utc() *time.Location { return time.UTC }

// location loads a column's timezone once per process: LoadLocation reads
// the zoneinfo file on every call, and headers name the zone on every query.
func location(name string) (*time.Location, error) {
	if name == "UTC" || name == "" {
		return time.UTC, nil
	}
	if l, ok := locCache.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w (is tzdata installed? importing time/tzdata embeds it)", name, err)
	}
	locCache.Store(name, l)
	return l, nil
}

// timeValue is what the Date and DateTime types accept besides integers.
// ok is false when v is none of them.
func timeValue(v any, loc *time.Location) (t time.Time, ok bool, err error) {
	switch x := v.(type) {
	case time.Time:
		return x, true, nil
	case *time.Time:
		if x != nil {
			return *x, true, nil
		}
	case string:
		t, err := parseTime(x, loc)
		return t, true, err
	}
	return time.Time{}, false, nil
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads the text forms ClickHouse itself prints and RFC 3339;
// text without an offset is in the column's timezone, as ClickHouse reads it.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a date/time", s)
}

// intValue returns any Go integer as int64; u64 marks uint64 values beyond
// int64, which no date type can hold.
func intValue(v any) (i int64, ok, u64 bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true, false
	case int64:
		return x, true, false
	case int32:
		return int64(x), true, false
	case int16:
		return int64(x), true, false
	case int8:
		return int64(x), true, false
	case uint:
		return int64(x), x <= math.MaxInt64, x > math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64, x > math.MaxInt64
	case uint32:
		return int64(x), true, false
	case uint16:
		return int64(x), true, false
	case uint8:
		return int64(x), true, false
	}
	return 0, false, false
}

// days is the calendar date of t, in t's own location, as days since
// 1970-01-01 (what clickhouse-go sends). The zero time is day 0, as there.
func days(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

var (
	date32Min = days(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
	date32Max = days(time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC))
)

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04:05"
)

// ---- Date ----

type dateType struct{}

func (dateType) String() string { return "Date" }

func (t dateType) Append(buf []byte, v any) ([]byte, error) {
	d, err := dayValue(t, v)
	if err != nil {
		return buf, err
	}
	if d < 0 || d > math.MaxUint16 {
		return buf, badValue(t, v, "out of range [1970-01-01, 2149-06-06]")
	}
	return binary.LittleEndian.AppendUint16(buf, uint16(d)), nil
}

func dayValue(t Type, v any) (int64, error) {
	if tv, ok, err := timeValue(v, time.UTC); ok {
		if err != nil {
			return 0, badValue(t, v, err.Error())
		}
		return days(tv), nil
	}
	if i, ok, _ := intValue(v); ok {
		return i, nil
	}
	if n, ok := normalize(v); ok {
		return dayValue(t, n)
	}
	return 0, badGoType(t, v)
}

func (t dateType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 2 {
		return nil, buf, shortErr(t)
	}
	return time.Unix(int64(binary.LittleEndian.Uint16(buf))*86400, 0).UTC(), buf[2:], nil
}

func (t dateType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 2) }

func (t dateType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	v, rest, err := t.Decode(buf)
	if err != nil {
		return dst, buf, err
	}
	return appendTime(dst, v.(time.Time), dateLayout, nested), rest, nil
}

func (dateType) goType() reflect.Type { return reflect.TypeFor[time.Time]() }

func appendTime(dst []byte, t time.Time, layout string, nested bool) []byte {
	if nested {
		dst = append(dst, '\'')
	}
	dst = t.AppendFormat(dst, layout)
	if nested {
		dst = append(dst, '\'')
	}
	return dst
}

// ---- Date32 ----

type date32Type struct{}

func (date32Type) String() string { return "Date32" }

func (t date32Type) Append(buf []byte, v any) ([]byte, error) {
	d, err := dayValue(t, v)
	if err != nil {
		return buf, err
	}
	if d < date32Min || d > date32Max {
		return buf, badValue(t, v, "out of range [1900-01-01, 2299-12-31]")
	}
	return binary.LittleEndian.AppendUint32(buf, uint32(int32(d))), nil
}

func (t date32Type) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 4 {
		return nil, buf, shortErr(t)
	}
	return time.Unix(int64(int32(binary.LittleEndian.Uint32(buf)))*86400, 0).UTC(), buf[4:], nil
}

func (t date32Type) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 4) }

func (t date32Type) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	v, rest, err := t.Decode(buf)
	if err != nil {
		return dst, buf, err
	}
	return appendTime(dst, v.(time.Time), dateLayout, nested), rest, nil
}

func (date32Type) goType() reflect.Type { return reflect.TypeFor[time.Time]() }

// ---- DateTime ----

type dateTimeType struct {
	tz  string
	loc *time.Location
}

func (t *dateTimeType) String() string {
	if t.tz == "" {
		return "DateTime"
	}
	return "DateTime(" + string(appendQuoted(nil, []byte(t.tz))) + ")"
}

func (t *dateTimeType) Append(buf []byte, v any) ([]byte, error) {
	var sec int64
	if tv, ok := v.(time.Time); ok {
		if !tv.IsZero() {
			sec = tv.Unix()
		}
	} else if tv, ok, err := timeValue(v, t.loc); ok {
		if err != nil {
			return buf, badValue(t, v, err.Error())
		}
		if !tv.IsZero() {
			sec = tv.Unix()
		}
	} else if i, ok, _ := intValue(v); ok {
		sec = i
	} else {
		return retry(t, buf, v)
	}
	if sec < 0 || sec > math.MaxUint32 {
		return buf, badValue(t, v, "out of range [1970-01-01 00:00:00, 2106-02-07 06:28:15] UTC")
	}
	return binary.LittleEndian.AppendUint32(buf, uint32(sec)), nil
}

func (t *dateTimeType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 4 {
		return nil, buf, shortErr(t)
	}
	return time.Unix(int64(binary.LittleEndian.Uint32(buf)), 0).In(t.loc), buf[4:], nil
}

func (t *dateTimeType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 4) }

func (t *dateTimeType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	v, rest, err := t.Decode(buf)
	if err != nil {
		return dst, buf, err
	}
	return appendTime(dst, v.(time.Time), dateTimeLayout, nested), rest, nil
}

func (*dateTimeType) goType() reflect.Type { return reflect.TypeFor[time.Time]() }

// ---- DateTime64(P[, tz]) ----

type dateTime64Type struct {
	prec   int
	tz     string
	loc    *time.Location
	scale  int64 // 10^prec ticks per second
	nsTick int64 // nanoseconds per tick
	layout string
	spell  string
}

func (t *dateTime64Type) init() {
	t.scale = int64(pow10[t.prec])
	t.nsTick = int64(pow10[9-t.prec])
	t.layout = dateTimeLayout
	if t.prec > 0 {
		t.layout += "." + strings.Repeat("0", t.prec)
	}
	t.spell = "DateTime64(" + strconv.Itoa(t.prec)
	if t.tz != "" {
		t.spell += ", " + string(appendQuoted(nil, []byte(t.tz)))
	}
	t.spell += ")"
}

func (t *dateTime64Type) String() string { return t.spell }

func (t *dateTime64Type) Append(buf []byte, v any) ([]byte, error) {
	if tv, ok := v.(time.Time); ok {
		return t.appendTime(buf, tv, v)
	}
	if tv, ok, err := timeValue(v, t.loc); ok {
		if err != nil {
			return buf, badValue(t, v, err.Error())
		}
		return t.appendTime(buf, tv, v)
	}
	if i, ok, u64 := intValue(v); ok || u64 {
		if u64 {
			return buf, badValue(t, v, "out of range for Int64 ticks")
		}
		return binary.LittleEndian.AppendUint64(buf, uint64(i)), nil
	}
	return retry(t, buf, v)
}

// appendTime truncates below the column's precision, as ClickHouse does when
// it parses a more precise text value; the zero time is tick 0, as in
// clickhouse-go.
func (t *dateTime64Type) appendTime(buf []byte, tv time.Time, orig any) ([]byte, error) {
	if tv.IsZero() {
		return binary.LittleEndian.AppendUint64(buf, 0), nil
	}
	sec := tv.Unix()
	limit := math.MaxInt64/t.scale - 1
	if sec > limit || sec < -limit {
		return buf, badValue(t, orig, "out of range for DateTime64 ticks")
	}
	ticks := sec*t.scale + int64(tv.Nanosecond())/t.nsTick
	return binary.LittleEndian.AppendUint64(buf, uint64(ticks)), nil
}

func (t *dateTime64Type) time(ticks int64) time.Time {
	sec := ticks / t.scale
	frac := ticks % t.scale
	if frac < 0 {
		sec--
		frac += t.scale
	}
	return time.Unix(sec, frac*t.nsTick).In(t.loc)
}

func (t *dateTime64Type) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 8 {
		return nil, buf, shortErr(t)
	}
	return t.time(int64(binary.LittleEndian.Uint64(buf))), buf[8:], nil
}

func (t *dateTime64Type) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 8) }

func (t *dateTime64Type) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	if len(buf) < 8 {
		return dst, buf, shortErr(t)
	}
	return appendTime(dst, t.time(int64(binary.LittleEndian.Uint64(buf))), t.layout, nested), buf[8:], nil
}

func (*dateTime64Type) goType() reflect.Type { return reflect.TypeFor[time.Time]() }
