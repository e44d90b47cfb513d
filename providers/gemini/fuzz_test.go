package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// FuzzStream feeds arbitrary bytes to the stream decoder: it must never
// panic, every failure must be an *llm.Error, and whatever it emits must be
// a well-formed stream for llm.Accumulator.
func FuzzStream(f *testing.F) {
	for _, name := range []string{"stream_text.sse", "stream_tool.sse", "stream_parallel.sse", "stream_error.sse", "stream_truncated.sse"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":[1]}}]}}]}\n\n"))
	f.Add([]byte("data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\ndata: {}\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		s := newStream(ctx, cancel, "gem", "m", io.NopCloser(bytes.NewReader(in)))
		defer s.Close()
		var acc llm.Accumulator
		for range len(in) + 4 {
			ev, err := s.Recv()
			if err == io.EOF {
				if !acc.Stopped() {
					t.Fatal("EOF without a stop event")
				}
				return
			}
			if err != nil {
				var le *llm.Error
				if !errors.As(err, &le) {
					t.Fatalf("error %v is not an *llm.Error", err)
				}
				return
			}
			if err := acc.Add(ev); err != nil {
				t.Fatalf("ill-formed stream: %v", err)
			}
		}
		t.Fatal("the stream did not end")
	})
}

// FuzzSanitizeSchema checks that any input either fails cleanly or yields a
// JSON object.
func FuzzSanitizeSchema(f *testing.F) {
	f.Add([]byte(weatherTool.Parameters))
	f.Add([]byte(`{"$defs":{"n":{"type":"object","properties":{"a":{"$ref":"#/$defs/n"},"b":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`))
	f.Add([]byte(`{"allOf":[{"required":["a"],"properties":{"a":{}}},{"oneOf":[{"type":"null"},{"const":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := SanitizeSchema(in)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("output %s is not a JSON object: %v", out, err)
		}
	})
}
