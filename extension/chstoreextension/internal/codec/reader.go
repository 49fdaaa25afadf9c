package codec

import (
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/shopspring/decimal"
)

// Reader reads query output in RowBinaryWithNamesAndTypes, the format whose
// header carries names and types so results decode without a schema. It
// follows database/sql's rows idiom (Next, Scan, Err, Close).
type Reader struct {
	names  []string
	types  []Type
	data   []byte   // rows not yet read
	spans  [][]byte // the current row, one slice per column
	row    int      // rows read so far
	onRow  bool
	err    error
	closed bool
}

// NewReader parses the header (column count, names, types). Empty data, what
// a statement without a result set returns, is a result with no columns.
func NewReader(data []byte) (*Reader, error) {
	r := &Reader{}
	if len(data) == 0 {
		return r, nil
	}
	n, rest, ok := readCount(data, 2)
	if !ok {
		return nil, errors.New("rowbinary: bad RowBinaryWithNamesAndTypes header: column count")
	}
	r.names = make([]string, n)
	r.types = make([]Type, n)
	r.spans = make([][]byte, n)
	for i := range n {
		l, next, ok := readLen(rest)
		if !ok {
			return nil, fmt.Errorf("rowbinary: bad RowBinaryWithNamesAndTypes header: name of column %d", i+1)
		}
		r.names[i], rest = string(next[:l]), next[l:]
	}
	for i := range n {
		l, next, ok := readLen(rest)
		if !ok {
			return nil, fmt.Errorf("rowbinary: bad RowBinaryWithNamesAndTypes header: type of column %q", r.names[i])
		}
		t, err := ParseType(string(next[:l]))
		if err != nil {
			return nil, fmt.Errorf("rowbinary: column %q: %w", r.names[i], err)
		}
		r.types[i], rest = t, next[l:]
	}
	r.data = rest
	return r, nil
}

// Columns are the result's column names.
func (r *Reader) Columns() []string { return r.names }

// ColumnTypes are the result's column types.
func (r *Reader) ColumnTypes() []Type { return r.types }

// Next advances to the next row. It only checks the row's framing; values
// are decoded by Scan, into the destination's type.
func (r *Reader) Next() bool {
	r.onRow = false
	if r.err != nil || r.closed || len(r.data) == 0 {
		return false
	}
	if len(r.types) == 0 {
		r.err = fmt.Errorf("rowbinary: %d bytes of rows after a header with no columns", len(r.data))
		return false
	}
	rest := r.data
	for i, t := range r.types {
		next, err := t.skip(rest)
		if err != nil {
			r.err = fmt.Errorf("rowbinary: row %d, column %q: %w", r.row+1, r.names[i], err)
			return false
		}
		r.spans[i] = rest[:len(rest)-len(next)]
		rest = next
	}
	r.data = rest
	r.row++
	r.onRow = true
	return true
}

// Scan copies the current row into dest, one pointer per column, converting
// like clickhouse-go's rows.Scan: the column's own Go type, *any, *string
// (ClickHouse's text form), widening integer and float conversions,
// **T and sql.Scanner for NULLs, maps and slices element by element.
func (r *Reader) Scan(dest ...any) error {
	if r.closed {
		return errors.New("rowbinary: Scan on a closed Reader")
	}
	if !r.onRow {
		return errors.New("rowbinary: Scan called without a successful Next")
	}
	if len(dest) != len(r.types) {
		return fmt.Errorf("rowbinary: Scan got %d destinations for %d columns", len(dest), len(r.types))
	}
	for i, d := range dest {
		if err := scanColumn(d, r.types[i], r.spans[i]); err != nil {
			return fmt.Errorf("rowbinary: Scan column %q (%s): %w", r.names[i], r.types[i], err)
		}
	}
	return nil
}

// Values decodes the current row into the columns' canonical Go values.
func (r *Reader) Values() ([]any, error) {
	if !r.onRow {
		return nil, errors.New("rowbinary: Values called without a successful Next")
	}
	out := make([]any, len(r.types))
	for i, t := range r.types {
		v, _, err := t.Decode(r.spans[i])
		if err != nil {
			return nil, fmt.Errorf("rowbinary: column %q: %w", r.names[i], err)
		}
		out[i] = v
	}
	return out, nil
}

// Err is the error that ended iteration, if any.
func (r *Reader) Err() error { return r.err }

// Close releases the result. Safe to call twice.
func (r *Reader) Close() error {
	r.closed, r.onRow, r.data = true, false, nil
	return nil
}

// scanColumn scans one encoded value. Text destinations are printed from the
// bytes so maps keep the stored key order.
func scanColumn(dest any, t Type, span []byte) error {
	if d, ok := dest.(*string); ok {
		u := unwrapLC(t)
		if _, null := u.(*nullableType); null && len(span) > 0 && span[0] != 0 {
			return scanNull(dest)
		}
		if _, str := u.(stringType); str {
			n, rest, ok := readLen(span)
			if !ok {
				return shortErr(t)
			}
			*d = string(rest[:n])
			return nil
		}
		txt, _, err := t.text(nil, span, false)
		if err != nil {
			return err
		}
		*d = string(txt)
		return nil
	}
	v, _, err := t.Decode(span)
	if err != nil {
		return err
	}
	return assign(dest, v, t)
}

