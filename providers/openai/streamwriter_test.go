package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// chunkShape is a chat.completion.chunk as a client reads it. Pointers and
// raw values tell absent, null and set apart.
type chunkShape struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices *[]choiceShape  `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
}

type choiceShape struct {
	Index        int             `json:"index"`
	Delta        map[string]any  `json:"delta"`
	FinishReason json.RawMessage `json:"finish_reason"`
}

// readChunks reads the writer's output with the SSE reader and decodes
// every chunk; done reports the final [DONE].
func readChunks(t *testing.T, b []byte) (chunks []chunkShape, done bool) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(b))
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return chunks, done
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Event != "" {
			t.Errorf("event name %q: OpenAI streams have none", ev.Event)
		}
		if done {
			t.Fatalf("data after [DONE]: %s", ev.Data)
		}
		if string(ev.Data) == "[DONE]" {
			done = true
			continue
		}
		var c chunkShape
		dec := json.NewDecoder(bytes.NewReader(ev.Data))
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		chunks = append(chunks, c)
	}
}

func writeAll(t *testing.T, opts StreamOptions, evs []llm.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, opts)
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Done(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var toolStream = []llm.Event{
	{Type: llm.EventStart, ID: "up-1", Model: "claude-sonnet-4"},
	{Type: llm.EventThinking, Index: 0, Text: "plan"},
	{Type: llm.EventThinking, Index: 0, Signature: "sig"},
	{Type: llm.EventText, Index: 1, Text: "Checking."},
	{Type: llm.EventToolCall, Index: 2, ToolCall: &llm.ToolCall{ID: "toolu_a", Name: "get_weather"}},
	{Type: llm.EventToolCall, Index: 3, ToolCall: &llm.ToolCall{ID: "toolu_b", Name: "get_time", Arguments: `{"tz":`}},
	{Type: llm.EventToolArgs, Index: 2, ToolCall: &llm.ToolCall{Arguments: `{"city":"Paris"}`}},
	{Type: llm.EventToolArgs, Index: 3, ToolCall: &llm.ToolCall{Arguments: `"CET"}`}},
	{Type: llm.EventStop, StopReason: llm.StopToolCalls},
	{Type: llm.EventUsage, Usage: &llm.Usage{Input: 10, CacheRead: 5, Output: 20, Reasoning: 7}},
}

func TestStreamWriterChunks(t *testing.T) {
	for _, includeUsage := range []bool{true, false} {
		name := map[bool]string{true: "include_usage", false: "no usage"}[includeUsage]
		t.Run(name, func(t *testing.T) {
			out := writeAll(t, StreamOptions{Model: "my-alias", Created: 1730000000, IncludeUsage: includeUsage, ID: "chatcmpl-fixed"}, toolStream)
			chunks, done := readChunks(t, out)
			if !done {
				t.Error("no [DONE]")
			}
			wantN := 8 // role, thinking, text, 2 tool calls, 2 argument fragments, finish
			if includeUsage {
				wantN++
			}
			if len(chunks) != wantN {
				t.Fatalf("%d chunks, want %d:\n%s", len(chunks), wantN, out)
			}
			for i, c := range chunks {
				if c.ID != "chatcmpl-fixed" || c.Object != "chat.completion.chunk" || c.Created != 1730000000 || c.Model != "my-alias" {
					t.Errorf("chunk %d header = %+v", i, c)
				}
				last := includeUsage && i == len(chunks)-1
				switch {
				case last:
					if c.Choices == nil || len(*c.Choices) != 0 {
						t.Errorf("usage chunk choices = %v, want []", c.Choices)
					}
				case includeUsage && string(c.Usage) != "null":
					t.Errorf("chunk %d usage = %s, want null", i, c.Usage)
				case !includeUsage && c.Usage != nil:
					t.Errorf("chunk %d has usage %s; the caller did not ask", i, c.Usage)
				}
			}
			deltas := make([]map[string]any, 0, len(chunks))
			for _, c := range chunks[:8] {
				deltas = append(deltas, (*c.Choices)[0].Delta)
			}
			want := []map[string]any{
				{"role": "assistant", "content": "", "refusal": nil},
				{"reasoning_content": "plan"},
				{"content": "Checking."},
				{"tool_calls": []any{map[string]any{"index": 0.0, "id": "toolu_a", "type": "function",
					"function": map[string]any{"name": "get_weather", "arguments": ""}}}},
				{"tool_calls": []any{map[string]any{"index": 1.0, "id": "toolu_b", "type": "function",
					"function": map[string]any{"name": "get_time", "arguments": `{"tz":`}}}},
				{"tool_calls": []any{map[string]any{"index": 0.0, "function": map[string]any{"arguments": `{"city":"Paris"}`}}}},
				{"tool_calls": []any{map[string]any{"index": 1.0, "function": map[string]any{"arguments": `"CET"}`}}}},
				{},
			}
			if diff := cmp.Diff(want, deltas); diff != "" {
				t.Errorf("deltas (-want +got):\n%s", diff)
			}
			for i, c := range chunks[:8] {
				fr := string((*c.Choices)[0].FinishReason)
				wantFR := "null"
				if i == 7 {
					wantFR = `"tool_calls"`
				}
				if fr != wantFR {
					t.Errorf("chunk %d finish_reason = %s, want %s", i, fr, wantFR)
				}
			}
			if includeUsage {
				var u usage
				if err := json.Unmarshal(chunks[8].Usage, &u); err != nil {
					t.Fatal(err)
				}
				want := usage{PromptTokens: 15, CompletionTokens: 27, TotalTokens: 42,
					PromptTokensDetails: &promptDetails{CachedTokens: 5}, CompletionTokensDetails: &outputDetails{ReasoningTokens: 7}}
				if diff := cmp.Diff(want, u); diff != "" {
					t.Errorf("usage (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestStreamWriterGolden pins the bytes of a short stream.
func TestStreamWriterGolden(t *testing.T) {
	out := writeAll(t, StreamOptions{Model: "gpt-4o", Created: 7, IncludeUsage: true, ID: "chatcmpl-g"}, []llm.Event{
		{Type: llm.EventStart},
		{Type: llm.EventText, Text: "Hi\n"},
		{Type: llm.EventStop, StopReason: llm.StopLength},
		{Type: llm.EventUsage, Usage: &llm.Usage{Input: 2, Output: 1}},
	})
	want := `data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi\n"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null}

