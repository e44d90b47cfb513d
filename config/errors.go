package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one fault found while loading a configuration.
type Problem struct {
	// File is the configuration file, "$NAME" when the value came from the
	// environment variable NAME, or "" for a default value.
	File string
	// Line is the 1-based line in File, or 0 when unknown or not a file.
	Line int
	// Key is the dotted TOML key, or "" for a syntax error.
	Key string
	// Msg says what is wrong.
	Msg string
}

// String renders p as "file:line: key: msg", leaving out the parts p lacks.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is returned by [Load] when the configuration is invalid. It lists
// every problem found; use errors.As to get at them.
type Error struct {
	Problems []Problem
}

// Error renders one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while loading.
type problems struct {
	file string
	list []Problem
	keys map[string]bool // keys with a problem already
}

func (ps *problems) add(file string, line int, key, msg string) {
	ps.list = append(ps.list, Problem{File: file, Line: line, Key: key, Msg: msg})
	if ps.keys == nil {
		ps.keys = map[string]bool{}
	}
	ps.keys[key] = true
}

// err returns nil or an *Error with the problems from the file first, in line
// order, then the others in the order they were found.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	rank := func(p Problem) int {
		if ps.file != "" && p.File == ps.file {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 || rank(a) == 1 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return &Error{Problems: ps.list}
}
