package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits on the size of a rule, checked by Compile.
const (
	// MaxDepth is the deepest a condition may be nested; top-level
	// conditions are at depth 1.
	MaxDepth = 16
	// MaxConditions is the most condition nodes (leaves and groups) a rule
	// may have.
	MaxConditions = 1000
)

// combinator joins the children of a group.
type combinator uint8

const (
	combAnd combinator = iota + 1
	combOr
	combNot
)

func (c combinator) String() string {
	switch c {
	case combOr:
		return "OR"
	case combNot:
		return "NOT"
	}
	return "AND"
}

// node is a compiled condition: a group when children is non-nil, else a
// leaf.
type node struct {
	path     string // JSON path, for the trace
	field    string // leaf: the field as written
	operator string // leaf: the operator as written
	label    string // group: the optional Group label
	comb     combinator
	children []*node
	leaf     leaf
}

// Rule is a compiled rule. It is immutable and safe for concurrent use.
type Rule struct {
	root    *node
	actions []Action
	nodes   int
}

// compiler walks a condition tree collecting every problem at once.
type compiler struct {
	errs  Errors
	count int
	over  bool
}

func (c *compiler) add(path, msg string) {
	c.errs = append(c.errs, &Error{Path: path, Msg: msg})
}

// Compile checks def and compiles it. The error, when not nil, is an
// Errors listing every problem found, each naming its JSON path.
func Compile(def Definition) (*Rule, error) {
	var c compiler
	comb, ok := parseCombinator(def.Combinator)
	if !ok {
		c.add("combinator", "unknown combinator "+strconv.Quote(def.Combinator))
	}
	if len(def.Conditions) == 0 {
		c.add("conditions", "rule has no conditions")
	}
	root := c.group("conditions", def.Conditions, comb, 1)
	actions := make([]Action, len(def.Actions))
	for i, a := range def.Actions {
		if strings.TrimSpace(a.Type) == "" {
			c.add(fmt.Sprintf("actions[%d].type", i), "action type is required")
		}
		actions[i] = Action{Type: a.Type}
		if a.Config != nil {
			actions[i].Config = cloneJSON(a.Config).(map[string]any)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return &Rule{root: root, actions: actions, nodes: c.count}, nil
}

// CompileConditions compiles a list of conditions joined by AND and with no
// actions, as used by workflow activity conditions. An empty list compiles
// to a rule that always matches. Error paths start at "conditions[i]".
func CompileConditions(conds []Condition) (*Rule, error) {
	var c compiler
	root := c.group("conditions", conds, combAnd, 1)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return &Rule{root: root, nodes: c.count}, nil
}

func parseCombinator(s string) (combinator, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "AND":
		return combAnd, true
	case "OR":
		return combOr, true
	case "NOT":
		return combNot, true
	}
	return combAnd, false
}

// group compiles the children of a group at path; depth is the depth of
// the children.
func (c *compiler) group(path string, conds []Condition, comb combinator, depth int) *node {
	n := &node{path: path, comb: comb, children: make([]*node, 0, len(conds))}
	for i := range conds {
		child := c.condition(fmt.Sprintf("%s[%d]", path, i), &conds[i], depth)
		if child == nil {
			continue
		}
		n.children = append(n.children, child)
	}
	return n
}

// condition compiles one node. It returns nil when the node has errors or
// lies beyond a limit.
func (c *compiler) condition(path string, cond *Condition, depth int) *node {
	if c.over {
		return nil
	}
	if c.count++; c.count > MaxConditions {
		c.over = true
		c.add("conditions", fmt.Sprintf("more than %d conditions", MaxConditions))
		return nil
	}
	if depth > MaxDepth {
		c.add(path, fmt.Sprintf("nesting deeper than %d levels", MaxDepth))
		return nil
	}
	isGroup := cond.Conditions != nil || cond.Group != "" || cond.Combinator != ""
	isLeaf := cond.Field != "" || cond.Operator != "" || cond.Value != nil
	if isGroup && isLeaf {
		c.add(path, "a condition is either a leaf (field, operator, value) or a group (group, conditions, combinator), not both")
		return nil
	}
	if isGroup {
		before := len(c.errs)
		comb, ok := parseCombinator(cond.Combinator)
		if !ok {
			c.add(path+".combinator", "unknown combinator "+strconv.Quote(cond.Combinator))
		}
		if len(cond.Conditions) == 0 {
			c.add(path+".conditions", "group has no conditions")
		}
		n := c.group(path+".conditions", cond.Conditions, comb, depth+1)
		n.path, n.label = path, cond.Group
		if len(c.errs) > before {
			return nil
		}
		return n
	}
	return c.leaf(path, cond)
}

// leaf compiles a comparison.
func (c *compiler) leaf(path string, cond *Condition) *node {
	n := &node{path: path, field: cond.Field, operator: cond.Operator}
	before := len(c.errs)
	fp, msg := parseField(cond.Field)
	if msg != "" {
		c.add(path+".field", msg)
	}
	n.leaf.field = fp
	o, known := ops[cond.Operator]
	switch {
	case cond.Operator == "":
		c.add(path+".operator", "operator is required")
	case !known:
		c.add(path+".operator", "unknown operator "+strconv.Quote(cond.Operator))
	}
	n.leaf.op = o
	v, err := normalize(cond.Value)
	if err != nil {
		c.add(path+".value", err.Error())
	} else if known {
		if msg := n.leaf.check(cond.Operator, v); msg != "" {
			c.add(path+".value", msg)
		}
	}
	if len(c.errs) > before {
		return nil
	}
	return n
}
