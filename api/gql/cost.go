package gql

import (
	"fmt"
	"math"

	"github.com/graph-gophers/graphql-go/ast"
)

// costModel computes a query's complexity before it runs: every field costs
// 1, times the product of the sizes of the lists it is nested in. A list
// field's size is its first or limit argument when given (a literal or a
// variable), else that argument's default in the schema, else
// defaultListSize. Root mutation fields cost mutationCost each, so one
// request cannot batch unbounded writes.
type costModel struct {
	types           map[string]map[string]fieldType
	defaultListSize int64
}

type fieldType struct {
	typ  string // named type, lists and non-nulls unwrapped
	list bool
	// sizeDefault is the schema default of the field's first/limit
	// argument, or 0.
	sizeDefault int64
}

const (
	mutationCost = 10
	// introspectionCost is the cost of a __schema or __type field.
	introspectionCost = 100
	// maxVisits bounds the analysis itself: fragments spread many times
	// could otherwise make it exponential.
	maxVisits = 100_000
)

// sizeArgs are the arguments that bound a list field's length.
var sizeArgs = []string{"first", "limit"}

func newCostModel(s *ast.Schema, defaultListSize int64) *costModel {
	m := &costModel{types: map[string]map[string]fieldType{}, defaultListSize: defaultListSize}
	for name, t := range s.Types {
		var fields ast.FieldsDefinition
		switch t := t.(type) {
		case *ast.ObjectTypeDefinition:
			fields = t.Fields
		case *ast.InterfaceTypeDefinition:
			fields = t.Fields
		default:
			continue
		}
		fm := map[string]fieldType{}
		for _, f := range fields {
			ft := unwrap(f.Type)
			for _, a := range f.Arguments {
				for _, sa := range sizeArgs {
					if a.Name.Name != sa || a.Default == nil {
						continue
					}
					if n, ok := a.Default.Deserialize(nil).(int32); ok {
						ft.sizeDefault = int64(n)
					}
				}
			}
			fm[f.Name] = ft
		}
		m.types[name] = fm
	}
	return m
}

func unwrap(t ast.Type) fieldType {
	var ft fieldType
	for {
		switch tt := t.(type) {
		case *ast.NonNull:
			t = tt.OfType
		case *ast.List:
			ft.list = true
			t = tt.OfType
		case ast.NamedType:
			ft.typ = tt.TypeName()
			return ft
		default:
			return ft
		}
	}
}

// costError is returned when the analysis itself gives up.
type costError struct{ msg string }

func (e *costError) Error() string { return e.msg }

type costWalk struct {
	m        *costModel
	d        *doc
	vars     map[string]any
	defaults map[string]int64
	visits   int
	active   map[string]bool
}

// cost returns the complexity of operation op of d (or of every operation,
// the largest, when opName is empty and d has several).
func (m *costModel) cost(d *doc, opName string, vars map[string]any) (int64, error) {
	var best int64
	for _, op := range d.ops {
		if opName != "" && op.name != opName {
			continue
		}
		root := "Query"
		switch op.typ {
		case "mutation":
			root = "Mutation"
		case "subscription":
			root = "Subscription"
		}
		w := &costWalk{m: m, d: d, vars: vars, defaults: op.defaults, active: map[string]bool{}}
		c := w.set(op.sel, root, 1, op.typ == "mutation")
		if w.visits > maxVisits {
			return 0, &costError{fmt.Sprintf("query too large to analyse (more than %d field visits)", maxVisits)}
		}
		best = max(best, c)
	}
	return best, nil
}

func (w *costWalk) set(sel []selection, parent string, mult int64, mutationRoot bool) int64 {
	var total int64
	for _, s := range sel {
		w.visits++
		if w.visits > maxVisits {
			return math.MaxInt32
		}
		switch {
		case s.spread != "":
			f, ok := w.d.fragments[s.spread]
			if !ok || w.active[s.spread] {
				continue // graphql-go reports unknown fragments and cycles
			}
			w.active[s.spread] = true
			total = sat(total, w.set(f.sel, typeOr(f.on, parent), mult, mutationRoot))
			w.active[s.spread] = false
		case s.inline:
			total = sat(total, w.set(s.sel, typeOr(s.on, parent), mult, mutationRoot))
		default:
			if s.name == "__schema" || s.name == "__type" {
				// Introspection is bounded by the schema, not by data:
				// a flat cost, whatever its (deep, list-heavy) shape.
				total = sat(total, satMul(mult, introspectionCost))
				continue
			}
			ft := w.m.types[parent][s.name]
			own := int64(1)
			if mutationRoot {
				own = mutationCost
			}
			total = sat(total, satMul(mult, own))
			if len(s.sel) > 0 {
				childMult := mult
				if ft.list {
					childMult = satMul(mult, w.listSize(s, ft))
				}
				total = sat(total, w.set(s.sel, ft.typ, childMult, false))
			}
		}
	}
	return total
}

// listSize is the length a list field is assumed to return.
func (w *costWalk) listSize(s selection, ft fieldType) int64 {
	for _, name := range sizeArgs {
		a, ok := s.args[name]
		if !ok {
			continue
		}
		if a.isInt {
			return max(a.n, 0)
		}
		if a.varRef != "" {
			if n, ok := intVar(w.vars[a.varRef]); ok {
				return max(n, 0)
			}
			if n, ok := w.defaults[a.varRef]; ok {
				return max(n, 0)
			}
		}
	}
	if ft.sizeDefault > 0 {
		return ft.sizeDefault
	}
	return w.m.defaultListSize
}

func intVar(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n >= math.MaxInt32 {
			return math.MaxInt32, true
		}
		return int64(n), true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

func typeOr(t, parent string) string {
	if t != "" {
		return t
	}
	return parent
}

// sat and satMul add and multiply non-negative costs, saturating at
// math.MaxInt32 so hostile list sizes cannot overflow.
func sat(a, b int64) int64 { return min(a+b, math.MaxInt32) }

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt32/b {
		return math.MaxInt32
	}
	return min(a*b, math.MaxInt32)
}
