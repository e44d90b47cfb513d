package gemini

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

var weatherTool = llm.Tool{Name: "get_weather", Description: "Weather for a city", Parameters: json.RawMessage(`{
	"$schema": "http://json-schema.org/draft-07/schema#",
	"type": "object",
	"additionalProperties": false,
	"properties": {
		"city": {"type": "string", "minLength": 1},
		"unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", null]},
		"when": {"type": "string", "format": "date-time"},
		"email": {"type": "string", "format": "email"}
	},
	"required": ["city", "missing"]
}`)}

func TestRequestGolden(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
	}{
		{"text", llm.Request{
			Model:       "gemini-2.5-flash",
			System:      []llm.Part{llm.TextPart("You are terse.")},
			Messages:    []llm.Message{user(llm.TextPart("Hi")), assistant(llm.TextPart("Hello.")), user(llm.TextPart("Bye"))},
			MaxTokens:   256,
			Temperature: ptr(0.2),
			TopP:        ptr(0.9),
			Stop:        []string{"END"},
			User:        "end-user-1",
		}},
		{"tool round trip", llm.Request{
			Model: "gemini-3-pro-preview",
			Messages: []llm.Message{
				user(llm.TextPart("Weather in Paris and Rome?")),
				assistant(
					thinking("I will call the tool twice.", ""),
					thinking("", "c2lnLWNhbGw="),
					toolCall("call_a", "get_weather", `{ "city": "Paris" }`),
					toolCall("call_b", "get_weather", ``),
				),
				{Role: llm.RoleTool, Parts: []llm.Part{
					result("call_a", "", `{"temp": 21}`, false),
					result("call_b", "get_weather", "city not found", true),
				}},
				user(llm.TextPart("And plain text?")),
				assistant(toolCall("call_c", "lookup", `{}`)),
				{Role: llm.RoleTool, Parts: []llm.Part{result("call_c", "", "sunny", false)}},
			},
			Tools:      []llm.Tool{weatherTool, {Name: "lookup", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
			ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "get_weather"},
		}},
		{"images", llm.Request{
			Model: "gemini-2.5-flash",
			Messages: []llm.Message{user(
				llm.TextPart("What is in these?"),
				llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}}},
				llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/cat.jpg", MediaType: "image/jpeg"}},
			)},
		}},
		{"json schema", llm.Request{
			Model:    "gemini-2.5-flash",
			Messages: []llm.Message{user(llm.TextPart("Give me a person"))},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "person", Schema: json.RawMessage(`{
				"$defs": {"Address": {"type": "object", "properties": {"street": {"type": "string"}}, "additionalProperties": false}},
				"type": "object",
				"properties": {
					"name": {"type": "string", "const": "Ada"},
					"age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
					"address": {"$ref": "#/$defs/Address", "description": "Home"},
					"tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}
				},
				"required": ["name"]
			}`)},
		}},
		{"json object and thinking budget", llm.Request{
			Model:           "gemini-2.5-pro",
			Messages:        []llm.Message{user(llm.TextPart("JSON please"))},
			ResponseFormat:  &llm.ResponseFormat{Type: "json_object"},
			ReasoningEffort: "medium",
		}},
		{"thinking level and choice", llm.Request{
			Model:           "gemini-3-flash-preview",
			Messages:        []llm.Message{user(llm.TextPart("Think"))},
			ReasoningEffort: "high",
			Tools:           []llm.Tool{{Name: "noop"}},
			ToolChoice:      &llm.ToolChoice{Mode: "required"},
		}},
		{"signature on final empty part", llm.Request{
			Model: "gemini-3-pro-preview",
			Messages: []llm.Message{
				user(llm.TextPart("Hi")),
				assistant(llm.TextPart("Hello"), thinking("", "c2lnLWVuZA==")),
				user(llm.TextPart("Again")),
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := buildRequest(&tt.req)
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
			user(llm.TextPart("x")), assistant(toolCall("c", "f", `{"a":`)),
		}}, "messages[1].parts[0].arguments"},
		{"array arguments", llm.Request{Model: "m", Messages: []llm.Message{
			user(llm.TextPart("x")), assistant(llm.TextPart("ok"), toolCall("c", "f", `[1]`)),
		}}, "messages[1].parts[1].arguments"},
		{"result for unknown call", llm.Request{Model: "m", Messages: []llm.Message{
			user(result("nope", "", "x", false)),
		}}, "messages[0].parts[0]"},
		{"unknown role", llm.Request{Model: "m", Messages: []llm.Message{{Role: "system", Parts: []llm.Part{llm.TextPart("x")}}}}, "messages[0].role"},
		{"system image", llm.Request{Model: "m", System: []llm.Part{{Kind: llm.PartImage, Image: &llm.Image{URL: "u"}}},
			Messages: []llm.Message{user(llm.TextPart("x"))}}, "system[0]"},
		{"inline image without type", llm.Request{Model: "m", Messages: []llm.Message{
			user(llm.Part{Kind: llm.PartImage, Image: &llm.Image{Data: []byte("x")}}),
		}}, "media type"},
		{"tool choice mode", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))}, ToolChoice: &llm.ToolChoice{Mode: "any"}}, "tool_choice"},
		{"reasoning effort", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))}, ReasoningEffort: "max"}, "reasoning_effort"},
		{"bad tool schema", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))},
			Tools: []llm.Tool{{Name: "t", Parameters: json.RawMessage(`[1]`)}}}, "tools[0].parameters"},
		{"response format type", llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("x"))},
			ResponseFormat: &llm.ResponseFormat{Type: "xml"}}, "response_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildRequest(&tt.req)
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

// TestSignatureRoundTrip checks that a response read by the adapter and
// sent back as history puts every thoughtSignature on the part Gemini
// signed (unsigned thought summaries are not sent back).
func TestSignatureRoundTrip(t *testing.T) {
	tests := []struct {
		fixture string
		want    string // the model turn sent back
	}{
		{"chat_tool.json", `{"role":"model","parts":[` +
			`{"thoughtSignature":"c2lnLWNhbGw=","functionCall":{"name":"get_weather","args":{"city":"Paris","unit":"celsius"}}},` +
			`{"functionCall":{"name":"get_time","args":{"tz":"Europe/Paris"}}}]}`},
		{"chat_text.json", `{"role":"model","parts":[{"text":"Hello! "},{"text":"How can I help?","thoughtSignature":"c2lnLXRleHQ="}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var wire response
			if err := json.Unmarshal(raw, &wire); err != nil {
				t.Fatal(err)
			}
			d := decoder{name: "gem", whole: true}
			evs, err := d.add(&wire, nil)
			if err == nil {
				evs, err = d.finish(evs)
			}
			if err != nil {
				t.Fatal(err)
			}
			var acc llm.Accumulator
			for _, ev := range evs {
				if err := acc.Add(ev); err != nil {
					t.Fatal(err)
				}
			}
			req := llm.Request{Model: "m", Messages: []llm.Message{user(llm.TextPart("q")), assistant(acc.Response().Parts...)}}
			body, err := buildRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			var sent request
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(sent.Contents[1])
			if string(got) != tt.want {
				t.Errorf("model turn\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
