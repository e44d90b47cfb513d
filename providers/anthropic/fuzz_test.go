package anthropic

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":5,"system":[{"type":"text","text":"s"}],"tools":[{"name":"f","input_schema":{}}],` +
		`"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":1}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"r"}]},` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"UE5H"}}]}],` +
		`"thinking":{"type":"enabled","budget_tokens":9000},"circuit_breaker":{"cost_threshold":1}}`))
	f.Add([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"foo"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			if le := llm.AsError(err); le.Kind != llm.KindInvalidRequest {
				t.Fatalf("error of kind %s: %v", le.Kind, err)
			}
			return
		}
		// Whatever decodes must encode for an upstream without panicking.
		_, _ = encodeRequest(req, req.Stream)
	})
}

// FuzzStreamDecoder feeds arbitrary bytes to the upstream stream decoder:
// it must never panic, and whatever events it yields must form a stream
// the canonical accumulator accepts.
func FuzzStreamDecoder(f *testing.F) {
	for _, name := range []string{"text.sse", "thinking.sse", "tools.sse", "unknown.sse", "overloaded.sse"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("event: content_block_delta\ndata: {\"index\":0}\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := sse.NewReader(bytes.NewReader(raw))
		d := decoder{provider: "fuzz"}
		var acc llm.Accumulator
		var out []llm.Event
		for !d.done {
			ev, err := r.Next()
			if err != nil {
				return
			}
			var ferr error
			out, ferr = d.feed(out[:0], ev.Event, ev.Data)
			for _, e := range out {
				if err := acc.Add(e); err != nil {
					t.Fatalf("decoder yielded an invalid stream: %v (event %+v)", err, e)
				}
			}
			if ferr != nil {
				if _, ok := ferr.(*llm.Error); !ok {
					t.Fatalf("decoder error %T: %v", ferr, ferr)
				}
				return
			}
		}
	})
}

// FuzzStreamWriter drives the writer with event sequences built from the
// input: whatever it accepts must parse back without error.
func FuzzStreamWriter(f *testing.F) {
	f.Add([]byte{0, 1, 1, 3, 4, 3, 5, 6})
	f.Add([]byte{1, 2, 2, 1, 3, 7, 5, 6})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		var buf bytes.Buffer
		w := NewStreamWriter(&buf, StreamOptions{Model: "m"})
		parts := 0
		for i, op := range ops {
			idx := int(op>>4) % (parts + 1)
			var ev llm.Event
			switch op % 8 {
			case 0:
				ev = llm.Event{Type: llm.EventStart, ID: "x"}
			case 1:
				ev = llm.Event{Type: llm.EventText, Index: idx, Text: "t\n\"" + string(rune('a'+i%26))}
			case 2:
				ev = llm.Event{Type: llm.EventThinking, Index: idx, Text: "th", Signature: "s"}
			case 3:
				ev = llm.Event{Type: llm.EventToolCall, Index: parts, ToolCall: &llm.ToolCall{Name: "f", Arguments: `{"a":`}}
			case 4:
				ev = llm.Event{Type: llm.EventToolArgs, Index: idx, ToolCall: &llm.ToolCall{Arguments: `1}`}}
			case 5:
				ev = llm.Event{Type: llm.EventStop, StopReason: llm.StopEnd}
			case 6:
				ev = llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{Input: i, Output: 1}}
			default:
				ev = llm.Event{Type: llm.EventText, Index: parts, Text: "n"}
			}
			if err := w.Write(ev); err == nil && ev.Index == parts && ev.Type >= llm.EventText && ev.Type <= llm.EventToolCall {
				parts++
			}
		}
		if err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		checkSequence(t, buf.Bytes())
		if _, err := parseBack(buf.Bytes()); err != nil && err != io.EOF {
			t.Fatalf("parse back: %v\n%s", err, buf.Bytes())
		}
	})
}
