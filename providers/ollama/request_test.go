package ollama

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/request")

func ptr[T any](v T) *T { return &v }

func user(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: parts} }

func assistant(parts ...llm.Part) llm.Message {
	return llm.Message{Role: llm.RoleAssistant, Parts: parts}
}

func result(callID, name, text string, isErr bool) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: callID, Name: name, Content: []llm.Part{llm.TextPart(text)}, IsError: isErr}}
}

var weatherTool = llm.Tool{Name: "get_weather", Description: "Weather for a city",
	Parameters: json.RawMessage(`{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}`)}

func TestRequestGolden(t *testing.T) {
	tests := []struct {
		name   string
		req    llm.Request
		stream bool
	}{
		{"text", llm.Request{
			Model:       "llama3.2",
			System:      []llm.Part{llm.TextPart("You are terse.")},
			Messages:    []llm.Message{user(llm.TextPart("Hi")), assistant(llm.TextPart("Hello.")), user(llm.TextPart("Bye"))},
			MaxTokens:   256,
			Temperature: ptr(0.0),
			TopP:        ptr(0.9),
			Stop:        []string{"END"},
		}, false},
		{"tool round trip", llm.Request{
			Model: "qwen3",
			Messages: []llm.Message{
				user(llm.TextPart("Weather in Paris and Rome?")),
				assistant(
					llm.Part{Kind: llm.PartThinking, Text: "Two calls."},
					callPart("call_a", "get_weather", `{ "city": "Paris" }`),
					callPart("call_b", "get_weather", ``),
				),
				{Role: llm.RoleTool, Parts: []llm.Part{
					result("call_a", "", `{"temp": 21}`, false),
					result("call_b", "get_weather", "city not found", true),
				}},
				user(result("call_x", "", "orphan", false), llm.TextPart("Thanks")),
			},
			Tools:           []llm.Tool{weatherTool, {Name: "noop"}},
			ReasoningEffort: "low",
		}, true},
		{"image", llm.Request{
			Model:    "llava",
			Messages: []llm.Message{user(llm.TextPart("What is this?"), llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}}})},
		}, true},
		{"json schema", llm.Request{
			Model:          "llama3.1:8b",
			Messages:       []llm.Message{user(llm.TextPart("Age?"))},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type": "object", "properties": {"age": {"type": "integer"}}}`)},
		}, false},
		{"json object", llm.Request{
			Model:          "llama3.1:8b",
			Messages:       []llm.Message{user(llm.TextPart("JSON"))},
			ResponseFormat: &llm.ResponseFormat{Type: "json_object"},
		}, false},
		{"tool choice picks one", llm.Request{
			Model:      "qwen3",
			Messages:   []llm.Message{user(llm.TextPart("x"))},
			Tools:      []llm.Tool{weatherTool, {Name: "noop"}},
			ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "noop"},
		}, false},
		{"tool choice none", llm.Request{
			Model:      "qwen3",
			Messages:   []llm.Message{user(llm.TextPart("x"))},
			Tools:      []llm.Tool{weatherTool},
			ToolChoice: &llm.ToolChoice{Mode: "none"},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := buildRequest(&tt.req, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "request", strings.ReplaceAll(tt.name, " ", "_")+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(want, pretty.Bytes()) {
				t.Errorf("request body differs from %s:\n%s", path, pretty.Bytes())
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{"no model", llm.Request{Messages: []llm.Message{user(llm.TextPart("x"))}}, "model"},
		{"no messages", llm.Request{Model: "m"}, "messages"},
		{"bad arguments", llm.Request{Model: "m", Messages: []llm.Message{
			user(llm.TextPart("x")), assistant(callPart("c", "f", `{"a":`)),
		}}, "messages[1].parts[0].arguments"},
		{"array arguments", llm.Request{Model: "m", Messages: []llm.Message{
			user(llm.TextPart("x")), assistant(llm.TextPart("ok"), callPart("c", "f", `[1]`)),
		}}, "messages[1].parts[1].arguments"},
		{"image URL", llm.Request{Model: "m", Messages: []llm.Message{
			user(llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/a.png"}}),
		}}, "messages[0].parts[0]"},
		{"tool call in user turn", llm.Request{Model: "m", Messages: []llm.Message{user(callPart("c", "f", "{}"))}}, "messages[0].parts[0]"},
		{"unknown role", llm.Request{Model: "m", Messages: []llm.Message{{Role: "system"}}}, "messages[0].role"},
		{"system image", llm.Request{Model: "m", System: []llm.Part{{Kind: llm.PartImage}}, Messages: []llm.Message{user(llm.TextPart("x"))}}, "system[0]"},
		{"unknown tool in choice", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))},
			Tools: []llm.Tool{weatherTool}, ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "other"}}, "tool_choice"},
		{"bad tool schema", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))},
			Tools: []llm.Tool{{Name: "t", Parameters: json.RawMessage(`"x"`)}}}, "tools[0].parameters"},
		{"bad response schema", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`[`)}}, "response_format.schema"},
		{"reasoning effort", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))}, ReasoningEffort: "max"}, "reasoning_effort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildRequest(&tt.req, false)
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest {
				t.Fatalf("err = %v, want an invalid-request *llm.Error", err)
			}
			if !strings.Contains(le.Message, tt.want) {
				t.Errorf("message %q does not name %q", le.Message, tt.want)
			}
		})
	}
}
