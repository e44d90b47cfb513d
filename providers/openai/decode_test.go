package openai

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func TestDecodeRequestErrors(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `{"model":`, "the body is not valid JSON: unexpected end of JSON input"},
		{"not an object", `[1]`, "request body: expected object, got array"},
		{"model missing", `{` + msgs + `}`, "model: required"},
		{"model not a string", `{"model":4,` + msgs + `}`, "model: expected string, got number"},
		{"messages missing", `{"model":"m"}`, "messages: required (at least one message)"},
		{"messages not an array", `{"model":"m","messages":{}}`, "messages: expected array, got object"},
		{"only empty system messages", `{"model":"m","messages":[{"role":"system","content":[]},{"role":"developer","content":""}]}`, "messages: no message has any content"},
		{"message not an object", `{"model":"m","messages":["hi"]}`, "messages[0]: expected object"},
		{"role missing", `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role: required"},
		{"role unknown", `{"model":"m","messages":[{"role":"bot","content":"hi"}]}`, `messages[0].role: unknown role "bot" (want system, developer, user, assistant or tool)`},
		{"function role", `{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}`, `messages[0].role: the legacy "function" role is not supported; use "tool"`},
		{"content a number", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":5}]}`, "messages[2].content: expected string or array of content parts"},
		{"content null for user", `{"model":"m","messages":[{"role":"user","content":null}]}`, "messages[0].content: expected string or array of content parts"},
		{"content missing", `{"model":"m","messages":[{"role":"user"}]}`, "messages[0].content: required"},
		{"part not an object", `{"model":"m","messages":[{"role":"user","content":["hi"]}]}`, "messages[0].content[0]: expected content part object"},
		{"part type unknown", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, `messages[0].content[0].type: unsupported content part type "input_audio" here (want text or image_url)`},
		{"image in a system message", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, `messages[0].content[0].type: unsupported content part type "image_url" here (want text)`},
		{"text not a string", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, "messages[0].content[0].text: expected string, got number"},
		{"image url missing", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "messages[0].content[0].image_url.url: required"},
		{"image url scheme", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}`, "messages[0].content[0].image_url.url: expected an http(s) URL or a base64 data URL"},
		{"image data URL not base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "messages[0].content[0].image_url.url: malformed data URL (want data:<media type>;base64,<data>)"},
		{"image data bad base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,!!"}}]}]}`, "messages[0].content[0].image_url.url: data URL is not valid base64"},
		{"image data empty", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,"}}]}]}`, "messages[0].content[0].image_url.url: data URL holds no data"},
		{"image detail", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x","detail":"max"}}]}]}`, `messages[0].content[0].image_url.detail: unknown detail "max" (want auto, low or high)`},
		{"tool message without id", `{"model":"m","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id: required"},
		{"tool call arguments an object", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]}`, "messages[0].tool_calls[0].function.arguments: expected string, got object"},
		{"tool call without name", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`, "messages[0].tool_calls[0].function.name: required"},
		{"tool call without id", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}`, "messages[0].tool_calls[0].id: required"},
		{"assistant function_call", `{"model":"m","messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]}`, "messages[0].function_call: the legacy function_call is not supported; use tool_calls"},
		{"legacy functions", `{"model":"m",` + msgs + `,"functions":[{"name":"f"}]}`, "functions: the legacy functions parameter is not supported; use tools"},
		{"legacy function_call", `{"model":"m",` + msgs + `,"function_call":"auto"}`, "function_call: the legacy function_call parameter is not supported; use tool_choice"},
		{"n > 1", `{"model":"m",` + msgs + `,"n":2}`, "n: only one choice (n = 1) is supported"},
		{"audio output", `{"model":"m",` + msgs + `,"modalities":["text","audio"]}`, `modalities: only text output is supported, not "audio"`},
		{"temperature range", `{"model":"m",` + msgs + `,"temperature":3}`, "temperature: must be between 0 and 2"},
		{"temperature type", `{"model":"m",` + msgs + `,"temperature":"hot"}`, "temperature: expected number, got string"},
		{"top_p range", `{"model":"m",` + msgs + `,"top_p":1.5}`, "top_p: must be between 0 and 1"},
		{"max_tokens zero", `{"model":"m",` + msgs + `,"max_tokens":0}`, "max_tokens: must be at least 1"},
		{"max_tokens fraction", `{"model":"m",` + msgs + `,"max_tokens":1.5}`, "max_tokens: expected integer, got number"},
		{"max_completion_tokens negative", `{"model":"m",` + msgs + `,"max_completion_tokens":-1}`, "max_completion_tokens: must be at least 1"},
		{"stop a number", `{"model":"m",` + msgs + `,"stop":1}`, "stop: expected string or array of strings"},
		{"stop array of numbers", `{"model":"m",` + msgs + `,"stop":[1]}`, "stop: expected string or array of strings"},
		{"stream a string", `{"model":"m",` + msgs + `,"stream":"yes"}`, "stream: expected boolean, got string"},
		{"tool type", `{"model":"m",` + msgs + `,"tools":[{"type":"custom","custom":{"name":"x"}}]}`, `tools[0].type: unsupported tool type "custom" (want function)`},
		{"tool name missing", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name: required"},
		{"tool parameters not an object", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}`, "tools[0].function.parameters: expected a JSON Schema object"},
		{"tool_choice unknown", `{"model":"m",` + msgs + `,"tool_choice":"any"}`, `tool_choice: unknown value "any" (want auto, none, required or an object naming a function)`},
		{"tool_choice allowed_tools", `{"model":"m",` + msgs + `,"tool_choice":{"type":"allowed_tools"}}`, `tool_choice.type: unsupported type "allowed_tools" (want function)`},
		{"tool_choice without name", `{"model":"m",` + msgs + `,"tool_choice":{"type":"function","function":{}}}`, "tool_choice.function.name: required"},
		{"response_format type", `{"model":"m",` + msgs + `,"response_format":{"type":"xml"}}`, `response_format.type: unknown type "xml" (want text, json_object or json_schema)`},
		{"json_schema missing", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema"}}`, "response_format.json_schema: required for type json_schema"},
		{"json_schema name missing", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, "response_format.json_schema.name: required"},
		{"circuit_breaker unknown key", `{"model":"m",` + msgs + `,"circuit_breaker":{"fallback_models":["a"],"retries":3}}`, `circuit_breaker: unknown field "retries" (want fallback_models, cost_optimization, latency_priority, cost_threshold or latency_target)`},
		{"circuit_breaker type", `{"model":"m",` + msgs + `,"circuit_breaker":{"cost_threshold":"cheap"}}`, "circuit_breaker.cost_threshold: expected number, got string"},
		{"circuit_breaker not an object", `{"model":"m",` + msgs + `,"circuit_breaker":true}`, "circuit_breaker: expected object"},
		{"circuit_breaker negative threshold", `{"model":"m",` + msgs + `,"circuit_breaker":{"cost_threshold":-1}}`, "circuit_breaker.cost_threshold: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeRequest([]byte(tt.body))
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want *llm.Error", err)
			}
			if le.Kind != llm.KindInvalidRequest || le.Status != 400 {
				t.Errorf("kind %s status %d, want invalid_request 400", le.Kind, le.Status)
			}
			if le.Message != tt.want {
				t.Errorf("message\n got %s\nwant %s", le.Message, tt.want)
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	body := `{
		"model": "gpt-4o",
		"messages": [
			{"role": "developer", "content": "Rule one."},
			{"role": "system", "content": [{"type": "text", "text": "Rule two."}]},
			{"role": "user", "name": "ann", "content": [{"type": "text", "text": "Look:"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
			{"role": "assistant", "content": null, "refusal": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "zoom", "arguments": ""}}]},
			{"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "zoomed"}]},
			{"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
			{"role": "user", "content": ""}
		],
		"max_tokens": 10,
		"max_completion_tokens": 20,
		"stop": "END",
		"stream": true,
		"stream_options": {"include_usage": true},
		"n": 1,
		"seed": 7,
		"logprobs": false,
		"parallel_tool_calls": true,
		"response_format": {"type": "text"},
		"tool_choice": "none",
		"circuit_breaker": {"fallback_models": ["claude-sonnet-4"], "cost_threshold": 0.05, "latency_target": 1500, "cost_optimization": true}
	}`
	got, opts, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Request{
		Model:  "gpt-4o",
		System: []llm.Part{llm.TextPart("Rule one."), llm.TextPart("Rule two.")},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Look:"),
				{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{toolCallPart("c1", "zoom", "{}")}},
			{Role: llm.RoleTool, Parts: []llm.Part{toolResultPart("c1", "zoom", llm.TextPart("zoomed"))}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("No.")}},
			{Role: llm.RoleUser},
		},
		MaxTokens:  20,
		Stop:       []string{"END"},
		Stream:     true,
		ToolChoice: &llm.ToolChoice{Mode: "none"},
		Route: &llm.RouteOptions{FallbackModels: []string{"claude-sonnet-4"}, CostThreshold: 0.05,
			LatencyTarget: 1500, CostOptimization: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if !opts.IncludeUsage {
		t.Error("IncludeUsage = false")
	}
}

func TestIncludeUsageNeedsStream(t *testing.T) {
	_, opts, err := DecodeRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if opts.IncludeUsage {
		t.Error("IncludeUsage set for a non-streamed request")
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		err  *llm.Error
		want string
	}{
		{"field error", fieldError("messages[2].content", "expected string or array of content parts"),
			`{"error":{"message":"messages[2].content: expected string or array of content parts","type":"invalid_request_error","param":"messages[2].content","code":"invalid_request"}}`},
		{"upstream invalid request keeps param null", llm.FromStatus("openai", 400, "invalid_request_error", "model: bad", 0),
			`{"error":{"message":"model: bad","type":"invalid_request_error","param":null,"code":"invalid_request"}}`},
		{"rate limit", llm.FromStatus("groq", 429, "", "slow down \"now\"", 0),
			`{"error":{"message":"slow down \"now\"","type":"rate_limit_error","param":null,"code":"rate_limit"}}`},
		{"authentication", llm.Errorf(llm.KindAuthentication, "missing API key"),
			`{"error":{"message":"missing API key","type":"authentication_error","param":null,"code":"authentication"}}`},
		{"permission", llm.Errorf(llm.KindPermission, "no"), `{"error":{"message":"no","type":"permission_error","param":null,"code":"permission"}}`},
		{"not found", llm.Errorf(llm.KindNotFound, "model x"), `{"error":{"message":"model x","type":"not_found_error","param":null,"code":"not_found"}}`},
		{"policy", llm.Errorf(llm.KindPolicy, "budget"), `{"error":{"message":"budget","type":"policy_error","param":null,"code":"policy"}}`},
		{"server", llm.Errorf(llm.KindUpstreamAuth, "bad key upstream"), `{"error":{"message":"bad key upstream","type":"server_error","param":null,"code":"upstream_auth"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EncodeError(tt.err)
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Error("not valid JSON")
			}
		})
	}
}

func TestEncodeModels(t *testing.T) {
	got := string(EncodeModels([]Model{{ID: "gpt-4o", Created: 1715367049, OwnedBy: "openai"}, {ID: "fast", OwnedBy: "circuit-breaker"}}))
	want := `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"openai"},{"id":"fast","object":"model","created":0,"owned_by":"circuit-breaker"}]}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if got := string(EncodeModels(nil)); got != `{"object":"list","data":[]}` {
		t.Errorf("empty list = %s", got)
	}
}

func TestEmbedCodec(t *testing.T) {
	resp := &llm.EmbedResponse{Model: "text-embedding-3-small", Vectors: [][]float32{{0.25, -2, 1e-7}, {3.5, 0, 1}}, Usage: llm.Usage{Input: 9}}
	t.Run("float", func(t *testing.T) {
		got := string(EncodeEmbeddings(resp, "", nil))
		want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-2,1e-07]},{"object":"embedding","index":1,"embedding":[3.5,0,1]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":9,"total_tokens":9}}`
		if got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
	t.Run("base64", func(t *testing.T) {
		var out embedResponse
		if err := json.Unmarshal(EncodeEmbeddings(resp, "alias", &EmbedOptions{Base64: true}), &out); err != nil {
			t.Fatal(err)
		}
		if out.Model != "alias" || len(out.Data) != 2 {
			t.Fatalf("got %+v", out)
		}
		for i, d := range out.Data {
			v, err := vector(d.Embedding)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(resp.Vectors[i], v); diff != "" {
				t.Errorf("vector %d (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestDecodeEmbedRequest(t *testing.T) {
	tests := []struct {
		name, body string
		want       *llm.EmbedRequest
		wantOpts   *EmbedOptions
		wantErr    string
	}{
		{name: "string", body: `{"model":"e","input":"hello"}`,
			want: &llm.EmbedRequest{Model: "e", Input: []string{"hello"}}, wantOpts: &EmbedOptions{}},
		{name: "array, base64, dimensions", body: `{"model":"e","input":["a","b"],"encoding_format":"base64","dimensions":256,"user":"u"}`,
			want: &llm.EmbedRequest{Model: "e", Input: []string{"a", "b"}, Dimensions: 256, User: "u"}, wantOpts: &EmbedOptions{Base64: true}},
		{name: "model missing", body: `{"input":"x"}`, wantErr: "model: required"},
		{name: "input missing", body: `{"model":"e"}`, wantErr: "input: required"},
		{name: "tokens", body: `{"model":"e","input":[1,2,3]}`, wantErr: "input[0]: expected string (token arrays are not supported; send text)"},
		{name: "token arrays", body: `{"model":"e","input":[[1,2]]}`, wantErr: "input[0]: expected string (token arrays are not supported; send text)"},
		{name: "empty array", body: `{"model":"e","input":[]}`, wantErr: "input: must not be empty"},
		{name: "empty string", body: `{"model":"e","input":["a",""]}`, wantErr: "input[1]: must not be empty"},
		{name: "object", body: `{"model":"e","input":{}}`, wantErr: "input: expected string or array of strings"},
		{name: "format", body: `{"model":"e","input":"x","encoding_format":"int8"}`, wantErr: `encoding_format: unknown format "int8" (want float or base64)`},
		{name: "dimensions", body: `{"model":"e","input":"x","dimensions":0}`, wantErr: "dimensions: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, opts, err := DecodeEmbedRequest([]byte(tt.body))
			if tt.wantErr != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Message != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOpts, opts); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeResponseShape checks the fields the official SDKs read.
func TestEncodeResponseShape(t *testing.T) {
	got := string(EncodeResponse(&llm.Response{Parts: []llm.Part{toolCallPart("c", "f", "")},
		StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 1, CacheRead: 2, Output: 3, Reasoning: 4}}, "alias", 42))
	for _, want := range []string{
		`"id":"chatcmpl-`, `"object":"chat.completion","created":42,"model":"alias"`,
		`"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}`,
		`"logprobs":null,"finish_reason":"tool_calls"`,
		`"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":4}}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("response lacks %s\n%s", want, got)
		}
	}
}
