package cohere

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sseHandler writes body as an event stream, flushing every event.
func sseHandler(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for len(body) > 0 {
			n := len(body)
			if i := indexBlank(body); i >= 0 {
				n = i
			}
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	}
}

// indexBlank returns the end of the first event (after its blank line).
func indexBlank(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

// newTestClient starts h on 127.0.0.1 and returns a client for it.
func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "cohere-test", Format: Format, BaseURL: srv.URL, APIKey: "test-key", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect reads a stream to its end with llm.Accumulator as the referee.
func collect(t *testing.T, s llm.Stream) (*llm.Response, []llm.Event, error) {
	t.Helper()
	defer s.Close()
	var acc llm.Accumulator
	var evs []llm.Event
	for {
		ev, err := s.Recv()
		if err == io.EOF {
			return acc.Response(), evs, nil
		}
		if err != nil {
			return acc.Response(), evs, err
		}
		evs = append(evs, ev)
		if err := acc.Add(ev); err != nil {
			t.Fatalf("accumulator rejected event %d (%+v): %v", len(evs), ev, err)
		}
	}
}

func asLLMError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

var hiRequest = &llm.Request{Model: "command-a-03-2025", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
