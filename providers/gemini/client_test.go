package gemini

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

const testKey = "test-key-123"

// upstream is a fake Gemini that checks the call and answers with handler.
// It reads the request body first, so that the server notices when the
// client goes away.
func upstream(t *testing.T, handler http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("x-goog-api-key") != testKey || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad call: %s %s key=%q", r.Method, r.URL, r.Header.Get("x-goog-api-key"))
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "gem", Format: "gemini", BaseURL: srv.URL + "/v1beta", APIKey: testKey, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture answers with a testdata file, as SSE when the path asks for a
// stream.
func fixture(t *testing.T, name string) http.HandlerFunc {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if filepath.Ext(name) == ".sse" {
			if r.URL.Path != "/v1beta/models/gemini-test:streamGenerateContent" || r.URL.Query().Get("alt") != "sse" {
				t.Errorf("stream path %s?%s", r.URL.Path, r.URL.RawQuery)
			}
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			if r.URL.Path != "/v1beta/models/gemini-test:generateContent" {
				t.Errorf("chat path %s", r.URL.Path)
			}
			w.Header().Set("Content-Type", "application/json")
		}
		_, _ = w.Write(b)
	}
}

// hold blocks until the client goes away (true) or a bound passes (false),
// so that a broken test cannot hang the server's Close.
func hold(t *testing.T, r *http.Request) bool {
	select {
	case <-r.Context().Done():
		return true
	case <-time.After(20 * time.Second):
		t.Error("the client did not go away")
		return false
	}
}

func testRequest() *llm.Request {
	return &llm.Request{Model: "gemini-test", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}}}}
}

func toolCall(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Name: name, Arguments: args}}
}

func thinking(text, sig string) llm.Part {
	return llm.Part{Kind: llm.PartThinking, Text: text, Signature: sig}
}

func TestChat(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    *llm.Response
	}{
		{"plain text with thoughts and cache", "chat_text.json", &llm.Response{
			ID: "resp-text-1", Model: "gemini-2.5-flash",
			Parts: []llm.Part{
				thinking("**Considering the question**\nThe user greets me.", ""),
				llm.TextPart("Hello! "),
				thinking("", "c2lnLXRleHQ="),
				llm.TextPart("How can I help?"),
			},
			StopReason: llm.StopEnd,
			Usage:      llm.Usage{Input: 20, CacheRead: 100, Output: 8, Reasoning: 50},
		}},
		{"parallel tool calls", "chat_tool.json", &llm.Response{
			ID: "resp-tool-1", Model: "gemini-3-pro-preview",
			Parts: []llm.Part{
				thinking("", "c2lnLWNhbGw="),
				toolCall("call_0", "get_weather", `{"city":"Paris","unit":"celsius"}`),
				toolCall("call_1", "get_time", `{"tz":"Europe/Paris"}`),
			},
			StopReason: llm.StopToolCalls,
			Usage:      llm.Usage{Input: 75, Output: 30, Reasoning: 25},
		}},
		{"prompt blocked", "chat_blocked.json", &llm.Response{
			ID: "resp-blocked-1", Model: "gemini-2.5-flash", Parts: []llm.Part{},
			StopReason: llm.StopContentFilter, Usage: llm.Usage{Input: 12},
		}},
		{"max tokens", "chat_length.json", &llm.Response{
			ID: "resp-len-1", Model: "gemini-2.0-flash", Parts: []llm.Part{llm.TextPart("The answer is")},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 5, Output: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upstream(t, fixture(t, tt.fixture))
			got, err := c.Chat(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStream(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    *llm.Response
		wantErr llm.ErrorKind
	}{
		{"text deltas merge into one part", "stream_text.sse", &llm.Response{
			ID: "resp-stream-1", Model: "gemini-2.5-flash",
			Parts:      []llm.Part{llm.TextPart("Hello, world!")},
			StopReason: llm.StopEnd,
			Usage:      llm.Usage{Input: 9, Output: 4},
		}, ""},
		{"thought then signed tool call, last usage wins", "stream_tool.sse", &llm.Response{
			ID: "resp-stream-tool", Model: "gemini-3-pro-preview",
			Parts: []llm.Part{
				thinking("**Planning**\nI should look up the weather.", ""),
				thinking("", "c2lnLXN0cmVhbQ=="),
				toolCall("call_0", "get_weather", `{"city":"Paris"}`),
			},
			StopReason: llm.StopToolCalls,
			Usage:      llm.Usage{Input: 8, CacheRead: 32, Output: 10, Reasoning: 80},
		}, ""},
		{"parallel calls", "stream_parallel.sse", &llm.Response{
			ID: "resp-stream-par", Model: "gemini-2.5-pro",
			Parts: []llm.Part{
				llm.TextPart("Checking both."),
				toolCall("call_0", "get_weather", `{"city":"Paris"}`),
				toolCall("call_1", "get_weather", `{"city":"Rome"}`),
			},
			StopReason: llm.StopToolCalls,
			Usage:      llm.Usage{Input: 50, Output: 20},
		}, ""},
		{"mid-stream error", "stream_error.sse", &llm.Response{
			ID: "resp-stream-err", Model: "gemini-2.5-flash", Parts: []llm.Part{llm.TextPart("Partial")},
		}, llm.KindOverloaded},
		{"truncated stream", "stream_truncated.sse", &llm.Response{
			ID: "resp-stream-cut", Model: "gemini-2.5-flash", Parts: []llm.Part{llm.TextPart("Cut")},
		}, llm.KindServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upstream(t, fixture(t, tt.fixture))
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			got, err := llm.Collect(s)
			checkKind(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func checkKind(t *testing.T, err error, want llm.ErrorKind) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		return
	}
	var le *llm.Error
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *llm.Error of kind %s", err, want)
	}
	if le.Kind != want || le.Provider != "gem" {
		t.Fatalf("err = %+v, want kind %s from gem", le, want)
	}
}

func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		want       llm.ErrorKind
		wantStatus int
		wantType   string
		wantRetry  time.Duration
	}{
		{"429 with retry-after", 429, http.Header{"Retry-After": {"7"}},
			`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			llm.KindRateLimit, 429, "RESOURCE_EXHAUSTED", 7 * time.Second},
		{"500", 500, nil, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
			llm.KindServer, 502, "INTERNAL", 0},
		{"503 array form", 503, nil, `[{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}]`,
			llm.KindOverloaded, 503, "UNAVAILABLE", 0},
		{"401", 401, nil, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`,
			llm.KindUpstreamAuth, 502, "UNAUTHENTICATED", 0},
		{"403", 403, nil, `{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}`,
			llm.KindUpstreamAuth, 502, "PERMISSION_DENIED", 0},
		{"bad key is 400 API_KEY_INVALID", 400, nil,
			`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`,
			llm.KindUpstreamAuth, 502, "INVALID_ARGUMENT", 0},
		{"400 invalid argument", 400, nil, `{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}`,
			llm.KindInvalidRequest, 400, "INVALID_ARGUMENT", 0},
		{"404 model", 404, nil, `{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}`,
			llm.KindUpstreamModel, 502, "NOT_FOUND", 0},
		{"non-JSON body", 502, nil, `<html>Bad Gateway</html>`, llm.KindServer, 502, "", 0},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " chat", true: " stream"}[stream]
			t.Run(name, func(t *testing.T) {
				c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header()[k] = v
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				})
				var err error
				if stream {
					_, err = c.Stream(context.Background(), testRequest())
				} else {
					_, err = c.Chat(context.Background(), testRequest())
				}
				checkKind(t, err, tt.want)
				le := err.(*llm.Error)
				if le.Status != tt.wantStatus || le.UpstreamStatus != tt.status || le.UpstreamType != tt.wantType || le.RetryAfter != tt.wantRetry {
					t.Errorf("got status %d upstream %d %q retry %v", le.Status, le.UpstreamStatus, le.UpstreamType, le.RetryAfter)
				}
				if le.Message == "" {
					t.Error("empty message")
				}
			})
		}
	}
}

