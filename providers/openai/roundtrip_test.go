package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func ptr[T any](v T) *T { return &v }

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func toolCallPart(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Name: name, Arguments: args}}
}

func toolResultPart(id, name string, content ...llm.Part) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: id, Name: name, Content: content}}
}

// TestRequestRoundTrip: canonical → the adapter's wire body → DecodeRequest
// gives the canonical request back.
func TestRequestRoundTrip(t *testing.T) {
	weather := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)
	tests := []struct {
		name string
		req  *llm.Request
	}{
		{
			name: "text with sampling options",
			req: &llm.Request{Model: "gpt-4o", System: []llm.Part{llm.TextPart("Be brief.")},
				Messages:  []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hello")}}},
				MaxTokens: 256, Temperature: ptr(0.2), TopP: ptr(0.9), Stop: []string{"\n\n", "END"},
				ReasoningEffort: "low", User: "user-42"},
		},
		{
			name: "images by URL and inline",
			req: &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				llm.TextPart("Compare these"),
				{Kind: llm.PartImage, Image: &llm.Image{URL: "https://example.com/a.jpg", Detail: "low"}},
				{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: png, Detail: "high"}},
			}}}},
		},
		{
			name: "parallel tool calls and their results",
			req: &llm.Request{Model: "gpt-4o", Stream: true,
				Tools: []llm.Tool{{Name: "get_weather", Description: "Weather by city", Parameters: weather}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Paris and Rome?")}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{
						llm.TextPart("Checking both."),
						toolCallPart("call_1", "get_weather", `{"city":"Paris"}`),
						toolCallPart("call_2", "get_weather", `{"city":"Rome"}`),
					}},
					{Role: llm.RoleTool, Parts: []llm.Part{
						toolResultPart("call_1", "get_weather", llm.TextPart("18C")),
						toolResultPart("call_2", "get_weather", llm.TextPart("24C")),
					}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Rome is warmer.")}},
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Thanks")}},
				}},
		},
		{
			name: "tool calls without text, forced tool, json schema",
			req: &llm.Request{Model: "o4-mini",
				Tools:      []llm.Tool{{Name: "get_weather", Parameters: weather}, {Name: "noop"}},
				ToolChoice: &llm.ToolChoice{Mode: "tool", Name: "get_weather"},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Name: "answer",
					Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: true},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("go")}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{toolCallPart("call_9", "noop", `{}`)}},
					{Role: llm.RoleTool, Parts: []llm.Part{toolResultPart("call_9", "noop")}},
				}},
		},
		{
			name: "required tool choice and json object",
			req: &llm.Request{Model: "gpt-4o-mini", ToolChoice: &llm.ToolChoice{Mode: "required"},
				Tools:          []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}},
				ResponseFormat: &llm.ResponseFormat{Type: "json_object"},
				Messages:       []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("{}")}}}},
		},
	}
	for _, tt := range tests {
		for _, completion := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/max_completion_tokens=%v", tt.name, completion), func(t *testing.T) {
				wire, err := encodeRequest(tt.req, tt.req.Stream, completion)
				if err != nil {
					t.Fatal(err)
				}
				body, err := json.Marshal(wire)
				if err != nil {
					t.Fatal(err)
				}
				got, opts, err := DecodeRequest(body)
				if err != nil {
					t.Fatalf("DecodeRequest(%s): %v", body, err)
				}
				if diff := cmp.Diff(tt.req, got); diff != "" {
					t.Errorf("request (-want +got):\n%s\nwire: %s", diff, body)
				}
				if opts.IncludeUsage != tt.req.Stream {
					t.Errorf("IncludeUsage = %v, want %v", opts.IncludeUsage, tt.req.Stream)
				}
			})
		}
	}
}

