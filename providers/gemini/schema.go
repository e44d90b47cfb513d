package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// maxSchemaDepth bounds nesting and $ref expansion, and maxSchemaNodes the
// size of the expanded schema; a recursive schema is cut off there with empty
// (any-value) schemas.
const (
	maxSchemaDepth = 24
	maxSchemaNodes = 10000
)

// keptAsIs are the keywords of Gemini's schema dialect copied unchanged.
var keptAsIs = map[string]bool{
	"title": true, "description": true, "nullable": true, "pattern": true,
	"default": true, "example": true, "propertyOrdering": true,
	"minimum": true, "maximum": true, "minItems": true, "maxItems": true,
	"minLength": true, "maxLength": true, "minProperties": true, "maxProperties": true,
}

// keptFormats are the "format" values Gemini accepts.
var keptFormats = map[string]bool{"date-time": true, "enum": true, "int32": true, "int64": true, "float": true, "double": true}

// SanitizeSchema rewrites a JSON Schema object into the OpenAPI subset that
// Gemini's function declarations and responseSchema accept: local $ref are
// inlined, type arrays with "null" and null enum members become
// "nullable", const becomes a one-value enum, oneOf becomes anyOf, allOf is
// merged, and unsupported keywords are dropped (see the package doc). The
// output has sorted keys. It fails only when raw is not a JSON object.
func SanitizeSchema(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, errors.New("the schema is not valid JSON")
	}
	if dec.More() {
		return nil, errors.New("the schema has trailing data")
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("the schema is not a JSON object")
	}
	out := (&sanitizer{root: m}).node(m, 0)
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return b, nil
}

type sanitizer struct {
	root  map[string]any
	nodes int
}

// resolve finds a local reference ("#", "#/$defs/x", "#/definitions/x",
// any JSON pointer into the root).
func (s *sanitizer) resolve(ref string) (any, bool) {
	if ref == "#" {
		return s.root, true
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = s.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (s *sanitizer) node(v any, depth int) map[string]any {
	out := map[string]any{}
	m, ok := v.(map[string]any)
	s.nodes++
	if !ok || depth > maxSchemaDepth || s.nodes > maxSchemaNodes {
		return out
	}
	if ref, ok := m["$ref"].(string); ok {
		if target, ok := s.resolve(ref); ok {
			out = s.node(target, depth+1)
		}
		if d, ok := m["description"]; ok {
			out["description"] = d
		}
		return out
	}
	for k, val := range m {
		if keptAsIs[k] {
			out[k] = val
		}
	}
	s.typ(m, out)
	if f, ok := m["format"].(string); ok && keptFormats[f] {
		out["format"] = f
	}
	s.enum(m, out)
	if props, ok := m["properties"].(map[string]any); ok && len(props) > 0 {
		p := make(map[string]any, len(props))
		for name, sub := range props {
			p[name] = s.node(sub, depth+1)
		}
		out["properties"] = p
		if req := required(m["required"], props); len(req) > 0 {
			out["required"] = req
		}
	}
	switch items := m["items"].(type) {
	case map[string]any:
		out["items"] = s.node(items, depth+1)
	case []any: // tuple form: the first item's schema stands for all
		if len(items) > 0 {
			out["items"] = s.node(items[0], depth+1)
		}
	}
	var alts []any
	for _, key := range []string{"anyOf", "oneOf"} {
		if list, ok := m[key].([]any); ok {
			alts = append(alts, list...)
		}
	}
	s.anyOf(alts, out, depth)
	if list, ok := m["allOf"].([]any); ok {
		for _, sub := range list {
			merge(out, s.node(sub, depth+1))
		}
	}
	if _, ok := out["type"]; !ok {
		if _, ok := out["properties"]; ok {
			out["type"] = "object"
		} else if _, ok := out["items"]; ok {
			out["type"] = "array"
		}
	}
	return out
}

// typ copies "type", turning ["T", "null"] into T with nullable.
func (s *sanitizer) typ(m, out map[string]any) {
	switch t := m["type"].(type) {
	case string:
		if t == "null" {
			out["nullable"] = true
			return
		}
		out["type"] = t
	case []any:
		for _, e := range t {
			name, _ := e.(string)
			switch {
			case name == "null":
				out["nullable"] = true
			case name != "" && out["type"] == nil:
				out["type"] = name
			}
		}
	}
}

// enum keeps string enums (null members become nullable) and turns a
// string const into a one-value enum.
func (s *sanitizer) enum(m, out map[string]any) {
	if c, ok := m["const"].(string); ok {
		out["enum"] = []any{c}
		return
	}
	list, ok := m["enum"].([]any)
	if !ok {
		return
	}
	var vals []any
	for _, e := range list {
		switch e := e.(type) {
		case nil:
			out["nullable"] = true
		case string:
			vals = append(vals, e)
		default:
			return // Gemini enums are strings; drop the constraint
		}
	}
	if len(vals) > 0 {
		out["enum"] = vals
	}
}

// anyOf sanitises alternatives: a {"type": "null"} alternative becomes
// nullable, and a single remaining alternative is merged in.
func (s *sanitizer) anyOf(alts []any, out map[string]any, depth int) {
	var kept []any
	for _, a := range alts {
		sub := s.node(a, depth+1)
		if len(sub) == 1 && sub["nullable"] == true {
			out["nullable"] = true
			continue
		}
		kept = append(kept, sub)
	}
	switch len(kept) {
	case 0:
	case 1:
		merge(out, kept[0].(map[string]any))
	default:
		out["anyOf"] = kept
	}
}

// merge adds src's keywords to dst: properties and required are unions,
// other keywords already in dst win.
func merge(dst, src map[string]any) {
	for k, v := range src {
		switch k {
		case "properties":
			p, _ := dst["properties"].(map[string]any)
			if p == nil {
				p = map[string]any{}
			}
			for name, sub := range v.(map[string]any) {
				if _, ok := p[name]; !ok {
					p[name] = sub
				}
			}
			dst["properties"] = p
		case "required":
			have, _ := dst["required"].([]any)
			seen := map[any]bool{}
			for _, r := range have {
				seen[r] = true
			}
			for _, r := range v.([]any) {
				if !seen[r] {
					have = append(have, r)
					seen[r] = true
				}
			}
			dst["required"] = have
		default:
			if _, ok := dst[k]; !ok {
				dst[k] = v
			}
		}
	}
}

// required keeps the required names that are declared properties.
func required(v any, props map[string]any) []any {
	list, _ := v.([]any)
	var out []any
	for _, r := range list {
		if name, ok := r.(string); ok {
			if _, ok := props[name]; ok {
				out = append(out, name)
			}
		}
	}
	return out
}
