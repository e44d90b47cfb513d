package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// Sentinel errors returned (wrapped) by Machine.Fire. Test with errors.Is.
var (
	// ErrUnknownActivity means the activity id is not in the definition.
	ErrUnknownActivity = errors.New("unknown activity")
	// ErrUnknownState means the given state is not in the definition.
	ErrUnknownState = errors.New("unknown state")
	// ErrTerminal means the state is terminal: no activity can fire from it.
	ErrTerminal = errors.New("terminal state")
)

// Problem is one thing wrong with a definition. Path names the offending
// field in the definition's JSON shape, e.g. "activities[2].toState"; it is
// empty for problems with the document as a whole.
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

// String returns "path: msg", or just msg when Path is empty.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// ValidationError lists every problem found in a definition, in document
// order. Parse, Validate and Compile return it; use errors.As to get it.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problems with "; ".
func (e *ValidationError) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// WrongStateError means an activity was fired from a state that is not one
// of its fromStates.
type WrongStateError struct {
	Activity   string
	State      string
	FromStates []string
}

func (e *WrongStateError) Error() string {
	return fmt.Sprintf("activity %q cannot fire from state %q (allowed from: %s)",
		e.Activity, e.State, strings.Join(e.FromStates, ", "))
}

// ConditionsFailedError means an activity's conditions did not hold against
// the resource data. Trace is the rule engine's per-condition trace.
type ConditionsFailedError struct {
	Activity string
	Trace    []rules.TraceEntry
}

func (e *ConditionsFailedError) Error() string {
	return fmt.Sprintf("activity %q: conditions not met: %s", e.Activity, failedFields(e.Trace))
}

// failedFields describes the leaf conditions that failed, e.g.
// `score (greater_than 8, got 5)`, or the failed groups' paths when no leaf
// failed (a NOT over true conditions).
func failedFields(trace []rules.TraceEntry) string {
	var parts []string
	for _, t := range trace {
		if t.Result || t.Field == "" {
			continue
		}
		got := "not found"
		if t.Found {
			got = "got " + brief(t.Actual)
		}
		parts = append(parts, fmt.Sprintf("%s (%s %s, %s)", t.Field, t.Operator, brief(t.Expected), got))
	}
	if len(parts) == 0 {
		for _, t := range trace {
			if !t.Result {
				parts = append(parts, t.Path+" ("+t.Operator+")")
			}
		}
	}
	return strings.Join(parts, "; ")
}

// brief renders a JSON value compactly, truncated to keep messages short.
func brief(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return s
}
