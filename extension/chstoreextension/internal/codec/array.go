package codec

import (
	"encoding/binary"
	"reflect"
)

// ---- Array(T) ----

type arrayType struct {
	elem    Type
	gt      reflect.Type
	elemStr bool
}

func newArray(elem Type) *arrayType {
	return &arrayType{elem: elem, gt: reflect.SliceOf(elem.goType()), elemStr: isString(elem)}
}

func (t *arrayType) String() string { return "Array(" + t.elem.String() + ")" }

func (t *arrayType) Append(buf []byte, v any) ([]byte, error) {
	start := len(buf)
	var err error
	switch x := v.(type) {
	case nil:
		return append(buf, 0), nil
	case []string:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		for _, s := range x {
			if t.elemStr {
				buf = appendStr(buf, s)
			} else if buf, err = t.elem.Append(buf, s); err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case []any:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		for _, e := range x {
			if buf, err = t.elem.Append(buf, e); err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case []byte:
		if _, ok := unwrapLC(t.elem).(*intType); ok {
			buf = binary.AppendUvarint(buf, uint64(len(x)))
			for _, e := range x {
				if buf, err = t.elem.Append(buf, e); err != nil {
					return buf[:start], err
				}
			}
			return buf, nil
		}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(buf, 0), nil
		}
		n := rv.Len()
		buf = binary.AppendUvarint(buf, uint64(n))
		for i := range n {
			if buf, err = t.elem.Append(buf, rv.Index(i).Interface()); err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case reflect.Pointer:
		return retry(t, buf, v)
	}
	return buf, badGoType(t, v)
}

func (t *arrayType) Decode(buf []byte) (any, []byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return nil, buf, shortErr(t)
	}
	switch t.gt.Elem().Kind() {
	case reflect.String:
		return decodeSlice[string](t.elem, n, rest)
	case reflect.Uint64:
		return decodeSlice[uint64](t.elem, n, rest)
	case reflect.Int64:
		return decodeSlice[int64](t.elem, n, rest)
	case reflect.Float64:
		return decodeSlice[float64](t.elem, n, rest)
	}
	out := reflect.MakeSlice(t.gt, n, n)
	for i := range n {
		var v any
		var err error
		if v, rest, err = t.elem.Decode(rest); err != nil {
			return nil, buf, err
		}
		if v != nil {
			out.Index(i).Set(reflect.ValueOf(v))
		}
	}
	return out.Interface(), rest, nil
}

func decodeSlice[T any](elem Type, n int, buf []byte) (any, []byte, error) {
	out := make([]T, n)
	rest := buf
	for i := range out {
		v, r, err := elem.Decode(rest)
		if err != nil {
			return nil, buf, err
		}
		out[i], rest = v.(T), r
	}
	return out, rest, nil
}

func (t *arrayType) skip(buf []byte) ([]byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return buf, shortErr(t)
	}
	var err error
	for range n {
		if rest, err = t.elem.skip(rest); err != nil {
			return buf, err
		}
	}
	return rest, nil
}

func (t *arrayType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return dst, buf, shortErr(t)
	}
	dst = append(dst, '[')
	var err error
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, rest, err = t.elem.text(dst, rest, true); err != nil {
			return dst, buf, err
		}
	}
	return append(dst, ']'), rest, nil
}

func (t *arrayType) goType() reflect.Type { return t.gt }

// ---- Map(K, V) ----

// mapType is a count followed by key, value pairs: the same bytes as
// Array(Tuple(K, V)).
type mapType struct {
	key, val       Type
	gt             reflect.Type
	keyStr, valStr bool
}

func newMap(k, v Type) *mapType {
	return &mapType{key: k, val: v, gt: reflect.MapOf(k.goType(), v.goType()), keyStr: isString(k), valStr: isString(v)}
}

func (t *mapType) String() string { return "Map(" + t.key.String() + ", " + t.val.String() + ")" }

func (t *mapType) appendKey(buf []byte, k string) ([]byte, error) {
	if t.keyStr {
		return appendStr(buf, k), nil
	}
	return t.key.Append(buf, k)
}

func (t *mapType) Append(buf []byte, v any) ([]byte, error) {
	start := len(buf)
	var err error
	switch x := v.(type) {
	case nil:
		return append(buf, 0), nil
	case map[string]string:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		if t.keyStr && t.valStr {
			for k, s := range x {
				buf = appendStr(appendStr(buf, k), s)
			}
			return buf, nil
		}
		for k, s := range x {
			if buf, err = t.appendKey(buf, k); err == nil {
				buf, err = t.val.Append(buf, s)
			}
			if err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case map[string]any:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		for k, e := range x {
			if buf, err = t.appendKey(buf, k); err == nil {
				buf, err = t.val.Append(buf, e)
			}
			if err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		buf = binary.AppendUvarint(buf, uint64(rv.Len()))
		it := rv.MapRange()
		for it.Next() {
			if buf, err = t.key.Append(buf, it.Key().Interface()); err == nil {
				buf, err = t.val.Append(buf, it.Value().Interface())
			}
			if err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case reflect.Pointer:
		return retry(t, buf, v)
	}
	return buf, badGoType(t, v)
}

func (t *mapType) Decode(buf []byte) (any, []byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return nil, buf, shortErr(t)
	}
	var k, v any
	var err error
	if t.gt == reflect.TypeFor[map[string]string]() {
		out := make(map[string]string, n)
		for range n {
			if k, rest, err = t.key.Decode(rest); err != nil {
				return nil, buf, err
			}
			if v, rest, err = t.val.Decode(rest); err != nil {
				return nil, buf, err
			}
			out[k.(string)] = v.(string)
		}
		return out, rest, nil
	}
	out := reflect.MakeMapWithSize(t.gt, n)
	for range n {
		if k, rest, err = t.key.Decode(rest); err != nil {
			return nil, buf, err
		}
		if v, rest, err = t.val.Decode(rest); err != nil {
			return nil, buf, err
		}
		vv := reflect.Zero(t.gt.Elem())
		if v != nil {
			vv = reflect.ValueOf(v)
		}
		out.SetMapIndex(reflect.ValueOf(k), vv)
	}
	return out.Interface(), rest, nil
}

func (t *mapType) skip(buf []byte) ([]byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return buf, shortErr(t)
	}
	var err error
	for range n {
		if rest, err = t.key.skip(rest); err != nil {
			return buf, err
		}
		if rest, err = t.val.skip(rest); err != nil {
			return buf, err
		}
	}
	return rest, nil
}

func (t *mapType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	n, rest, ok := readCount(buf, 1)
	if !ok {
		return dst, buf, shortErr(t)
	}
	dst = append(dst, '{')
	var err error
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, rest, err = t.key.text(dst, rest, true); err != nil {
			return dst, buf, err
		}
		dst = append(dst, ':')
		if dst, rest, err = t.val.text(dst, rest, true); err != nil {
			return dst, buf, err
		}
	}
	return append(dst, '}'), rest, nil
}

func (t *mapType) goType() reflect.Type { return t.gt }
