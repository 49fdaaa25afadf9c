package codec

import (
	"fmt"
	"strconv"
	"strings"
)

// RowEncoder encodes rows of a fixed column list, so types are parsed once
// per table rather than once per value.
type RowEncoder struct {
	types []Type
	names []string
}

// NewRowEncoder encodes rows whose values come in the order of types.
func NewRowEncoder(types []Type) *RowEncoder {
	return &RowEncoder{types: types}
}

// WithNames sets column names used in error messages; it returns e.
func (e *RowEncoder) WithNames(names ...string) *RowEncoder {
	e.names = names
	return e
}

// Types is the column list.
func (e *RowEncoder) Types() []Type { return e.types }

// Append encodes one row. On error it returns buf as it was, so a caller can
// drop or report the bad row and keep the batch.
func (e *RowEncoder) Append(buf []byte, values ...any) ([]byte, error) {
	if len(values) != len(e.types) {
		return buf, fmt.Errorf("rowbinary: row has %d values, want %d columns", len(values), len(e.types))
	}
	start := len(buf)
	var err error
	for i, t := range e.types {
		if buf, err = t.Append(buf, values[i]); err != nil {
			return buf[:start], &EncodeError{Column: i, Name: e.name(i), Type: t.String(), Value: values[i], Err: err}
		}
	}
	return buf, nil
}

func (e *RowEncoder) name(i int) string {
	if i < len(e.names) {
		return e.names[i]
	}
	return ""
}

// EncodeError says which column refused which value.
type EncodeError struct {
	Column int    // index in the column list
	Name   string // column name, when the encoder knows it
	Type   string
	Value  any
	Err    error
}

func (e *EncodeError) Error() string {
	col := "column " + strconv.Itoa(e.Column)
	if e.Name != "" {
		col += " " + strconv.Quote(e.Name)
	}
	// The inner error names the refused value (an element, for composites).
	return fmt.Sprintf("rowbinary: %s (%s): %s", col, e.Type, strings.TrimPrefix(e.Err.Error(), "rowbinary: "))
}

func (e *EncodeError) Unwrap() error { return e.Err }