func TestContextDeadline(t *testing.T) {
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) { hold(t, r) })
	for _, stream := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		var err error
		if stream {
			_, err = c.Stream(ctx, testRequest())
		} else {
			_, err = c.Chat(ctx, testRequest())
		}
		cancel()
		checkKind(t, err, llm.KindTimeout)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(providers.Config{Name: "gem", BaseURL: url, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), testRequest())
	checkKind(t, err, llm.KindConnection)
}

func TestCloseCancelsUpstream(t *testing.T) {
	gone := make(chan struct{})
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"},\"index\":0}],\"responseId\":\"r\"}\n\n")
		w.(http.Flusher).Flush()
		if hold(t, r) {
			close(gone)
		}
	})
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	var acc llm.Accumulator
	for range 2 {
		ev, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.Add(ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := acc.Response().Text(); got != "Hi" {
		t.Fatalf("text %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // twice is fine
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream call was not cancelled")
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Fatalf("Recv after Close = %v, want an error", err)
	}
}

func TestEmbed(t *testing.T) {
	c := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta/models/text-embedding-004:batchEmbedContents" {
			t.Errorf("path %s", r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		want := `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"outputDimensionality":2},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]},"outputDimensionality":2}]}`
		if string(body) != want {
			t.Errorf("body\n%s\nwant\n%s", body, want)
		}
		_, _ = io.WriteString(w, `{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,-0.4]}]}`)
	})
	got, err := c.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-004", Input: []string{"a", "b"}, Dimensions: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbedResponse{Model: "text-embedding-004", Vectors: [][]float32{{0.1, 0.2}, {0.3, -0.4}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	_, err := New(providers.Config{Name: "g", BaseURL: "ftp:/x"})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"base URL", "API key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	p, err := providers.New(providers.Config{Name: "g", Format: "gemini", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.(*Client); c.base != DefaultBaseURL {
		t.Errorf("base %q", c.base)
	}
}
