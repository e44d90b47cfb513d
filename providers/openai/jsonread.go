package openai

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jreader is a small pull parser for the stream's chunks, which arrive
// hundreds of times per response: it reads the members the decoder needs
// and skips (but still checks) the rest, without reflection.
type jreader struct {
	b     []byte
	i     int
	depth int
	err   error
}

const maxDepth = 512

func (r *jreader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what + " at offset " + strconv.Itoa(r.i))
	}
}

func (r *jreader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (r *jreader) peek() byte {
	r.ws()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// end checks that nothing but space follows the value.
func (r *jreader) end() {
	if r.ws(); r.i < len(r.b) && r.err == nil {
		r.fail("data after the value")
	}
}

// beginObject consumes '{'; false (and an error) if the value is not an
// object.
func (r *jreader) beginObject() bool {
	if r.err != nil {
		return false
	}
	if r.peek() != '{' {
		r.fail("expected an object")
		return false
	}
	r.depth++
	if r.depth > maxDepth {
		r.fail("too deeply nested")
		return false
	}
	r.i++
	return true
}

// member advances to the next member of the object and returns its key; ok
// is false after the closing '}' (or on an error). first must start true.
func (r *jreader) member(first *bool) (key []byte, ok bool) {
	if r.err != nil {
		return nil, false
	}
	c := r.peek()
	if c == '}' {
		r.i++
		r.depth--
		return nil, false
	}
	if !*first {
		if c != ',' {
			r.fail("expected ',' or '}'")
			return nil, false
		}
		r.i++
		c = r.peek()
	}
	*first = false
	if c != '"' {
		r.fail("expected a member name")
		return nil, false
	}
	key = r.strBytes()
	if r.err != nil {
		return nil, false
	}
	if r.peek() != ':' {
		r.fail("expected ':'")
		return nil, false
	}
	r.i++
	return key, true
}

// beginArray consumes '['.
func (r *jreader) beginArray() bool {
	if r.err != nil {
		return false
	}
	if r.peek() != '[' {
		r.fail("expected an array")
		return false
	}
	r.depth++
	if r.depth > maxDepth {
		r.fail("too deeply nested")
		return false
	}
	r.i++
	return true
}

// element advances to the next element of the array; false after ']'.
func (r *jreader) element(first *bool) bool {
	if r.err != nil {
		return false
	}
	c := r.peek()
	if c == ']' {
		r.i++
		r.depth--
		return false
	}
	if !*first {
		if c != ',' {
			r.fail("expected ',' or ']'")
			return false
		}
		r.i++
	}
	*first = false
	return true
}

// null consumes a null and reports whether there was one.
func (r *jreader) null() bool {
	if r.err == nil && r.peek() == 'n' {
		r.literal("null")
		return r.err == nil
	}
	return false
}

func (r *jreader) literal(lit string) {
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		r.fail("invalid literal")
		return
	}
	r.i += len(lit)
}

// str reads a string value.
func (r *jreader) str() string {
	if r.err != nil {
		return ""
	}
	if r.peek() != '"' {
		r.fail("expected a string")
		return ""
	}
	return string(r.strBytes())
}

// strBytes reads a string at r.i (which is '"'). Without escapes or
// invalid UTF-8 it returns a slice of the input; otherwise a fresh buffer.
// Invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (r *jreader) strBytes() []byte {
	r.i++ // opening quote
	start := r.i
	clean := true
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if clean && utf8.Valid(s) {
				return s
			}
			return unescape(s)
		case c == '\\':
			clean = false
			r.i++
			if r.i >= len(r.b) {
				r.fail("unterminated string")
				return nil
			}
			switch r.b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				if len(r.b)-r.i < 5 || !isHex4(r.b[r.i+1:r.i+5]) {
					r.fail("invalid \\u escape")
					return nil
				}
				r.i += 5
			default:
				r.fail("invalid escape")
				return nil
			}
		case c < 0x20:
			r.fail("control character in string")
			return nil
		default:
			r.i++
		}
	}
	r.fail("unterminated string")
	return nil
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unescape decodes the body of a string already checked by strBytes.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			ru, size := utf8.DecodeRune(s[i:])
			out = utf8.AppendRune(out, ru) // RuneError for invalid bytes
			i += size
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			ru := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(ru) {
				ru2 := utf8.RuneError
				if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(ru, hex4(s[i+2:])); d != utf8.RuneError {
						ru2 = d
						i += 6
					}
				}
				ru = ru2
			}
			out = utf8.AppendRune(out, ru)
		default: // '"', '\\', '/'
			out = append(out, e)
		}
	}
	return out
}

// number reads a number token and returns its text.
func (r *jreader) number() []byte {
	if r.err != nil {
		return nil
	}
	r.ws()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	intStart := r.i
	if n := digits(); n == 0 || n > 1 && r.b[intStart] == '0' {
		r.fail("invalid number")
		return nil
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			r.fail("invalid number")
			return nil
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			r.fail("invalid number")
			return nil
		}
	}
	return r.b[start:r.i]
}

// integer reads a number that must be an integer (like encoding/json into
// an int).
func (r *jreader) integer() int {
	tok := r.number()
	if r.err != nil {
		return 0
	}
	n, err := strconv.Atoi(string(tok))
	if err != nil {
		r.fail("expected an integer")
		return 0
	}
	return n
}

// skip reads and discards one value, checking its syntax. It returns the
// value's bytes.
func (r *jreader) skip() []byte {
	if r.err != nil {
		return nil
	}
	c := r.peek()
	start := r.i
	switch c {
	case '{':
		if !r.beginObject() {
			return nil
		}
		first := true
		for {
			if _, ok := r.member(&first); !ok {
				break
			}
			r.skip()
		}
	case '[':
		if !r.beginArray() {
			return nil
		}
		first := true
		for r.element(&first) {
			r.skip()
		}
	case '"':
		r.strBytes()
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.number()
	}
	if r.err != nil {
		return nil
	}
	return r.b[start:r.i]
}
