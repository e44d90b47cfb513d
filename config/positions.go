package config

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps key paths (rendered by keyString) to the line where each key, or
// array element, first appears in a TOML document. data must already have
// parsed without error.
type positions map[string]int

func indexKeys(data []byte) positions {
	pos := positions{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	arrays := map[string]int{} // next index of each array of tables
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = table[:0:0]
			it := e.Key()
			at := 0 // the line of this header
			for it.Next() {
				k := it.Node()
				table = append(table, string(k.Data))
				at = line(&p, k)
				pos.mark(table, at)
			}
			if e.Kind == unstable.ArrayTable {
				ks := keyString(table)
				n := arrays[ks]
				arrays[ks] = n + 1
				table = append(table, elem(n))
				pos.mark(table, at)
			}
		case unstable.KeyValue:
			pos.keyValue(&p, table, e)
		}
	}
	return pos
}

func (pos positions) keyValue(p *unstable.Parser, base []string, kv *unstable.Node) {
	path := slicesClone(base)
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		path = append(path, string(k.Data))
		pos.mark(path, line(p, k))
	}
	pos.value(p, path, kv.Value())
}

func (pos positions) value(p *unstable.Parser, path []string, v *unstable.Node) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				pos.keyValue(p, path, n)
			}
		}
	case unstable.Array:
		it := v.Children()
		i := 0
		for it.Next() {
			n := it.Node()
			if n.Kind == unstable.Comment {
				continue
			}
			ep := append(slicesClone(path), elem(i))
			pos.mark(ep, line(p, n))
			pos.value(p, ep, n)
			i++
		}
	}
}

// mark records the line of path unless it is known already or unknown now.
func (pos positions) mark(path []string, line int) {
	k := keyString(path)
	if _, ok := pos[k]; !ok && line > 0 {
		pos[k] = line
	}
}

// line returns the line of path or, failing that, of its nearest ancestor;
// 0 if none is known.
func (pos positions) line(path []string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := pos[keyString(path[:n])]; ok {
			return l
		}
	}
	return 0
}

func line(p *unstable.Parser, n *unstable.Node) int {
	if n.Raw.Length == 0 {
		return 0
	}
	return p.Shape(n.Raw).Start.Line
}

// elem is the path segment of array element i. The NUL prefix keeps it apart
// from any key, which keyString would quote.
func elem(i int) string { return "\x00" + strconv.Itoa(i) }

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// keyString renders a key path as dotted TOML, quoting segments that are not
// bare keys and attaching "[i]" index segments to the previous one.
func keyString(path []string) string {
	var b strings.Builder
	for i, s := range path {
		if rest, ok := strings.CutPrefix(s, "\x00"); ok {
			b.WriteString("[" + rest + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isBare(s) {
			b.WriteString(s)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	}
	return b.String()
}

func isBare(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
