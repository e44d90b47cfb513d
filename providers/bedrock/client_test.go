package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

func TestNewReportsEverythingMissing(t *testing.T) {
	tests := []struct {
		name string
		cfg  providers.Config
		want []string
	}{
		{"nothing", providers.Config{}, []string{"region is required to sign", "access key id is required", "secret access key is required"}},
		{"api key without region or url", providers.Config{APIKey: "k"}, []string{"region is required for the default endpoint"}},
		{"bad url", providers.Config{APIKey: "k", BaseURL: "ftp://x"}, []string{`base URL "ftp://x" is not an http(s) URL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
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
	ok := []providers.Config{
		{Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "s"},
		{APIKey: "k", Region: "eu-west-1"},
		{APIKey: "k", BaseURL: "http://127.0.0.1:1/prefix/"},
	}
	for _, cfg := range ok {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
	c, _ := New(providers.Config{APIKey: "k", Region: "eu-west-1"})
	if got := c.base.String(); got != "https://bedrock-runtime.eu-west-1.amazonaws.com" {
		t.Errorf("default base URL = %s", got)
	}
	if _, err := providers.New(providers.Config{Name: "x", Format: Format, APIKey: "k", Region: "us-east-1"}); err != nil {
		t.Errorf("registry: %v", err)
	}
}

func TestChat(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    llm.Response
	}{
		{"text", "converse_text.json", llm.Response{
			ID: "req-1", Model: "anthropic.claude-3-haiku-20240307-v1:0",
			Parts:      []llm.Part{llm.TextPart("Hello! How can I help you today?")},
			StopReason: llm.StopEnd, Usage: llm.Usage{Input: 12, Output: 9},
		}},
		{"tool call", "converse_tool.json", llm.Response{
			ID: "req-1", Model: "anthropic.claude-3-haiku-20240307-v1:0",
			Parts: []llm.Part{llm.TextPart("I'll check the weather."), {Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{
				ID: "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", Name: "get_weather", Arguments: `{"city":"Paris","unit":"celsius"}`}}},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 420, Output: 61},
		}},
		{"parallel tool calls", "converse_parallel.json", llm.Response{
			ID: "req-1", Model: "anthropic.claude-3-haiku-20240307-v1:0",
			Parts: []llm.Part{
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_1", Name: "get_weather", Arguments: `{"city":"Madrid"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_2", Name: "get_weather", Arguments: `{"city":"Brasilia"}`}},
			},
			StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 300, Output: 80},
		}},
		{"cache usage and reasoning", "converse_cache_reasoning.json", llm.Response{
			ID: "req-1", Model: "anthropic.claude-3-haiku-20240307-v1:0",
			Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "The user wants a haiku.", Signature: "EqoBCkgIARABGAIiQ"},
				llm.TextPart("Autumn moonlight—"),
			},
			StopReason: llm.StopLength, Usage: llm.Usage{Input: 5, CacheRead: 2000, CacheWrite: 100, Output: 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := readFixture(t, tt.fixture)
			var gotPath, gotAuth string
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotAuth = r.URL.EscapedPath(), r.Header.Get("Authorization")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-Requestid", "req-1")
				w.Write(body)
			}))
			got, err := c.Chat(context.Background(), &llm.Request{Model: "anthropic.claude-3-haiku-20240307-v1:0", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got); d != "" {
				t.Errorf("response mismatch (-want +got):\n%s", d)
			}
			if want := "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"; gotPath != want {
				t.Errorf("path = %s, want %s", gotPath, want)
			}
			if gotAuth != "Bearer test-key" {
				t.Errorf("Authorization = %q", gotAuth)
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
		typ        string
		msg        string
		retryAfter time.Duration
	}{
		{"throttled with retry-after", 429, map[string]string{"X-Amzn-Errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", "Retry-After": "7"},
			`{"message":"Too many requests, please wait before trying again."}`, llm.KindRateLimit, "ThrottlingException", "Too many requests", 7 * time.Second},
		{"server error", 500, map[string]string{"X-Amzn-Errortype": "InternalServerException"}, `{"message":"Internal failure"}`, llm.KindServer, "InternalServerException", "Internal failure", 0},
		{"access denied", 403, map[string]string{"X-Amzn-Errortype": "AccessDeniedException"},
			`{"Message":"User is not authorized to perform: bedrock:InvokeModel"}`, llm.KindUpstreamAuth, "AccessDeniedException", "not authorized", 0},
		{"validation", 400, map[string]string{"X-Amzn-Errortype": "ValidationException"}, `{"message":"Malformed input request"}`, llm.KindInvalidRequest, "ValidationException", "Malformed input", 0},
		{"model error", 424, map[string]string{"X-Amzn-Errortype": "ModelErrorException"}, `{"message":"model failed"}`, llm.KindServer, "ModelErrorException", "model failed", 0},
		{"unavailable, type in body", 503, nil, `{"__type":"com.amazon.bedrock#ServiceUnavailableException","message":"busy"}`, llm.KindOverloaded, "ServiceUnavailableException", "busy", 0},
		{"non-json body", 502, nil, `Bad Gateway`, llm.KindServer, "", "Bad Gateway", 0},
	}
	for _, tt := range tests {
		for _, op := range []string{"chat", "stream"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
				}))
				req := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
				var err error
				if op == "chat" {
					_, err = c.Chat(context.Background(), req)
				} else {
					_, err = c.Stream(context.Background(), req)
				}
				e := asLLMError(t, err)
				if e.Kind != tt.kind || e.UpstreamType != tt.typ || e.UpstreamStatus != tt.status || !strings.Contains(e.Message, tt.msg) || e.RetryAfter != tt.retryAfter || e.Provider != "bedrock-test" {
					t.Errorf("got %+v, want kind %s type %q status %d message ~%q retry %s", e, tt.kind, tt.typ, tt.status, tt.msg, tt.retryAfter)
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
	_, err := c.Chat(ctx, &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}})
	if e := asLLMError(t, err); e.Kind != llm.KindTimeout {
		t.Errorf("kind = %s, want timeout", e.Kind)
	}
}

func TestChatConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(providers.Config{BaseURL: url, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), &llm.Request{Model: "m"})
	if e := asLLMError(t, err); e.Kind != llm.KindConnection {
		t.Errorf("kind = %s, want connection", e.Kind)
	}
}

func TestChatMalformedBody(t *testing.T) {
	for name, body := range map[string]string{"not json": "<html>", "no message": `{"output":{}}`, "tool without id": `{"output":{"message":{"content":[{"toolUse":{"name":"f"}}]}}}`} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
			_, err := c.Chat(context.Background(), &llm.Request{Model: "m"})
			if e := asLLMError(t, err); e.Kind != llm.KindServer || e.Provider != "bedrock-test" {
				t.Errorf("got %+v, want a server error of bedrock-test", e)
			}
		})
	}
}

// TestSigV4 checks the Authorization header the adapter produced against the
// AWS signer's own signature of the same request, and its credential scope
// and signed headers.
func TestSigV4(t *testing.T) {
	var (
		mu   sync.Mutex
		got  *http.Request
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, body = r.Clone(context.Background()), b
		mu.Unlock()
		w.Write(readFixture(t, "converse_text.json"))
	}))
	defer srv.Close()
	c, err := New(providers.Config{BaseURL: srv.URL + "/proxy", Region: "us-west-2", AccessKeyID: "AKIDEXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token", Client: srv.Client(),
		Headers: map[string]string{"X-Custom": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c.now = func() time.Time { return signedAt }
	model := "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
	if _, err := c.Chat(context.Background(), &llm.Request{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	auth := got.Header.Get("Authorization")
	wantPrefix := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250304/us-west-2/bedrock/aws4_request, SignedHeaders=accept;content-length;content-type;host;x-amz-date;x-amz-security-token;x-custom, Signature="
	if !strings.HasPrefix(auth, wantPrefix) {
		t.Fatalf("Authorization = %q, want prefix %q", auth, wantPrefix)
	}
	if got.Header.Get("X-Amz-Date") != "20250304T050607Z" || got.Header.Get("X-Amz-Security-Token") != "session-token" {
		t.Errorf("x-amz-date %q, token %q", got.Header.Get("X-Amz-Date"), got.Header.Get("X-Amz-Security-Token"))
	}

	// Re-sign what the server received with the AWS signer.
	u := "http://" + got.Host + got.URL.EscapedPath()
	re, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Accept", "Content-Type", "X-Custom"} {
		re.Header.Set(h, got.Header.Get(h))
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, hex.EncodeToString(sum[:]), "bedrock", "us-west-2", signedAt); err != nil {
		t.Fatal(err)
	}
	if want := re.Header.Get("Authorization"); auth != want {
		t.Errorf("signature differs from the AWS signer's:\n got %s\nwant %s", auth, want)
	}
	if want := "/proxy/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse"; got.URL.EscapedPath() != want {
		t.Errorf("path = %s, want %s", got.URL.EscapedPath(), want)
	}
}
