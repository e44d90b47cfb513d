package anthropic

import (
	"encoding/json"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func user(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: parts} }
func assistant(parts ...llm.Part) llm.Message {
	return llm.Message{Role: llm.RoleAssistant, Parts: parts}
}
func toolMsg(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleTool, Parts: parts} }
func result(id, name, text string, isErr bool) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: id, Name: name, Content: []llm.Part{llm.TextPart(text)}, IsError: isErr}}
}

// jsonEqual compares JSON texts as values.
func jsonEqual(t *testing.T, want string, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("JSON (-want +got):\n%s\ngot: %s", diff, got)
	}
}

func TestEncodeRequest(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{
			name: "minimal with default max_tokens",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("Hi"))}},
			want: `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "system string, sampling, stop, user",
			req: llm.Request{Model: "m", MaxTokens: 100, System: []llm.Part{llm.TextPart("Be brief.")},
				Messages: []llm.Message{user(llm.TextPart("Hi"))}, Temperature: ptr(0.2), Stop: []string{"END"}, User: "u-42"},
			want: `{"model":"m","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
				"temperature":0.2,"stop_sequences":["END"],"metadata":{"user_id":"u-42"}}`,
		},
		{
			name: "system blocks; temperature clamped and top_p dropped",
			req: llm.Request{Model: "m", MaxTokens: 10, System: []llm.Part{llm.TextPart("A"), llm.TextPart(""), llm.TextPart("B")},
				Messages: []llm.Message{user(llm.TextPart("Hi"))}, Temperature: ptr(1.7), TopP: ptr(0.9)},
			want: `{"model":"m","max_tokens":10,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],
				"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":1}`,
		},
		{
			name: "top_p alone",
			req:  llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))}, TopP: ptr(0.5)},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"top_p":0.5}`,
		},
		{
			name: "tool round trip: merged turns, results first, ids sanitised, foreign thinking dropped",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{
				user(llm.TextPart("Weather in SF and Paris?")),
				user(llm.TextPart("Celsius please.")),
				assistant(
					llm.Part{Kind: llm.PartThinking, Text: "from another provider"},
					llm.Part{Kind: llm.PartThinking, Text: "mine", Signature: "sig"},
					llm.TextPart(""),
					toolCallPart("call_abc", "get_weather", `{"location": "SF"}`),
					toolCallPart("call:def/1", "get_weather", ``),
				),
				toolMsg(result("call_abc", "get_weather", "18C", false)),
				user(llm.TextPart("and quickly")),
				toolMsg(result("call:def/1", "get_weather", "boom", true)),
			}},
			want: `{"model":"m","max_tokens":10,"messages":[
				{"role":"user","content":[{"type":"text","text":"Weather in SF and Paris?"},{"type":"text","text":"Celsius please."}]},
				{"role":"assistant","content":[
					{"type":"thinking","thinking":"mine","signature":"sig"},
					{"type":"tool_use","id":"call_abc","name":"get_weather","input":{"location":"SF"}},
					{"type":"tool_use","id":"call_def_1","name":"get_weather","input":{}}]},
				{"role":"user","content":[
					{"type":"tool_result","tool_use_id":"call_abc","content":"18C"},
					{"type":"tool_result","tool_use_id":"call_def_1","content":"boom","is_error":true},
					{"type":"text","text":"and quickly"}]}]}`,
		},
		{
			name: "images: inline, URL, data URL, PDF; result with an image",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{
				user(
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte("PNG")}},
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.jpg"}},
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "data:image/jpeg;base64,SlBH"}},
					llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "application/pdf", Data: []byte("%PDF")}},
				),
				assistant(toolCallPart("toolu_1", "shot", "{}")),
				user(llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Content: []llm.Part{
					llm.TextPart("here"), {Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/gif", Data: []byte("GIF")}}}}}),
			}},
			want: `{"model":"m","max_tokens":10,"messages":[
				{"role":"user","content":[
					{"type":"image","source":{"type":"base64","media_type":"image/png","data":"UE5H"}},
					{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
					{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"SlBH"}},
					{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERg=="}}]},
				{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"shot","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[
					{"type":"text","text":"here"},{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lG"}}]}]}]}`,
		},
		{
			name: "tools and a named tool choice",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				Tools: []llm.Tool{
					{Name: "get_weather", Description: "Weather now", Parameters: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string"}}}`)},
					{Name: "ping"},
				},
				ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "get_weather"}},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
				"tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}},
					{"name":"ping","input_schema":{"type":"object","properties":{}}}],
				"tool_choice":{"type":"tool","name":"get_weather"}}`,
		},
		{
			name: "required tool choice; reasoning effort not sent with a forced tool",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "required"}, ReasoningEffort: "high"},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
				"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any"}}`,
		},
		{
			name: "tool choice without tools is left out",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				ToolChoice: &llm.ToolChoice{Mode: "none"}},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "reasoning effort: thinking budget, max_tokens raised, sampling dropped",
			req: llm.Request{Model: "m", MaxTokens: 1000, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				ReasoningEffort: "medium", Temperature: ptr(0.3)},
			want: `{"model":"m","max_tokens":8192,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
				"thinking":{"type":"enabled","budget_tokens":4096}}`,
		},
		{
			name: "reasoning effort not sent when the last tool-calling turn has no signed thinking",
			req: llm.Request{Model: "m", MaxTokens: 10, ReasoningEffort: "low", Messages: []llm.Message{
				user(llm.TextPart("Hi")),
				assistant(llm.Part{Kind: llm.PartThinking, Text: "unsigned"}, toolCallPart("c", "f", "{}")),
				toolMsg(result("c", "f", "ok", false))}},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},
				{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"f","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":"ok"}]}]}`,
		},
		{
			name: "reasoning effort sent when the last tool-calling turn starts with signed thinking",
			req: llm.Request{Model: "m", MaxTokens: 10, ReasoningEffort: "low", Messages: []llm.Message{
				user(llm.TextPart("Hi")),
				assistant(llm.Part{Kind: llm.PartThinking, Text: "t", Signature: "s"}, toolCallPart("c", "f", "{}")),
				toolMsg(result("c", "f", "ok", false))}},
			want: `{"model":"m","max_tokens":5120,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},
				{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"c","name":"f","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":"ok"}]}],
				"thinking":{"type":"enabled","budget_tokens":1024}}`,
		},
		{
			name: "json schema output; json_object left to the prompt",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "x", Schema: json.RawMessage(`{"type":"object"}`)}},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
				"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}}`,
		},
		{
			name: "json object",
			req: llm.Request{Model: "m", MaxTokens: 10, Messages: []llm.Message{user(llm.TextPart("Hi"))},
				ResponseFormat: &llm.ResponseFormat{Type: "json_object"}},
			want: `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := encodeRequest(&tt.req, false)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, tt.want, body)
		})
	}
}

func TestEncodeRequestGeneratedIDs(t *testing.T) {
	req := llm.Request{Model: "m", Messages: []llm.Message{
		user(llm.TextPart("go")),
		assistant(toolCallPart("", "a", "{}"), toolCallPart("", "b", "{}")),
		toolMsg(result("", "b", "B", false), result("", "a", "A", false)),
	}}
	body, err := encodeRequest(&req, false)
	if err != nil {
		t.Fatal(err)
	}
	var w wireRequest
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	calls, results := w.Messages[1].Content, w.Messages[2].Content
	if calls[0].ID == "" || calls[0].ID == calls[1].ID {
		t.Fatalf("generated ids %q, %q", calls[0].ID, calls[1].ID)
	}
	if results[0].ToolUseID != calls[1].ID || results[1].ToolUseID != calls[0].ID {
		t.Errorf("results answer %q, %q; calls are a=%q b=%q", results[0].ToolUseID, results[1].ToolUseID, calls[0].ID, calls[1].ID)
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{"invalid arguments", llm.Request{Messages: []llm.Message{user(llm.TextPart("x")), assistant(llm.TextPart("ok"), toolCallPart("t1", "f", `{"a":`))}},
			`messages.1.parts.1: tool call "f": arguments are not a JSON object: unexpected end of JSON input`},
		{"array arguments", llm.Request{Messages: []llm.Message{assistant(toolCallPart("t1", "f", `[1]`))}},
			`messages.0.parts.0: tool call "f": arguments are not a JSON object: want an object`},
		{"tool call in a user turn", llm.Request{Messages: []llm.Message{user(toolCallPart("t1", "f", `{}`))}},
			`messages.0.parts.0: tool calls belong in assistant messages`},
		{"unknown role", llm.Request{Messages: []llm.Message{{Role: "system", Parts: []llm.Part{llm.TextPart("x")}}}},
			`messages.0.role: unknown role "system"`},
		{"image without data", llm.Request{Messages: []llm.Message{user(llm.Part{Kind: llm.PartImage, Image: &llm.Image{}})}},
			`messages.0.parts.0: image without data or URL`},
		{"bad tool choice", llm.Request{Messages: []llm.Message{user(llm.TextPart("x"))}, Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "sometimes"}},
			`tool_choice: unknown mode "sometimes"`},
		{"image in system", llm.Request{System: []llm.Part{{Kind: llm.PartImage}}},
			`system.0: only text parts are allowed in the system prompt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeRequest(&tt.req, false)
			le := llm.AsError(err)
			if err == nil || le.Kind != llm.KindInvalidRequest || le.Message != tt.want {
				t.Errorf("err = %v, want invalid_request %q", err, tt.want)
			}
		})
	}
}
