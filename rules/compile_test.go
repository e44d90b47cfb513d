package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		def  string // JSON Definition
		want string
	}{
		{
			name: "unknown operator nested",
			def: `{"conditions":[{"field":"a","operator":"exists"},
				{"group":"g","conditions":[{"field":"x","operator":"greter_than","value":1}]}]}`,
			want: `conditions[1].conditions[0].operator: unknown operator "greter_than"`,
		},
		{
			name: "operator required",
			def:  `{"conditions":[{"field":"a"}]}`,
			want: `conditions[0].operator: operator is required`,
		},
		{
			name: "field required",
			def:  `{"conditions":[{"operator":"equals","value":1}]}`,
			want: `conditions[0].field: field is required`,
		},
		{
			name: "empty node",
			def:  `{"conditions":[{}]}`,
			want: `conditions[0].field: field is required; conditions[0].operator: operator is required`,
		},
		{
			name: "empty field segment",
			def:  `{"conditions":[{"field":"a..b","operator":"exists"}]}`,
			want: `conditions[0].field: invalid field path "a..b": empty segment`,
		},
		{
			name: "bad regex",
			def:  `{"conditions":[{"field":"a","operator":"matches","value":"("}]}`,
			want: "conditions[0].value: matches needs a valid regular expression: error parsing regexp: missing closing ): `(`",
		},
		{
			name: "regex not a string",
			def:  `{"conditions":[{"field":"a","operator":"matches","value":1}]}`,
			want: `conditions[0].value: matches needs a string pattern`,
		},
		{
			name: "regex too long",
			def:  `{"conditions":[{"field":"a","operator":"matches","value":"` + strings.Repeat("a", MaxPatternLen+1) + `"}]}`,
			want: `conditions[0].value: matches pattern is longer than 1000 bytes`,
		},
		{
			name: "between not array",
			def: `{"conditions":[{"field":"a","operator":"exists"},{"field":"a","operator":"exists"},
				{"field":"a","operator":"between","value":5}]}`,
			want: `conditions[2].value: between needs two bounds [low, high]`,
		},
		{
			name: "between three bounds",
			def:  `{"conditions":[{"field":"a","operator":"between","value":[1,2,3]}]}`,
			want: `conditions[0].value: between needs two bounds [low, high]`,
		},
		{
			name: "between mixed bounds",
			def:  `{"conditions":[{"field":"a","operator":"between","value":[1,"2"]}]}`,
			want: `conditions[0].value: between bounds must both be numbers or both be strings`,
		},
		{
			name: "between bool bounds",
			def:  `{"conditions":[{"field":"a","operator":"between","value":[false,true]}]}`,
			want: `conditions[0].value: between bounds must both be numbers or both be strings`,
		},
		{
			name: "between reversed",
			def:  `{"conditions":[{"field":"a","operator":"between","value":[2,1]}]}`,
			want: `conditions[0].value: between low bound is greater than high bound`,
		},
		{
			name: "in needs array",
			def:  `{"conditions":[{"field":"a","operator":"in","value":"x"}]}`,
			want: `conditions[0].value: in needs an array`,
		},
		{
			name: "not_in needs array",
			def:  `{"conditions":[{"field":"a","operator":"not_in"}]}`,
			want: `conditions[0].value: not_in needs an array`,
		},
		{
			name: "ordering needs number or string",
			def: `{"conditions":[{"field":"a","operator":"greater_than","value":true},
				{"field":"a","operator":"greater_than_or_equal","value":[1]},
				{"field":"a","operator":"less_than"},
				{"field":"a","operator":"less_than_or_equal","value":{}}]}`,
			want: `conditions[0].value: greater_than needs a number or a string; ` +
				`conditions[1].value: greater_than_or_equal needs a number or a string; ` +
				`conditions[2].value: less_than needs a number or a string; ` +
				`conditions[3].value: less_than_or_equal needs a number or a string`,
		},
		{
			name: "string operators need string",
			def: `{"conditions":[{"field":"a","operator":"starts_with","value":1},
				{"field":"a","operator":"ends_with"}]}`,
			want: `conditions[0].value: starts_with needs a string; conditions[1].value: ends_with needs a string`,
		},
		{
			name: "contains needs value",
			def:  `{"conditions":[{"field":"a","operator":"contains"}]}`,
			want: `conditions[0].value: contains needs a value`,
		},
		{
			name: "exists needs bool",
			def:  `{"conditions":[{"field":"a","operator":"exists","value":"yes"}]}`,
			want: `conditions[0].value: exists value must be a boolean`,
		},
		{
			name: "unknown top combinator",
			def:  `{"conditions":[{"field":"a","operator":"exists"}],"combinator":"XOR"}`,
			want: `combinator: unknown combinator "XOR"`,
		},
		{
			name: "unknown group combinator",
			def:  `{"conditions":[{"conditions":[{"field":"a","operator":"exists"}],"combinator":"nand"}]}`,
			want: `conditions[0].combinator: unknown combinator "nand"`,
		},
		{
			name: "group with no conditions",
			def:  `{"conditions":[{"group":"empty","conditions":[]}]}`,
			want: `conditions[0].conditions: group has no conditions`,
		},
		{
			name: "group label only",
			def:  `{"conditions":[{"group":"empty"}]}`,
			want: `conditions[0].conditions: group has no conditions`,
		},
		{
			name: "leaf and group",
			def:  `{"conditions":[{"field":"a","operator":"exists","conditions":[{"field":"b","operator":"exists"}]}]}`,
			want: `conditions[0]: a condition is either a leaf (field, operator, value) or a group (group, conditions, combinator), not both`,
		},
		{
			name: "no conditions",
			def:  `{"actions":[{"type":"x"}]}`,
			want: `conditions: rule has no conditions`,
		},
		{
			name: "action type required",
			def:  `{"conditions":[{"field":"a","operator":"exists"}],"actions":[{"type":"ok"},{"config":{"a":1}},{"type":"  "}]}`,
			want: `actions[1].type: action type is required; actions[2].type: action type is required`,
		},
		{
			name: "every error at once",
			def: `{"conditions":[{"field":"","operator":"nope"},
				{"combinator":"or","conditions":[{"field":"x","operator":"in","value":1},{"field":"y","operator":"matches","value":"[z"}]}],
				"combinator":"maybe","actions":[{}]}`,
			want: `combinator: unknown combinator "maybe"; ` +
				`conditions[0].field: field is required; ` +
				`conditions[0].operator: unknown operator "nope"; ` +
				`conditions[1].conditions[0].value: in needs an array; ` +
				"conditions[1].conditions[1].value: matches needs a valid regular expression: error parsing regexp: missing closing ]: `[z`; " +
				`actions[0].type: action type is required`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var def Definition
			if err := json.Unmarshal([]byte(tt.def), &def); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			r, err := Compile(def)
			if err == nil {
				t.Fatalf("Compile succeeded, want %q", tt.want)
			}
			if r != nil {
				t.Errorf("Compile returned a rule with an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error mismatch\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestCompileValueErrors(t *testing.T) {
	type custom struct{}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"unsupported type", custom{}, "conditions[0].value: unsupported value type rules.custom"},
		{"nested unsupported type", []any{1, custom{}}, "conditions[0].value: unsupported value type rules.custom"},
		{"NaN", []any{1.0, nan()}, "conditions[0].value: value must be a finite number"},
		{"bad json.Number", json.Number("x"), `conditions[0].value: invalid number "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileConditions([]Condition{{Field: "a", Operator: "equals", Value: tt.value}})
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestCompileAccepts(t *testing.T) {
	tests := []struct {
		name string
		def  Definition
	}{
		{"lowercase combinators", Definition{Combinator: "or", Conditions: []Condition{
			{Combinator: "not", Conditions: []Condition{{Field: "a", Operator: "exists"}}},
			{Combinator: " And ", Conditions: []Condition{{Field: "a", Operator: "exists"}}},
		}}},
		{"go values", Definition{Conditions: []Condition{
			{Field: "a", Operator: "in", Value: []string{"x", "y"}},
			{Field: "a", Operator: "between", Value: []int{1, 2}},
			{Field: "a", Operator: "equals", Value: map[string]int{"k": 1}},
			{Field: "a", Operator: "less_than", Value: uint8(3)},
		}}},
		{"equal between bounds", Definition{Conditions: []Condition{{Field: "a", Operator: "between", Value: []any{1, 1}}}}},
		{"max depth", Definition{Conditions: []Condition{nested(MaxDepth)}}},
		{"max conditions", Definition{Conditions: leaves(MaxConditions)}},
		{"max pattern", Definition{Conditions: []Condition{{Field: "a", Operator: "matches", Value: strings.Repeat("a", MaxPatternLen)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile(tt.def); err != nil {
				t.Fatalf("Compile: %v", err)
			}
		})
	}
}

// nested returns a condition whose leaf sits at the given depth.
func nested(depth int) Condition {
	c := Condition{Field: "a", Operator: "exists"}
	for range depth - 1 {
		c = Condition{Conditions: []Condition{c}}
	}
	return c
}

func leaves(n int) []Condition {
	out := make([]Condition, n)
	for i := range out {
		out[i] = Condition{Field: fmt.Sprintf("f%d", i), Operator: "exists"}
	}
	return out
}

func TestLimits(t *testing.T) {
	deep := "conditions[0]" + strings.Repeat(".conditions[0]", MaxDepth)
	tests := []struct {
		name  string
		conds []Condition
		want  string
	}{
		{"too deep", []Condition{nested(MaxDepth + 1)}, deep + ": nesting deeper than 16 levels"},
		{"far too deep", []Condition{nested(MaxDepth + 50)}, deep + ": nesting deeper than 16 levels"},
		{"too many leaves", leaves(MaxConditions + 1), "conditions: more than 1000 conditions"},
		{"too many with groups", []Condition{{Conditions: leaves(MaxConditions)}}, "conditions: more than 1000 conditions"},
		{"far too many", leaves(100 * MaxConditions), "conditions: more than 1000 conditions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileConditions(tt.conds)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := CompileConditions([]Condition{
		{Field: "a", Operator: "greter_than", Value: 1},
		{Field: "b", Operator: "in", Value: 1},
	})
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("errors.As(%v, *Errors) = false", err)
	}
	want := Errors{
		{Path: "conditions[0].operator", Msg: `unknown operator "greter_than"`},
		{Path: "conditions[1].value", Msg: "in needs an array"},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("Errors (-want +got):\n%s", diff)
	}
	var first *Error
	if !errors.As(fmt.Errorf("activity: %w", err), &first) {
		t.Fatalf("errors.As(wrapped, **Error) = false")
	}
	if first.Path != "conditions[0].operator" {
		t.Errorf("first.Path = %q", first.Path)
	}
	got := all.WithPrefix("activities[2]").Error()
	wantMsg := `activities[2].conditions[0].operator: unknown operator "greter_than"; activities[2].conditions[1].value: in needs an array`
	if got != wantMsg {
		t.Errorf("WithPrefix:\n got %s\nwant %s", got, wantMsg)
	}
}

func TestCompileCopiesDefinition(t *testing.T) {
	value := []any{"x"}
	def := Definition{
		Conditions: []Condition{{Field: "a", Operator: "in", Value: value}},
		Actions:    []Action{{Type: "t", Config: map[string]any{"k": "v"}}},
	}
	r, err := Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	value[0] = "y"
	def.Actions[0].Config["k"] = "changed"
	res := r.Evaluate(map[string]any{"a": "x"})
	if !res.Matched {
		t.Error("rule changed when the caller mutated its value")
	}
	if got := res.Actions[0].Config["k"]; got != "v" {
		t.Errorf("action config = %v, want v", got)
	}
}
