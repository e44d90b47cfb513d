package ollama

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// FuzzStream feeds arbitrary bytes to the NDJSON stream decoder: it must
// never panic, every failure must be an *llm.Error, and whatever it emits
// must be a well-formed stream for llm.Accumulator.
func FuzzStream(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.ndjson"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"message":{"tool_calls":[{"function":{"name":"f","arguments":[1]}}]}}`))
	f.Add([]byte("{\"done\":true}\n{\"error\":\"late\"}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		s := newStream(ctx, cancel, "local", "m", io.NopCloser(bytes.NewReader(in)))
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
