package config

import (
	"cmp"
	"encoding"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decoder copies a generic TOML document onto a Config, strictly, recording a
// problem for every unknown key, type mismatch or failed interpolation.
type decoder struct {
	file string
	pos  positions
	env  func(string) (string, bool)
	ps   *problems
}

func (d *decoder) fail(path []string, format string, args ...any) {
	d.ps.add(d.file, d.pos.line(path), keyString(path), fmt.Sprintf(format, args...))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// decode stores v, found at path, into rv (settable). On a problem rv keeps
// its previous value.
func (d *decoder) decode(path []string, v any, rv reflect.Value) {
	if rv.Addr().Type().Implements(textUnmarshaler) {
		s, ok := d.str(path, v)
		if !ok {
			return
		}
		if err := rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(path, "%v", err)
		}
		return
	}
	switch rv.Kind() {
	case reflect.Struct:
		d.table(path, v, rv)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			d.fail(path, "expected table, got %s", typeName(v))
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMap(rv.Type()))
		}
		for _, k := range d.keys(path, m) {
			ev := reflect.New(rv.Type().Elem()).Elem()
			if old := rv.MapIndex(reflect.ValueOf(k)); old.IsValid() {
				ev.Set(old)
			}
			d.decode(append(slicesClone(path), k), m[k], ev)
			rv.SetMapIndex(reflect.ValueOf(k), ev)
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			d.fail(path, "expected array, got %s", typeName(v))
			return
		}
		out := reflect.MakeSlice(rv.Type(), len(a), len(a))
		for i, e := range a {
			d.decode(append(slicesClone(path), elem(i)), e, out.Index(i))
		}
		rv.Set(out)
	case reflect.String:
		if s, ok := d.str(path, v); ok {
			rv.SetString(s)
		}
	case reflect.Int:
		n, ok := v.(int64)
		if !ok {
			d.fail(path, "expected integer, got %s", typeName(v))
			return
		}
		if rv.OverflowInt(n) {
			d.fail(path, "integer %d out of range", n)
			return
		}
		rv.SetInt(n)
	case reflect.Float64:
		switch n := v.(type) {
		case float64:
			rv.SetFloat(n)
		case int64:
			rv.SetFloat(float64(n))
		default:
			d.fail(path, "expected number, got %s", typeName(v))
		}
	case reflect.Pointer:
		ev := reflect.New(rv.Type().Elem())
		if !rv.IsNil() {
			ev.Elem().Set(rv.Elem())
		}
		before := len(d.ps.list)
		d.decode(path, v, ev.Elem())
		if len(d.ps.list) == before {
			rv.Set(ev)
		}
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.fail(path, "expected boolean, got %s", typeName(v))
			return
		}
		rv.SetBool(b)
	default:
		panic(fmt.Sprintf("config: field %s has unsupported type %s", keyString(path), rv.Type()))
	}
}

// table decodes the TOML table v into the struct rv, field by toml tag.
func (d *decoder) table(path []string, v any, rv reflect.Value) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(path, "expected table, got %s", typeName(v))
		return
	}
	for _, k := range d.keys(path, m) {
		kp := append(slicesClone(path), k)
		f, ok := field(rv, k)
		if !ok {
			d.fail(kp, "unknown key")
			continue
		}
		d.decode(kp, m[k], f)
	}
}

// keys returns the keys of m in file order, for problems in a stable order.
func (d *decoder) keys(path []string, m map[string]any) []string {
	ks := slices.Collect(maps.Keys(m))
	slices.SortFunc(ks, func(a, b string) int {
		la := d.pos.line(append(slicesClone(path), a))
		lb := d.pos.line(append(slicesClone(path), b))
		return cmp.Or(cmp.Compare(la, lb), strings.Compare(a, b))
	})
	return ks
}

// str returns v as an interpolated string.
func (d *decoder) str(path []string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(path, "expected string, got %s", typeName(v))
		return "", false
	}
	s, err := interpolate(s, d.env)
	if err != nil {
		d.fail(path, "%v", err)
		return "", false
	}
	return s, true
}

// field returns the field of struct rv whose toml tag is name.
func field(rv reflect.Value, name string) (reflect.Value, bool) {
	t := rv.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag == name {
			return rv.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "datetime"
	}
	return fmt.Sprintf("%T", v)
}
