package rules

import (
	"reflect"
	"strconv"
	"strings"
)

// segment is one dot-separated part of a field path. idx is the segment as
// an array index, or -1 when it is not a non-negative integer.
type segment struct {
	key string
	idx int
}

// fieldPath is a parsed field such as "order.items.0.price".
type fieldPath []segment

// parseField splits a dotted field path. It returns a message (not an
// error) so the caller can attach the JSON path.
func parseField(s string) (fieldPath, string) {
	if s == "" {
		return nil, "field is required"
	}
	parts := strings.Split(s, ".")
	p := make(fieldPath, len(parts))
	for i, part := range parts {
		if part == "" {
			return nil, "invalid field path " + strconv.Quote(s) + ": empty segment"
		}
		idx, err := strconv.Atoi(part)
		if err != nil || idx < 0 {
			idx = -1
		}
		p[i] = segment{key: part, idx: idx}
	}
	return p, ""
}

// lookup resolves the path against data. It reports whether every segment
// resolved; a present JSON null is found (with a nil value).
func (p fieldPath) lookup(data map[string]any) (any, bool) {
	v, ok := data[p[0].key]
	if !ok {
		return nil, false
	}
	for _, s := range p[1:] {
		if v, ok = step(v, s); !ok {
			return nil, false
		}
	}
	return v, true
}

// step descends one segment into v: a key of an object, or an index of an
// array. Values decoded by encoding/json take the fast paths; other Go maps
// with string keys and slices are handled by reflection.
func step(v any, s segment) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		r, ok := x[s.key]
		return r, ok
	case []any:
		if s.idx < 0 || s.idx >= len(x) {
			return nil, false
		}
		return x[s.idx], true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		r := rv.MapIndex(reflect.ValueOf(s.key).Convert(rv.Type().Key()))
		if !r.IsValid() {
			return nil, false
		}
		return r.Interface(), true
	case reflect.Slice, reflect.Array:
		if s.idx < 0 || s.idx >= rv.Len() {
			return nil, false
		}
		return rv.Index(s.idx).Interface(), true
	}
	return nil, false
}
