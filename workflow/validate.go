package workflow

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// Validate normalises d in place and checks it, returning every problem at
// once as a *ValidationError, or nil.
//
// Normalisation: an empty InitialState becomes the first state; an empty
// TerminalStates becomes every state no activity leaves, in States order.
// After that the terminal states are explicit, so adding an activity out of
// one of them later is an error.
//
// A state that some activity mentions but that cannot be reached from the
// initial state is an error. A state no activity mentions is allowed: it is
// a placeholder for activities added in a later version (the seed's
// "Document Approval" example declares "rejected" and "published" so).
func Validate(d *Definition) error {
	_, err := validate(d)
	return err
}

// validate is Validate, also returning each activity's compiled conditions
// (nil for an activity without conditions) so Compile compiles them once.
func validate(d *Definition) ([]*rules.Rule, error) {
	if d == nil {
		return nil, &ValidationError{Problems: []Problem{{Msg: "definition is nil"}}}
	}
	explicit := normalize(d)
	var c checker

	c.length("id", d.ID)
	if d.Name == "" {
		c.add("name", "required")
	}
	if d.Version < 0 {
		c.add("version", "must be ≥ 0")
	}

	states := make(map[string]bool, len(d.States))
	switch {
	case len(d.States) == 0:
		c.add("states", "at least one state required")
	case len(d.States) > MaxStates:
		c.add("states", fmt.Sprintf("at most %d states allowed, got %d", MaxStates, len(d.States)))
	}
	for i, s := range d.States {
		p := index("states", i)
		if s == "" {
			c.add(p, "must not be empty")
			continue
		}
		if !c.length(p, s) {
			continue
		}
		if states[s] {
			c.add(p, "duplicate state "+strconv.Quote(s))
			continue
		}
		states[s] = true
	}
	if d.InitialState != "" && !states[d.InitialState] {
		c.add("initialState", "unknown state "+strconv.Quote(d.InitialState))
	}
	terminal := make(map[string]bool, len(d.TerminalStates))
	for i, s := range d.TerminalStates {
		c.stateRef(index("terminalStates", i), s, states, terminal)
	}

	if len(d.Activities) > MaxActivities {
		c.add("activities", fmt.Sprintf("at most %d activities allowed, got %d", MaxActivities, len(d.Activities)))
	}
	ids := make(map[string]bool, len(d.Activities))
	compiled := make([]*rules.Rule, len(d.Activities))
	for i := range d.Activities {
		ps := activityPaths(index("activities", i))
		if i >= explicit {
			ps = transitionPaths(index("agentTransitions", i-explicit))
		}
		compiled[i] = c.activity(&d.Activities[i], ps, states, terminal, ids)
	}
	for i := range d.Activities {
		ps := activityPaths(index("activities", i))
		if i >= explicit {
			ps = transitionPaths(index("agentTransitions", i-explicit))
		}
		c.wait(d, &d.Activities[i], ps.base+".waitForHuman")
	}

	if states[d.InitialState] {
		c.reachable(d, states)
	}
	if len(c.probs) > 0 {
		return nil, &ValidationError{Problems: c.probs}
	}
	return compiled, nil
}

// normalize fills in the defaults described on Validate and expands the
// agent transitions into activities. It returns how many activities were
// explicit: the rest, in order, come from d's agent transitions.
func normalize(d *Definition) (explicit int) {
	explicit = len(d.Activities)
	for _, t := range d.AgentTransitions {
		d.Activities = append(d.Activities, t.Activity())
	}
	d.AgentTransitions = nil
	if d.InitialState == "" && len(d.States) > 0 {
		d.InitialState = d.States[0]
	}
	if len(d.TerminalStates) > 0 {
		return explicit
	}
	leaves := make(map[string]bool)
	for _, a := range d.Activities {
		for _, s := range a.FromStates {
			leaves[s] = true
		}
	}
	for _, s := range d.States {
		if s != "" && utf8.RuneCountInString(s) <= MaxIDLength && !leaves[s] {
			d.TerminalStates = append(d.TerminalStates, s)
			leaves[s] = true // skip duplicates
		}
	}
	return explicit
}

// checker collects problems.
type checker struct {
	probs []Problem
}

func (c *checker) add(path, msg string) {
	c.probs = append(c.probs, Problem{Path: path, Msg: msg})
}

// length checks an identifier's length, reporting whether it is fine.
func (c *checker) length(path, s string) bool {
	if utf8.RuneCountInString(s) > MaxIDLength {
		c.add(path, fmt.Sprintf("must be at most %d characters", MaxIDLength))
		return false
	}
	return true
}

// stateRef checks a reference to a state in a list, recording it in seen.
// It reports whether s is a known state not seen before in the list.
func (c *checker) stateRef(path, s string, states, seen map[string]bool) bool {
	switch {
	case s == "":
		c.add(path, "must not be empty")
	case !states[s]:
		c.add(path, "unknown state "+strconv.Quote(s))
	case seen[s]:
		c.add(path, "duplicate state "+strconv.Quote(s))
	default:
		seen[s] = true
		return true
	}
	return false
}

// conditions compiles an activity's conditions, reporting rule errors under
// the activity's path.
func (c *checker) conditions(path string, conds []rules.Condition) *rules.Rule {
	if len(conds) == 0 {
		return nil
	}
	r, err := rules.CompileConditions(conds)
	if err == nil {
		return r
	}
	var es rules.Errors
	var e *rules.Error
	switch {
	case errors.As(err, &es):
		for _, e := range es.WithPrefix(path) {
			c.add(e.Path, e.Msg)
		}
	case errors.As(err, &e):
		c.add(joinPath(path, e.Path), e.Msg)
	default:
		c.add(path+".conditions", err.Error())
	}
	return nil
}

func (c *checker) retry(path string, r *RetryPolicy) {
	if r == nil {
		return
	}
	if r.MaxAttempts < 1 {
		c.add(path+".maxAttempts", "must be ≥ 1")
	}
	seconds := func(field string, v float64) bool {
		switch {
		case !(v >= 0):
			c.add(path+"."+field, "must be ≥ 0")
		case math.IsInf(v, 1):
			c.add(path+"."+field, "must be finite")
		default:
			return true
		}
		return false
	}
	okB := seconds("backoffSeconds", r.BackoffSeconds)
	okM := seconds("maxBackoffSeconds", r.MaxBackoffSeconds)
	if okB && okM && r.MaxBackoffSeconds > 0 && r.MaxBackoffSeconds < r.BackoffSeconds {
		c.add(path+".maxBackoffSeconds", "must be ≥ backoffSeconds")
	}
}

// reachable reports states that are an end of some activity's transition
// but that no path of activities leads to from the initial state. Only called with a known
// initial state; invalid states are ignored (already reported).
func (c *checker) reachable(d *Definition, states map[string]bool) {
	next := make(map[string][]string)
	mentioned := make(map[string]bool)
	for _, a := range d.Activities {
		if !states[a.ToState] {
			continue
		}
		for _, s := range a.FromStates {
			if states[s] {
				next[s] = append(next[s], a.ToState)
				mentioned[s], mentioned[a.ToState] = true, true
			}
		}
	}
	seen := map[string]bool{d.InitialState: true}
	queue := []string{d.InitialState}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range next[s] {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	for i, s := range d.States {
		if !states[s] || seen[s] || !mentioned[s] {
			continue
		}
		seen[s] = true // report each state once
		c.add(index("states", i), fmt.Sprintf("state %q is unreachable from initial state %q", s, d.InitialState))
	}
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
