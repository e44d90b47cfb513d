package sse

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type got struct{ Event, Data, ID string }

func readAll(t testing.TB, in string) ([]got, error) {
	r := NewReader(strings.NewReader(in))
	var out []got
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, got{ev.Event, string(ev.Data), ev.ID})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"openai", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []got{{"", `{"a":1}`, ""}, {"", "[DONE]", ""}}},
		{"named", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n", []got{{"message_start", "{}", ""}, {"ping", `{"type":"ping"}`, ""}}},
		{"crlf and comments", ": keep-alive\r\ndata:x\r\n\r\n", []got{{"", "x", ""}}},
		{"multi-line data", "data: a\ndata: b\nid: 7\n\n", []got{{"", "a\nb", "7"}}},
		{"unterminated at eof", "data: last", []got{{"", "last", ""}}},
		{"blank lines only", "\n\n\n", nil},
		{"field without colon", "data\n\n", []got{{"", "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := readAll(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendRoundTrip(t *testing.T) {
	b := Append(nil, "content_block_delta", []byte("line1\nline2"))
	out, err := readAll(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []got{{"content_block_delta", "line1\nline2", ""}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLineTooLong(t *testing.T) {
	in := "data: " + strings.Repeat("x", MaxLine+1) + "\n\n"
	if _, err := readAll(t, in); err != ErrLineTooLong {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("event: a\ndata: b\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": c\r\ndata:x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for i := 0; i < len(in)+2; i++ {
			ev, err := r.Next()
			if err != nil {
				return
			}
			// Whatever was read must survive a write and a read back
			// (a CR inside a value is not representable, as in the spec).
			if bytes.ContainsAny(ev.Data, "\r") || strings.ContainsAny(ev.Event, "\r\n") {
				continue
			}
			back, err := readAll(t, string(Append(nil, ev.Event, ev.Data)))
			if err != nil || len(back) != 1 || back[0].Data != string(ev.Data) || back[0].Event != ev.Event {
				t.Fatalf("round trip of %q %q: %v %v", ev.Event, ev.Data, back, err)
			}
		}
	})
}
