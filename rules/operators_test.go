package rules

import (
	"encoding/json"
	"testing"
)

// sampleData is a document with one field of every JSON shape.
func sampleData() map[string]any {
	return map[string]any{
		"n":    8.0,
		"i":    8,
		"num":  json.Number("8"),
		"s":    "hello world",
		"date": "2024-05-01",
		"b":    true,
		"null": nil,
		"arr":  []any{"a", 1.0, map[string]any{"k": "v"}},
		"obj":  map[string]any{"k": "v", "x": 1.0},
		"order": map[string]any{
			"total": 120.5,
			"items": []any{map[string]any{"price": 10.0}, map[string]any{"price": 20.0}},
		},
		"tags":   []string{"x", "y"},
		"labels": map[string]string{"env": "prod"},
	}
}

func TestOperators(t *testing.T) {
	tests := []struct {
		name  string
		field string
		op    string
		value any
		want  bool
	}{
		// equals
		{"equals/number", "n", "equals", 8, true},
		{"equals/int data float value", "i", "equals", 8.0, true},
		{"equals/json.Number data", "num", "equals", 8, true},
		{"equals/json.Number value", "n", "equals", json.Number("8.0"), true},
		{"equals/number false", "n", "equals", 9, false},
		{"equals/string", "s", "equals", "hello world", true},
		{"equals/bool", "b", "equals", true, true},
		{"equals/null", "null", "equals", nil, true},
		{"equals/null vs value", "null", "equals", 0, false},
		{"equals/array deep", "arr", "equals", []any{"a", 1, map[string]any{"k": "v"}}, true},
		{"equals/array differs", "arr", "equals", []any{"a", 1}, false},
		{"equals/object deep", "obj", "equals", map[string]any{"x": 1, "k": "v"}, true},
		{"equals/object differs", "obj", "equals", map[string]any{"x": 2, "k": "v"}, false},
		{"equals/go slice data", "tags", "equals", []any{"x", "y"}, true},
		{"equals/type mismatch", "n", "equals", "8", false},
		{"equals/missing", "nope", "equals", nil, false},
		// not_equals
		{"not_equals/true", "n", "not_equals", 9, true},
		{"not_equals/false", "n", "not_equals", 8, false},
		{"not_equals/type mismatch", "n", "not_equals", "8", true},
		{"not_equals/missing", "nope", "not_equals", 1, true},
		// ordering
		{"greater_than/true", "order.total", "greater_than", 100, true},
		{"greater_than/false", "order.total", "greater_than", 120.5, false},
		{"greater_than/string dates", "date", "greater_than", "2024-01-31", true},
		{"greater_than/missing", "nope", "greater_than", 1, false},
		{"greater_than/type mismatch", "s", "greater_than", 1, false},
		{"greater_than/null", "null", "greater_than", 1, false},
		{"greater_than_or_equal/equal", "n", "greater_than_or_equal", 8, true},
		{"greater_than_or_equal/false", "n", "greater_than_or_equal", 8.5, false},
		{"greater_than_or_equal/missing", "nope", "greater_than_or_equal", 0, false},
		{"greater_than_or_equal/type mismatch", "n", "greater_than_or_equal", "0", false},
		{"less_than/true", "num", "less_than", 9, true},
		{"less_than/false", "n", "less_than", 8, false},
		{"less_than/string", "date", "less_than", "2024-05-02", true},
		{"less_than/missing", "nope", "less_than", 1, false},
		{"less_than/type mismatch", "b", "less_than", 1, false},
		{"less_than_or_equal/equal", "i", "less_than_or_equal", 8, true},
		{"less_than_or_equal/false", "n", "less_than_or_equal", 7.9, false},
		{"less_than_or_equal/missing", "nope", "less_than_or_equal", 1, false},
		{"less_than_or_equal/type mismatch", "date", "less_than_or_equal", 1, false},
		// between
		{"between/inside", "order.total", "between", []any{100, 200}, true},
		{"between/low edge", "n", "between", []any{8, 9}, true},
		{"between/high edge", "n", "between", []any{7, 8}, true},
		{"between/outside", "n", "between", []any{9, 10}, false},
		{"between/strings", "date", "between", []any{"2024-01-01", "2024-12-31"}, true},
		{"between/missing", "nope", "between", []any{0, 1}, false},
		{"between/type mismatch", "s", "between", []any{0, 1}, false},
		// in, not_in
		{"in/true", "s", "in", []any{"x", "hello world"}, true},
		{"in/number", "i", "in", []any{1, 8.0}, true},
		{"in/false", "s", "in", []any{"x"}, false},
		{"in/empty", "s", "in", []any{}, false},
		{"in/missing", "nope", "in", []any{nil}, false},
		{"in/type mismatch", "n", "in", []any{"8"}, false},
		{"not_in/true", "s", "not_in", []any{"x"}, true},
		{"not_in/false", "s", "not_in", []any{"hello world"}, false},
		{"not_in/missing", "nope", "not_in", []any{"x"}, true},
		{"not_in/type mismatch", "n", "not_in", []any{"8"}, true},
		// contains
		{"contains/substring", "s", "contains", "lo wo", true},
		{"contains/substring false", "s", "contains", "bye", false},
		{"contains/array element", "arr", "contains", 1, true},
		{"contains/array object element", "arr", "contains", map[string]any{"k": "v"}, true},
		{"contains/array false", "arr", "contains", "b", false},
		{"contains/go slice", "tags", "contains", "y", true},
		{"contains/missing", "nope", "contains", "a", false},
		{"contains/type mismatch", "n", "contains", "8", false},
		{"contains/number in string", "s", "contains", 1, false},
		// starts_with, ends_with
		{"starts_with/true", "s", "starts_with", "hello", true},
		{"starts_with/false", "s", "starts_with", "world", false},
		{"starts_with/missing", "nope", "starts_with", "h", false},
		{"starts_with/type mismatch", "n", "starts_with", "8", false},
		{"ends_with/true", "s", "ends_with", "world", true},
		{"ends_with/false", "s", "ends_with", "hello", false},
		{"ends_with/missing", "nope", "ends_with", "d", false},
		{"ends_with/type mismatch", "arr", "ends_with", "a", false},
		// matches
		{"matches/true", "s", "matches", `^hel+o\s`, true},
		{"matches/unanchored", "s", "matches", `o w`, true},
		{"matches/false", "s", "matches", `^world`, false},
		{"matches/missing", "nope", "matches", `.*`, false},
		{"matches/type mismatch", "n", "matches", `8`, false},
		// exists
		{"exists/present", "s", "exists", nil, true},
		{"exists/present explicit", "s", "exists", true, true},
		{"exists/null", "null", "exists", nil, false},
		{"exists/missing", "nope", "exists", nil, false},
		{"exists false/missing", "nope", "exists", false, true},
		{"exists false/null", "null", "exists", false, true},
		{"exists false/present", "s", "exists", false, false},
		// paths
		{"path/array index", "order.items.1.price", "equals", 20, true},
		{"path/index out of range", "order.items.2.price", "exists", nil, false},
		{"path/index into object", "order.0", "exists", nil, false},
		{"path/key into array", "order.items.price", "exists", nil, false},
		{"path/through scalar", "s.x", "exists", nil, false},
		{"path/through null", "null.x", "exists", nil, false},
		{"path/go slice index", "tags.1", "equals", "y", true},
		{"path/go map", "labels.env", "equals", "prod", true},
		{"path/go map missing", "labels.team", "exists", nil, false},
		{"path/object key that is a number", "obj.0", "exists", nil, false},
	}
	data := sampleData()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := CompileConditions([]Condition{{Field: tt.field, Operator: tt.op, Value: tt.value}})
			if err != nil {
				t.Fatalf("CompileConditions: %v", err)
			}
			if got := r.Evaluate(data).Matched; got != tt.want {
				t.Errorf("%s %s %v = %v, want %v", tt.field, tt.op, tt.value, got, tt.want)
			}
		})
	}
}

func TestNumericObjectKeys(t *testing.T) {
	r, err := CompileConditions([]Condition{{Field: "m.0", Operator: "equals", Value: "zero"}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Evaluate(map[string]any{"m": map[string]any{"0": "zero"}}).Matched {
		t.Error(`"m.0" should read key "0" of an object`)
	}
}
