package bedrock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// encodeFrame encodes one event-stream message with string headers.
func encodeFrame(t testing.TB, headers [][2]string, payload []byte) []byte {
	t.Helper()
	var hs eventstream.Headers
	for _, h := range headers {
		hs.Set(h[0], eventstream.StringValue(h[1]))
	}
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: hs, Payload: payload}); err != nil {
		t.Fatalf("encode frame: %v", err)
	}
	return b.Bytes()
}

// eventFrame is a ":message-type: event" frame as ConverseStream sends it.
func eventFrame(t testing.TB, typ, payload string) []byte {
	return encodeFrame(t, [][2]string{{":event-type", typ}, {":content-type", "application/json"}, {":message-type", "event"}}, []byte(payload))
}

// exceptionFrame is a ":message-type: exception" frame.
func exceptionFrame(t testing.TB, typ, message string) []byte {
	payload, _ := json.Marshal(map[string]string{"message": message})
	return encodeFrame(t, [][2]string{{":exception-type", typ}, {":content-type", "application/json"}, {":message-type", "exception"}}, payload)
}

// fixtureFrames reads a testdata/*.jsonl file of {"event","payload"} lines
// and encodes each as a frame.
func fixtureFrames(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, eventFrame(t, line.Event, string(line.Payload)))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamHandler writes frames as an event stream, flushing after each.
func streamHandler(frames ...[]byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Header().Set("X-Amzn-Requestid", "req-stream-1")
		w.WriteHeader(http.StatusOK)
		for _, f := range frames {
			if _, err := w.Write(f); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// newTestClient starts h on 127.0.0.1 and returns a bearer-key client for it.
func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "bedrock-test", Format: Format, BaseURL: srv.URL, APIKey: "test-key", Client: srv.Client()})
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
		if err != nil {
			if err == io.EOF {
				return acc.Response(), evs, nil
			}
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
