package nexusexporter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// The values rows carry are written in one typed, length-prefixed
// encoding for two readers: a block's de-duplication token is its hash
// (so no two different blocks may share an encoding), and the insert
// journal keeps blocks in it to send them again after a crash (so it must
// read back to the same Go values, which the store encodes by type).

// Tags, one per Go type a row holds.
const (
	tagNil     = 'n'
	tagString  = 's'
	tagBool    = 'b'
	tagUint16  = 'w'
	tagUint64  = 'u'
	tagInt64   = 'i'
	tagFloat32 = 'f'
	tagFloat64 = 'd'
	tagTime    = 't'
	tagDecimal = 'm'
	tagMap     = 'M'
	tagStrMap  = 'T' // map[string]string: the tags of a call
)

// valueWriter writes values to w (a hash or a buffer, which never fail).
type valueWriter struct {
	w   io.Writer
	buf [9]byte
}

func (e *valueWriter) tagged(tag byte, v uint64) {
	e.buf[0] = tag
	binary.LittleEndian.PutUint64(e.buf[1:], v)
	_, _ = e.w.Write(e.buf[:])
}

func (e *valueWriter) uint(v uint64) { e.tagged(tagUint64, v) }

func (e *valueWriter) str(s string) {
	e.tagged(tagString, uint64(len(s)))
	_, _ = io.WriteString(e.w, s)
}

func (e *valueWriter) rows(rows []row) {
	e.uint(uint64(len(rows)))
	for _, r := range rows {
		if r.enc != nil {
			_, _ = e.w.Write(r.enc)
			continue
		}
		e.row(r.vals)
	}
}

func (e *valueWriter) row(vals []any) {
	e.uint(uint64(len(vals)))
	for _, v := range vals {
		e.value(v)
	}
}

// encodeRows sets each row's enc to its encoding, all in one buffer. A
// block is encoded twice, for its token and for the insert journal (and
// its halves again when bisected): encoding each row once makes those
// copies of bytes, not walks of every value.
func encodeRows(rows []row) {
	if len(rows) == 0 {
		return
	}
	sw := &sliceWriter{b: make([]byte, 0, len(rows)*encodedRowGuess)}
	w := valueWriter{w: sw}
	ends := make([]int, len(rows))
	for i, r := range rows {
		w.row(r.vals)
		ends[i] = len(sw.b)
	}
	start := 0
	for i := range rows {
		rows[i].enc = sw.b[start:ends[i]:ends[i]]
		start = ends[i]
	}
}

// encodedRowGuess is about the encoded size of an api_calls row (37
// tagged values), so that a block's buffer is allocated once.
const encodedRowGuess = 512

// sliceWriter appends to a byte slice; it never fails.
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *sliceWriter) WriteString(p string) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// value writes one value. A type not listed falls back to its printed
// form: deterministic for hashing, and refused when read back.
func (e *valueWriter) value(v any) {
	switch x := v.(type) {
	case nil:
		e.tagged(tagNil, 0)
	case string:
		e.str(x)
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		e.tagged(tagBool, b)
	case uint16:
		e.tagged(tagUint16, uint64(x))
	case uint64:
		e.tagged(tagUint64, x)
	case int64:
		e.tagged(tagInt64, uint64(x))
	case float32:
		e.tagged(tagFloat32, uint64(math.Float32bits(x)))
	case float64:
		e.tagged(tagFloat64, math.Float64bits(x))
	case time.Time:
		// Seconds and nanoseconds apart: UnixNano is undefined past 2262.
		e.tagged(tagTime, uint64(x.Unix()))
		e.uint(uint64(x.Nanosecond()))
	case decimal.Decimal:
		e.tagged(tagDecimal, 0)
		e.str(x.String())
	case map[string]uint64:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.tagged(tagMap, uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.uint(x[k])
		}
	case map[string]string:
		// Sorted: the same tags must hash to the same token whatever
		// order the map iterates in.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.tagged(tagStrMap, uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.str(x[k])
		}
	default:
		e.tagged('?', 0)
		e.str(fmt.Sprintf("%T:%v", v, v))
	}
}

// valueReader reads what valueWriter wrote.
type valueReader struct{ b []byte }

var errCorrupt = errors.New("corrupt encoding")

func (d *valueReader) tagged() (byte, uint64, error) {
	if len(d.b) < 9 {
		return 0, 0, errCorrupt
	}
	tag, v := d.b[0], binary.LittleEndian.Uint64(d.b[1:9])
	d.b = d.b[9:]
	return tag, v, nil
}

func (d *valueReader) expect(want byte) (uint64, error) {
	tag, v, err := d.tagged()
	if err == nil && tag != want {
		err = fmt.Errorf("%w: tag %q where %q was expected", errCorrupt, tag, want)
	}
	return v, err
}

func (d *valueReader) uint() (uint64, error) { return d.expect(tagUint64) }

func (d *valueReader) str() (string, error) {
	n, err := d.expect(tagString)
	if err != nil {
		return "", err
	}
	return d.strBody(n)
}

// strBody reads the n bytes of a string whose tag was read.
func (d *valueReader) strBody(n uint64) (string, error) {
	if n > uint64(len(d.b)) {
		return "", errCorrupt
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s, nil
}

// count reads a length that must be satisfiable by the bytes left (each
// item takes at least minSize), so corrupt input cannot allocate much.
func (d *valueReader) count(minSize int) (int, error) {
	n, err := d.uint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)/minSize) {
		return 0, errCorrupt
	}
	return int(n), nil
}

func (d *valueReader) rows() ([][]any, error) {
	n, err := d.count(9)
	if err != nil {
		return nil, err
	}
	out := make([][]any, n)
	for i := range out {
		m, err := d.count(9)
		if err != nil {
			return nil, err
		}
		vals := make([]any, m)
		for j := range vals {
			if vals[j], err = d.value(); err != nil {
				return nil, err
			}
		}
		out[i] = vals
	}
	return out, nil
}

func (d *valueReader) value() (any, error) {
	tag, v, err := d.tagged()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNil:
		return nil, nil
	case tagString:
		return d.strBody(v)
	case tagBool:
		return v == 1, nil
	case tagUint16:
		return uint16(v), nil
	case tagUint64:
		return v, nil
	case tagInt64:
		return int64(v), nil
	case tagFloat32:
		return math.Float32frombits(uint32(v)), nil
	case tagFloat64:
		return math.Float64frombits(v), nil
	case tagTime:
		ns, err := d.uint()
		if err != nil {
			return nil, err
		}
		return time.Unix(int64(v), int64(ns)).UTC(), nil
	case tagDecimal:
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return decimal.NewFromString(s)
	case tagMap:
		if v > uint64(len(d.b)/18) {
			return nil, errCorrupt
		}
		m := make(map[string]uint64, v)
		for range v {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if m[k], err = d.uint(); err != nil {
				return nil, err
			}
		}
		return m, nil
	case tagStrMap:
		// Each pair takes at least two empty strings' tags.
		if v > uint64(len(d.b)/18) {
			return nil, errCorrupt
		}
		m := make(map[string]string, v)
		for range v {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if m[k], err = d.str(); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: tag %q is not a value the store takes", errCorrupt, tag)
}
