package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
	"github.com/google/go-cmp/cmp"
)

// checkSequence parses an Anthropic event stream and checks that it is
// valid: one message_start first, blocks numbered 0, 1, … each opened and
// closed in turn, deltas only for the open block, message_delta after the
// last block, message_stop last (or an error event last).
func checkSequence(t *testing.T, raw []byte) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(raw))
	var names []string
	open, next := -1, 0
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			Type  string `json:"type"`
			Index *int   `json:"index"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatalf("event %s: data is not JSON: %v: %s", ev.Event, err, ev.Data)
		}
		if data.Type != ev.Event {
			t.Errorf("event %q carries type %q", ev.Event, data.Type)
		}
		if len(names) > 0 && (names[len(names)-1] == "message_stop" || names[len(names)-1] == "error") {
			t.Errorf("%s after the end", ev.Event)
		}
		if (len(names) == 0) != (ev.Event == "message_start") {
			t.Errorf("message_start at position %d", len(names))
		}
		switch ev.Event {
		case "content_block_start":
			if open >= 0 || data.Index == nil || *data.Index != next {
				t.Errorf("content_block_start %v while block %d open, want index %d", data.Index, open, next)
			} else {
				open = next
			}
		case "content_block_delta":
			if data.Index == nil || *data.Index != open {
				t.Errorf("content_block_delta %v while block %d open", data.Index, open)
			}
		case "content_block_stop":
			if data.Index == nil || *data.Index != open {
				t.Errorf("content_block_stop %v while block %d open", data.Index, open)
			}
			open, next = -1, next+1
		case "message_delta", "message_stop", "error":
			if open >= 0 {
				t.Errorf("%s while block %d is open", ev.Event, open)
			}
		}
		names = append(names, ev.Event)
	}
	if len(names) == 0 {
		t.Fatal("no events")
	}
	last := names[len(names)-1]
	if last == "message_stop" && (len(names) < 2 || names[len(names)-2] != "message_delta") {
		t.Errorf("message_stop not preceded by message_delta: %v", names)
	}
	if last != "message_stop" && last != "error" {
		t.Errorf("stream ends with %s", last)
	}
}

// parseBack reads an Anthropic event stream with the package's own
// decoder.
func parseBack(raw []byte) (*llm.Response, error) {
	ctx, cancel := context.WithCancel(context.Background())
	return llm.Collect(newStream(ctx, cancel, io.NopCloser(bytes.NewReader(raw)), "roundtrip"))
}

func textEv(i int, s string) llm.Event { return llm.Event{Type: llm.EventText, Index: i, Text: s} }
func callEv(i int, id, name, args string) llm.Event {
	return llm.Event{Type: llm.EventToolCall, Index: i, ToolCall: &llm.ToolCall{ID: id, Name: name, Arguments: args}}
}
func argsEv(i int, a string) llm.Event {
	return llm.Event{Type: llm.EventToolArgs, Index: i, ToolCall: &llm.ToolCall{Arguments: a}}
}
func stopEv(r llm.StopReason) llm.Event { return llm.Event{Type: llm.EventStop, StopReason: r} }
func usageEv(u llm.Usage) llm.Event     { return llm.Event{Type: llm.EventUsage, Usage: &u} }

func TestStreamWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		opts   StreamOptions
		events []llm.Event
		finish bool
		want   *llm.Response
	}{
		{
			name: "openai upstream: text then two tool calls, usage after stop",
			opts: StreamOptions{Model: "claude-sonnet-4-5"},
			events: []llm.Event{
				{Type: llm.EventStart, ID: "chatcmpl-123", Model: "gpt-4o-2024-08-06"},
				textEv(0, "Let me "), textEv(0, "check."),
				callEv(1, "call_a", "get_weather", ""), argsEv(1, `{"loc`), argsEv(1, `ation":"SF"}`),
				callEv(2, "call_b", "get_time", `{"tz":`), argsEv(2, `"UTC"}`),
				stopEv(llm.StopToolCalls),
				usageEv(llm.Usage{Input: 100, CacheRead: 20, Output: 30, Reasoning: 5}),
			},
			want: &llm.Response{ID: "chatcmpl-123", Model: "claude-sonnet-4-5",
				Parts: []llm.Part{llm.TextPart("Let me check."),
					toolCallPart("call_a", "get_weather", `{"location":"SF"}`),
					toolCallPart("call_b", "get_time", `{"tz":"UTC"}`)},
				StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 100, CacheRead: 20, Output: 35}},
		},
		{
			name: "tool calls with a plain stop are reported as tool_use",
			opts: StreamOptions{ID: "msg_fixed"},
			events: []llm.Event{
				{Type: llm.EventStart, ID: "x", Model: "llama"},
				callEv(0, "c1", "f", `{}`),
				stopEv(llm.StopEnd),
				usageEv(llm.Usage{Input: 1, Output: 2}),
			},
			want: &llm.Response{ID: "msg_fixed", Model: "llama", Parts: []llm.Part{toolCallPart("c1", "f", `{}`)},
				StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 1, Output: 2}},
		},
		{
			name: "thinking with signature, stop sequence, no usage: Finish uses the input usage",
			opts: StreamOptions{ID: "msg_1", Model: "m", InputUsage: &llm.Usage{Input: 7, CacheWrite: 3}},
			events: []llm.Event{
				{Type: llm.EventThinking, Index: 0, Text: "hmm"},
				{Type: llm.EventThinking, Index: 0, Signature: "sig"},
				textEv(1, "done"),
				{Type: llm.EventStop, StopReason: llm.StopSequence, StopSequence: "###"},
			},
			finish: true,
			want: &llm.Response{ID: "msg_1", Model: "m",
				Parts:      []llm.Part{{Kind: llm.PartThinking, Text: "hmm", Signature: "sig"}, llm.TextPart("done")},
				StopReason: llm.StopSequence, StopSequence: "###", Usage: llm.Usage{Input: 7, CacheWrite: 3}},
		},
		{
			name:   "no stop at all: Finish ends the turn",
			opts:   StreamOptions{ID: "msg_2", Model: "m"},
			events: []llm.Event{textEv(0, "partial")},
			finish: true,
			want: &llm.Response{ID: "msg_2", Model: "m", Parts: []llm.Part{llm.TextPart("partial")},
				StopReason: llm.StopEnd},
		},
		{
			name: "duplicate start and stop are written once; empty text opens its block",
			opts: StreamOptions{ID: "msg_3", Model: "m"},
			events: []llm.Event{
				{Type: llm.EventStart, ID: "a"}, {Type: llm.EventStart, ID: "b"},
				textEv(0, ""), callEv(1, "", "f", ""),
				stopEv(llm.StopLength), stopEv(llm.StopEnd),
				usageEv(llm.Usage{Output: 9}),
			},
			want: &llm.Response{ID: "msg_3", Model: "m", Parts: []llm.Part{llm.TextPart(""), toolCallPart("*", "f", `{}`)},
				StopReason: llm.StopLength, Usage: llm.Usage{Output: 9}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewStreamWriter(&buf, tt.opts)
			for _, ev := range tt.events {
				if err := w.Write(ev); err != nil {
					t.Fatalf("Write(%+v): %v", ev, err)
				}
			}
			if tt.finish {
				if err := w.Finish(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Write(textEv(0, "late")); !errors.Is(err, ErrStreamEnded) {
				t.Errorf("Write after the end = %v, want ErrStreamEnded", err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("Close after the end = %v", err)
			}
			checkSequence(t, buf.Bytes())
			got, err := parseBack(buf.Bytes())
			if err != nil {
				t.Fatalf("parse back: %v\n%s", err, buf.Bytes())
			}
			for _, p := range got.Parts {
				if p.Kind == llm.PartToolCall && strings.HasPrefix(p.ToolCall.ID, "toolu_") && len(p.ToolCall.ID) == 30 {
					p.ToolCall.ID = "*" // generated
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s\n%s", diff, buf.Bytes())
			}
		})
	}
}

func TestStreamWriterWire(t *testing.T) {
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, StreamOptions{ID: "msg_1", Model: "claude", InputUsage: &llm.Usage{Input: 5}})
	for _, ev := range []llm.Event{
		{Type: llm.EventStart, ID: "up", Model: "gpt"},
		textEv(0, "Hi \"you\"\n"),
		callEv(1, "call_1", "f", `{"a":1}`),
		stopEv(llm.StopToolCalls),
		usageEv(llm.Usage{Input: 5, CacheRead: 2, Output: 4}),
	} {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	want := `event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"you\"\n"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"f","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":4}}

