package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// upstream is a fake Ollama that checks the call and answers with handler.
// It reads the request body first, so that the server notices when the
// client goes away.
func upstream(t *testing.T, handler http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer k" {
			t.Errorf("bad call: %s %s", r.Method, r.URL)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "local", Format: "ollama", BaseURL: srv.URL + "/", APIKey: "k", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hold blocks until the client goes away (true) or a bound passes (false),
// so that a broken test cannot hang the server's Close.
func hold(t *testing.T, r *http.Request) bool {
	select {
	case <-r.Context().Done():
		return true
	case <-time.After(20 * time.Second):
		t.Error("the client did not go away")
		return false
	}
}

// fixture answers /api/chat with a testdata file after checking that the
// stream flag matches it.
func fixture(t *testing.T, name string) http.HandlerFunc {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	stream := filepath.Ext(name) == ".ndjson"
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream *bool `json:"stream"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Stream == nil || *req.Stream != stream {
			t.Errorf("stream flag %v, want %v (%v)", req.Stream, stream, err)
		}
		if r.URL.Path != "/api/chat" {
			t.Errorf("path %s", r.URL.Path)
		}
		if stream {
			w.Header().Set("Content-Type", "application/x-ndjson")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		_, _ = w.Write(b)
	}
}

func testRequest() *llm.Request {
	return &llm.Request{Model: "llama3.2", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}}}}
}

func callPart(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Name: name, Arguments: args}}
}

func thinking(text string) llm.Part { return llm.Part{Kind: llm.PartThinking, Text: text} }

// checkID checks the made-up response id and clears it for comparison.
func checkID(t *testing.T, r *llm.Response) {
	t.Helper()
	if !strings.HasPrefix(r.ID, "ollama-") {
		t.Errorf("id %q", r.ID)
	}
	r.ID = ""
}

func TestChat(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    *llm.Response
	}{
		{"text with thinking", "chat_text.json", &llm.Response{
			Model:      "qwen3:8b",
			Parts:      []llm.Part{thinking("The user greets me; answer briefly."), llm.TextPart("Hello! How can I help?")},
			StopReason: llm.StopEnd,
			Usage:      llm.Usage{Input: 26, Output: 63},
		}},
		{"parallel tool calls", "chat_tool.json", &llm.Response{
			Model: "llama3.1:8b",
			Parts: []llm.Part{
				callPart("call_abc", "get_weather", `{"city":"Toronto","format":"celsius"}`),
				callPart("call_1", "get_time", `{}`),
			},
			StopReason: llm.StopToolCalls,
			Usage:      llm.Usage{Input: 120, Output: 40},
		}},
		{"length", "chat_length.json", &llm.Response{
			Model: "llama3.2", Parts: []llm.Part{llm.TextPart("Once upon a")},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 10, Output: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upstream(t, fixture(t, tt.fixture))
			got, err := c.Chat(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			checkID(t, got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStream(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    *llm.Response
		wantErr llm.ErrorKind
	}{
		{"text deltas merge into one part", "stream_text.ndjson", &llm.Response{
			Model: "llama3.2", Parts: []llm.Part{llm.TextPart("The sky is blue.")},
			StopReason: llm.StopEnd, Usage: llm.Usage{Input: 26, Output: 282},
		}, ""},
		{"thinking then tool call (CRLF, blank line)", "stream_tool.ndjson", &llm.Response{
			Model: "qwen3",
			Parts: []llm.Part{
				thinking("The user wants the weather."),
				callPart("call_0", "get_current_weather", `{"format":"celsius","location":"Toronto"}`),
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 217, Output: 115},
		}, ""},
		{"parallel calls", "stream_parallel.ndjson", &llm.Response{
			Model: "qwen3",
			Parts: []llm.Part{
				llm.TextPart("Checking."),
				callPart("call_p1", "get_weather", `{"city":"Paris"}`),
				callPart("call_p2", "get_weather", `{"city":"Rome"}`),
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 50, Output: 20},
		}, ""},
		{"mid-stream error", "stream_error.ndjson", &llm.Response{
			Model: "llama3.2", Parts: []llm.Part{llm.TextPart("Partial")},
		}, llm.KindServer},
		{"truncated stream", "stream_truncated.ndjson", &llm.Response{
			Model: "llama3.2", Parts: []llm.Part{llm.TextPart("Cut off")},
		}, llm.KindServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upstream(t, fixture(t, tt.fixture))
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			got, err := llm.Collect(s)
			checkKind(t, err, tt.wantErr)
			checkID(t, got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func checkKind(t *testing.T, err error, want llm.ErrorKind) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		return
	}
	var le *llm.Error
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *llm.Error of kind %s", err, want)
	}
	if le.Kind != want || le.Provider != "local" || le.Message == "" {
		t.Fatalf("err = %+v, want kind %s from local", le, want)
	}
}

func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		want       llm.ErrorKind
		wantStatus int
		wantMsg    string
		wantRetry  time.Duration
	}{
		{"429 with retry-after", 429, http.Header{"Retry-After": {"3"}}, `{"error":"too many requests"}`,
			llm.KindRateLimit, 429, "too many requests", 3 * time.Second},
		{"500", 500, nil, `{"error":"llama runner process has terminated: exit status 2"}`,
			llm.KindServer, 502, "llama runner process has terminated: exit status 2", 0},
		{"401", 401, nil, `{"error":"unauthorized"}`, llm.KindUpstreamAuth, 502, "unauthorized", 0},
		{"403", 403, nil, `{"error":"remote inference is disabled"}`, llm.KindUpstreamAuth, 502, "remote inference is disabled", 0},
		{"404 model", 404, nil, `{"error":"model 'nope' not found"}`, llm.KindUpstreamModel, 502, "model 'nope' not found", 0},
		{"400 tools unsupported", 400, nil, `{"error":"registry.ollama.ai/library/gemma:2b does not support tools"}`,
			llm.KindInvalidRequest, 400, "registry.ollama.ai/library/gemma:2b does not support tools", 0},
		{"proxy error object", 502, nil, `{"error":{"message":"upstream down"}}`, llm.KindServer, 502, "upstream down", 0},
		{"plain text body", 503, nil, `Service Unavailable`, llm.KindOverloaded, 503, "Service Unavailable", 0},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " chat", true: " stream"}[stream]
			t.Run(name, func(t *testing.T) {
				c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header()[k] = v
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				})
				var err error
				if stream {
					_, err = c.Stream(context.Background(), testRequest())
				} else {
					_, err = c.Chat(context.Background(), testRequest())
				}
				checkKind(t, err, tt.want)
				le := err.(*llm.Error)
				if le.Status != tt.wantStatus || le.UpstreamStatus != tt.status || le.Message != tt.wantMsg || le.RetryAfter != tt.wantRetry {
					t.Errorf("got status %d upstream %d %q retry %v", le.Status, le.UpstreamStatus, le.Message, le.RetryAfter)
				}
			})
		}
	}
}

func TestChatErrorBodyWith200(t *testing.T) {
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"error":"model runner crashed"}`)
	})
	_, err := c.Chat(context.Background(), testRequest())
	checkKind(t, err, llm.KindServer)
}

