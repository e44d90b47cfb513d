package main

import (
	"bytes"
	"testing"
)

// TestParseFrame: frames of every length class round-trip through
// maskedFrame and parseFrame, also when they arrive a byte at a time.
func TestParseFrame(t *testing.T) {
	cases := []struct {
		name string
		n    int
	}{
		{"empty", 0}, {"short", 125}, {"16-bit", 126}, {"16-bit max", 65535}, {"64-bit", 65536},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte{'a'}, c.n)
			f := maskedFrame(1, payload)
			for cut := range min(len(f), 20) { // only a prefix has arrived
				if _, _, _, _, ok := parseFrame(bytes.Clone(f[:cut])); ok {
					t.Fatalf("complete after %d of %d bytes", cut, len(f))
				}
			}
			fin, op, got, size, ok := parseFrame(bytes.Clone(f))
			if !ok || !fin || op != 1 || size != len(f) || !bytes.Equal(got, payload) {
				t.Fatalf("fin %v op %d size %d/%d ok %v, payload equal %v", fin, op, size, len(f), ok, bytes.Equal(got, payload))
			}
		})
	}
}

// FuzzParseFrame: any input parses without panicking, and a complete frame
// never claims more bytes than it was given.
func FuzzParseFrame(f *testing.F) {
	f.Add(maskedFrame(1, []byte(`{"type":"next"}`)))
	f.Add([]byte{0x81, 0x7e, 0x00})
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, payload, size, ok := parseFrame(b)
		if ok && (size > len(b) || len(payload) > size) {
			t.Fatalf("size %d, payload %d, input %d", size, len(payload), len(b))
		}
		var pos, evt int64
		pos, evt, ok = parseNext(b)
		_, _, _ = pos, evt, ok
	})
}
