package openai

import (
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/providers/jsonw"
)

// appendString appends s to b as a JSON string (see jsonw.AppendString).
func appendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }

// appendKey appends "key": (key needs no escaping).
func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
