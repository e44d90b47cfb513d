package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// recorded is what the test upstream saw of one request.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

// upstream is a test provider: it records requests and answers with handle.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newUpstream(t *testing.T, handle http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		_ = json.Unmarshal(b, &rec.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, rec)
		u.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) recorded {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("the upstream saw no request")
	}
	return u.reqs[len(u.reqs)-1]
}

// serveFile answers with a testdata file, as SSE or JSON by its extension.
func serveFile(t *testing.T, name string) http.HandlerFunc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(name, ".sse") {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Write(b)
	}
}

var testConfig = providers.Config{BaseURL: "http://127.0.0.1:1"}

func newClient(t *testing.T, cfg providers.Config) *Client {
	t.Helper()
	if cfg.Format == "" {
		cfg.Format = "openai"
	}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func userRequest(text string) *llm.Request {
	return &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}}}
}

func TestStreamFixtures(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    *llm.Response
		wantErr llm.ErrorKind
	}{
		{
			name: "plain text with cached usage", file: "text.sse",
			want: &llm.Response{ID: "chatcmpl-B1", Model: "gpt-4o-2024-08-06", Parts: []llm.Part{llm.TextPart("Hello, world")},
				StopReason: llm.StopEnd, Usage: llm.Usage{Input: 176, CacheRead: 1024, Output: 5}},
		},
		{
			name: "parallel tool calls interleaved by index", file: "parallel_tools.sse",
			want: &llm.Response{ID: "chatcmpl-T1", Model: "gpt-4o-mini", Parts: []llm.Part{
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_weather_paris", Name: "get_weather", Arguments: `{"city":"Paris"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_weather_rome", Name: "get_weather", Arguments: `{"city":"Rome"}`}},
			}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 80, Output: 40}},
		},
		{
			name: "text then a tool call", file: "text_then_tool.sse",
			want: &llm.Response{ID: "chatcmpl-T2", Model: "gpt-4o", Parts: []llm.Part{
				llm.TextPart("Let me check."),
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "lookup", Arguments: `{"q":"x"}`}},
			}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 10, Output: 12}},
		},
		{
			name: "usage chunk with choices null", file: "usage_choices_null.sse",
			want: &llm.Response{ID: "cmpl-v1", Model: "meta-llama/Llama-3.1-8B-Instruct", Parts: []llm.Part{llm.TextPart("Hi")},
				StopReason: llm.StopLength, Usage: llm.Usage{Input: 7, Output: 1}},
		},
		{
			name: "usage in the finish chunk (vLLM) with reasoning", file: "usage_with_choices.sse",
			want: &llm.Response{ID: "cmpl-v2", Model: "Qwen/Qwen3-8B", Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "Think"}, llm.TextPart("Done"),
			}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 14, CacheRead: 16, Output: 8, Reasoning: 12}},
		},
		{
			name: "tool calls without index, finish stop", file: "no_index_tools.sse",
			want: &llm.Response{ID: "chatcmpl-N1", Model: "compat-model", Parts: []llm.Part{
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_a", Name: "a", Arguments: `{"x":1}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_b", Name: "b", Arguments: `{}`}},
			}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 5, Output: 9}},
		},
		{
			name: "azure prompt filter chunk and content filter", file: "azure_filter.sse",
			want: &llm.Response{ID: "chatcmpl-AZ1", Model: "gpt-4o-2024-11-20", Parts: []llm.Part{llm.TextPart("Bonjour")},
				StopReason: llm.StopContentFilter, Usage: llm.Usage{Input: 9, Output: 2}},
		},
		{
			name: "refusal", file: "refusal.sse",
			want: &llm.Response{ID: "chatcmpl-R1", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("I can't help with that.")},
				StopReason: llm.StopRefusal, Usage: llm.Usage{Input: 20, Output: 7}},
		},
		{
			name: "finish and usage but no [DONE]", file: "no_done.sse",
			want: &llm.Response{ID: "chatcmpl-D1", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("ok")},
				StopReason: llm.StopEnd, Usage: llm.Usage{Input: 3, Output: 1}},
		},
		{name: "mid-stream error", file: "midstream_error.sse", wantErr: llm.KindServer},
		{name: "truncated", file: "truncated.sse", wantErr: llm.KindConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, serveFile(t, tt.file))
			c := newClient(t, providers.Config{BaseURL: up.URL, APIKey: "sk-test"})
			s, err := c.Stream(context.Background(), userRequest("hi"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := llm.Collect(s)
			if tt.wantErr != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != tt.wantErr {
					t.Fatalf("error = %v, want kind %s", err, tt.wantErr)
				}
				if le.Provider != "test" {
					t.Errorf("error provider = %q, want test", le.Provider)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			body := up.last(t).Body
			if body["stream"] != true {
				t.Errorf("stream = %v, want true", body["stream"])
			}
			if diff := cmp.Diff(map[string]any{"include_usage": true}, body["stream_options"]); diff != "" {
				t.Errorf("stream_options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamEventOrder checks the exact event sequence of parallel tool
// calls: each OpenAI index keeps its own canonical part.
func TestStreamEventOrder(t *testing.T) {
	up := newUpstream(t, serveFile(t, "parallel_tools.sse"))
	c := newClient(t, providers.Config{BaseURL: up.URL})
	s, err := c.Stream(context.Background(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []llm.Event
	for {
		ev, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	args := func(s string) *llm.ToolCall { return &llm.ToolCall{Arguments: s} }
	want := []llm.Event{
		{Type: llm.EventStart, ID: "chatcmpl-T1", Model: "gpt-4o-mini"},
		{Type: llm.EventToolCall, Index: 0, ToolCall: &llm.ToolCall{ID: "call_weather_paris", Name: "get_weather"}},
		{Type: llm.EventToolArgs, Index: 0, ToolCall: args(`{"city":`)},
		{Type: llm.EventToolCall, Index: 1, ToolCall: &llm.ToolCall{ID: "call_weather_rome", Name: "get_weather"}},
		{Type: llm.EventToolArgs, Index: 1, ToolCall: args(`{"city":"Ro`)},
		{Type: llm.EventToolArgs, Index: 0, ToolCall: args(`"Paris"}`)},
		{Type: llm.EventToolArgs, Index: 1, ToolCall: args(`me"}`)},
		{Type: llm.EventStop, StopReason: llm.StopToolCalls},
		{Type: llm.EventUsage, Usage: &llm.Usage{Input: 80, Output: 40}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestChat(t *testing.T) {
	up := newUpstream(t, serveFile(t, "chat_tools.json"))
	c := newClient(t, providers.Config{BaseURL: up.URL + "/v1", APIKey: "sk-secret",
		Headers: map[string]string{"OpenAI-Organization": "org-1"}})
	got, err := c.Chat(context.Background(), userRequest("weather?"))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{ID: "chatcmpl-C1", Model: "o4-mini-2025-04-16", Parts: []llm.Part{
		{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_p", Name: "get_weather", Arguments: `{"city": "Paris"}`}},
		{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_r", Name: "get_weather", Arguments: `{"city":"Rome"}`}},
	}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 512, CacheRead: 1536, Output: 44, Reasoning: 256}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	rec := up.last(t)
	checks := map[string][2]string{
		"method":       {rec.Method, http.MethodPost},
		"path":         {rec.Path, "/v1/chat/completions"},
		"auth":         {rec.Header.Get("Authorization"), "Bearer sk-secret"},
		"content type": {rec.Header.Get("Content-Type"), "application/json"},
		"accept":       {rec.Header.Get("Accept"), "application/json"},
		"extra header": {rec.Header.Get("OpenAI-Organization"), "org-1"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if _, ok := rec.Body["stream"]; ok {
		t.Errorf("a non-streamed call sent stream: %v", rec.Body["stream"])
	}
}

func TestMaxTokensField(t *testing.T) {
	tests := []struct {
		name, format, base string
		want, notWant      string
	}{
		{"openai.com", "openai", "https://api.openai.com/v1", "max_completion_tokens", "max_tokens"},
		{"compatible server", "openai", "", "max_tokens", "max_completion_tokens"},
		{"azure", "azure", "", "max_completion_tokens", "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, serveFile(t, "chat_tools.json"))
			c := newClient(t, providers.Config{Format: tt.format, BaseURL: up.URL})
			if tt.base != "" {
				// Same check without a network: the choice is made from the base URL.
				c2 := newClient(t, providers.Config{Format: tt.format, BaseURL: tt.base})
				c.completionTokens = c2.completionTokens
			}
			req := userRequest("hi")
			req.MaxTokens = 77
			if _, err := c.Chat(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			body := up.last(t).Body
			if body[tt.want] != float64(77) {
				t.Errorf("%s = %v, want 77 (body %v)", tt.want, body[tt.want], body)
			}
			if _, ok := body[tt.notWant]; ok {
				t.Errorf("%s sent as well", tt.notWant)
			}
		})
	}
}

func TestAzure(t *testing.T) {
	tests := []struct {
		name, version, wantQuery string
	}{
		{"default version", "", "api-version=2024-10-21"},
		{"configured version", "2025-01-01-preview", "api-version=2025-01-01-preview"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, serveFile(t, "text.sse"))
			c := newClient(t, providers.Config{Format: "azure", BaseURL: up.URL + "/", APIKey: "az-key", APIVersion: tt.version})
			req := userRequest("hi")
			req.Model = "my gpt4o"
			s, err := c.Stream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := llm.Collect(s); err != nil {
				t.Fatal(err)
			}
			rec := up.last(t)
			if rec.Path != "/openai/deployments/my gpt4o/chat/completions" {
				t.Errorf("path = %q", rec.Path)
			}
			if rec.Query != tt.wantQuery {
				t.Errorf("query = %q, want %q", rec.Query, tt.wantQuery)
			}
			if got := rec.Header.Get("api-key"); got != "az-key" {
				t.Errorf("api-key = %q", got)
			}
			if got := rec.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization = %q, want none", got)
			}
			if got := rec.Header.Get("Accept"); got != "text/event-stream" {
				t.Errorf("Accept = %q", got)
			}
		})
	}
}

func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		kind       llm.ErrorKind
		upType     string
		message    string
		retryAfter time.Duration
	}{
		{
			name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "7"},
			body: `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			kind: llm.KindRateLimit, upType: "requests", message: "Rate limit reached for gpt-4o", retryAfter: 7 * time.Second,
		},
		{
			name: "500", status: 500,
			body: `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`,
			kind: llm.KindServer, upType: "server_error", message: "The server had an error",
		},
		{
			name: "401", status: 401,
			body: `{"error":{"message":"Incorrect API key provided: sk-***","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			kind: llm.KindUpstreamAuth, upType: "invalid_request_error", message: "Incorrect API key provided: sk-***",
		},
		{
			name: "400 context length", status: 400,
			body: `{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			kind: llm.KindInvalidRequest, upType: "invalid_request_error", message: "This model's maximum context length is 128000 tokens.",
		},
		{
			name: "vLLM error body", status: 404,
			body: `{"object":"error","message":"The model foo does not exist.","type":"NotFoundError","param":null,"code":404}`,
			kind: llm.KindUpstreamModel, upType: "NotFoundError", message: "The model foo does not exist.",
		},
		{
			name: "error as a string", status: 503, header: map[string]string{"Retry-After-Ms": "1500"},
			body: `{"error":"overloaded"}`, kind: llm.KindOverloaded, message: "overloaded", retryAfter: 1500 * time.Millisecond,
		},
		{name: "plain text", status: 502, body: "Bad Gateway\n", kind: llm.KindServer, message: "Bad Gateway"},
		{name: "empty body", status: 500, kind: llm.KindServer, message: "Internal Server Error"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " (chat)", true: " (stream)"}[stream]
			t.Run(name, func(t *testing.T) {
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
				})
				c := newClient(t, providers.Config{BaseURL: up.URL})
				var err error
				if stream {
					_, err = c.Stream(context.Background(), userRequest("hi"))
				} else {
					_, err = c.Chat(context.Background(), userRequest("hi"))
				}
				var le *llm.Error
				if !errors.As(err, &le) {
					t.Fatalf("error = %v, want *llm.Error", err)
				}
				got := [5]any{le.Kind, le.UpstreamStatus, le.UpstreamType, le.Message, le.RetryAfter}
				want := [5]any{tt.kind, tt.status, tt.upType, tt.message, tt.retryAfter}
				if got != want {
					t.Errorf("error = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestErrorInOKBody(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"error":{"message":"Rate limited upstream","code":429}}`)
	})
	c := newClient(t, providers.Config{BaseURL: up.URL})
	_, err := c.Chat(context.Background(), userRequest("hi"))
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.KindRateLimit || le.Message != "Rate limited upstream" {
		t.Fatalf("error = %v, want rate limit", err)
	}
}

// TestStreamJSONFallback: a server that ignores "stream" answers JSON; the
// stream replays it.
func TestStreamJSONFallback(t *testing.T) {
	up := newUpstream(t, serveFile(t, "chat_tools.json"))
	c := newClient(t, providers.Config{BaseURL: up.URL})
	s, err := c.Stream(context.Background(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ToolCalls()) != 2 || got.Usage.CacheRead != 1536 || got.StopReason != llm.StopToolCalls {
		t.Errorf("replayed response = %+v", got)
	}
}

func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name   string
		handle http.HandlerFunc
		stream bool
	}{
		{name: "no headers (chat)", handle: func(w http.ResponseWriter, r *http.Request) { wait(r, release) }},
		{name: "no headers (stream)", stream: true, handle: func(w http.ResponseWriter, r *http.Request) { wait(r, release) }},
		{name: "stalls mid-stream", stream: true, handle: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}`+"\n\n")
			w.(http.Flusher).Flush()
			wait(r, release)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.handle)
			c := newClient(t, providers.Config{BaseURL: up.URL})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			var err error
			if tt.stream {
				var s llm.Stream
				if s, err = c.Stream(ctx, userRequest("hi")); err == nil {
					_, err = llm.Collect(s)
				}
			} else {
				_, err = c.Chat(ctx, userRequest("hi"))
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.KindTimeout {
				t.Fatalf("error = %v, want kind timeout", err)
			}
		})
	}
}

func wait(r *http.Request, release <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

// TestCloseCancelsUpstream: closing the stream mid-way ends the upstream
// request.
func TestCloseCancelsUpstream(t *testing.T) {
	gone := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(gone)
	})
	c := newClient(t, providers.Config{BaseURL: up.URL})
	s, err := c.Stream(context.Background(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // start and the first text
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled by Close")
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, want an error", err)
	}
}

func TestEmbed(t *testing.T) {
	tests := []struct {
		name, format, body, wantPath string
	}{
		{"floats", "openai", `{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5,-1]},{"object":"embedding","index":0,"embedding":[0.25,2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":6,"total_tokens":6}}`, "/embeddings"},
		// 0.25, 2 and 0.5, -1 as little-endian float32s.
		{"base64 from a server that ignores encoding_format", "azure", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPgAAAEA="},{"object":"embedding","index":1,"embedding":"AAAAPwAAgL8="}],"model":"text-embedding-3-small","usage":{"prompt_tokens":6,"total_tokens":6}}`, "/openai/deployments/text-embedding-3-small/embeddings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.body)
			})
			c := newClient(t, providers.Config{Format: tt.format, BaseURL: up.URL})
			got, err := c.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"a", "b"}, Dimensions: 2})
			if err != nil {
				t.Fatal(err)
			}
			want := &llm.EmbedResponse{Model: "text-embedding-3-small", Vectors: [][]float32{{0.25, 2}, {0.5, -1}}, Usage: llm.Usage{Input: 6}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			rec := up.last(t)
			if rec.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", rec.Path, tt.wantPath)
			}
			wantBody := map[string]any{"model": "text-embedding-3-small", "input": []any{"a", "b"}, "dimensions": float64(2), "encoding_format": "float"}
			if diff := cmp.Diff(wantBody, rec.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	_, err := New(providers.Config{Name: "x", Format: "openai", BaseURL: "ftp//nope", Headers: map[string]string{"bad name": "v"}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"base URL", "header name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := New(providers.Config{Format: "openai"}); err == nil || !strings.Contains(err.Error(), "base URL is required") {
		t.Errorf("missing base URL: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	for _, f := range []string{"openai", "azure"} {
		p, err := providers.New(providers.Config{Name: f, Format: f, BaseURL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, ok := p.(providers.Embedder); !ok {
			t.Errorf("%s: not an Embedder", f)
		}
	}
}
