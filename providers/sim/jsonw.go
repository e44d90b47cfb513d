package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/providers/jsonw"
)

// The streaming hot path builds its small JSON objects by appending to a
// reused buffer; these helpers write JSON values.

// appendString appends s to b as a JSON string (see jsonw.AppendString).
func appendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }

// appendInt appends n.
func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// appendObject appends a JSON object given as text, compacted, or {} when
// it is not one.
func appendObject(b []byte, s string) []byte {
	if !isJSONObject(s) {
		return append(b, '{', '}')
	}
	if !strings.ContainsAny(s, "\n\r") {
		return append(b, s...)
	}
	var c bytes.Buffer
	_ = json.Compact(&c, []byte(s)) // valid: checked above
	return append(b, c.Bytes()...)
}
