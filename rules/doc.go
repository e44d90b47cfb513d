// Package rules compiles and evaluates the condition rules that route
// workflow resources: a tree of comparisons on the resource's JSON data,
// joined by AND, OR and NOT, plus the actions a match asks for.
//
// # Lifecycle
//
// A Definition (or a bare condition list, for workflow activity conditions)
// is compiled once with Compile or CompileConditions. Compilation checks the
// whole tree and reports every problem at once as an Errors value, each
// entry naming its JSON path:
//
//	conditions[1].conditions[0].operator: unknown operator "greter_than"
//
// A compiled *Rule is immutable: Evaluate is pure, does no I/O, and is safe
// for concurrent use. Regular expressions are compiled once, by Compile.
//
// # Conditions
//
// A condition is a leaf {field, operator, value} or a group {group,
// conditions, combinator}; a node with any group key is a group and may not
// also have leaf keys. Combinators are AND, OR and NOT, case-insensitive,
// with AND when empty. NOT is true when the AND of its children is false
// (that is, NOT(a, b) = !(a && b)). Every condition is evaluated, with no
// short-circuit, so the trace is complete.
//
// # Fields
//
// A field is a dotted path into the data: "order.total" reads an object
// key; a segment that is a non-negative integer also indexes arrays, as in
// "items.0.price". Data is a map[string]any as decoded by encoding/json
// (with or without UseNumber); other Go maps with string keys, slices and
// number types are also understood. A path that does not resolve is
// missing; a key present with JSON null is found, with a nil value.
//
// # Operators
//
// Values are compared the way JSON sees them: every number (any Go integer
// or float type, or json.Number) is a float64, so 8 equals 8.0; strings,
// booleans and null compare by value; arrays and objects compare deeply.
//
//	equals, not_equals      JSON equality; the value may be any JSON value
//	greater_than, greater_than_or_equal, less_than, less_than_or_equal
//	                        the value is a number or a string; a number
//	                        compares numerically with numbers only, a string
//	                        lexically with strings only (fine for ISO dates)
//	between                 value [low, high], both numbers or both strings,
//	                        low <= high; inclusive at both ends
//	in, not_in              value is an array; JSON equality with any element
//	contains                a string field contains the string value, or an
//	                        array field has an element equal to the value
//	starts_with, ends_with  string field and string value
//	matches                 string field matches the value, a Go RE2 regular
//	                        expression (unanchored; linear time)
//	exists                  value is an optional boolean, default true; true
//	                        when the field is present and not null
//
// A type mismatch (for example greater_than 5 on a string field) is false,
// not an error. A missing field makes every operator false except these:
// exists (false is what "exists: false" asks for), not_equals (a missing
// field is not equal to anything, so true) and not_in (true). A value that
// is absent in the JSON is null, so equals with no value tests for null.
//
// # Limits
//
// Compile rejects a rule nested deeper than MaxDepth (16) levels, with more
// than MaxConditions (1,000) condition nodes (groups and leaves), or with a
// matches pattern longer than MaxPatternLen (1,000) bytes. Together with RE2
// these bound evaluation to time linear in the rule and the values read.
// Every action needs a type.
//
// # Results
//
// Evaluate returns whether the rule matched, its actions when it did, and a
// trace with one entry per condition node (groups carry their combinator as
// the operator), in document order, starting with the root.
package rules
