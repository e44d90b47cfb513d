package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// number reports v as a float64 when it is any Go number or a json.Number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float32:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// normalize deep-copies a condition value into its JSON shape: nil, bool,
// string, float64, []any or map[string]any. It fails on anything that has no
// JSON shape (and on NaN and infinities, which JSON cannot carry).
func normalize(v any) (any, error) {
	if f, ok := number(v); ok {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("value must be a finite number")
		}
		return f, nil
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		return nil, fmt.Errorf("invalid number %q", string(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	if s, ok := asSlice(v); ok {
		return normalize(s)
	}
	if m, ok := asMap(v); ok {
		return normalize(m)
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// asSlice returns v as []any when it is any Go slice or array.
func asSlice(v any) ([]any, bool) {
	if s, ok := v.([]any); ok {
		return s, true
	}
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array {
		return nil, false
	}
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asMap returns v as map[string]any when it is any Go map with string keys.
func asMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String || rv.IsNil() {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// jsonEqual compares two values the way JSON sees them: every number is a
// float64 (so 8 == 8.0), and arrays and objects are compared deeply.
func jsonEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	if xs, ok := asSlice(a); ok {
		ys, ok := asSlice(b)
		if !ok || len(xs) != len(ys) {
			return false
		}
		for i := range xs {
			if !jsonEqual(xs[i], ys[i]) {
				return false
			}
		}
		return true
	}
	if xm, ok := asMap(a); ok {
		ym, ok := asMap(b)
		if !ok || len(xm) != len(ym) {
			return false
		}
		for k, xv := range xm {
			yv, ok := ym[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// cloneJSON deep-copies the maps and slices of a decoded JSON value and
// shares everything else.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
