// Package codec encodes and decodes ClickHouse's RowBinary format, driven
// by ClickHouse type strings, so the embedded engine can be fed and read
// without a ClickHouse client library.
//
// Inserts are encoded here and streamed with chdb's Insert; query results are
// requested as RowBinaryWithNamesAndTypes and scanned by Reader with the same
// destination conversions clickhouse-go v2's rows.Scan accepts (and a few
// widening ones it does not), so code reading from the store behaves the same
// whether the store is embedded or a remote server.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Type is a parsed ClickHouse type. Values of a Type are immutable and safe
// for concurrent use; ParseType caches them, so parsing per query is cheap.
type Type interface {
	// String is the type as ClickHouse itself spells it (the form the engine
	// writes in RowBinaryWithNamesAndTypes headers), so parsed types compare
	// equal to header types as strings.
	String() string
	// Append encodes v in RowBinary, converting from the Go types a caller
	// naturally has. On error it returns buf as it was, so nothing is
	// half-written.
	Append(buf []byte, v any) ([]byte, error)
	// Decode reads one value and returns it as the canonical Go value and the
	// remaining bytes.
	Decode(buf []byte) (any, []byte, error)

	// skip steps over one value without materialising it.
	skip(buf []byte) ([]byte, error)
	// text appends one value as ClickHouse prints it (TabSeparatedRaw at top
	// level, quoted inside arrays, maps and tuples) and returns the rest.
	text(dst, buf []byte, nested bool) ([]byte, []byte, error)
	// goType is the Go type of the canonical decoded value.
	goType() reflect.Type
}

var typeCache sync.Map // string -> Type

// ParseType parses a ClickHouse type string such as "Nullable(Float64)" or
// "Map(LowCardinality(String), String)". Results are cached.
func ParseType(s string) (Type, error) {
	if t, ok := typeCache.Load(s); ok {
		return t.(Type), nil
	}
	p := &parser{s: s}
	n, err := p.parseNode()
	if err == nil {
		p.space()
		if p.i != len(p.s) {
			err = p.errf("unexpected %q", p.s[p.i:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rowbinary: parse type %q: %w", s, err)
	}
	t, err := build(n)
	if err != nil {
		return nil, fmt.Errorf("rowbinary: type %q: %w", s, err)
	}
	typeCache.Store(s, t)
	return t, nil
}

// ParseTypes parses a column list's types in order.
func ParseTypes(types ...string) ([]Type, error) {
	out := make([]Type, len(types))
	for i, s := range types {
		t, err := ParseType(s)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// MustParseType is ParseType for types fixed in source code.
func MustParseType(s string) Type {
	t, err := ParseType(s)
	if err != nil {
		panic(err)
	}
	return t
}

// node is one parsed type expression or argument.
type node struct {
	name  string  // type name, or element name for named tuple elements
	args  []*node // type arguments
	typ   *node   // for a named tuple element: its type
	str   *string // quoted string literal
	num   *int64  // integer literal
	isNum bool
}

type parser struct {
	s string
	i int
}

func (p *parser) errf(format string, a ...any) error {
	return fmt.Errorf("at offset %d: %s", p.i, fmt.Sprintf(format, a...))
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) ident() (string, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '`' {
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
				continue
			}
			if c == '`' {
				p.i++
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return "", p.errf("unterminated quoted name")
	}
	start := p.i
	for p.i < len(p.s) && isIdentByte(p.s[p.i]) {
		p.i++
	}
	if start == p.i {
		if p.i == len(p.s) {
			return "", p.errf("unexpected end, want a type name")
		}
		return "", p.errf("unexpected %q, want a type name", p.s[p.i])
	}
	return p.s[start:p.i], nil
}

// parseNode parses "Name" or "Name(args)".
func (p *parser) parseNode() (*node, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	return p.parseArgs(&node{name: name})
}

func (p *parser) parseArgs(n *node) (*node, error) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return n, nil
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		return n, nil
	}
	for {
		a, err := p.parseArg()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errf("unexpected end, want ')'")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return n, nil
		default:
			return nil, p.errf("unexpected %q, want ',' or ')'", p.s[p.i])
		}
	}
}

func (p *parser) parseArg() (*node, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errf("unexpected end")
	}
	c := p.s[p.i]
	switch {
	case c == '\'':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		n := &node{str: &s}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.space()
			v, err := p.number()
			if err != nil {
				return nil, err
			}
			n.num = &v
		}
		return n, nil
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		v, err := p.number()
		if err != nil {
			return nil, err
		}
		return &node{num: &v, isNum: true}, nil
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	p.space()
	// "name Type" inside Tuple(...): a second identifier follows the first.
	if p.i < len(p.s) && (isIdentByte(p.s[p.i]) || p.s[p.i] == '`') {
		t, err := p.parseNode()
		if err != nil {
			return nil, err
		}
		return &node{name: name, typ: t}, nil
	}
	return p.parseArgs(&node{name: name})
}

func (p *parser) number() (int64, error) {
	start := p.i
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		p.i++
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	var v int64
	if _, err := fmt.Sscan(p.s[start:p.i], &v); err != nil {
		p.i = start
		return 0, p.errf("want a number")
	}
	return v, nil
}

func (p *parser) quoted() (string, error) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errf("unterminated string")
			}
			p.i++
			b.WriteByte(unescapeByte(p.s[p.i]))
		case '\'':
			if p.i+1 < len(p.s) && p.s[p.i+1] == '\'' { // SQL-style doubled quote
				p.i++
				b.WriteByte('\'')
				continue
			}
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errf("unterminated string")
}

