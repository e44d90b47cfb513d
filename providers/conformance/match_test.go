package conformance

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// matchJSON reports how the JSON document got fails to contain want:
// every member of a want object must be in the got object and match (got
// may have more members), arrays match element by element and must have the
// same length, and other values must be equal. Two special objects loosen
// what a format may choose between:
//
//   - {"$text": "s"} matches the string "s", or a list of blocks whose "text"
//     members (of type "text", or with no type) join to "s";
//   - {"$json": v} matches a string holding JSON that matches v (tool-call
//     arguments sent as text).
func matchJSON(got []byte, want string) error {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("got is not JSON: %w", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return fmt.Errorf("want is not JSON: %w", err)
	}
	return match("$", g, w)
}

func match(path string, got, want any) error {
	switch w := want.(type) {
	case map[string]any:
		if t, ok := special(w, "$text"); ok {
			s, ok := textOf(got)
			if !ok || s != t {
				return fmt.Errorf("%s: got %s, want the text %q", path, show(got), t)
			}
			return nil
		}
		if v, ok := w["$json"]; ok && len(w) == 1 {
			s, ok := got.(string)
			if !ok {
				return fmt.Errorf("%s: got %s, want a string holding JSON", path, show(got))
			}
			var inner any
			if err := json.Unmarshal([]byte(s), &inner); err != nil {
				return fmt.Errorf("%s: got %q, which is not JSON: %w", path, s, err)
			}
			return match(path+"(json)", inner, v)
		}
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an object", path, show(got))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: no member %q in %s", path, k, show(got))
			}
			if err := match(path+"."+k, gv, w[k]); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an array", path, show(got))
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: got %d elements, want %d: %s", path, len(g), len(w), show(got))
		}
		for i := range w {
			if err := match(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s: got %s, want %s", path, show(got), show(want))
	}
	return nil
}

// special returns the string of a one-member object {key: "s"}.
func special(w map[string]any, key string) (string, bool) {
	if len(w) != 1 {
		return "", false
	}
	s, ok := w[key].(string)
	return s, ok
}

// textOf reads a string, or joins the text of a list of text blocks.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []any:
		var b strings.Builder
		for _, el := range v {
			blk, ok := el.(map[string]any)
			if !ok {
				return "", false
			}
			if typ, has := blk["type"]; has && typ != "text" {
				return "", false
			}
			t, ok := blk["text"].(string)
			if !ok {
				return "", false
			}
			b.WriteString(t)
		}
		return b.String(), true
	}
	return "", false
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func TestMatchJSON(t *testing.T) {
	tests := []struct {
		name, got, want string
		err             string // substring of the error; "" for a match
	}{
		{"extra members", `{"a":1,"b":{"c":"x","d":2}}`, `{"b":{"c":"x"}}`, ""},
		{"missing member", `{"a":1}`, `{"b":1}`, `$: no member "b"`},
		{"wrong scalar", `{"a":{"b":"x"}}`, `{"a":{"b":"y"}}`, `$.a.b: got "x", want "y"`},
		{"array length", `{"a":[1,2]}`, `{"a":[1]}`, `$.a: got 2 elements, want 1`},
		{"array element", `[{"k":1},{"k":2}]`, `[{"k":1},{"k":3}]`, `$[1].k: got 2, want 3`},
		{"text as string", `{"c":"hi"}`, `{"c":{"$text":"hi"}}`, ""},
		{"text as blocks", `{"c":[{"type":"text","text":"h"},{"text":"i"}]}`, `{"c":{"$text":"hi"}}`, ""},
		{"text with other block", `{"c":[{"type":"image","text":"hi"}]}`, `{"c":{"$text":"hi"}}`, `want the text "hi"`},
		{"json string", `{"args":"{\"x\": [1, 2]}"}`, `{"args":{"$json":{"x":[1,2]}}}`, ""},
		{"json mismatch", `{"args":"{\"x\":1}"}`, `{"args":{"$json":{"x":2}}}`, `$.args(json).x: got 1, want 2`},
		{"json not a string", `{"args":{"x":1}}`, `{"args":{"$json":{"x":1}}}`, `want a string holding JSON`},
		{"type mismatch", `{"a":"x"}`, `{"a":{"b":1}}`, `want an object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := matchJSON([]byte(tt.got), tt.want)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected mismatch: %v", err)
			case tt.err != "" && err == nil:
				t.Fatalf("matched, want an error containing %q", tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Fatalf("error %q does not contain %q", err, tt.err)
			}
		})
	}
}