// assign stores canonical value v of type t into dest.
func assign(dest any, v any, t Type) error {
	if d, ok := dest.(*any); ok {
		*d = v
		return nil
	}
	t = unwrapLC(t)
	if nt, ok := t.(*nullableType); ok {
		if isNil(v) { // nil, or a typed nil *T inside a decoded []*T or map
			return scanNull(dest)
		}
		if dt := reflect.TypeOf(dest); dt.Kind() == reflect.Pointer && dt.Elem() == reflect.TypeOf(v) {
			reflect.ValueOf(dest).Elem().Set(reflect.ValueOf(v))
			return nil
		}
		v, t = reflect.ValueOf(v).Elem().Interface(), unwrapLC(nt.inner)
	}
	if v == nil {
		return scanNull(dest)
	}
	if assignFast(dest, v) {
		return nil
	}
	if d, ok := dest.(*string); ok {
		b, err := t.Append(nil, v)
		if err == nil {
			var txt []byte
			if txt, _, err = t.text(nil, b, false); err == nil {
				*d = string(txt)
				return nil
			}
		}
		return err
	}
	if s, ok := dest.(sql.Scanner); ok {
		return s.Scan(scannerValue(v))
	}
	return assignReflect(dest, v, t)
}

// scannerValue hands decimals and big integers to sql.Scanner as text:
// database/sql's own scanners and decimal.NullDecimal accept strings but
// not those types.
func scannerValue(v any) any {
	switch x := v.(type) {
	case decimal.Decimal:
		return x.String()
	case *big.Int:
		return x.String()
	}
	return v
}

// assignFast handles the common destinations without reflection. Integer
// conversions only widen, so a destination that works for one row works for
// every row.
func assignFast(dest any, v any) bool {
	switch d := dest.(type) {
	case *string:
		if s, ok := v.(string); ok {
			*d = s
			return true
		}
	case *[]byte:
		if s, ok := v.(string); ok {
			*d = []byte(s)
			return true
		}
	case *int64:
		if i, ok := signedUpTo(v, 64); ok {
			*d = i
			return true
		}
	case *int:
		if i, ok := signedUpTo(v, 64); ok {
			*d = int(i)
			return true
		}
	case *int32:
		if i, ok := signedUpTo(v, 32); ok {
			*d = int32(i)
			return true
		}
	case *int16:
		if i, ok := signedUpTo(v, 16); ok {
			*d = int16(i)
			return true
		}
	case *int8:
		if i, ok := signedUpTo(v, 8); ok {
			*d = int8(i)
			return true
		}
	case *uint64:
		if u, ok := unsignedUpTo(v, 64); ok {
			*d = u
			return true
		}
	case *uint:
		if u, ok := unsignedUpTo(v, 64); ok {
			*d = uint(u)
			return true
		}
	case *uint32:
		if u, ok := unsignedUpTo(v, 32); ok {
			*d = uint32(u)
			return true
		}
	case *uint16:
		if u, ok := unsignedUpTo(v, 16); ok {
			*d = uint16(u)
			return true
		}
	case *uint8:
		if u, ok := unsignedUpTo(v, 8); ok {
			*d = uint8(u)
			return true
		}
	case *float64:
		switch x := v.(type) {
		case decimal.Decimal:
			*d = x.InexactFloat64()
			return true
		case *big.Int:
			*d, _ = new(big.Float).SetInt(x).Float64()
			return true
		}
		if f, ok := floatValue(v); ok {
			*d = f
			return true
		}
	case *float32:
		switch x := v.(type) {
		case float32:
			*d = x
			return true
		case int8, int16, uint8, uint16:
			f, _ := floatValue(x)
			*d = float32(f)
			return true
		}
	case *bool:
		if b, ok := v.(bool); ok {
			*d = b
			return true
		}
	case *time.Time:
		if tv, ok := v.(time.Time); ok {
			*d = tv
			return true
		}
	case *decimal.Decimal:
		switch x := v.(type) {
		case decimal.Decimal:
			*d = x
			return true
		case *big.Int:
			*d = decimal.NewFromBigInt(x, 0)
			return true
		case uint64:
			*d = decimal.NewFromUint64(x)
			return true
		}
		if i, ok := signedUpTo(v, 64); ok {
			*d = decimal.NewFromInt(i)
			return true
		}
	case *big.Int:
		switch x := v.(type) {
		case *big.Int:
			d.Set(x)
			return true
		case uint64:
			d.SetUint64(x)
			return true
		}
		if i, ok := signedUpTo(v, 64); ok {
			d.SetInt64(i)
			return true
		}
	case *map[string]string:
		if m, ok := v.(map[string]string); ok {
			*d = m
			return true
		}
	case *[]string:
		if s, ok := v.([]string); ok {
			*d = s
			return true
		}
	case *[]any:
		if s, ok := v.([]any); ok {
			*d = s
			return true
		}
	}
	return false
}

