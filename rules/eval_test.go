package rules

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedRule is the seed's "Smart Content Routing" rule, verbatim.
const seedRule = `{"conditions":[{"group":"content_analysis","conditions":[{"field":"sentiment_score","operator":"less_than","value":0.3},{"field":"complexity_score","operator":"greater_than","value":0.7}],"combinator":"AND"},{"group":"business_rules","conditions":[{"field":"customer_tier","operator":"equals","value":"premium"},{"field":"urgency","operator":"in","value":["high","critical"]}],"combinator":"OR"}],"combinator":"AND","actions":[{"type":"route_to_human","config":{"queue":"expert_review","priority":"high"}},{"type":"notify_manager","config":{"channel":"slack","message":"Complex negative feedback requires expert review"}}]}`

func mustCompileJSON(t testing.TB, s string) *Rule {
	t.Helper()
	var def Definition
	if err := json.Unmarshal([]byte(s), &def); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	r, err := Compile(def)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return r
}

func TestSeedRule(t *testing.T) {
	r := mustCompileJSON(t, seedRule)
	wantActions := []Action{
		{Type: "route_to_human", Config: map[string]any{"queue": "expert_review", "priority": "high"}},
		{Type: "notify_manager", Config: map[string]any{"channel": "slack", "message": "Complex negative feedback requires expert review"}},
	}
	tests := []struct {
		name    string
		data    string
		matched bool
	}{
		{"negative complex premium", `{"sentiment_score":0.2,"complexity_score":0.8,"customer_tier":"premium","urgency":"high"}`, true},
		{"neutral sentiment", `{"sentiment_score":0.5,"complexity_score":0.8,"customer_tier":"premium","urgency":"high"}`, false},
		{"only urgency", `{"sentiment_score":0.2,"complexity_score":0.8,"customer_tier":"basic","urgency":"critical"}`, true},
		{"no business rule", `{"sentiment_score":0.2,"complexity_score":0.8,"customer_tier":"basic","urgency":"low"}`, false},
		{"missing scores", `{"customer_tier":"premium","urgency":"high"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.EvaluateJSON(json.RawMessage(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if res.Matched != tt.matched {
				t.Fatalf("Matched = %v, want %v; trace %+v", res.Matched, tt.matched, res.Trace)
			}
			var want []Action
			if tt.matched {
				want = wantActions
			}
			if diff := cmp.Diff(want, res.Actions); diff != "" {
				t.Errorf("Actions (-want +got):\n%s", diff)
			}
			if len(res.Trace) != 7 {
				t.Errorf("len(Trace) = %d, want 7 (root, 2 groups, 4 leaves)", len(res.Trace))
			}
		})
	}
}

func TestTrace(t *testing.T) {
	r := mustCompileJSON(t, seedRule)
	res, err := r.EvaluateJSON(json.RawMessage(`{"sentiment_score":0.5,"complexity_score":0.8,"customer_tier":"premium"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []TraceEntry{
		{Path: "conditions", Operator: "AND", Result: false},
		{Path: "conditions[0]", Group: "content_analysis", Operator: "AND", Result: false},
		{Path: "conditions[0].conditions[0]", Field: "sentiment_score", Operator: "less_than", Expected: 0.3, Actual: 0.5, Found: true, Result: false},
		{Path: "conditions[0].conditions[1]", Field: "complexity_score", Operator: "greater_than", Expected: 0.7, Actual: 0.8, Found: true, Result: true},
		{Path: "conditions[1]", Group: "business_rules", Operator: "OR", Result: true},
		{Path: "conditions[1].conditions[0]", Field: "customer_tier", Operator: "equals", Expected: "premium", Actual: "premium", Found: true, Result: true},
		{Path: "conditions[1].conditions[1]", Field: "urgency", Operator: "in", Expected: []any{"high", "critical"}, Found: false, Result: false},
	}
	if diff := cmp.Diff(want, res.Trace); diff != "" {
		t.Errorf("Trace (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(res.Trace[6])
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"path":"conditions[1].conditions[1]","field":"urgency","operator":"in","expected":["high","critical"],"found":false,"result":false}`
	if string(b) != wantJSON {
		t.Errorf("trace JSON\n got %s\nwant %s", b, wantJSON)
	}
}

func TestExistsTraceExpected(t *testing.T) {
	r, err := CompileConditions([]Condition{{Field: "a", Operator: "exists"}})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Evaluate(map[string]any{"a": 1}).Trace[1]
	want := TraceEntry{Path: "conditions[0]", Field: "a", Operator: "exists", Expected: true, Actual: 1, Found: true, Result: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCombinators(t *testing.T) {
	yes := Condition{Field: "t", Operator: "equals", Value: true}
	no := Condition{Field: "t", Operator: "equals", Value: false}
	tests := []struct {
		name  string
		comb  string
		conds []Condition
		want  bool
	}{
		{"AND all true", "AND", []Condition{yes, yes}, true},
		{"AND one false", "AND", []Condition{yes, no}, false},
		{"empty means AND", "", []Condition{yes, no}, false},
		{"OR one true", "OR", []Condition{no, yes}, true},
		{"OR none true", "or", []Condition{no, no}, false},
		{"NOT single true", "NOT", []Condition{yes}, false},
		{"NOT single false", "NOT", []Condition{no}, true},
		{"NOT of AND, one false", "not", []Condition{yes, no}, true},
		{"NOT of AND, all true", "Not", []Condition{yes, yes}, false},
		{"nested NOT OR", "AND", []Condition{{Combinator: "NOT", Conditions: []Condition{{Combinator: "OR", Conditions: []Condition{no, no}}}}}, true},
	}
	data := map[string]any{"t": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(Definition{Combinator: tt.comb, Conditions: tt.conds, Actions: []Action{{Type: "x"}}})
			if err != nil {
				t.Fatal(err)
			}
			res := r.Evaluate(data)
			if res.Matched != tt.want {
				t.Errorf("Matched = %v, want %v", res.Matched, tt.want)
			}
			if got := len(res.Actions) == 1; got != tt.want {
				t.Errorf("actions returned = %v, want %v", got, tt.want)
			}
			if res.Trace[0].Result != tt.want {
				t.Errorf("root trace Result = %v, want %v", res.Trace[0].Result, tt.want)
			}
		})
	}
}

func TestNoShortCircuit(t *testing.T) {
	r, err := Compile(Definition{Combinator: "AND", Conditions: []Condition{
		{Field: "a", Operator: "exists"},
		{Field: "b", Operator: "exists"},
		{Field: "c", Operator: "exists"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := r.Evaluate(map[string]any{"c": 1})
	if len(res.Trace) != 4 || !res.Trace[3].Found {
		t.Errorf("trace after a false condition is incomplete: %+v", res.Trace)
	}
}

func TestCompileConditionsEmpty(t *testing.T) {
	for _, conds := range [][]Condition{nil, {}} {
		r, err := CompileConditions(conds)
		if err != nil {
			t.Fatal(err)
		}
		if res := r.Evaluate(nil); !res.Matched || res.Actions != nil {
			t.Errorf("empty conditions: %+v, want matched without actions", res)
		}
	}
}

func TestEvaluateJSONErrors(t *testing.T) {
	r := mustCompileJSON(t, seedRule)
	for _, in := range []string{``, `[1]`, `null`, `"x"`, `{`} {
		if _, err := r.EvaluateJSON(json.RawMessage(in)); err == nil {
			t.Errorf("EvaluateJSON(%q) succeeded", in)
		}
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	r := mustCompileJSON(t, seedRule)
	data := map[string]any{"sentiment_score": 0.2, "complexity_score": 0.8, "customer_tier": "premium", "urgency": "high"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if !r.Evaluate(data).Matched {
					t.Error("not matched")
					return
				}
			}
		})
	}
	wg.Wait()
}