func unescapeByte(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	}
	return c
}

// build turns a parsed node into a Type.
func build(n *node) (Type, error) {
	if n.typ != nil || n.str != nil || n.isNum {
		return nil, errors.New("expected a type")
	}
	switch n.name {
	case "String":
		return noArgs(n, stringType{})
	case "FixedString":
		size, err := intArg(n, 0, 1, 1<<20)
		if err != nil || len(n.args) != 1 {
			return nil, argErr(n, err, "FixedString(N)")
		}
		return &fixedStringType{n: int(size)}, nil
	case "UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64":
		return noArgs(n, intTypes[n.name])
	case "Int128", "UInt128", "Int256", "UInt256":
		return noArgs(n, bigIntTypes[n.name])
	case "Float32":
		return noArgs(n, float32Type{})
	case "Float64":
		return noArgs(n, float64Type{})
	case "Bool":
		return noArgs(n, boolType{})
	case "UUID":
		return noArgs(n, uuidType{})
	case "Nothing":
		return noArgs(n, nothingType{})
	case "Date":
		return noArgs(n, dateType{})
	case "Date32":
		return noArgs(n, date32Type{})
	case "DateTime":
		switch len(n.args) {
		case 0:
			return &dateTimeType{loc: utc()}, nil
		case 1:
			if n.args[0].str == nil || n.args[0].num != nil {
				return nil, argErr(n, nil, "DateTime('timezone')")
			}
			loc, err := location(*n.args[0].str)
			if err != nil {
				return nil, err
			}
			return &dateTimeType{tz: *n.args[0].str, loc: loc}, nil
		}
		return nil, argErr(n, nil, "DateTime('timezone')")
	case "DateTime64":
		if len(n.args) < 1 || len(n.args) > 2 {
			return nil, argErr(n, nil, "DateTime64(precision[, 'timezone'])")
		}
		prec, err := intArg(n, 0, 0, 9)
		if err != nil {
			return nil, argErr(n, err, "DateTime64(precision[, 'timezone'])")
		}
		t := &dateTime64Type{prec: int(prec), loc: utc()}
		if len(n.args) == 2 {
			if n.args[1].str == nil || n.args[1].num != nil {
				return nil, argErr(n, nil, "DateTime64(precision, 'timezone')")
			}
			t.tz = *n.args[1].str
			if t.loc, err = location(t.tz); err != nil {
				return nil, err
			}
		}
		t.init()
		return t, nil
	case "Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256":
		return buildDecimal(n)
	case "Enum8", "Enum16", "Enum":
		return buildEnum(n)
	case "LowCardinality":
		inner, err := oneTypeArg(n)
		if err != nil {
			return nil, err
		}
		return &lowCardinalityType{inner: inner}, nil
	case "Nullable":
		inner, err := oneTypeArg(n)
		if err != nil {
			return nil, err
		}
		if _, ok := unwrapLC(inner).(*nullableType); ok {
			return nil, errors.New("Nullable cannot be nested")
		}
		return newNullable(inner), nil
	case "Array":
		inner, err := oneTypeArg(n)
		if err != nil {
			return nil, err
		}
		return newArray(inner), nil
	case "Map":
		if len(n.args) != 2 {
			return nil, argErr(n, nil, "Map(KeyType, ValueType)")
		}
		k, err := build(n.args[0])
		if err != nil {
			return nil, err
		}
		v, err := build(n.args[1])
		if err != nil {
			return nil, err
		}
		if !k.goType().Comparable() {
			return nil, fmt.Errorf("Map key type %s cannot be a Go map key", k)
		}
		return newMap(k, v), nil
	case "Tuple":
		return buildTuple(n)
	}
	return nil, fmt.Errorf("unsupported ClickHouse type %q", n.name)
}

