package cohere

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  providers.Config
		want []string // parts of the error; none for success
	}{
		{"no key for Cohere's API", providers.Config{}, []string{"API key is required"}},
		{"bad url", providers.Config{BaseURL: "api.cohere.com"}, []string{`base URL "api.cohere.com" is not an http(s) URL`}},
		{"key", providers.Config{APIKey: "k"}, nil},
		{"compatible server without a key", providers.Config{BaseURL: "http://127.0.0.1:8000/"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(c.base, "/") {
					t.Errorf("base %q keeps its slash", c.base)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := providers.New(providers.Config{Name: "co", Format: Format, APIKey: "k"}); err != nil {
		t.Errorf("registry: %v", err)
	}
}

func TestChat(t *testing.T) {
	const model = "command-a-03-2025"
	tests := []struct {
		name    string
		fixture string
		want    llm.Response
	}{
		{"text", "chat_text.json", llm.Response{ID: "c14c80c3-18eb-4519-9460-6c92edd8cfb4", Model: model,
			Parts: []llm.Part{llm.TextPart("LLMs are neural networks trained on text.")}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 71, Output: 9}}},
		{"tool call with cached tokens", "chat_tool.json", llm.Response{ID: "7f2c4b1a", Model: model,
			Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "I will look up the weather in Toronto."},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_1byjy32y4hvq", Name: "get_weather", Arguments: `{"location":"Toronto"}`}},
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 113, CacheRead: 1200, Output: 60}}},
		{"parallel tool calls, billed units only", "chat_parallel.json", llm.Response{ID: "p-1", Model: model,
			Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "I will check both cities."},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_a", Name: "get_weather", Arguments: `{"location":"Madrid"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_b", Name: "get_weather", Arguments: `{"location":"Brasilia"}`}},
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 40, Output: 50}}},
		{"thinking", "chat_thinking.json", llm.Response{ID: "r-1", Model: model,
			Parts:      []llm.Part{{Kind: llm.PartThinking, Text: "Let me count."}, llm.TextPart("One, two")},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 10, Output: 100}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := readFixture(t, tt.fixture)
			var gotPath, gotAuth string
			var gotBody map[string]any
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
				json.NewDecoder(r.Body).Decode(&gotBody)
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
			}))
			got, err := c.Chat(context.Background(), &llm.Request{Model: model, Messages: hiRequest.Messages})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Errorf("response mismatch (-want +got):\n%s", d)
			}
			if gotPath != "/v2/chat" || gotAuth != "Bearer test-key" || gotBody["stream"] != nil || gotBody["model"] != model {
				t.Errorf("path %s, auth %q, body %v", gotPath, gotAuth, gotBody)
			}
		})
	}
}

