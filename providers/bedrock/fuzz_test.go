package bedrock

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// drain reads a stream built over body until it ends, checking that every
// event it yields is one llm.Accumulator accepts and that an error is an
// *llm.Error. It bounds the number of events so a bug cannot loop forever.
func drain(t *testing.T, body []byte) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newStream(ctx, cancel, "fuzz", io.NopCloser(bytes.NewReader(body)), "id", "m")
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

// FuzzStreamBytes feeds arbitrary bytes to the event-stream decoder.
func FuzzStreamBytes(f *testing.F) {
	for _, name := range []string{"stream_text.jsonl", "stream_tool.jsonl", "stream_parallel.jsonl", "stream_reasoning.jsonl"} {
		f.Add(bytes.Join(fixtureFrames(f, name), nil))
	}
	f.Add(exceptionFrame(f, "throttlingException", "slow down"))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) { drain(t, body) })
}

// FuzzStreamEvents feeds arbitrary payloads in well-formed frames, so the
// fuzzer explores the event mapping rather than the CRCs.
func FuzzStreamEvents(f *testing.F) {
	f.Add("contentBlockStart", `{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"a","name":"f"}}}`,
		"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}}`)
	f.Add("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"x"}}`,
		"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"y"}}}`)
	f.Add("messageStop", `{"stopReason":"end_turn"}`, "metadata", `{"usage":{"inputTokens":1}}`)
	f.Add("contentBlockDelta", `{"contentBlockIndex":-1,"delta":{"text":"x"}}`, "messageStop", `{}`)
	f.Fuzz(func(t *testing.T, typ1, payload1, typ2, payload2 string) {
		if len(typ1) > 255 || len(typ2) > 255 {
			return // header values this long are not what is being tested
		}
		var body []byte
		body = append(body, eventFrame(t, "messageStart", `{"role":"assistant"}`)...)
		body = append(body, eventFrame(t, typ1, payload1)...)
		body = append(body, eventFrame(t, typ2, payload2)...)
		body = append(body, eventFrame(t, "messageStop", `{"stopReason":"end_turn"}`)...)
		body = append(body, eventFrame(t, "metadata", `{"usage":{"inputTokens":1,"outputTokens":2}}`)...)
		drain(t, body)
	})
}

// FuzzParseResponse feeds arbitrary bodies to the /converse parser.
func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"converse_text.json", "converse_tool.json", "converse_parallel.json", "converse_cache_reasoning.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"output":{"message":{"content":[{"toolUse":{"toolUseId":"a","name":"f","input":null}}]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := parseResponse(body, "id", "m")
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
