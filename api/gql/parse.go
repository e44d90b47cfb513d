package gql

import (
	"fmt"
	"strconv"
)

// This file holds a small parser for GraphQL executable documents. graphql-go
// keeps its own parser internal, and the complexity limit must be checked
// before a query runs, so the analyzer parses the query itself. It keeps
// only what the cost model needs: operations, fragments, fields, their
// arguments (integers and variables) and nesting. Anything it cannot parse is
// reported, and the caller then asks graphql-go for the real error.

// doc is a parsed executable document.
type doc struct {
	ops       []*operation
	fragments map[string]*fragment
}

type operation struct {
	typ  string // "query", "mutation" or "subscription"
	name string
	// defaults holds the integer default values of the variables.
	defaults map[string]int64
	// vars lists the variables and their types.
	vars []varDef
	sel  []selection
}

// varDef is a variable definition; scalar names a built-in scalar type
// when the variable is one (not a list).
type varDef struct {
	name   string
	scalar string
}

type fragment struct {
	on  string
	sel []selection
}

// selection is a field, a fragment spread (spread set) or an inline
// fragment (inline set).
type selection struct {
	name   string
	spread string
	inline bool
	on     string
	args   map[string]argValue
	sel    []selection
}

// argValue is an argument's value as far as the cost model cares: an
// integer literal, a variable reference, or neither.
type argValue struct {
	isInt  bool
	n      int64
	varRef string
}

type parser struct {
	lex lexer
	tok token
	// nodes counts parsed nodes and depth the nesting, to bound the work
	// on hostile input.
	nodes, depth int
}

// maxNesting bounds the nesting of selection sets and values.
const maxNesting = 256

func (p *parser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.fail("nested too deeply")
	}
}

// maxNodes bounds how many nodes parseDocument accepts; graphql-go's own
// limits (query length, depth) reject such documents anyway.
const maxNodes = 100_000

type parseError struct {
	pos int
	msg string
}

func (e *parseError) Error() string { return fmt.Sprintf("offset %d: %s", e.pos, e.msg) }

func parseDocument(src string) (d *doc, err error) {
	p := &parser{lex: lexer{src: src}}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*parseError)
			if !ok {
				panic(r)
			}
			d, err = nil, pe
		}
	}()
	p.next()
	d = &doc{fragments: map[string]*fragment{}}
	for p.tok.kind != tEOF {
		switch {
		case p.tok.is(tPunct, "{"):
			d.ops = append(d.ops, &operation{typ: "query", sel: p.selectionSet()})
		case p.tok.is(tName, "query"), p.tok.is(tName, "mutation"), p.tok.is(tName, "subscription"):
			d.ops = append(d.ops, p.operation())
		case p.tok.is(tName, "fragment"):
			p.next()
			name := p.name()
			if name == "on" {
				p.fail("fragment cannot be named \"on\"")
			}
			p.keyword("on")
			f := &fragment{on: p.name()}
			p.directives()
			f.sel = p.selectionSet()
			if _, dup := d.fragments[name]; !dup {
				d.fragments[name] = f
			}
		default:
			p.fail("expected an operation or a fragment")
		}
	}
	if len(d.ops) == 0 {
		p.fail("no operation")
	}
	return d, nil
}

func (p *parser) fail(msg string) {
	panic(&parseError{pos: p.tok.pos, msg: fmt.Sprintf("%s, found %q", msg, p.tok.text)})
}

func (p *parser) next() {
	p.nodes++
	if p.nodes > maxNodes {
		panic(&parseError{pos: p.tok.pos, msg: "document too large"})
	}
	tok, err := p.lex.next()
	if err != nil {
		panic(err)
	}
	p.tok = tok
}

func (p *parser) expect(punct string) {
	if !p.tok.is(tPunct, punct) {
		p.fail("expected " + strconv.Quote(punct))
	}
	p.next()
}