func TestChatFinishErrors(t *testing.T) {
	tests := []struct {
		reason string
		kind   llm.ErrorKind
	}{{"ERROR", llm.KindServer}, {"TIMEOUT", llm.KindTimeout}}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"id":"x","finish_reason":"`+tt.reason+`","message":{"role":"assistant","content":[]}}`)
			}))
			_, err := c.Chat(context.Background(), hiRequest)
			if e := asLLMError(t, err); e.Kind != tt.kind || e.UpstreamType != tt.reason || e.Provider != "cohere-test" {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       llm.ErrorKind
		msg        string
		retryAfter time.Duration
	}{
		{"rate limited with retry-after", 429, map[string]string{"Retry-After": "3"},
			`{"id":"e1","message":"You are using a Trial key, which is limited to 10 API calls / minute."}`, llm.KindRateLimit, "Trial key", 3 * time.Second},
		{"server error", 500, nil, `{"id":"e2","message":"internal server error, this has been reported to our developers"}`, llm.KindServer, "internal server error", 0},
		{"forbidden", 403, nil, `{"id":"e3","message":"forbidden"}`, llm.KindUpstreamAuth, "forbidden", 0},
		{"unauthorized", 401, nil, `{"message":"invalid api token"}`, llm.KindUpstreamAuth, "invalid api token", 0},
		{"bad request", 400, nil, `{"message":"invalid request: messages must not be empty"}`, llm.KindInvalidRequest, "messages must not be empty", 0},
		{"unknown model", 404, nil, `{"message":"model 'x' not found"}`, llm.KindUpstreamModel, "not found", 0},
		{"plain body", 503, nil, `upstream connect error`, llm.KindOverloaded, "upstream connect error", 0},
	}
	for _, tt := range tests {
		for _, op := range []string{"chat", "stream", "embed"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
				}))
				var err error
				switch op {
				case "chat":
					_, err = c.Chat(context.Background(), hiRequest)
				case "stream":
					_, err = c.Stream(context.Background(), hiRequest)
				case "embed":
					_, err = c.Embed(context.Background(), &llm.EmbedRequest{Model: "embed-v4.0", Input: []string{"x"}})
				}
				e := asLLMError(t, err)
				if e.Kind != tt.kind || e.UpstreamStatus != tt.status || !strings.Contains(e.Message, tt.msg) || e.RetryAfter != tt.retryAfter || e.Provider != "cohere-test" {
					t.Errorf("got %+v, want kind %s status %d message ~%q retry %s", e, tt.kind, tt.status, tt.msg, tt.retryAfter)
				}
			})
		}
	}
}

func TestChatDeadline(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Chat(ctx, hiRequest)
	if e := asLLMError(t, err); e.Kind != llm.KindTimeout {
		t.Errorf("kind = %s, want timeout", e.Kind)
	}
}

func TestChatConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(providers.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), hiRequest)
	if e := asLLMError(t, err); e.Kind != llm.KindConnection {
		t.Errorf("kind = %s, want connection", e.Kind)
	}
}

func TestChatMalformedBody(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        "<html>",
		"no message":      `{"id":"x"}`,
		"tool without id": `{"message":{"tool_calls":[{"function":{"name":"f"}}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
			_, err := c.Chat(context.Background(), hiRequest)
			if e := asLLMError(t, err); e.Kind != llm.KindServer || e.Provider != "cohere-test" {
				t.Errorf("got %+v, want a server error of cohere-test", e)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	var got map[string]any
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/embed" {
			http.NotFound(w, r)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.Write(readFixture(t, "embed.json"))
	}))
	resp, err := c.Embed(context.Background(), &llm.EmbedRequest{Model: "embed-v4.0", Input: []string{"hello", "goodbye"}, Dimensions: 256})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbedResponse{Model: "embed-v4.0", Vectors: [][]float32{{0.016296387, -0.008354187, -0.04699707}, {0.0125, 0.25, -0.5}}, Usage: llm.Usage{Input: 2}}
	if d := cmp.Diff(want, resp); d != "" {
		t.Errorf("response mismatch (-want +got):\n%s", d)
	}
	wantBody := map[string]any{"model": "embed-v4.0", "texts": []any{"hello", "goodbye"}, "input_type": "search_document", "embedding_types": []any{"float"}, "output_dimension": float64(256)}
	if d := cmp.Diff(wantBody, got); d != "" {
		t.Errorf("request mismatch (-want +got):\n%s", d)
	}

	// A vector count that does not match the inputs is the provider's fault.
	_, err = c.Embed(context.Background(), &llm.EmbedRequest{Model: "embed-v4.0", Input: []string{"only one"}})
	if e := asLLMError(t, err); e.Kind != llm.KindServer || !strings.Contains(e.Message, "2 vectors for 1 texts") {
		t.Errorf("got %+v", e)
	}
	_, err = c.Embed(context.Background(), &llm.EmbedRequest{Model: "embed-v4.0"})
	if e := asLLMError(t, err); e.Kind != llm.KindInvalidRequest {
		t.Errorf("empty input: got %+v", e)
	}
}
