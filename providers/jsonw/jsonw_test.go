package jsonw_test

import (
	"encoding/json"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/providers/jsonw"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\n\r\t\x00\x1f", "\u2028\u2029", "\xff\xfe", "é 日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := jsonw.AppendString(nil, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		// The same string once decoded (encoding/json also escapes <, >
		// and &, which JSON does not require).
		var a, b string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("AppendString(%q) = %s: not JSON: %v", s, got, err)
		}
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Fatalf("AppendString(%q) = %s decodes to %q, encoding/json's %s to %q", s, got, a, want, b)
		}
	})
}