// signedUpTo returns integer v as int64 when every value of v's type fits a
// signed integer of the given bits.
func signedUpTo(v any, bits int) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), bits > 8
	case int16:
		return int64(x), bits >= 16
	case uint16:
		return int64(x), bits > 16
	case int32:
		return int64(x), bits >= 32
	case uint32:
		return int64(x), bits > 32
	case int64:
		return x, bits >= 64
	}
	return 0, false
}

func unsignedUpTo(v any, bits int) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), bits >= 16
	case uint32:
		return uint64(x), bits >= 32
	case uint64:
		return x, bits >= 64
	}
	return 0, false
}

// scanNull stores NULL where a destination can hold it, as clickhouse-go
// does: nil for **T, *any, slices and maps; Scan(nil) for sql.Scanner; an
// error for plain values, rather than a silent zero.
func scanNull(dest any) error {
	if d, ok := dest.(*any); ok {
		*d = nil
		return nil
	}
	if s, ok := dest.(sql.Scanner); ok {
		return s.Scan(nil)
	}
	rv := reflect.ValueOf(dest)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("destination %T is not a non-nil pointer", dest)
	}
	switch rv.Elem().Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		rv.Elem().SetZero()
		return nil
	}
	return fmt.Errorf("cannot scan NULL into %T; use a **T, *any or sql.Null* destination", dest)
}

var basicTypes = map[reflect.Kind]reflect.Type{
	reflect.String:  reflect.TypeFor[string](),
	reflect.Int:     reflect.TypeFor[int](),
	reflect.Int8:    reflect.TypeFor[int8](),
	reflect.Int16:   reflect.TypeFor[int16](),
	reflect.Int32:   reflect.TypeFor[int32](),
	reflect.Int64:   reflect.TypeFor[int64](),
	reflect.Uint:    reflect.TypeFor[uint](),
	reflect.Uint8:   reflect.TypeFor[uint8](),
	reflect.Uint16:  reflect.TypeFor[uint16](),
	reflect.Uint32:  reflect.TypeFor[uint32](),
	reflect.Uint64:  reflect.TypeFor[uint64](),
	reflect.Float32: reflect.TypeFor[float32](),
	reflect.Float64: reflect.TypeFor[float64](),
	reflect.Bool:    reflect.TypeFor[bool](),
}

// assignReflect covers what assignFast does not: **T, named types, maps and
// slices of other element types, converted element by element.
func assignReflect(dest any, v any, t Type) error {
	rv := reflect.ValueOf(dest)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("destination %T is not a non-nil pointer", dest)
	}
	el := rv.Elem()
	vv := reflect.ValueOf(v)
	if vv.Type() == el.Type() {
		el.Set(vv)
		return nil
	}
	switch el.Kind() {
	case reflect.Pointer:
		p := reflect.New(el.Type().Elem())
		if err := assign(p.Interface(), v, t); err != nil {
			return err
		}
		el.Set(p)
		return nil
	case reflect.Interface:
		if vv.Type().Implements(el.Type()) {
			el.Set(vv)
			return nil
		}
	case reflect.Map:
		if mt, ok := t.(*mapType); ok && vv.Kind() == reflect.Map {
			out := reflect.MakeMapWithSize(el.Type(), vv.Len())
			it := vv.MapRange()
			for it.Next() {
				k := reflect.New(el.Type().Key())
				if err := assign(k.Interface(), it.Key().Interface(), mt.key); err != nil {
					return fmt.Errorf("map key: %w", err)
				}
				e := reflect.New(el.Type().Elem())
				if err := assign(e.Interface(), it.Value().Interface(), mt.val); err != nil {
					return fmt.Errorf("map value: %w", err)
				}
				out.SetMapIndex(k.Elem(), e.Elem())
			}
			el.Set(out)
			return nil
		}
	case reflect.Slice:
		if vv.Kind() == reflect.Slice {
			var elemType func(i int) Type
			switch at := t.(type) {
			case *arrayType:
				elemType = func(int) Type { return at.elem }
			case *tupleType:
				elemType = func(i int) Type { return at.elems[i] }
			}
			if elemType != nil {
				out := reflect.MakeSlice(el.Type(), vv.Len(), vv.Len())
				for i := range vv.Len() {
					if err := assign(out.Index(i).Addr().Interface(), vv.Index(i).Interface(), elemType(i)); err != nil {
						return fmt.Errorf("element %d: %w", i, err)
					}
				}
				el.Set(out)
				return nil
			}
		}
	}
	// Named types (type Level string, type Code int32) scan through their
	// basic kind.
	if basic := basicTypes[el.Kind()]; basic != nil && basic != el.Type() {
		tmp := reflect.New(basic)
		if err := assign(tmp.Interface(), v, t); err == nil {
			el.Set(tmp.Elem().Convert(el.Type()))
			return nil
		}
	}
	return fmt.Errorf("cannot scan %s (Go %T) into %T%s", t, v, dest, hint(t))
}

func hint(t Type) string {
	gt := t.goType()
	if gt == reflect.TypeFor[any]() {
		return ""
	}
	return fmt.Sprintf("; try *%s, *string or *any", gt)
}
