package anthropic

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
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/google/go-cmp/cmp"
)

// recorded is what the test server saw of a request.
type recorded struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// upstream starts a server that answers every request with handler and
// records the requests.
func upstream(t *testing.T, handler http.HandlerFunc) (*httptest.Server, <-chan recorded) {
	t.Helper()
	seen := make(chan recorded, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		select {
		case seen <- recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}:
		default:
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

// replay answers with a recorded SSE fixture, flushing event by event.
func replay(t *testing.T, fixture string) http.HandlerFunc {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, ev := range strings.SplitAfter(string(raw), "\n\n") {
			if _, err := io.WriteString(w, ev); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

func newClient(t *testing.T, srv *httptest.Server, mod func(*providers.Config)) *Client {
	t.Helper()
	cfg := providers.Config{Name: "anth-test", Format: "anthropic", BaseURL: srv.URL, APIKey: "sk-ant-test", Client: srv.Client()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func simpleRequest() *llm.Request {
	return &llm.Request{Model: "claude-sonnet-4-5", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}}}}
}

func toolCallPart(id, name, args string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Name: name, Arguments: args}}
}

func TestStreamFixtures(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		want     *llm.Response
		wantKind llm.ErrorKind // "" for success
	}{
		{
			name:    "text",
			fixture: "text.sse",
			want: &llm.Response{ID: "msg_01TextAbc", Model: "claude-sonnet-4-5-20250929",
				Parts:      []llm.Part{llm.TextPart("Hello, world!")},
				StopReason: llm.StopEnd, Usage: llm.Usage{Input: 25, Output: 15}},
		},
		{
			name:    "thinking with signature",
			fixture: "thinking.sse",
			want: &llm.Response{ID: "msg_01Think", Model: "claude-sonnet-4-5-20250929",
				Parts: []llm.Part{
					{Kind: llm.PartThinking, Text: "Let me work out 27 * 453.\n27 * 453 = 12231.", Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
					llm.TextPart("27 * 453 = 12,231"),
				},
				StopReason: llm.StopEnd, Usage: llm.Usage{Input: 40, CacheWrite: 100, CacheRead: 2000, Output: 120}},
		},
		{
			name:    "parallel tool calls",
			fixture: "tools.sse",
			want: &llm.Response{ID: "msg_01Tools", Model: "claude-haiku-4-5-20251001",
				Parts: []llm.Part{
					llm.TextPart("I'll check both cities."),
					toolCallPart("toolu_01A09q90qw90lq917835lq9", "get_weather", `{"location": "San Francisco, CA", "unit": "celsius"}`),
					toolCallPart("toolu_01B77x2z8y3k", "get_weather", `{"location": "Paris, France"}`),
				},
				StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 849, Output: 89}},
		},
		{
			name:    "ping and unknown events",
			fixture: "unknown.sse",
			want: &llm.Response{ID: "msg_01Unknown", Model: "claude-opus-4-5",
				Parts:      []llm.Part{llm.TextPart("Fine.")},
				StopReason: llm.StopSequence, StopSequence: "\n\nHuman:", Usage: llm.Usage{Input: 12, Output: 4}},
		},
		{
			name:    "overloaded mid-stream",
			fixture: "overloaded.sse",
			want: &llm.Response{ID: "msg_01Over", Model: "claude-sonnet-4-5-20250929",
				Parts: []llm.Part{llm.TextPart("Partial answ")}},
			wantKind: llm.KindOverloaded,
		},
		{
			name:    "truncated",
			fixture: "truncated.sse",
			want: &llm.Response{ID: "msg_01Trunc", Model: "claude-sonnet-4-5-20250929",
				Parts: []llm.Part{llm.TextPart("Cut off in the mid")}},
			wantKind: llm.KindConnection,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, replay(t, tt.fixture))
			s, err := newClient(t, srv, nil).Stream(context.Background(), simpleRequest())
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			got, err := llm.Collect(s)
			if tt.wantKind == "" && err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if tt.wantKind != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != tt.wantKind || le.Provider != "anth-test" {
					t.Fatalf("error = %#v, want kind %s from anth-test", err, tt.wantKind)
				}
				if _, again := s.Recv(); again != err {
					t.Errorf("Recv after the error = %v, want the same error", again)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamEvents checks the exact canonical sequence: part indices follow
// Anthropic's block indices, usage comes once, after the stop.
func TestStreamEvents(t *testing.T) {
	srv, _ := upstream(t, replay(t, "tools.sse"))
	s, err := newClient(t, srv, nil).Stream(context.Background(), simpleRequest())
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
	args := func(i int, a string) llm.Event {
		return llm.Event{Type: llm.EventToolArgs, Index: i, ToolCall: &llm.ToolCall{Arguments: a}}
	}
	want := []llm.Event{
		{Type: llm.EventStart, ID: "msg_01Tools", Model: "claude-haiku-4-5-20251001"},
		{Type: llm.EventText, Index: 0},
		{Type: llm.EventText, Index: 0, Text: "I'll check both cities."},
		{Type: llm.EventToolCall, Index: 1, ToolCall: &llm.ToolCall{ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather"}},
		args(1, `{"location":`), args(1, ` "San Francisco, CA"`), args(1, `, "unit": "celsius"}`),
		{Type: llm.EventToolCall, Index: 2, ToolCall: &llm.ToolCall{ID: "toolu_01B77x2z8y3k", Name: "get_weather"}},
		args(2, `{"loca`), args(2, `tion": "Paris`), args(2, `, France"}`),
		{Type: llm.EventStop, StopReason: llm.StopToolCalls},
		{Type: llm.EventUsage, Usage: &llm.Usage{Input: 849, Output: 89}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestChat(t *testing.T) {
	raw, err := os.ReadFile("testdata/message.json")
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
	})
	c := newClient(t, srv, func(cfg *providers.Config) {
		cfg.BaseURL = srv.URL + "/v1/"
		cfg.Headers = map[string]string{"anthropic-beta": "prompt-caching-2024-07-31"}
	})
	got, err := c.Chat(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Model: "claude-sonnet-4-5-20250929",
		Parts: []llm.Part{
			{Kind: llm.PartThinking, Text: "The user wants the weather.", Signature: "sig-abc"},
			llm.TextPart("Let me check."),
			toolCallPart("toolu_01A09q90qw90lq917835lq9", "get_weather", `{"location":"San Francisco, CA","unit":"celsius"}`),
		},
		StopReason: llm.StopToolCalls,
		Usage:      llm.Usage{Input: 2095, CacheWrite: 10, CacheRead: 300, Output: 503}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	r := <-seen
	if r.Path != "/v1/messages" {
		t.Errorf("path = %q, want /v1/messages", r.Path)
	}
	for k, v := range map[string]string{
		"X-Api-Key": "sk-ant-test", "Anthropic-Version": "2023-06-01",
		"Content-Type": "application/json", "Anthropic-Beta": "prompt-caching-2024-07-31",
	} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if r.Body["max_tokens"] != float64(DefaultMaxTokens) || r.Body["stream"] != nil {
		t.Errorf("body = %v, want max_tokens %d and no stream", r.Body, DefaultMaxTokens)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, base, version string
		wantURL, wantVer    string
	}{
		{"root", "https://api.anthropic.com", "", "https://api.anthropic.com/v1/messages", DefaultVersion},
		{"empty", "", "", "https://api.anthropic.com/v1/messages", DefaultVersion},
		{"v1 suffix", "https://api.minimax.io/anthropic/v1", "2024-01-01", "https://api.minimax.io/anthropic/v1/messages", "2024-01-01"},
		{"full path", "http://127.0.0.1:9/v1/messages/", "", "http://127.0.0.1:9/v1/messages", DefaultVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(providers.Config{BaseURL: tt.base, APIVersion: tt.version})
			if err != nil {
				t.Fatal(err)
			}
			if c.url != tt.wantURL || c.version != tt.wantVer || c.name != "anthropic" {
				t.Errorf("url, version, name = %q, %q, %q; want %q, %q, anthropic", c.url, c.version, c.name, tt.wantURL, tt.wantVer)
			}
		})
	}
	if _, err := New(providers.Config{BaseURL: "api.anthropic.com"}); err == nil {
		t.Error("New accepted a base URL without a scheme")
	}
	p, err := providers.New(providers.Config{Name: "a", Format: "anthropic"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*Client); !ok {
		t.Errorf("registered factory built %T", p)
	}
}

func TestAPIVersionOverride(t *testing.T) {
	srv, seen := upstream(t, replay(t, "text.sse"))
	c := newClient(t, srv, func(cfg *providers.Config) { cfg.APIVersion = "2099-01-01"; cfg.APIKey = "" })
	s, err := c.Stream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llm.Collect(s); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	if got := r.Header.Get("anthropic-version"); got != "2099-01-01" {
		t.Errorf("anthropic-version = %q", got)
	}
	if _, ok := r.Header["X-Api-Key"]; ok {
		t.Error("x-api-key sent without a key")
	}
	if r.Body["stream"] != true {
		t.Errorf("stream = %v, want true", r.Body["stream"])
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantKind   llm.ErrorKind
		wantType   string
		wantMsg    string
		wantStatus int
		wantRetry  time.Duration
	}{
		{"rate limited", 429, map[string]string{"Retry-After": "7"},
			`{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`,
			llm.KindRateLimit, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", 429, 7 * time.Second},
		{"overloaded", 529, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			llm.KindOverloaded, "overloaded_error", "Overloaded", 503, 0},
		{"bad key", 401, nil, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			llm.KindUpstreamAuth, "authentication_error", "invalid x-api-key", 502, 0},
		{"bad request", 400, nil, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}`,
			llm.KindInvalidRequest, "invalid_request_error", "messages: roles must alternate", 400, 0},
		{"html gateway error", 502, nil, "<html>Bad Gateway</html>", llm.KindServer, "", "<html>Bad Gateway</html>", 502, 0},
	}
	for _, tt := range tests {
		for _, streamed := range []bool{false, true} {
			name := tt.name + "/chat"
			if streamed {
				name = tt.name + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				})
				c := newClient(t, srv, nil)
				var err error
				if streamed {
					_, err = c.Stream(context.Background(), simpleRequest())
				} else {
					_, err = c.Chat(context.Background(), simpleRequest())
				}
				var le *llm.Error
				if !errors.As(err, &le) {
					t.Fatalf("err = %v, want *llm.Error", err)
				}
				got := [6]any{le.Kind, le.UpstreamType, le.Message, le.Status, le.RetryAfter, le.UpstreamStatus}
				want := [6]any{tt.wantKind, tt.wantType, tt.wantMsg, tt.wantStatus, tt.wantRetry, tt.status}
				if got != want {
					t.Errorf("kind, type, message, status, retry, upstream status = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestContextDeadline(t *testing.T) {
	t.Run("before headers", func(t *testing.T) {
		srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := newClient(t, srv, nil).Chat(ctx, simpleRequest())
		if le := llm.AsError(err); le.Kind != llm.KindTimeout {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		s, err := newClient(t, srv, nil).Stream(ctx, simpleRequest())
		if err != nil {
			t.Fatal(err)
		}
		got, err := llm.Collect(s)
		if le := llm.AsError(err); le.Kind != llm.KindTimeout {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if got.ID != "m" {
			t.Errorf("kept response id %q, want m", got.ID)
		}
	})
}

func TestCloseCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	})
	s, err := newClient(t, srv, nil).Stream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Recv(); err != nil || ev.Type != llm.EventStart {
		t.Fatalf("first Recv = %v, %v", ev, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // twice is fine
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled by Close")
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, want an error", err)
	}
}

func TestStopReasons(t *testing.T) {
	tests := map[string]llm.StopReason{
		"end_turn": llm.StopEnd, "max_tokens": llm.StopLength, "tool_use": llm.StopToolCalls,
		"stop_sequence": llm.StopSequence, "refusal": llm.StopRefusal, "pause_turn": llm.StopPause,
		"model_context_window_exceeded": llm.StopLength, "something_new": llm.StopEnd,
	}
	for wire, want := range tests {
		t.Run(wire, func(t *testing.T) {
			resp, err := decodeResponse([]byte(`{"type":"message","content":[],"stop_reason":"` + wire + `","stop_sequence":"X"}`))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StopReason != want {
				t.Errorf("stop reason = %q, want %q", resp.StopReason, want)
			}
			if (resp.StopSequence == "X") != (want == llm.StopSequence) {
				t.Errorf("stop sequence = %q", resp.StopSequence)
			}
		})
	}
	if _, err := decodeResponse([]byte(`{"type":"error"}`)); llm.AsError(err).Kind != llm.KindServer {
		t.Errorf("non-message response: err = %v, want a server error", err)
	}
}
