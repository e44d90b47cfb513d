package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxDefinitionBytes is the largest document Parse accepts.
const MaxDefinitionBytes = 4 << 20

// Parse decodes a definition from JSON or YAML. A document whose first
// non-blank character is '{' is JSON; anything else is YAML (which is
// converted to JSON first, so both share the camelCase field names).
//
// Decoding is strict: field names must match exactly, and unknown fields or
// values of the wrong type are reported together as a *ValidationError whose
// paths name each offending field, e.g. "activities[0].agentConfg: unknown
// field". Parse does not validate; call Validate or Compile next.
func Parse(data []byte) (Definition, error) {
	if len(data) > MaxDefinitionBytes {
		return Definition{}, fmt.Errorf("parse workflow definition: %d bytes exceeds the limit of %d", len(data), MaxDefinitionBytes)
	}
	js := data
	if first := bytes.TrimLeft(data, " \t\r\n"); len(first) == 0 || first[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSON(data); err != nil {
			return Definition{}, fmt.Errorf("parse workflow definition: %w", err)
		}
	}

	// Decode generically first to check the shape with precise paths.
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return Definition{}, fmt.Errorf("parse workflow definition: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Definition{}, errors.New("parse workflow definition: unexpected data after the definition")
	}
	if raw == nil {
		return Definition{}, errors.New("parse workflow definition: empty document")
	}
	var probs []Problem
	checkShape(reflect.TypeFor[Definition](), raw, "", &probs)
	if len(probs) > 0 {
		return Definition{}, &ValidationError{Problems: probs}
	}

	var d Definition
	dec = json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		// Unreachable if checkShape is complete; kept as a safety net.
		return Definition{}, fmt.Errorf("parse workflow definition: %w", err)
	}
	return d, nil
}

// checkShape reports where the generically decoded JSON value v (numbers as
// json.Number) does not fit type t: unknown or misspelt fields and values of
// the wrong JSON type. null fits anything, as in encoding/json.
func checkShape(t reflect.Type, v any, path string, probs *[]Problem) {
	if v == nil {
		return
	}
	bad := func(want string) {
		*probs = append(*probs, Problem{Path: path, Msg: "expected " + want + ", got " + jsonKind(v)})
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkShape(t.Elem(), v, path, probs)
	case reflect.Interface:
		// Any JSON value fits.
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad("object")
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := joinPath(path, k)
			ft, ok := fields[k]
			if !ok {
				*probs = append(*probs, Problem{Path: p, Msg: "unknown field"})
				continue
			}
			checkShape(ft, m[k], p, probs)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			bad("object")
			return
		}
		for k, e := range m {
			checkShape(t.Elem(), e, joinPath(path, k), probs)
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			bad("array")
			return
		}
		for i, e := range s {
			checkShape(t.Elem(), e, path+"["+strconv.Itoa(i)+"]", probs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			bad("integer")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			*probs = append(*probs, Problem{Path: path, Msg: "expected integer, got " + string(n)})
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			bad("number")
			return
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			*probs = append(*probs, Problem{Path: path, Msg: "number " + string(n) + " out of range"})
		}
	default:
		*probs = append(*probs, Problem{Path: path, Msg: "unsupported field type " + t.String()})
	}
}

// jsonFields maps the exact JSON names of t's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