func TestContextDeadline(t *testing.T) {
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) { hold(t, r) })
	for _, stream := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		var err error
		if stream {
			_, err = c.Stream(ctx, testRequest())
		} else {
			_, err = c.Chat(ctx, testRequest())
		}
		cancel()
		checkKind(t, err, llm.KindTimeout)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(providers.Config{Name: "local", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Stream(context.Background(), testRequest())
	checkKind(t, err, llm.KindConnection)
}

func TestCloseCancelsUpstream(t *testing.T) {
	gone := make(chan struct{})
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(w, `{"model":"llama3.2","message":{"role":"assistant","content":"Hi"},"done":false}`+"\n")
		w.(http.Flusher).Flush()
		if hold(t, r) {
			close(gone)
		}
	})
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	var acc llm.Accumulator
	for range 2 {
		ev, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.Add(ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := acc.Response().Text(); got != "Hi" {
		t.Fatalf("text %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // twice is fine
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream call was not cancelled")
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Fatalf("Recv after Close = %v, want an error", err)
	}
}

func TestEmbed(t *testing.T) {
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" {
			t.Errorf("path %s", r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		if want := `{"model":"all-minilm","input":["a","b"],"dimensions":2}`; string(body) != want {
			t.Errorf("body %s, want %s", body, want)
		}
		_, _ = io.WriteString(w, `{"model":"all-minilm","embeddings":[[0.1,0.2],[0.3,-0.4]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}`)
	})
	got, err := c.Embed(context.Background(), &llm.EmbedRequest{Model: "all-minilm", Input: []string{"a", "b"}, Dimensions: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbedResponse{Model: "all-minilm", Vectors: [][]float32{{0.1, 0.2}, {0.3, -0.4}}, Usage: llm.Usage{Input: 8}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(providers.Config{Name: "x", BaseURL: "localhost:11434"}); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Errorf("err = %v, want a base URL error", err)
	}
	p, err := providers.New(providers.Config{Name: "x", Format: "ollama"})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.(*Client); c.base != DefaultBaseURL {
		t.Errorf("base %q", c.base)
	}
}
