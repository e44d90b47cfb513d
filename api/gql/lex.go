package gql

import "strings"

type tokenKind int

const (
	tEOF tokenKind = iota
	tPunct
	tName
	tInt
	tFloat
	tString
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func (t token) is(k tokenKind, text string) bool { return t.kind == k && t.text == text }

// lexer splits a GraphQL document into tokens, skipping whitespace, commas,
// byte order marks and comments (GraphQL spec §2.1).
type lexer struct {
	src string
	pos int
}

func (l *lexer) errorf(msg string) error { return &parseError{pos: l.pos, msg: msg} }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			l.pos++
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		case strings.HasPrefix(l.src[l.pos:], "\uFEFF"):
			l.pos += len("\uFEFF")
		default:
			return l.token()
		}
	}
	return token{kind: tEOF, pos: l.pos}, nil
}

func (l *lexer) token() (token, error) {
	start := l.pos
	c := l.src[l.pos]
	switch {
	case strings.IndexByte("!$&():=@[]{}|", c) >= 0:
		l.pos++
		return token{kind: tPunct, text: string(c), pos: start}, nil
	case c == '.':
		if strings.HasPrefix(l.src[l.pos:], "...") {
			l.pos += 3
			return token{kind: tPunct, text: "...", pos: start}, nil
		}
		return token{}, l.errorf("unexpected '.'")
	case isNameStart(c):
		for l.pos < len(l.src) && (isNameStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		return token{kind: tName, text: l.src[start:l.pos], pos: start}, nil
	case c == '-' || isDigit(c):
		return l.number()
	case c == '"':
		if strings.HasPrefix(l.src[l.pos:], `"""`) {
			return l.blockString()
		}
		return l.str()
	}
	return token{}, l.errorf("unexpected character")
}

func isNameStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

func (l *lexer) digits() bool {
	start := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	return l.pos > start
}

func (l *lexer) number() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	if !l.digits() {
		return token{}, l.errorf("malformed number")
	}
	kind := tInt
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		kind = tFloat
		if !l.digits() {
			return token{}, l.errorf("malformed number")
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		l.pos++
		kind = tFloat
		if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
			l.pos++
		}
		if !l.digits() {
			return token{}, l.errorf("malformed number")
		}
	}
	if l.pos < len(l.src) && (isNameStart(l.src[l.pos]) || l.src[l.pos] == '.') {
		return token{}, l.errorf("malformed number")
	}
	return token{kind: kind, text: l.src[start:l.pos], pos: start}, nil
}

func (l *lexer) str() (token, error) {
	start := l.pos
	l.pos++
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case '"':
			l.pos++
			return token{kind: tString, text: l.src[start:l.pos], pos: start}, nil
		case '\\':
			l.pos += 2
		case '\n', '\r':
			return token{}, l.errorf("unterminated string")
		default:
			l.pos++
		}
	}
	return token{}, l.errorf("unterminated string")
}

func (l *lexer) blockString() (token, error) {
	start := l.pos
	l.pos += 3
	for l.pos < len(l.src) {
		switch {
		case strings.HasPrefix(l.src[l.pos:], `\"""`):
			l.pos += 4
		case strings.HasPrefix(l.src[l.pos:], `"""`):
			l.pos += 3
			return token{kind: tString, text: l.src[start:l.pos], pos: start}, nil
		default:
			l.pos++
		}
	}
	return token{}, l.errorf("unterminated block string")
}
