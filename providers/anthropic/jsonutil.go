package anthropic

import (
	"crypto/rand"

	"github.com/circuit-breaker/circuit-breaker/providers/jsonw"
)

// appendString appends s to b as a JSON string (see jsonw.AppendString).
func appendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by 24 random base-62 characters, the shape
// of Anthropic's ids ("msg_…", "toolu_…").
func newID(prefix string) string {
	var raw [24]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	b := make([]byte, len(prefix), len(prefix)+len(raw))
	copy(b, prefix)
	for _, x := range raw {
		b = append(b, idAlphabet[int(x)%len(idAlphabet)])
	}
	return string(b)
}

// validID reports whether id only has the characters Anthropic accepts in
// a tool-use id.
func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			return false
		}
	}
	return true
}

func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// sanitizeID replaces the characters Anthropic refuses in a tool-use id.
func sanitizeID(id string) string {
	if validID(id) {
		return id
	}
	b := []byte(id)
	for i, c := range b {
		if !idByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}