// TestRequestWire pins the wire shape of the lossy or order-sensitive
// mappings.
func TestRequestWire(t *testing.T) {
	req := &llm.Request{Model: "m",
		System: []llm.Part{llm.TextPart("One."), llm.TextPart("Two.")},
		Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartThinking, Text: "hmm"}, toolCallPart("c1", "shot", "")}},
			{Role: llm.RoleUser, Parts: []llm.Part{
				toolResultPart("c1", "shot", llm.TextPart("here:"), llm.Part{Kind: llm.PartImage, Image: &llm.Image{URL: "https://x/y.png"}}),
				llm.TextPart("What is in it?"),
			}},
		}}
	wire, err := encodeRequest(req, false, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(wire.Messages)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"role":"system","content":"One.\n\nTwo."},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"shot","arguments":"{}"}}]},` +
		`{"role":"tool","content":"here:","tool_call_id":"c1"},` +
		`{"role":"user","content":[{"type":"text","text":"What is in it?"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]`
	if string(got) != want {
		t.Errorf("messages\n got %s\nwant %s", got, want)
	}
}

var responses = []struct {
	name string
	resp *llm.Response
	// stream is false for what a stream cannot carry (a refusal is sent as
	// content once streamed).
	stream bool
}{
	{"text", &llm.Response{ID: "chatcmpl-1", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("Hi \"there\"\n<b>&\u2028")},
		StopReason: llm.StopEnd, Usage: llm.Usage{Input: 10, Output: 3}}, true},
	{"cached and reasoning usage", &llm.Response{ID: "chatcmpl-2", Model: "o3", Parts: []llm.Part{
		{Kind: llm.PartThinking, Text: "Let me think."}, llm.TextPart("42"),
	}, StopReason: llm.StopLength, Usage: llm.Usage{Input: 100, CacheRead: 1024, Output: 7, Reasoning: 900}}, true},
	{"parallel tool calls", &llm.Response{ID: "chatcmpl-3", Model: "gpt-4o-mini", Parts: []llm.Part{
		toolCallPart("call_a", "get_weather", `{"city":"Paris"}`),
		toolCallPart("call_b", "get_time", `{"tz": "Europe/Rome"}`),
	}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 50, Output: 30}}, true},
	{"text and a tool call", &llm.Response{ID: "chatcmpl-4", Model: "gpt-4o", Parts: []llm.Part{
		llm.TextPart("Looking it up."), toolCallPart("call_c", "search", `{"q":"ünïcode"}`),
	}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 1, CacheRead: 2, Output: 3, Reasoning: 4}}, true},
	{"content filter", &llm.Response{ID: "chatcmpl-5", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("Part")},
		StopReason: llm.StopContentFilter, Usage: llm.Usage{Input: 5, Output: 1}}, true},
	{"refusal", &llm.Response{ID: "chatcmpl-6", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("I can't help with that.")},
		StopReason: llm.StopRefusal, Usage: llm.Usage{Input: 5, Output: 6}}, false},
}

// TestResponseRoundTrip: EncodeResponse → the adapter's decoder.
func TestResponseRoundTrip(t *testing.T) {
	c := newClient(t, testConfig)
	for _, tt := range responses {
		t.Run(tt.name, func(t *testing.T) {
			body := EncodeResponse(tt.resp, tt.resp.Model, 1730000000)
			got, err := c.decodeResponse(body)
			if err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if diff := cmp.Diff(tt.resp, got); diff != "" {
				t.Errorf("response (-want +got):\n%s\nwire: %s", diff, body)
			}
		})
	}
}

// TestStreamRoundTrip: the events of a response → StreamWriter → the
// adapter's stream decoder → llm.Accumulator gives the response back.
func TestStreamRoundTrip(t *testing.T) {
	c := newClient(t, testConfig)
	for _, tt := range responses {
		if !tt.stream {
			continue
		}
		for _, includeUsage := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/include_usage=%v", tt.name, includeUsage), func(t *testing.T) {
				var buf bytes.Buffer
				w := NewStreamWriter(&buf, StreamOptions{Model: tt.resp.Model, Created: 1730000000, IncludeUsage: includeUsage})
				for _, ev := range responseEvents(tt.resp) {
					if err := w.Write(ev); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Done(); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				got, err := llm.Collect(newStream(ctx, cancel, c, io.NopCloser(&buf)))
				if err != nil {
					t.Fatal(err)
				}
				want := *tt.resp
				if !includeUsage {
					want.Usage = llm.Usage{}
				}
				if diff := cmp.Diff(&want, got); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestUsageConversion(t *testing.T) {
	tests := []struct {
		name string
		in   usage
		want llm.Usage
	}{
		{"plain", usage{PromptTokens: 10, CompletionTokens: 5}, llm.Usage{Input: 10, Output: 5}},
		{"cached and reasoning", usage{PromptTokens: 2048, CompletionTokens: 300,
			PromptTokensDetails: &promptDetails{CachedTokens: 1536}, CompletionTokensDetails: &outputDetails{ReasoningTokens: 256}},
			llm.Usage{Input: 512, CacheRead: 1536, Output: 44, Reasoning: 256}},
		{"DeepSeek cache hits", usage{PromptTokens: 100, CompletionTokens: 1, PromptCacheHitTokens: 64},
			llm.Usage{Input: 36, CacheRead: 64, Output: 1}},
		{"details larger than totals are clamped", usage{PromptTokens: 10, CompletionTokens: 5,
			PromptTokensDetails: &promptDetails{CachedTokens: 50}, CompletionTokensDetails: &outputDetails{ReasoningTokens: -3}},
			llm.Usage{CacheRead: 10, Output: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := usageFrom(&tt.in)
			if got != tt.want {
				t.Errorf("usage = %+v, want %+v", got, tt.want)
			}
			if tt.in.PromptTokens >= 0 && got.Prompt() != tt.in.PromptTokens {
				t.Errorf("prompt total %d, want %d", got.Prompt(), tt.in.PromptTokens)
			}
			if back := wireUsage(got); back.CompletionTokens != tt.in.CompletionTokens {
				t.Errorf("completion back = %d, want %d", back.CompletionTokens, tt.in.CompletionTokens)
			}
		})
	}
}
