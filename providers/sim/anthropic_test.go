package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

var antHeaders = []string{"X-Api-Key", "k", "Anthropic-Version", "2023-06-01"}

func TestAnthropicJSON(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("claude", Step{Thinking: "Let me think.", Text: "Checking.", ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "f", Arguments: `{"x":1}`}},
		Usage: &llm.Usage{Input: 10, CacheRead: 4, CacheWrite: 2, Output: 7, Reasoning: 3}})
	res, b := do(t, "POST", url+"/v1/messages", `{"model":"claude","max_tokens":100,"messages":`+userHello+`}`, antHeaders...)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	checkPaths(t, decode(t, b), map[string]any{
		"type":                              "message",
		"role":                              "assistant",
		"model":                             "claude",
		"content.0.type":                    "thinking",
		"content.0.thinking":                "Let me think.",
		"content.1.type":                    "text",
		"content.1.text":                    "Checking.",
		"content.2.type":                    "tool_use",
		"content.2.id":                      "toolu_1",
		"content.2.input":                   map[string]any{"x": 1.0},
		"stop_reason":                       "tool_use",
		"stop_sequence":                     nil,
		"usage.input_tokens":                10.0,
		"usage.cache_read_input_tokens":     4.0,
		"usage.cache_creation_input_tokens": 2.0,
		"usage.output_tokens":               10.0,
	})
}

func TestAnthropicStream(t *testing.T) {
	s, url := start(t, Config{Latency: time.Millisecond, TTFT: time.Millisecond, TokensPerSecond: 5000})
	s.Script("claude", Step{Thinking: "Hmm, let me see.", Text: "Calling two tools.", ToolCalls: []llm.ToolCall{
		{Name: "a", Arguments: `{"path":"/tmp/file.txt"}`}, {Name: "b", Arguments: `{}`}}})
	res, b := do(t, "POST", url+"/v1/messages", `{"model":"claude","max_tokens":100,"stream":true,"messages":`+userHello+`}`, antHeaders...)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var names []string
	text, thinking, sig := "", "", ""
	args := map[float64]string{}
	var stop any
	var outTokens any
	for _, ev := range sseEvents(t, b) {
		v := decode(t, ev.Data)
		if v["type"] != ev.Event {
			t.Errorf("event %q carries type %v", ev.Event, v["type"])
		}
		if len(names) == 0 || names[len(names)-1] != ev.Event || ev.Event != "content_block_delta" {
			names = append(names, ev.Event)
		}
		switch ev.Event {
		case "message_start":
			if path(v, "message", "usage", "input_tokens") == nil || path(v, "message", "content") == nil {
				t.Errorf("message_start %v", v)
			}
		case "content_block_delta":
			i := path(v, "index").(float64)
			switch path(v, "delta", "type") {
			case "text_delta":
				text += path(v, "delta", "text").(string)
			case "thinking_delta":
				thinking += path(v, "delta", "thinking").(string)
			case "signature_delta":
				sig = path(v, "delta", "signature").(string)
			case "input_json_delta":
				args[i] += path(v, "delta", "partial_json").(string)
			}
		case "message_delta":
			stop, outTokens = path(v, "delta", "stop_reason"), path(v, "usage", "output_tokens")
		}
	}
	want := []string{"message_start", "ping",
		"content_block_start", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if thinking != "Hmm, let me see." || text != "Calling two tools." || sig == "" || stop != "tool_use" || outTokens == nil {
		t.Errorf("thinking %q text %q sig %q stop %v out %v", thinking, text, sig, stop, outTokens)
	}
	if !json.Valid([]byte(args[2])) || args[2] != `{"path":"/tmp/file.txt"}` || args[3] != "{}" {
		t.Errorf("tool arguments %v", args)
	}
}

func TestAnthropicErrors(t *testing.T) {
	s, url := start(t, Config{APIKey: "k"})
	s.Script("busy", Step{Status: 529})
	s.Script("limited", Step{Status: 429, ErrorMessage: "too fast"})
	ok := `{"model":"claude","max_tokens":10,"messages":` + userHello + `}`
	tests := []struct {
		name    string
		body    string
		hdr     []string
		status  int
		errType string
	}{
		{"no key", ok, []string{"Anthropic-Version", "2023-06-01"}, 401, "authentication_error"},
		{"wrong key", ok, []string{"X-Api-Key", "no", "Anthropic-Version", "2023-06-01"}, 401, "authentication_error"},
		{"no version", ok, []string{"X-Api-Key", "k"}, 400, "invalid_request_error"},
		{"no max_tokens", `{"model":"claude","messages":` + userHello + `}`, antHeaders, 400, "invalid_request_error"},
		{"overloaded", `{"model":"busy","max_tokens":10,"messages":` + userHello + `}`, antHeaders, 529, "overloaded_error"},
		{"rate limited", `{"model":"limited","max_tokens":10,"messages":` + userHello + `}`, antHeaders, 429, "rate_limit_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", url+"/v1/messages", tt.body, tt.hdr...)
			v := decode(t, b)
			if res.StatusCode != tt.status || v["type"] != "error" || path(v, "error", "type") != tt.errType || path(v, "error", "message") == "" {
				t.Errorf("status %d: %s", res.StatusCode, b)
			}
		})
	}
	if _, b := do(t, "POST", url+"/v1/messages", `{"model":"claude","messages":`+userHello+`}`, antHeaders...); !strings.Contains(string(b), "max_tokens") {
		t.Errorf("the max_tokens error does not name the field: %s", b)
	}
}

func TestAnthropicMidStreamError(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("claude", Step{Text: "a b c d", ErrorAfterTokens: 2, Status: 529})
	_, b := do(t, "POST", url+"/v1/messages", `{"model":"claude","max_tokens":10,"stream":true,"messages":`+userHello+`}`, antHeaders...)
	evs := sseEvents(t, b)
	last := evs[len(evs)-1]
	text := ""
	for _, ev := range evs {
		if ev.Event == "content_block_delta" {
			text += path(decode(t, ev.Data), "delta", "text").(string)
		}
		if ev.Event == "message_stop" {
			t.Error("a failed stream sent message_stop")
		}
	}
	if last.Event != "error" || path(decode(t, last.Data), "error", "type") != "overloaded_error" || text != "a b" {
		t.Errorf("last event %s %s, text %q", last.Event, last.Data, text)
	}
}
