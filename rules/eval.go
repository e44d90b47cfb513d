package rules

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Result is the outcome of evaluating a rule against some data.
type Result struct {
	// Matched reports whether the rule's conditions hold.
	Matched bool `json:"matched"`
	// Actions are the rule's actions when Matched, else nil. Their Config
	// maps are shared with the Rule and must not be modified.
	Actions []Action `json:"actions,omitempty"`
	// Trace has one entry per condition node, in document order (a group
	// before its children), starting with the root.
	Trace []TraceEntry `json:"trace"`
}

// TraceEntry records what one condition saw. For a leaf, Field, Operator,
// Expected, Actual and Found describe the comparison. For a group (and the
// root, whose Path is "conditions"), Operator is the combinator ("AND",
// "OR" or "NOT"), Group is its label and Field, Expected, Actual and Found
// are empty. Expected shares memory with the Rule and Actual with the
// evaluated data; treat both as read-only.
type TraceEntry struct {
	Path     string `json:"path"`
	Group    string `json:"group,omitempty"`
	Field    string `json:"field,omitempty"`
	Operator string `json:"operator"`
	Expected any    `json:"expected,omitempty"`
	Actual   any    `json:"actual,omitempty"`
	Found    bool   `json:"found"`
	Result   bool   `json:"result"`
}

// Evaluate runs the rule against data, as decoded from a JSON object. Every
// condition is evaluated (no short-circuit) so the trace is complete.
// Evaluate does not modify data or the Rule.
func (r *Rule) Evaluate(data map[string]any) Result {
	trace := make([]TraceEntry, 0, r.nodes+1)
	matched := r.root.eval(data, &trace)
	res := Result{Matched: matched, Trace: trace}
	if matched && len(r.actions) > 0 {
		res.Actions = slices.Clone(r.actions)
	}
	return res
}

// EvaluateJSON decodes data, which must be a JSON object, and evaluates
// the rule against it.
func (r *Rule) EvaluateJSON(data json.RawMessage) (Result, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return Result{}, fmt.Errorf("rules: decode data: %w", err)
	}
	if m == nil {
		return Result{}, fmt.Errorf("rules: decode data: not a JSON object")
	}
	return r.Evaluate(m), nil
}

// eval appends n's trace entries and returns its result.
func (n *node) eval(data map[string]any, trace *[]TraceEntry) bool {
	if n.children == nil {
		actual, found := n.leaf.field.lookup(data)
		ok := n.leaf.eval(actual, found)
		*trace = append(*trace, TraceEntry{
			Path:     n.path,
			Field:    n.field,
			Operator: n.operator,
			Expected: n.leaf.want,
			Actual:   actual,
			Found:    found,
			Result:   ok,
		})
		return ok
	}
	at := len(*trace)
	*trace = append(*trace, TraceEntry{Path: n.path, Group: n.label, Operator: n.comb.String()})
	all, some := true, false
	for _, c := range n.children {
		r := c.eval(data, trace)
		all = all && r
		some = some || r
	}
	var ok bool
	switch n.comb {
	case combOr:
		ok = some
	case combNot:
		ok = !all
	default:
		ok = all
	}
	(*trace)[at].Result = ok
	return ok
}
