package rules_test

import (
	"encoding/json"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

func ExampleCompile() {
	var def rules.Definition
	_ = json.Unmarshal([]byte(`{
		"conditions": [
			{"field": "order.total", "operator": "greater_than", "value": 100},
			{"field": "customer.tier", "operator": "in", "value": ["gold", "platinum"]}
		],
		"combinator": "OR",
		"actions": [{"type": "flag", "config": {"reason": "vip"}}]
	}`), &def)
	r, err := rules.Compile(def)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _ := r.EvaluateJSON(json.RawMessage(`{"order": {"total": 42}, "customer": {"tier": "gold"}}`))
	fmt.Println(res.Matched, res.Actions[0].Type)
	for _, e := range res.Trace {
		fmt.Println(e.Path, e.Operator, e.Actual, e.Result)
	}
	// Output:
	// true flag
	// conditions OR <nil> true
	// conditions[0] greater_than 42 false
	// conditions[1] in gold true
}

func ExampleCompileConditions() {
	_, err := rules.CompileConditions([]rules.Condition{
		{Field: "amount", Operator: "greter_than", Value: 10},
		{Field: "email", Operator: "matches", Value: "("},
	})
	fmt.Println(err)
	// Output:
	// conditions[0].operator: unknown operator "greter_than"; conditions[1].value: matches needs a valid regular expression: error parsing regexp: missing closing ): `(`
}
