package bedrock

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

var hiRequest = &llm.Request{Model: "anthropic.claude-3-haiku-20240307-v1:0", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}

func TestStream(t *testing.T) {
	const model = "anthropic.claude-3-haiku-20240307-v1:0"
	tests := []struct {
		name    string
		fixture string
		want    llm.Response
	}{
		{"text", "stream_text.jsonl", llm.Response{ID: "req-stream-1", Model: model,
			Parts: []llm.Part{llm.TextPart("Hello, world")}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 10, Output: 4}}},
		{"tool call with input fragments and cache usage", "stream_tool.jsonl", llm.Response{ID: "req-stream-1", Model: model,
			Parts:      []llm.Part{llm.TextPart("Let me look that up."), {Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_Abc123", Name: "get_weather", Arguments: `{"city": "Paris"}`}}},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 380, CacheRead: 2400, CacheWrite: 100, Output: 55}}},
		{"parallel tool calls", "stream_parallel.jsonl", llm.Response{ID: "req-stream-1", Model: model,
			Parts: []llm.Part{
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_1", Name: "get_weather", Arguments: `{"city":"Madrid"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_2", Name: "get_time", Arguments: `{}`}},
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 300, Output: 40}}},
		{"reasoning", "stream_reasoning.jsonl", llm.Response{ID: "req-stream-1", Model: model,
			Parts:      []llm.Part{{Kind: llm.PartThinking, Text: "Think hard.", Signature: "sig-123"}, llm.TextPart("42")},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 20, Output: 30}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path, accept string
			h := streamHandler(fixtureFrames(t, tt.fixture)...)
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path, accept = r.URL.EscapedPath(), r.Header.Get("Accept")
				h(w, r)
			}))
			s, err := c.Stream(context.Background(), hiRequest)
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
			if last := evs[len(evs)-1]; last.Type != llm.EventUsage || evs[len(evs)-2].Type != llm.EventStop {
				t.Errorf("stream does not end with stop then usage: %+v", evs[len(evs)-2:])
			}
			if path != "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream" || accept != "application/vnd.amazon.eventstream" {
				t.Errorf("path %s, accept %s", path, accept)
			}
		})
	}
}

func TestStreamFailures(t *testing.T) {
	text := fixtureFrames(t, "stream_text.jsonl")
	corrupt := bytes.Clone(text[1])
	corrupt[len(corrupt)-6] ^= 0xff // flip a payload byte: message CRC mismatch
	badPrelude := bytes.Clone(text[1])
	badPrelude[9] ^= 0xff // prelude CRC mismatch
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	tests := []struct {
		name   string
		frames [][]byte
		kind   llm.ErrorKind
		typ    string
		msg    string
		parts  int // parts accumulated before the error
	}{
		{"throttling exception mid-stream", [][]byte{text[0], text[1], exceptionFrame(t, "throttlingException", "Too many tokens, please wait.")},
			llm.KindRateLimit, "throttlingException", "Too many tokens", 1},
		{"model stream error", [][]byte{text[0], exceptionFrame(t, "modelStreamErrorException", "model crashed")}, llm.KindServer, "modelStreamErrorException", "model crashed", 0},
		{"service unavailable", [][]byte{exceptionFrame(t, "serviceUnavailableException", "try later")}, llm.KindOverloaded, "serviceUnavailableException", "try later", 0},
		{"validation", [][]byte{text[0], exceptionFrame(t, "validationException", "bad input")}, llm.KindInvalidRequest, "validationException", "bad input", 0},
		{"internal server", [][]byte{text[0], exceptionFrame(t, "internalServerException", "oops")}, llm.KindServer, "internalServerException", "oops", 0},
		{"generic error frame", [][]byte{text[0], encodeFrame(t, [][2]string{{":message-type", "error"}, {":error-code", "InternalFailure"}, {":error-message", "boom"}}, nil)},
			llm.KindServer, "InternalFailure", "boom", 0},
		{"corrupted frame", [][]byte{text[0], corrupt}, llm.KindConnection, "", "checksum mismatch", 0},
		{"corrupted prelude", [][]byte{text[0], badPrelude}, llm.KindConnection, "", "checksum mismatch", 0},
		{"frame too large", [][]byte{text[0], huge}, llm.KindConnection, "", "malformed event stream frame", 0},
		{"truncated inside a frame", [][]byte{text[0], text[1][:len(text[1])-3]}, llm.KindConnection, "", "ended inside a frame", 0},
		{"truncated before messageStop", text[:3], llm.KindConnection, "", "ended before messageStop", 1},
		{"no metadata", text[:5], llm.KindConnection, "", "before the metadata event", 1},
		{"tool delta without start", [][]byte{text[0], eventFrame(t, "contentBlockDelta", `{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}}`)},
			llm.KindServer, "", "block 3, which never started", 0},
		{"unreadable event", [][]byte{text[0], eventFrame(t, "contentBlockDelta", `{"contentBlockIndex":"x"}`)}, llm.KindServer, "", "unreadable contentBlockDelta", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, streamHandler(tt.frames...))
			s, err := c.Stream(context.Background(), hiRequest)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := collect(t, s)
			if err == nil {
				t.Fatal("stream ended without an error")
			}
			e := asLLMError(t, err)
			if e.Kind != tt.kind || e.UpstreamType != tt.typ || !strings.Contains(e.Message, tt.msg) || e.Provider != "bedrock-test" {
				t.Errorf("got %+v, want kind %s type %q message ~%q", e, tt.kind, tt.typ, tt.msg)
			}
			if len(got.Parts) != tt.parts {
				t.Errorf("accumulated %d parts before the error, want %d", len(got.Parts), tt.parts)
			}
			// The error is sticky.
			if _, again := s.Recv(); again != err {
				t.Errorf("second Recv = %v, want the same error", again)
			}
		})
	}
}

func TestStreamCloseCancelsUpstream(t *testing.T) {
	frames := fixtureFrames(t, "stream_text.jsonl")
	gone := make(chan struct{})
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(frames[0])
		w.Write(frames[1])
		w.(http.Flusher).Flush()
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
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
	s.Close() // twice is fine
}

func TestStreamDeadline(t *testing.T) {
	frames := fixtureFrames(t, "stream_text.jsonl")
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(frames[0])
		w.(http.Flusher).Flush()
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
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

func TestStreamMetadataBeforeStop(t *testing.T) {
	text := fixtureFrames(t, "stream_text.jsonl")
	c := newTestClient(t, streamHandler(text[0], text[1], text[2], text[3], text[5], text[4]))
	s, err := c.Stream(context.Background(), hiRequest)
	if err != nil {
		t.Fatal(err)
	}
	got, evs, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text() != "Hello, world" || got.Usage != (llm.Usage{Input: 10, Output: 4}) || got.StopReason != llm.StopEnd {
		t.Errorf("got %+v", got)
	}
	if evs[len(evs)-1].Type != llm.EventUsage || evs[len(evs)-2].Type != llm.EventStop {
		t.Errorf("stream does not end with stop then usage: %+v", evs[len(evs)-2:])
	}
}
