package rules

// Condition is one node of a rule's condition tree, in the JSON shape users
// write (see the seed's "Smart Content Routing" rule). A node is either a
// leaf comparison (Field, Operator, Value) or a group (Conditions combined by
// Combinator, optionally labelled by Group). A node with any group key
// (group, conditions or combinator) is a group and must not also have leaf
// keys; any other node is a leaf.
type Condition struct {
	// Leaf fields.
	Field    string `json:"field,omitempty"`
	Operator string `json:"operator,omitempty"`
	Value    any    `json:"value,omitempty"`

	// Group fields.
	Group      string      `json:"group,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
	Combinator string      `json:"combinator,omitempty"`
}

// Action is what a matched rule asks the caller to do. The engine does not
// run actions; it returns them.
type Action struct {
	Type   string         `json:"type"`
	Config map[string]any `json:"config,omitempty"`
}

// Definition is a whole rule: a list of conditions joined by Combinator
// (AND when empty) and the actions returned when they match.
type Definition struct {
	Conditions []Condition `json:"conditions"`
	Combinator string      `json:"combinator,omitempty"`
	Actions    []Action    `json:"actions,omitempty"`
}
