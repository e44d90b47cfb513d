package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxPatternLen is the longest regular expression a matches condition may use.
const MaxPatternLen = 1000

// op is a comparison operator.
type op uint8

const (
	opEquals op = iota + 1
	opNotEquals
	opGreaterThan
	opGreaterThanOrEqual
	opLessThan
	opLessThanOrEqual
	opBetween
	opIn
	opNotIn
	opContains
	opStartsWith
	opEndsWith
	opMatches
	opExists
)

// ops maps each operator's JSON name to its op.
var ops = map[string]op{
	"equals":                opEquals,
	"not_equals":            opNotEquals,
	"greater_than":          opGreaterThan,
	"greater_than_or_equal": opGreaterThanOrEqual,
	"less_than":             opLessThan,
	"less_than_or_equal":    opLessThanOrEqual,
	"between":               opBetween,
	"in":                    opIn,
	"not_in":                opNotIn,
	"contains":              opContains,
	"starts_with":           opStartsWith,
	"ends_with":             opEndsWith,
	"matches":               opMatches,
	"exists":                opExists,
}

// leaf is a compiled comparison. want is the normalized value; the other
// fields are pre-digested forms of it for the operators that need them.
type leaf struct {
	field  fieldPath
	op     op
	want   any            // normalized value (float64, string, bool, nil, []any, map[string]any)
	low    any            // between: lower bound (float64 or string)
	high   any            // between: upper bound, same type as low
	set    []any          // in, not_in
	re     *regexp.Regexp // matches
	exists bool           // exists: the expected presence
}

// check validates v (already normalized) for operator name and fills in
// l. It returns a message for the ".value" path, or "" when v is fine.
func (l *leaf) check(name string, v any) string {
	l.want = v
	switch l.op {
	case opEquals, opNotEquals:
		return ""
	case opGreaterThan, opGreaterThanOrEqual, opLessThan, opLessThanOrEqual:
		if !ordered(v) {
			return name + " needs a number or a string"
		}
	case opBetween:
		b, ok := v.([]any)
		if !ok || len(b) != 2 {
			return "between needs two bounds [low, high]"
		}
		l.low, l.high = b[0], b[1]
		c, ok := compare(l.low, l.high)
		if !ordered(l.low) || !ok {
			return "between bounds must both be numbers or both be strings"
		}
		if c > 0 {
			return "between low bound is greater than high bound"
		}
	case opIn, opNotIn:
		s, ok := v.([]any)
		if !ok {
			return name + " needs an array"
		}
		l.set = s
	case opContains:
		if v == nil {
			return "contains needs a value"
		}
	case opStartsWith, opEndsWith:
		if _, ok := v.(string); !ok {
			return name + " needs a string"
		}
	case opMatches:
		p, ok := v.(string)
		if !ok {
			return "matches needs a string pattern"
		}
		if len(p) > MaxPatternLen {
			return fmt.Sprintf("matches pattern is longer than %d bytes", MaxPatternLen)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return "matches needs a valid regular expression: " + err.Error()
		}
		l.re = re
	case opExists:
		switch b := v.(type) {
		case nil:
			l.exists, l.want = true, true
		case bool:
			l.exists = b
		default:
			return "exists value must be a boolean"
		}
	}
	return ""
}

// ordered reports whether v can be used with the ordering operators.
func ordered(v any) bool {
	switch v.(type) {
	case float64, string:
		return true
	}
	return false
}

// compare orders actual against want (a float64 or a string). ok is false
// when the two are not both numbers or both strings.
func compare(actual, want any) (c int, ok bool) {
	switch w := want.(type) {
	case float64:
		a, ok := number(actual)
		if !ok {
			return 0, false
		}
		switch {
		case a < w:
			return -1, true
		case a > w:
			return 1, true
		case a == w:
			return 0, true
		}
		return 0, false // NaN
	case string:
		a, ok := actual.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(a, w), true
	}
	return 0, false
}

// eval applies the operator to the value found at the field path. found
// is false when the path did not resolve; see the package doc for what each
// operator does then.
func (l *leaf) eval(actual any, found bool) bool {
	switch l.op {
	case opExists:
		return (found && actual != nil) == l.exists
	case opNotEquals:
		return !found || !jsonEqual(actual, l.want)
	case opNotIn:
		return !found || !l.inSet(actual)
	}
	if !found {
		return false
	}
	switch l.op {
	case opEquals:
		return jsonEqual(actual, l.want)
	case opGreaterThan:
		c, ok := compare(actual, l.want)
		return ok && c > 0
	case opGreaterThanOrEqual:
		c, ok := compare(actual, l.want)
		return ok && c >= 0
	case opLessThan:
		c, ok := compare(actual, l.want)
		return ok && c < 0
	case opLessThanOrEqual:
		c, ok := compare(actual, l.want)
		return ok && c <= 0
	case opBetween:
		lo, ok1 := compare(actual, l.low)
		hi, ok2 := compare(actual, l.high)
		return ok1 && ok2 && lo >= 0 && hi <= 0
	case opIn:
		return l.inSet(actual)
	case opContains:
		if s, ok := actual.(string); ok {
			w, ok := l.want.(string)
			return ok && strings.Contains(s, w)
		}
		if xs, ok := asSlice(actual); ok {
			for _, x := range xs {
				if jsonEqual(x, l.want) {
					return true
				}
			}
		}
		return false
	case opStartsWith:
		s, ok := actual.(string)
		return ok && strings.HasPrefix(s, l.want.(string))
	case opEndsWith:
		s, ok := actual.(string)
		return ok && strings.HasSuffix(s, l.want.(string))
	case opMatches:
		s, ok := actual.(string)
		return ok && l.re.MatchString(s)
	}
	return false
}

// inSet reports whether actual equals any element of the in/not_in list.
func (l *leaf) inSet(actual any) bool {
	for _, x := range l.set {
		if jsonEqual(actual, x) {
			return true
		}
	}
	return false
}
