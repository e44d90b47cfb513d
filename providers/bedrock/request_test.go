package bedrock

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func f64(v float64) *float64 { return &v }

func TestBuildRequest(t *testing.T) {
	weather := llm.Tool{Name: "get_weather", Description: "Weather for a city", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}
	user := func(s string) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}} }
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{
			name: "system and text",
			req: llm.Request{Model: "m", System: []llm.Part{llm.TextPart("Be brief.")}, Messages: []llm.Message{user("Hi")},
				MaxTokens: 100, Temperature: f64(0.2), TopP: f64(0.9), Stop: []string{"END"}},
			want: `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"system":[{"text":"Be brief."}],
				"inferenceConfig":{"maxTokens":100,"temperature":0.2,"topP":0.9,"stopSequences":["END"]}}`,
		},
		{
			name: "no inference config when nothing set, blank text dropped",
			req:  llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(""), llm.TextPart("x")}}}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name: "inline image",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte("PNG")}}, llm.TextPart("what is it?")}}}},
			want: `{"messages":[{"role":"user","content":[{"image":{"format":"png","source":{"bytes":"UE5H"}}},{"text":"what is it?"}]}]}`,
		},
		{
			name: "tool round trip merges the tool turn into the user turn",
			req: llm.Request{Model: "m", Tools: []llm.Tool{weather}, Messages: []llm.Message{
				user("Weather in Paris?"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Kind: llm.PartThinking, Text: "need weather", Signature: "sig"},
					{Kind: llm.PartThinking, Text: "unsigned, from elsewhere"},
					llm.TextPart("Checking."),
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "t1", Name: "get_weather", Arguments: `{"city": "Paris"}`}},
					{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "t2", Name: "get_weather", Arguments: ``}},
				}},
				{Role: llm.RoleTool, Parts: []llm.Part{
					{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t1", Content: []llm.Part{llm.TextPart("18C")}}},
					{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "t2", IsError: true}},
				}},
				user("Thanks"),
			}},
			want: `{"messages":[
				{"role":"user","content":[{"text":"Weather in Paris?"}]},
				{"role":"assistant","content":[
					{"reasoningContent":{"reasoningText":{"text":"need weather","signature":"sig"}}},
					{"text":"Checking."},
					{"toolUse":{"toolUseId":"t1","name":"get_weather","input":{"city":"Paris"}}},
					{"toolUse":{"toolUseId":"t2","name":"get_weather","input":{}}}]},
				{"role":"user","content":[
					{"toolResult":{"toolUseId":"t1","content":[{"text":"18C"}]}},
					{"toolResult":{"toolUseId":"t2","content":[{"json":{}}],"status":"error"}},
					{"text":"Thanks"}]}],
				"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","description":"Weather for a city","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}]}}`,
		},
		{
			name: "tool choice required",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "required"}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],
				"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"any":{}}}}`,
		},
		{
			name: "tool choice named",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{weather}, ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "get_weather"}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],
				"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","description":"Weather for a city","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}],"toolChoice":{"tool":{"name":"get_weather"}}}}`,
		},
		{
			name: "tool choice auto",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "auto"}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],
				"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"auto":{}}}}`,
		},
		{
			name: "tool choice none drops the tools",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, Tools: []llm.Tool{weather}, ToolChoice: &llm.ToolChoice{Mode: "none"}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name: "json schema output",
			req: llm.Request{Model: "m", Messages: []llm.Message{user("x")},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "person", Schema: json.RawMessage(`{ "type": "object" }`)}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],
				"outputConfig":{"textFormat":{"type":"json_schema","structure":{"jsonSchema":{"schema":"{\"type\":\"object\"}","name":"person"}}}}}`,
		},
		{
			name: "json object is not sent",
			req:  llm.Request{Model: "m", Messages: []llm.Message{user("x")}, ResponseFormat: &llm.ResponseFormat{Type: "json_object"}},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name: "reasoning on a Claude inference profile, no max tokens",
			req:  llm.Request{Model: "us.anthropic.claude-sonnet-4-20250514-v1:0", Messages: []llm.Message{user("x")}, ReasoningEffort: "medium"},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":8192},
				"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":4096}}}`,
		},
		{
			name: "reasoning budget shrinks to fit max tokens",
			req:  llm.Request{Model: "anthropic.claude-3-7-sonnet-20250219-v1:0", Messages: []llm.Message{user("x")}, ReasoningEffort: "high", MaxTokens: 8000},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":8000},
				"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":4000}}}`,
		},
		{
			name: "reasoning ignored for other models",
			req:  llm.Request{Model: "amazon.nova-pro-v1:0", Messages: []llm.Message{user("x")}, ReasoningEffort: "high"},
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildRequest(&tt.req)
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
	msg := func(parts ...llm.Part) []llm.Message { return []llm.Message{{Role: llm.RoleUser, Parts: parts}} }
	tests := []struct {
		name string
		req  llm.Request
		want string // part of the message
	}{
		{"image url", llm.Request{Messages: msg(llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://x/y.png"}})}, "messages[0].content[0]: Bedrock Converse takes inline image data"},
		{"image type", llm.Request{Messages: msg(llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/tiff", Data: []byte{1}}})}, `image type "image/tiff"`},
		{"bad arguments", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "a", Name: "f", Arguments: "[1]"}}}}}}, "messages[0].content[0].arguments: not a JSON object"},
		{"unknown role", llm.Request{Messages: []llm.Message{{Role: "system", Parts: []llm.Part{llm.TextPart("x")}}}}, `messages[0].role: unknown role "system"`},
		{"bad tool schema", llm.Request{Messages: msg(llm.TextPart("x")), Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{`)}}}, "tools[0].parameters: not valid JSON"},
		{"unknown tool choice", llm.Request{Messages: msg(llm.TextPart("x")), Tools: []llm.Tool{{Name: "f"}}, ToolChoice: &llm.ToolChoice{Mode: "sometimes"}}, `tool_choice: unknown mode "sometimes"`},
		{"reasoning effort", llm.Request{Model: "anthropic.claude-x", Messages: msg(llm.TextPart("x")), ReasoningEffort: "max"}, `reasoning_effort: "max"`},
		{"reasoning without room", llm.Request{Model: "anthropic.claude-x", Messages: msg(llm.TextPart("x")), ReasoningEffort: "low", MaxTokens: 500}, "max_tokens: 500 leaves no room"},
		{"tool result with a tool call", llm.Request{Messages: msg(llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "a", Content: []llm.Part{{Kind: llm.PartToolCall}}}})}, "tool results hold text and images only"},
		{"schema", llm.Request{Messages: msg(llm.TextPart("x")), ResponseFormat: &llm.ResponseFormat{Type: "json_schema"}}, "response_format.json_schema.schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildRequest(&tt.req)
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

func TestEscapeSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1%3A0"},
		{"arn:aws:bedrock:us-east-1:123:inference-profile/us.x", "arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x"},
		{"a b~_", "a%20b~_"},
	}
	for _, tt := range tests {
		if got := escapeSegment(tt.in); got != tt.want {
			t.Errorf("escapeSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
