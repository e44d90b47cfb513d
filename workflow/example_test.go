package workflow_test

import (
	"errors"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/workflow"
)

func ExampleCompile() {
	def, err := workflow.Parse([]byte(`
name: Document Approval
states: [submitted, under_review, approved]
activities:
  - id: start_review
    fromStates: [submitted]
    toState: under_review
  - id: approve_document
    fromStates: [under_review]
    toState: approved
    conditions:
      - {field: score, operator: greater_than, value: 8}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := workflow.Compile(def)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := m.Fire(m.InitialState(), "start_review", nil)
	fmt.Println(d.From, "->", d.To, err)

	_, err = m.Fire(d.To, "approve_document", map[string]any{"score": 5})
	var cf *workflow.ConditionsFailedError
	fmt.Println(errors.As(err, &cf), err)

	d, err = m.Fire(d.To, "approve_document", map[string]any{"score": 9})
	fmt.Println(d.From, "->", d.To, err, m.IsTerminal(d.To))
	// Output:
	// submitted -> under_review <nil>
	// true activity "approve_document": conditions not met: score (greater_than 8, got 5)
	// under_review -> approved <nil> true
}

func ExampleValidate() {
	def := workflow.Definition{
		States:     []string{"draft", "done", "done"},
		Activities: []workflow.Activity{{ID: "finish", FromStates: []string{"draft"}, ToState: "gone"}},
	}
	err := workflow.Validate(&def)
	var ve *workflow.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// name: required
	// states[2]: duplicate state "done"
	// activities[0].toState: unknown state "gone"
}
