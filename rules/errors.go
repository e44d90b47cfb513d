package rules

import "strings"

// Error is one problem found while compiling a rule. Path names the
// offending JSON location, e.g. "conditions[1].conditions[0].operator".
type Error struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

// Error returns "path: msg", or just msg when Path is empty.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem found while compiling a rule, in document order.
// Compile and CompileConditions return a non-empty Errors as their error, so
// callers can use errors.As with either *Error (to get the first problem) or
// Errors (to get them all).
type Errors []*Error

// Error joins the problems with "; ".
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns each problem, so errors.As and errors.Is see them.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// WithPrefix returns a copy of es whose paths are prefixed by prefix and a
// dot, for callers that embed conditions in a larger document (e.g. a
// workflow package reporting "activities[2].conditions[0].operator").
func (es Errors) WithPrefix(prefix string) Errors {
	out := make(Errors, len(es))
	for i, e := range es {
		p := prefix
		if e.Path != "" {
			p += "." + e.Path
		}
		out[i] = &Error{Path: p, Msg: e.Msg}
	}
	return out
}