event: message_stop
data: {"type":"message_stop"}

`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
}

func TestStreamWriterEdges(t *testing.T) {
	t.Run("text for an earlier part gets a new block", func(t *testing.T) {
		var buf bytes.Buffer
		w := NewStreamWriter(&buf, StreamOptions{})
		for _, ev := range []llm.Event{textEv(0, "a"), callEv(1, "c", "f", "{}"), textEv(0, "b"), stopEv(llm.StopEnd), usageEv(llm.Usage{})} {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		checkSequence(t, buf.Bytes())
		got, err := parseBack(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if got.Text() != "ab" || len(got.Parts) != 3 || !strings.HasPrefix(got.ID, "msg_") {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("interleaved tool arguments are an error", func(t *testing.T) {
		var buf bytes.Buffer
		w := NewStreamWriter(&buf, StreamOptions{})
		for _, ev := range []llm.Event{callEv(0, "a", "f", ""), callEv(1, "b", "g", "")} {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(argsEv(0, "{}")); err == nil || !strings.Contains(err.Error(), "after its block was closed") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad indices are errors", func(t *testing.T) {
		for _, ev := range []llm.Event{textEv(2, "x"), argsEv(0, "x"), {Type: llm.EventToolCall, Index: 0}, {Type: 99}} {
			w := NewStreamWriter(io.Discard, StreamOptions{})
			if err := w.Write(ev); err == nil {
				t.Errorf("Write(%+v) accepted", ev)
			}
		}
	})
	t.Run("error event ends the stream", func(t *testing.T) {
		var buf bytes.Buffer
		w := NewStreamWriter(&buf, StreamOptions{ID: "msg_e", Model: "m"})
		if err := w.Write(textEv(0, "par")); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteError(llm.Errorf(llm.KindOverloaded, "upstream overloaded")); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteError(llm.Errorf(llm.KindServer, "again")); !errors.Is(err, ErrStreamEnded) {
			t.Errorf("second WriteError = %v", err)
		}
		if err := w.Finish(); err != nil || strings.Contains(buf.String(), "message_stop") {
			t.Errorf("Finish after an error wrote more: %v\n%s", err, buf.Bytes())
		}
		if !strings.HasSuffix(buf.String(), "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"upstream overloaded\"}}\n\n") {
			t.Errorf("stream:\n%s", buf.Bytes())
		}
		got, err := parseBack(buf.Bytes())
		if le := llm.AsError(err); le.Kind != llm.KindOverloaded || got.Text() != "par" {
			t.Errorf("parse back = %+v, %v", got, err)
		}
	})
	t.Run("write errors are returned", func(t *testing.T) {
		w := NewStreamWriter(failWriter{}, StreamOptions{})
		if err := w.Write(textEv(0, "x")); err == nil {
			t.Error("no error from a failing writer")
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestEncodeResponse(t *testing.T) {
	resp := &llm.Response{ID: "chatcmpl-9", Model: "gpt-4o",
		Parts: []llm.Part{
			{Kind: llm.PartThinking, Text: "reasoned"},
			llm.TextPart("Calling."),
			toolCallPart("call_x", "f", `{"a": [1, 2]}`),
			toolCallPart("call_y", "g", `{"broken":`),
		},
		StopReason: llm.StopEnd,
		Usage:      llm.Usage{Input: 10, CacheRead: 4, CacheWrite: 2, Output: 7, Reasoning: 3}}
	want := `{"id":"chatcmpl-9","type":"message","role":"assistant","model":"claude-x",
		"content":[{"type":"thinking","thinking":"reasoned","signature":""},{"type":"text","text":"Calling."},
			{"type":"tool_use","id":"call_x","name":"f","input":{"a":[1,2]}},
			{"type":"tool_use","id":"call_y","name":"g","input":{}}],
		"stop_reason":"tool_use","stop_sequence":null,
		"usage":{"input_tokens":10,"cache_creation_input_tokens":2,"cache_read_input_tokens":4,"output_tokens":10}}`
	jsonEqual(t, want, EncodeResponse(resp, "claude-x"))

	seq := EncodeResponse(&llm.Response{Parts: []llm.Part{llm.TextPart("a")}, StopReason: llm.StopSequence, StopSequence: "Z", Model: "m"}, "")
	var m map[string]any
	if err := json.Unmarshal(seq, &m); err != nil {
		t.Fatal(err)
	}
	if id, _ := m["id"].(string); !strings.HasPrefix(id, "msg_") || m["stop_sequence"] != "Z" || m["model"] != "m" {
		t.Errorf("got %s", seq)
	}
	back, err := decodeResponse(EncodeResponse(resp, "claude-x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.ToolCalls()) != 2 || back.StopReason != llm.StopToolCalls {
		t.Errorf("decoded back %+v", back)
	}
}

func TestEncodeError(t *testing.T) {
	tests := map[llm.ErrorKind]string{
		llm.KindInvalidRequest: "invalid_request_error", llm.KindTooLarge: "request_too_large",
		llm.KindAuthentication: "authentication_error", llm.KindPermission: "permission_error",
		llm.KindPolicy: "permission_error", llm.KindNotFound: "not_found_error",
		llm.KindRateLimit: "rate_limit_error", llm.KindOverloaded: "overloaded_error",
		llm.KindTimeout: "timeout_error", llm.KindServer: "api_error", llm.KindInternal: "api_error",
		llm.KindUpstreamAuth: "api_error", llm.KindConnection: "api_error",
	}
	for kind, typ := range tests {
		t.Run(string(kind), func(t *testing.T) {
			got := EncodeError(llm.Errorf(kind, "bad <thing> \"x\""))
			want := `{"type":"error","error":{"type":"` + typ + `","message":"bad <thing> \"x\""}}`
			if string(got) != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// BenchmarkStreamWriterText measures the steady state: one text delta per
// Write, which should not allocate.
func BenchmarkStreamWriterText(b *testing.B) {
	w := NewStreamWriter(io.Discard, StreamOptions{ID: "msg_b", Model: "m"})
	if err := w.Write(textEv(0, "start")); err != nil {
		b.Fatal(err)
	}
	ev := textEv(0, "a typical token \"fragment\"\n")
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
}
