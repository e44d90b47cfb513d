package anthropic

import (
	"encoding/json"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *llm.Request
	}{
		{
			name: "minimal",
			body: `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]}`,
			want: &llm.Request{Model: "claude-sonnet-4-5", MaxTokens: 1024, Messages: []llm.Message{user(llm.TextPart("Hello"))}},
		},
		{
			name: "claude code shape",
			body: `{"model":"claude-sonnet-4-5","max_tokens":32000,"stream":true,"temperature":1,"top_k":40,
				"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Be terse."}],
				"metadata":{"user_id":"user_abc_account_1"},
				"thinking":{"type":"enabled","budget_tokens":10000},
				"context_management":{"edits":[]},
				"tools":[{"name":"Read","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}}},"cache_control":{"type":"ephemeral"}}],
				"tool_choice":{"type":"auto","disable_parallel_tool_use":true},
				"messages":[
					{"role":"user","content":[{"type":"text","text":"Read main.go","cache_control":{"type":"ephemeral"}}]},
					{"role":"assistant","content":[
						{"type":"thinking","thinking":"I should read it.","signature":"sig1"},
						{"type":"redacted_thinking","data":"xyz"},
						{"type":"text","text":"Reading."},
						{"type":"tool_use","id":"toolu_1","name":"Read","input":{"path": "main.go"}}]},
					{"role":"user","content":[
						{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"package main"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"UE5H"}}]},
						{"type":"tool_result","tool_use_id":"toolu_x","content":"no such call","is_error":true},
						{"type":"text","text":"Explain it."}]}]}`,
			want: &llm.Request{Model: "claude-sonnet-4-5", MaxTokens: 32000, Stream: true, Temperature: ptr(1.0),
				System:          []llm.Part{llm.TextPart("You are Claude Code."), llm.TextPart("Be terse.")},
				User:            "user_abc_account_1",
				ReasoningEffort: "medium",
				Tools:           []llm.Tool{{Name: "Read", Description: "Read a file", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)}},
				ToolChoice:      &llm.ToolChoice{Mode: "auto"},
				Messages: []llm.Message{
					user(llm.TextPart("Read main.go")),
					assistant(
						llm.Part{Kind: llm.PartThinking, Text: "I should read it.", Signature: "sig1"},
						llm.TextPart("Reading."),
						toolCallPart("toolu_1", "Read", `{"path":"main.go"}`)),
					user(
						llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Name: "Read", Content: []llm.Part{
							llm.TextPart("package main"), {Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte("PNG")}}}}},
						result("toolu_x", "", "no such call", true),
						llm.TextPart("Explain it.")),
				}},
		},
		{
			name: "images, documents, tool choices, structured output, route options",
			body: `{"model":"m","max_tokens":5,"top_p":0.5,"stop_sequences":["END"],
				"tool_choice":{"type":"tool","name":"f"},
				"tools":[{"type":"custom","name":"f","input_schema":{"type":"object"}}],
				"output_config":{"effort":"max","format":{"type":"json_schema","schema":{"type":"object"}}},
				"circuit_breaker":{"fallback_models":["gpt-4o"],"cost_threshold":0.5,"latency_target":800},
				"messages":[{"role":"user","content":[
					{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
					{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERg=="}},
					{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain doc"}}]}]}`,
			want: &llm.Request{Model: "m", MaxTokens: 5, TopP: ptr(0.5), Stop: []string{"END"},
				ToolChoice:      &llm.ToolChoice{Mode: "tool", Name: "f"},
				Tools:           []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}},
				ReasoningEffort: "high",
				ResponseFormat:  &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`), Strict: true},
				Route:           &llm.RouteOptions{FallbackModels: []string{"gpt-4o"}, CostThreshold: 0.5, LatencyTarget: 800},
				Messages: []llm.Message{user(
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/a.png"}},
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "application/pdf", Data: []byte("%PDF")}},
					llm.TextPart("plain doc"))}},
		},
		{
			name: "any and none tool choice; adaptive thinking; legacy output_format; nulls are absent",
			body: `{"model":"m","max_tokens":5,"tool_choice":{"type":"any"},"thinking":{"type":"adaptive"},"temperature":null,"system":null,
				"output_format":{"type":"json_schema","schema":{"type":"object","properties":{}}},
				"messages":[{"role":"user","content":"a"},{"role":"assistant","content":""}]}`,
			want: &llm.Request{Model: "m", MaxTokens: 5, ToolChoice: &llm.ToolChoice{Mode: "required"}, ReasoningEffort: "high",
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object","properties":{}}`), Strict: true},
				Messages:       []llm.Message{user(llm.TextPart("a")), {Role: llm.RoleAssistant}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	const ok = `"model":"m","max_tokens":5`
	tests := []struct {
		name, body, want string
	}{
		{"not an object", `[1]`, `the request body must be a JSON object`},
		{"bad JSON", `{"model":`, `invalid JSON: unexpected end of JSON input`},
		{"no model", `{"max_tokens":5,"messages":[]}`, `model: required`},
		{"model type", `{"model":3}`, `model: want a string, got number`},
		{"no max_tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, `max_tokens: required`},
		{"max_tokens zero", `{"model":"m","max_tokens":0}`, `max_tokens: must be at least 1`},
		{"max_tokens fraction", `{"model":"m","max_tokens":1.5}`, `max_tokens: want an integer, got number 1.5`},
		{"no messages", `{` + ok + `}`, `messages: required`},
		{"empty messages", `{` + ok + `,"messages":[]}`, `messages: at least one message is required`},
		{"messages object", `{` + ok + `,"messages":{}}`, `messages: want an array`},
		{"system role", `{` + ok + `,"messages":[{"role":"system","content":"x"}]}`, `messages.0.role: want "user" or "assistant", got "system"`},
		{"no role", `{` + ok + `,"messages":[{"content":"x"}]}`, `messages.0.role: required`},
		{"no content", `{` + ok + `,"messages":[{"role":"user"}]}`, `messages.0.content: required`},
		{"content number", `{` + ok + `,"messages":[{"role":"user","content":5}]}`, `messages.0.content: want a string or an array of content blocks`},
		{"unknown block", `{` + ok + `,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"foo"}]}]}`,
			`messages.1.content.0.type: unknown block type "foo"`},
		{"block without type", `{` + ok + `,"messages":[{"role":"user","content":[{"text":"a"}]}]}`, `messages.0.content.0.type: required`},
		{"block not an object", `{` + ok + `,"messages":[{"role":"user","content":["a"]}]}`, `messages.0.content.0: want an object, got string`},
		{"text type", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, `messages.0.content.0.text: want a string, got number`},
		{"server tool block", `{` + ok + `,"messages":[{"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search"}]}]}`,
			`messages.0.content.0.type: block type "server_tool_use" is not supported`},
		{"bad base64", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"%%%"}}]}]}`,
			`messages.0.content.0.source.data: invalid base64: illegal base64 data at input byte 0`},
		{"image without media type", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"UE5H"}}]}]}`,
			`messages.0.content.0.source.media_type: required`},
		{"file source", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}`,
			`messages.0.content.0.source.type: image source type "file" is not supported`},
		{"image without source", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, `messages.0.content.0.source: required`},
		{"tool_use from user", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]}`,
			`messages.0.content.0: tool_use blocks belong in assistant messages`},
		{"tool_use without id", `{` + ok + `,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`,
			`messages.0.content.0.id: required`},
		{"tool_use input array", `{` + ok + `,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]}`,
			`messages.0.content.0.input: want an object`},
		{"tool_result from assistant", `{` + ok + `,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t"}]}]}`,
			`messages.0.content.0: tool_result blocks belong in user messages`},
		{"tool_result without id", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`,
			`messages.0.content.0.tool_use_id: required`},
		{"tool_result nested tool_use", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_use"}]}]}]}`,
			`messages.0.content.0.content.0.type: block type "tool_use" is not allowed in a tool result`},
		{"tool_result is_error type", `{` + ok + `,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]}]}`,
			`messages.0.content.0.is_error: want a boolean, got string`},
		{"system image", `{` + ok + `,"system":[{"type":"image"}],"messages":[{"role":"user","content":"x"}]}`, `system.0.type: want "text", got "image"`},
		{"system number", `{` + ok + `,"system":1,"messages":[{"role":"user","content":"x"}]}`, `system: want a string or an array of text blocks`},
		{"server tool", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`,
			`tools.0.type: server tool "web_search_20250305" is not supported`},
		{"tool without name", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"tools":[{"input_schema":{}}]}`, `tools.0.name: required`},
		{"tool without schema", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f"}]}`, `tools.0.input_schema: required`},
		{"tool_choice type", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"some"}}`,
			`tool_choice.type: want "auto", "any", "tool" or "none", got "some"`},
		{"tool_choice without name", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool"}}`,
			`tool_choice.name: required when type is "tool"`},
		{"temperature string", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, `temperature: want a number, got string`},
		{"stream string", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"stream":"yes"}`, `stream: want a boolean, got string`},
		{"stop_sequences string", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"stop_sequences":"END"}`, `stop_sequences: want an array, got string`},
		{"user_id number", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"metadata":{"user_id":7}}`, `metadata.user_id: want a string, got number`},
		{"thinking type", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"deep"}}`,
			`thinking.type: want "enabled", "adaptive" or "disabled", got "deep"`},
		{"effort", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"output_config":{"effort":"extreme"}}`,
			`output_config.effort: want "low", "medium", "high", "xhigh" or "max", got "extreme"`},
		{"format type", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"output_config":{"format":{"type":"json_object"}}}`,
			`output_config.format.type: want "json_schema", got "json_object"`},
		{"route unknown key", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"circuit_breaker":{"fallback_models":[],"speed":"max"}}`,
			`circuit_breaker: unknown field "speed"`},
		{"route type", `{` + ok + `,"messages":[{"role":"user","content":"x"}],"circuit_breaker":{"cost_threshold":"cheap"}}`,
			`circuit_breaker.cost_threshold: want a number, got string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tt.body))
			le := llm.AsError(err)
			if err == nil || le.Kind != llm.KindInvalidRequest || le.Status != 400 || le.Message != tt.want {
				t.Errorf("err = %v\nwant invalid_request %q", err, tt.want)
			}
		})
	}
}