func noArgs(n *node, t Type) (Type, error) {
	if len(n.args) != 0 {
		return nil, fmt.Errorf("%s takes no arguments", n.name)
	}
	return t, nil
}

func intArg(n *node, i int, lo, hi int64) (int64, error) {
	if i >= len(n.args) || !n.args[i].isNum {
		return 0, fmt.Errorf("argument %d must be a number", i+1)
	}
	v := *n.args[i].num
	if v < lo || v > hi {
		return 0, fmt.Errorf("argument %d is %d, must be in [%d, %d]", i+1, v, lo, hi)
	}
	return v, nil
}

func argErr(n *node, err error, want string) error {
	if err != nil {
		return fmt.Errorf("%s: %w (want %s)", n.name, err, want)
	}
	return fmt.Errorf("%s: bad arguments (want %s)", n.name, want)
}

func oneTypeArg(n *node) (Type, error) {
	if len(n.args) != 1 {
		return nil, fmt.Errorf("%s takes exactly one type argument", n.name)
	}
	return build(n.args[0])
}

// unwrapLC strips LowCardinality, which changes nothing in RowBinary.
func unwrapLC(t Type) Type {
	if lc, ok := t.(*lowCardinalityType); ok {
		return lc.inner
	}
	return t
}

// errShort is the decoding error for truncated input.
var errShort = errors.New("unexpected end of data")

func shortErr(t Type) error {
	return fmt.Errorf("rowbinary: decode %s: %w", t, errShort)
}

// readUvarint reads a length prefix and checks it against what is left, so a
// corrupt length cannot make a decoder allocate gigabytes.
func readLen(buf []byte) (int, []byte, bool) {
	n, w := binary.Uvarint(buf)
	if w <= 0 || n > uint64(len(buf)-w) {
		return 0, buf, false
	}
	return int(n), buf[w:], true
}

// readCount reads an element count (arrays, maps) and checks it against
// what is left, elements taking at least minSize bytes each; Array(Nothing),
// whose elements take none, only ever occurs empty.
func readCount(buf []byte, minSize int) (int, []byte, bool) {
	n, w := binary.Uvarint(buf)
	if w <= 0 || n > 1<<40 || (minSize > 0 && n > uint64(len(buf)-w)/uint64(minSize)) {
		return 0, buf, false
	}
	return int(n), buf[w:], true
}

// fixedSkip is skip for fixed-width encodings.
func fixedSkip(t Type, buf []byte, size int) ([]byte, error) {
	if len(buf) < size {
		return buf, shortErr(t)
	}
	return buf[size:], nil
}