func (p *parser) keyword(kw string) {
	if !p.tok.is(tName, kw) {
		p.fail("expected " + strconv.Quote(kw))
	}
	p.next()
}

func (p *parser) name() string {
	if p.tok.kind != tName {
		p.fail("expected a name")
	}
	s := p.tok.text
	p.next()
	return s
}

func (p *parser) operation() *operation {
	op := &operation{typ: p.tok.text, defaults: map[string]int64{}}
	p.next()
	if p.tok.kind == tName {
		op.name = p.name()
	}
	if p.tok.is(tPunct, "(") {
		p.next()
		for !p.tok.is(tPunct, ")") {
			p.expect("$")
			name := p.name()
			p.expect(":")
			isList := p.tok.is(tPunct, "[")
			typ := p.tok.text
			p.typeRef()
			if isList {
				typ = ""
			}
			op.vars = append(op.vars, varDef{name: name, scalar: typ})
			if p.tok.is(tPunct, "=") {
				p.next()
				if v := p.value(); v.isInt {
					op.defaults[name] = v.n
				}
			}
			p.directives()
		}
		p.next()
	}
	p.directives()
	op.sel = p.selectionSet()
	return op
}

func (p *parser) typeRef() {
	if p.tok.is(tPunct, "[") {
		p.next()
		p.typeRef()
		p.expect("]")
	} else {
		p.name()
	}
	if p.tok.is(tPunct, "!") {
		p.next()
	}
}

func (p *parser) directives() {
	for p.tok.is(tPunct, "@") {
		p.next()
		p.name()
		if p.tok.is(tPunct, "(") {
			p.arguments()
		}
	}
}

func (p *parser) arguments() map[string]argValue {
	args := map[string]argValue{}
	p.expect("(")
	for !p.tok.is(tPunct, ")") {
		name := p.name()
		p.expect(":")
		args[name] = p.value()
	}
	p.next()
	return args
}

func (p *parser) selectionSet() []selection {
	p.enter()
	defer func() { p.depth-- }()
	p.expect("{")
	var out []selection
	for !p.tok.is(tPunct, "}") {
		out = append(out, p.selection())
	}
	p.next()
	if len(out) == 0 {
		p.fail("empty selection set")
	}
	return out
}

func (p *parser) selection() selection {
	if p.tok.is(tPunct, "...") {
		p.next()
		if p.tok.kind == tName && p.tok.text != "on" {
			s := selection{spread: p.name()}
			p.directives()
			return s
		}
		s := selection{inline: true}
		if p.tok.is(tName, "on") {
			p.next()
			s.on = p.name()
		}
		p.directives()
		s.sel = p.selectionSet()
		return s
	}
	s := selection{name: p.name()}
	if p.tok.is(tPunct, ":") {
		p.next()
		s.name = p.name()
	}
	if p.tok.is(tPunct, "(") {
		s.args = p.arguments()
	}
	p.directives()
	if p.tok.is(tPunct, "{") {
		s.sel = p.selectionSet()
	}
	return s
}

// value parses any input value and returns what the cost model keeps.
func (p *parser) value() argValue {
	p.enter()
	defer func() { p.depth-- }()
	switch {
	case p.tok.is(tPunct, "$"):
		p.next()
		return argValue{varRef: p.name()}
	case p.tok.kind == tInt:
		n, err := strconv.ParseInt(p.tok.text, 10, 64)
		p.next()
		if err != nil {
			return argValue{}
		}
		return argValue{isInt: true, n: n}
	case p.tok.kind == tFloat, p.tok.kind == tString, p.tok.kind == tName:
		p.next()
	case p.tok.is(tPunct, "["):
		p.next()
		for !p.tok.is(tPunct, "]") {
			p.value()
		}
		p.next()
	case p.tok.is(tPunct, "{"):
		p.next()
		for !p.tok.is(tPunct, "}") {
			p.name()
			p.expect(":")
			p.value()
		}
		p.next()
	default:
		p.fail("expected a value")
	}
	return argValue{}
}