// TestRequestRoundTrip decodes served bodies and re-encodes them for an
// Anthropic upstream: what the caller said must arrive unchanged, less
// what the canonical form drops.
func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "tool conversation",
			in: `{"model":"m","max_tokens":100,"system":"Sys","stop_sequences":["X"],"metadata":{"user_id":"u"},"temperature":0.5,
				"tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"},
				"messages":[{"role":"user","content":"q"},
					{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]},
					{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"}]}]}`,
			want: `{"model":"m","max_tokens":100,"system":"Sys","stop_sequences":["X"],"metadata":{"user_id":"u"},"temperature":0.5,
				"tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"},
				"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},
					{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]},
					{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"}]}]}`,
		},
		{
			name: "images and thinking budget",
			in: `{"model":"m","max_tokens":20000,"thinking":{"type":"enabled","budget_tokens":2000},
				"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"UE5H"}},
					{"type":"image","source":{"type":"url","url":"https://x/y.png"}},{"type":"text","text":"what?"}]}]}`,
			want: `{"model":"m","max_tokens":20000,"thinking":{"type":"enabled","budget_tokens":1024},
				"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"UE5H"}},
					{"type":"image","source":{"type":"url","url":"https://x/y.png"}},{"type":"text","text":"what?"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			body, err := encodeRequest(req, req.Stream)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, tt.want, body)
		})
	}
}
