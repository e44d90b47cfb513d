package cohere

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func f64(v float64) *float64 { return &v }

func TestBuildRequest(t *testing.T) {
	weather := llm.Tool{Name: "get_weather", Description: "Weather for a city", Parameters: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string"}}}`)}
	clock := llm.Tool{Name: "get_time"}
	user := func(s string) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}} }
	tests := []struct {
		name   string
		req    llm.Request
		stream bool
		want   string
	}{
		{
			name: "system, sampling and stream",
			req: llm.Request{Model: "command-a-03-2025", System: []llm.Part{llm.TextPart("Be brief.")}, Messages: []llm.Message{user("Hi")},
				MaxTokens: 100, Temperature: f64(0.3), TopP: f64(0.75), Stop: []string{"END"}, User: "u-1", ReasoningEffort: "high"},
			stream: true,
			want: `{"model":"command-a-03-2025","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
				"max_tokens":100,"temperature":0.3,"p":0.75,"stop_sequences":["END"],"stream":true}`,
		},
		{
			name: "several system parts and images",
			req: llm.Request{Model: "m", System: []llm.Part{llm.TextPart("A."), llm.TextPart("B.")}, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				llm.TextPart("What is this?"),
				{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.png", Detail: "low"}},
				{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte("PNG")}},
			}}}},
			want: `{"model":"m","messages":[
				{"role":"system","content":[{"type":"text","text":"A."},{"type":"text","text":"B."}]},
				{"role":"user","content":[{"type":"text","text":"What is this?"},
					{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},
					{"type":"image_url","image_url":{"url":"data:image/png;base64,UE5H"}}]}]}`,
		},
		{
			name: "tool round trip",
			req: llm.Request{Model: "m", Tools: []llm.Tool{weather}, Messages: []llm.Message{
				user("Weather in Madrid and Brasilia?"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Kind: llm.PartThinking, Text: "I will look both up."},
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "get_weather", Arguments: `{"location":"Madrid"}`}},
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c2", Name: "get_weather"}},
				}},
				{Role: llm.RoleTool, Parts: []llm.Part{
					{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c1", Content: []llm.Part{llm.TextPart(`{"temp":24}`)}}},
					{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c2", IsError: true}},
				}},
			}},
			want: `{"model":"m","messages":[
				{"role":"user","content":"Weather in Madrid and Brasilia?"},
				{"role":"assistant","tool_plan":"I will look both up.","tool_calls":[
					{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Madrid\"}"}},
					{"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
				{"role":"tool","tool_call_id":"c1","content":[{"type":"document","document":{"data":"{\"temp\":24}"}}]},
				{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":""}]}],
				"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`,
		},
		{
			name: "assistant text before tool calls becomes the tool plan",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
				llm.TextPart("Checking."), {Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: "{}"}}}}}},
			want: `{"model":"m","messages":[{"role":"assistant","tool_plan":"Checking.","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		},
		{
			name: "assistant text and thinking without tools",
			req: llm.Request{Model: "m", Messages: []llm.Message{
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartThinking, Text: "hmm"}, llm.TextPart("Hello.")}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartThinking, Text: "only thinking"}}},
			}},
			want: `{"model":"m","messages":[{"role":"assistant","content":[{"type":"text","text":"Hello."}]}]}`,
		},
		{
			name: "tool results before user text in the same turn",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				llm.TextPart("and now?"), {Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c1", Content: []llm.Part{llm.TextPart("ok")}}}}}}},
			want: `{"model":"m","messages":[{"role":"tool","tool_call_id":"c1","content":[{"type":"document","document":{"data":"ok"}}]},{"role":"user","content":"and now?"}]}`,
		},
		{
			name: "tool choice required",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{clock}, ToolChoice: &llm.ToolChoice{Mode: "required"}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"REQUIRED",
				"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]}`,
		},
		{
			name: "tool choice none",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{clock}, ToolChoice: &llm.ToolChoice{Mode: "none"}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"NONE",
				"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]}`,
		},
		{
			name: "tool choice named sends only that tool",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{weather, clock}, ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "get_time"}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"REQUIRED",
				"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]}`,
		},
		{
			name: "tool choice without tools is dropped",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, ToolChoice: &llm.ToolChoice{Mode: "required"}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}]}`,
		},
		{
			name: "json object",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, ResponseFormat: &llm.ResponseFormat{Type: "json_object"}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
		},
		{
			name: "json schema",
			req: llm.Request{Model: "m", Messages: []llm.Message{user("x")},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "p", Schema: json.RawMessage(`{"type":"object","required":["a"]}`)}},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object","json_schema":{"type":"object","required":["a"]}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildRequest(&tt.req, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(b, &gotV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &wantV); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if d := cmp.Diff(wantV, gotV); d != "" {
				t.Errorf("body mismatch (-want +got):\n%s\ngot: %s", d, b)
			}
		})
	}
}

func TestBuildRequestErrors(t *testing.T) {
	msg := func(role llm.Role, parts ...llm.Part) []llm.Message { return []llm.Message{{Role: role, Parts: parts}} }
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{"unknown role", llm.Request{Messages: msg("system", llm.TextPart("x"))}, `messages[0].role: unknown role "system"`},
		{"tool call in a user turn", llm.Request{Messages: msg(llm.RoleUser, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{}})}, "messages[0].content[0]: a user message cannot hold"},
		{"image in an assistant turn", llm.Request{Messages: msg(llm.RoleAssistant, llm.Part{Kind: llm.PartImage})}, "messages[0].content[0]: an assistant message cannot hold"},
		{"bad arguments", llm.Request{Messages: msg(llm.RoleAssistant, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "a", Name: "f", Arguments: "{"}})}, "messages[0].content[0].arguments: not valid JSON"},
		{"image in a tool result", llm.Request{Messages: msg(llm.RoleTool, llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "a", Content: []llm.Part{{Kind: llm.PartImage}}}})}, "messages[0].content[0].content[0]: Cohere tool results hold text only"},
		{"inline image without type", llm.Request{Messages: msg(llm.RoleUser, llm.Part{Kind: llm.PartImage, Image: &llm.Image{Data: []byte{1}}})}, "inline image without a media type"},
		{"named tool missing", llm.Request{Messages: msg(llm.RoleUser, llm.TextPart("x")), Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "g"}}, `tool_choice: tool "g" is not among the tools`},
		{"bad tool schema", llm.Request{Messages: msg(llm.RoleUser, llm.TextPart("x")), Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage("{")}}}, "tools[0].parameters: not valid JSON"},
		{"response format", llm.Request{Messages: msg(llm.RoleUser, llm.TextPart("x")), ResponseFormat: &llm.ResponseFormat{Type: "xml"}}, `response_format.type: unknown type "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildRequest(&tt.req, false)
			if err == nil {
				t.Fatal("want an error")
			}
			e := asLLMError(t, err)
			if e.Kind != llm.KindInvalidRequest || !strings.Contains(e.Message, tt.want) {
				t.Errorf("got %s %q, want invalid_request containing %q", e.Kind, e.Message, tt.want)
			}
		})
	}
}