data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}

data: [DONE]

`
	if string(out) != want {
		t.Errorf("stream\n got %q\nwant %q", out, want)
	}
}

func TestStreamWriterIDs(t *testing.T) {
	tests := []struct {
		name     string
		opts     StreamOptions
		start    llm.Event
		wantID   string
		wantGen  bool
		wantModl string
	}{
		{name: "options win", opts: StreamOptions{ID: "chatcmpl-o", Model: "alias"}, start: llm.Event{Type: llm.EventStart, ID: "up", Model: "real"}, wantID: "chatcmpl-o", wantModl: "alias"},
		{name: "start event's", start: llm.Event{Type: llm.EventStart, ID: "up", Model: "real"}, wantID: "up", wantModl: "real"},
		{name: "generated", start: llm.Event{Type: llm.EventStart}, wantGen: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, _ := readChunks(t, writeAll(t, tt.opts, []llm.Event{tt.start}))
			c := chunks[0]
			if tt.wantGen {
				if !strings.HasPrefix(c.ID, "chatcmpl-") || len(c.ID) < 20 {
					t.Errorf("id = %q, want a generated chatcmpl- id", c.ID)
				}
				return
			}
			if c.ID != tt.wantID || c.Model != tt.wantModl {
				t.Errorf("id, model = %q, %q; want %q, %q", c.ID, c.Model, tt.wantID, tt.wantModl)
			}
		})
	}
}

func TestStreamWriterError(t *testing.T) {
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, StreamOptions{ID: "x"})
	if err := w.Write(llm.Event{Type: llm.EventText, Text: "partial"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteError(llm.FromStatus("openai", 500, "server_error", "boom", 0)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":\"server\"}}\n\n") {
		t.Errorf("output ends with %q", out[strings.LastIndex(out[:len(out)-2], "\n")+1:])
	}
	// The adapter's decoder reads it back as the provider's error.
	c := newClient(t, testConfig)
	_, err := llm.Collect(newStream(t.Context(), func() {}, c, io.NopCloser(&buf)))
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.KindServer || le.Message != "boom" {
		t.Errorf("decoded error = %v", err)
	}
}

func TestStreamWriterRejects(t *testing.T) {
	w := NewStreamWriter(io.Discard, StreamOptions{})
	if err := w.Write(llm.Event{Type: llm.EventToolArgs, Index: 4, ToolCall: &llm.ToolCall{Arguments: "{}"}}); err == nil {
		t.Error("arguments for an unknown tool call accepted")
	}
	if err := w.Write(llm.Event{Type: llm.EventStart}); err == nil {
		t.Error("second start accepted")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestStreamWriterWriteError(t *testing.T) {
	w := NewStreamWriter(failWriter{}, StreamOptions{})
	if err := w.Write(llm.Event{Type: llm.EventStart}); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("error = %v", err)
	}
}

func BenchmarkStreamWriter(b *testing.B) {
	text := llm.Event{Type: llm.EventText, Text: "Hello, this is a typical token or two."}
	b.ReportAllocs()
	for b.Loop() {
		w := NewStreamWriter(io.Discard, StreamOptions{Model: "gpt-4o", Created: 1, IncludeUsage: true, ID: "chatcmpl-bench"})
		w.Write(llm.Event{Type: llm.EventStart})
		for range 100 {
			w.Write(text)
		}
		w.Write(llm.Event{Type: llm.EventStop, StopReason: llm.StopEnd})
		w.Write(llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{Input: 10, Output: 100}})
		w.Done()
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, StreamOptions{Model: "gpt-4o", Created: 1, IncludeUsage: true, ID: "chatcmpl-bench"})
	w.Write(llm.Event{Type: llm.EventStart})
	for range 100 {
		w.Write(llm.Event{Type: llm.EventText, Text: "Hello, this is a typical token or two."})
	}
	w.Write(llm.Event{Type: llm.EventStop, StopReason: llm.StopEnd})
	w.Write(llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{Input: 10, Output: 100}})
	w.Done()
	data := buf.Bytes()
	c := &Client{name: "bench"}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := newStream(b.Context(), func() {}, c, io.NopCloser(bytes.NewReader(data)))
		for {
			if _, err := s.Recv(); err != nil {
				break
			}
		}
	}
}
