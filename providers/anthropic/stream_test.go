package anthropic

import (
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

// sseOf renders "name data" lines as an event stream.
func sseOf(events ...string) []byte {
	var b []byte
	for _, e := range events {
		name, data, _ := strings.Cut(e, " ")
		b = append(b, "event: "+name+"\ndata: "+data+"\n\n"...)
	}
	return b
}

const (
	evStart = `message_start {"type":"message_start","message":{"id":"m1","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}`
	evStop  = `message_stop {"type":"message_stop"}`
)

func TestDecoderSkipsBlocksWithoutCanonicalForm(t *testing.T) {
	raw := sseOf(evStart,
		`content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"abc"}}`,
		`content_block_stop {"type":"content_block_stop","index":0}`,
		`content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}`,
		`content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}}`,
		`content_block_stop {"type":"content_block_stop","index":1}`,
		`content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"text","text":"Hi"}}`,
		`content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":" there"}}`,
		`content_block_stop {"type":"content_block_stop","index":2}`,
		`content_block_start {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"whole":true}}}`,
		`content_block_stop {"type":"content_block_stop","index":3}`,
		`message_delta {"type":"message_delta","delta":{"stop_reason":"pause_turn"},"usage":{"output_tokens":9,"cache_read_input_tokens":4}}`,
		evStop)
	got, err := parseBack(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{ID: "m1", Model: "c",
		Parts:      []llm.Part{llm.TextPart("Hi there"), toolCallPart("t", "f", `{"whole":true}`)},
		StopReason: llm.StopPause, Usage: llm.Usage{Input: 3, CacheRead: 4, Output: 9}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestDecoderErrors(t *testing.T) {
	block0 := `content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`
	tests := []struct {
		name   string
		events []string
		kind   llm.ErrorKind
		msg    string
	}{
		{"content before start", []string{block0}, llm.KindServer,
			"anthropic: stream: content_block_start before message_start"},
		{"second start", []string{evStart, evStart}, llm.KindServer, "anthropic: stream: second message_start"},
		{"index goes back", []string{evStart, block0,
			`content_block_stop {"type":"content_block_stop","index":0}`, block0}, llm.KindServer,
			"anthropic: stream: content_block_start index 0 after index 0"},
		{"delta for an unknown block", []string{evStart,
			`content_block_delta {"type":"content_block_delta","index":4,"delta":{"type":"text_delta","text":"x"}}`}, llm.KindServer,
			"anthropic: stream: content_block_delta for block 4, which was not started"},
		{"delta after block stop", []string{evStart, block0, `content_block_stop {"type":"content_block_stop","index":0}`,
			`content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`}, llm.KindServer,
			"anthropic: stream: content_block_delta for block 0, which was stopped"},
		{"wrong delta type", []string{evStart, block0,
			`content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}`}, llm.KindServer,
			"anthropic: stream: input_json_delta for block 0 of type text"},
		{"bad JSON", []string{evStart, `content_block_delta {"type":`}, llm.KindServer,
			"anthropic: stream: event \"content_block_delta\": data is not a JSON event: unexpected end of JSON input"},
		{"rate limit error event", []string{evStart, `error {"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`},
			llm.KindRateLimit, "slow"},
		{"api error event", []string{`error {"type":"error","error":{"type":"api_error","message":"Internal server error"}}`},
			llm.KindServer, "Internal server error"},
		{"truncated", []string{evStart, block0}, llm.KindConnection, "anthropic: stream: the stream ended before message_stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBack(sseOf(tt.events...))
			le := llm.AsError(err)
			if err == nil || le.Kind != tt.kind || le.Message != tt.msg || le.Provider != "roundtrip" {
				t.Errorf("err = %#v\nwant kind %s, message %q", err, tt.kind, tt.msg)
			}
		})
	}
}
