package cohere

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func TestStream(t *testing.T) {
	const model = "command-a-03-2025"
	tests := []struct {
		name    string
		fixture string
		want    llm.Response
	}{
		{"text", "stream_text.sse", llm.Response{ID: "29f14a5a-11de-4cae-9800-25e4747408ea", Model: model,
			Parts: []llm.Part{llm.TextPart("A large language model")}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 71, Output: 3}}},
		{"tool plan and parallel tool calls with fragments", "stream_tool.sse", llm.Response{ID: "fba98ad3-e5a1-413c-a8de-84fbf9baabf7", Model: model,
			Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "I will search."},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_nsz5zm3w56q3", Name: "get_weather", Arguments: "{\n    \"location\": \"Madrid\"\n}"}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_9b0nr4kg58a8", Name: "get_weather", Arguments: `{"location": "Brasilia"}`}},
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 289, CacheRead: 1024, Output: 60}}},
		{"thinking, citations ignored", "stream_thinking.sse", llm.Response{ID: "t-1", Model: model,
			Parts:      []llm.Part{{Kind: llm.PartThinking, Text: "Count slowly."}, llm.TextPart("One, two")},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 10, Output: 100}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotBody map[string]any
			var accept string
			h := sseHandler(readFixture(t, tt.fixture))
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				json.NewDecoder(r.Body).Decode(&gotBody)
				accept = r.Header.Get("Accept")
				h(w, r)
			}))
			s, err := c.Stream(context.Background(), &llm.Request{Model: model, Messages: hiRequest.Messages})
			if err != nil {
				t.Fatal(err)
			}
			got, evs, err := collect(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Errorf("response mismatch (-want +got):\n%s", d)
			}
			if evs[len(evs)-1].Type != llm.EventUsage || evs[len(evs)-2].Type != llm.EventStop {
				t.Errorf("stream does not end with stop then usage: %+v", evs[len(evs)-2:])
			}
			if gotBody["stream"] != true || accept != "text/event-stream" {
				t.Errorf("stream %v, accept %q", gotBody["stream"], accept)
			}
		})
	}
}

func TestStreamFailures(t *testing.T) {
	text := string(readFixture(t, "stream_text.sse"))
	head := text[:strings.Index(text, "event: content-end")] // start and two deltas
	tests := []struct {
		name  string
		body  string
		kind  llm.ErrorKind
		typ   string
		msg   string
		parts int
	}{
		{"error finish mid-stream", head + "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"error\":\"internal server error\",\"finish_reason\":\"ERROR\"}}\n\n",
			llm.KindServer, "ERROR", "internal server error", 1},
		{"timeout finish", head + "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"TIMEOUT\"}}\n\n", llm.KindTimeout, "TIMEOUT", "timed out", 1},
		{"truncated", head, llm.KindConnection, "", "ended before message-end", 1},
		{"done without message-end", head + "data: [DONE]\n\n", llm.KindConnection, "", "ended before message-end", 1},
		{"untyped error object", head + "data: {\"message\":\"upstream overloaded\"}\n\n", llm.KindServer, "", "upstream overloaded", 1},
		{"not json", head + "event: content-delta\ndata: {oops\n\n", llm.KindServer, "", `unreadable stream event "content-delta"`, 1},
		{"tool delta without start", "event: tool-call-delta\ndata: {\"type\":\"tool-call-delta\",\"index\":2,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":\"{}\"}}}}}\n\n",
			llm.KindServer, "", "tool call 2, which never started", 0},
		{"content after message-end", strings.Replace(text, "data: [DONE]", "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"late\"}}}}", 1),
			"", "", "", 1}, // message-end ends the stream; later events are not read
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, sseHandler([]byte(tt.body)))
			s, err := c.Stream(context.Background(), hiRequest)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := collect(t, s)
			if len(got.Parts) != tt.parts {
				t.Errorf("accumulated %d parts, want %d", len(got.Parts), tt.parts)
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("stream ended without an error")
			}
			e := asLLMError(t, err)
			if e.Kind != tt.kind || e.UpstreamType != tt.typ || !strings.Contains(e.Message, tt.msg) || e.Provider != "cohere-test" {
				t.Errorf("got %+v, want kind %s type %q message ~%q", e, tt.kind, tt.typ, tt.msg)
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("second Recv = %v, want the same error", again)
			}
		})
	}
}

func TestStreamCloseCancelsUpstream(t *testing.T) {
	text := string(readFixture(t, "stream_text.sse"))
	head := text[:strings.Index(text, "event: content-end")]
	gone := make(chan struct{})
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, head)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(gone)
	}))
	s, err := c.Stream(context.Background(), hiRequest)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // start, first text
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("upstream request still open after Close")
	}
	_, err = s.Recv()
	if e := asLLMError(t, err); e.Kind != llm.KindCancelled {
		t.Errorf("Recv after Close: %+v, want cancelled", e)
	}
	s.Close()
}

func TestStreamDeadline(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "event: message-start\ndata: {\"type\":\"message-start\",\"id\":\"x\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s, err := c.Stream(ctx, hiRequest)
	if err == nil { // the deadline may also strike before the headers arrive
		_, _, err = collect(t, s)
	}
	if e := asLLMError(t, err); e.Kind != llm.KindTimeout {
		t.Errorf("got %+v, want timeout", e)
	}
}
