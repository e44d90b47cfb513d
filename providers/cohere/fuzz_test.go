package cohere

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// drain reads a stream built over body until it ends, checking that every
// event is one llm.Accumulator accepts and that an error is an *llm.Error.
func drain(t *testing.T, body []byte) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newStream(ctx, cancel, "fuzz", io.NopCloser(bytes.NewReader(body)), "m")
	defer s.Close()
	var acc llm.Accumulator
	for range len(body) + 16 {
		ev, err := s.Recv()
		if err == io.EOF {
			if !acc.Stopped() {
				t.Fatal("io.EOF before the stop event")
			}
			return
		}
		if err != nil {
			if _, ok := err.(*llm.Error); !ok {
				t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
			}
			return
		}
		if err := acc.Add(ev); err != nil {
			t.Fatalf("accumulator rejected %+v: %v", ev, err)
		}
	}
	t.Fatal("stream yields more events than it has bytes")
}

// FuzzStream feeds arbitrary bytes to the v2 chat stream decoder.
func FuzzStream(f *testing.F) {
	for _, name := range []string{"stream_text.sse", "stream_tool.sse", "stream_thinking.sse"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte("data: {\"type\":\"tool-call-start\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]}}}\n\n"))
	f.Add([]byte("data: {\"type\":\"content-delta\",\"index\":-1,\"delta\":{\"message\":{\"content\":[{\"thinking\":\"x\"}]}}}\n\n" +
		"data: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\"}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) { drain(t, body) })
}

// FuzzParseResponse feeds arbitrary bodies to the /v2/chat parser.
func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"chat_text.json", "chat_tool.json", "chat_parallel.json", "chat_thinking.json"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := parseResponse(body, "m")
		if err != nil {
			if _, ok := err.(*llm.Error); !ok {
				t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
			}
			return
		}
		for _, p := range resp.Parts {
			if p.Kind == llm.PartToolCall && (p.ToolCall == nil || p.ToolCall.Arguments == "") {
				t.Fatalf("tool call without arguments: %+v", p)
			}
		}
	})
}

// FuzzParseEmbed feeds arbitrary bodies to the /v2/embed parser.
func FuzzParseEmbed(f *testing.F) {
	f.Add(readFixture(f, "embed.json"), 2)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		req := &llm.EmbedRequest{Model: "m", Input: make([]string, n&7)}
		resp, err := parseEmbed(body, req)
		if err != nil {
			if _, ok := err.(*llm.Error); !ok {
				t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
			}
			return
		}
		if len(resp.Vectors) != len(req.Input) {
			t.Fatalf("%d vectors for %d inputs", len(resp.Vectors), len(req.Input))
		}
	})
}
