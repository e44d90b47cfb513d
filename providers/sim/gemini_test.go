package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

const gemBody = `{"contents":[{"role":"user","parts":[{"text":"Hello there"}]}]}`

func TestGeminiJSON(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("gemini-2.5-flash", Step{Thinking: "Thinking.", Text: "Sure.", ToolCalls: []llm.ToolCall{{Name: "f", Arguments: `{"q":"x"}`}},
		Usage: &llm.Usage{Input: 6, CacheRead: 4, Output: 5, Reasoning: 3}})
	res, b := do(t, "POST", url+"/v1beta/models/gemini-2.5-flash:generateContent", gemBody, "X-Goog-Api-Key", "k")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	checkPaths(t, decode(t, b), map[string]any{
		"candidates.0.content.role":                      "model",
		"candidates.0.content.parts.0.text":              "Thinking.",
		"candidates.0.content.parts.0.thought":           true,
		"candidates.0.content.parts.1.text":              "Sure.",
		"candidates.0.content.parts.2.functionCall.name": "f",
		"candidates.0.content.parts.2.functionCall.args": map[string]any{"q": "x"},
		"candidates.0.finishReason":                      "STOP",
		"usageMetadata.promptTokenCount":                 10.0,
		"usageMetadata.cachedContentTokenCount":          4.0,
		"usageMetadata.candidatesTokenCount":             5.0,
		"usageMetadata.thoughtsTokenCount":               3.0,
		"usageMetadata.totalTokenCount":                  18.0,
		"modelVersion":                                   "gemini-2.5-flash",
	})
}

func TestGeminiStream(t *testing.T) {
	tests := []struct {
		name string
		sse  bool
	}{{"sse", true}, {"json array", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, Config{})
			s.Script("g", Step{Text: "one two three four", ToolCalls: []llm.ToolCall{{Name: "f", Arguments: `{"a":[1,2]}`}}})
			q := "?key=k"
			if tt.sse {
				q += "&alt=sse"
			}
			res, b := do(t, "POST", url+"/v1beta/models/g:streamGenerateContent"+q, gemBody)
			var chunks []map[string]any
			if tt.sse {
				if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
					t.Errorf("content type %q", ct)
				}
				for _, ev := range sseEvents(t, b) {
					chunks = append(chunks, decode(t, ev.Data))
				}
			} else {
				if !bytes.HasPrefix(b, []byte("[")) || !bytes.HasSuffix(b, []byte("]")) {
					t.Errorf("not a JSON array: %q", b)
				}
				if err := json.Unmarshal(b, &chunks); err != nil {
					t.Fatalf("array: %v", err)
				}
			}
			text := ""
			var call map[string]any
			for i, c := range chunks {
				if path(c, "usageMetadata", "promptTokenCount") == nil || path(c, "candidates", 0, "content", "role") != "model" {
					t.Errorf("chunk %d is not a whole response: %v", i, c)
				}
				parts, _ := path(c, "candidates", 0, "content", "parts").([]any)
				for _, p := range parts {
					if s, ok := path(p, "text").(string); ok {
						text += s
					}
					if fc, ok := path(p, "functionCall").(map[string]any); ok {
						call = fc
					}
				}
				if f := path(c, "candidates", 0, "finishReason"); f != nil && i != len(chunks)-1 {
					t.Errorf("finishReason %v before the last chunk", f)
				}
			}
			last := chunks[len(chunks)-1]
			if text != "one two three four" || len(chunks) < 6 || path(last, "candidates", 0, "finishReason") != "STOP" ||
				path(last, "usageMetadata", "candidatesTokenCount") == nil {
				t.Errorf("text %q in %d chunks, last %v", text, len(chunks), last)
			}
			if call["name"] != "f" || path(call, "args", "a", 1) != 2.0 {
				t.Errorf("function call %v", call)
			}
		})
	}
}

func TestGeminiErrors(t *testing.T) {
	s, url := start(t, Config{APIKey: "k"})
	s.Script("limited", Step{Status: 429})
	tests := []struct {
		name   string
		url    string
		hdr    []string
		body   string
		status int
		want   string
		reason any
	}{
		{"no key", "/v1beta/models/g:generateContent", nil, gemBody, 403, "PERMISSION_DENIED", nil},
		{"bad key", "/v1beta/models/g:generateContent?key=no", nil, gemBody, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"},
		{"no contents", "/v1beta/models/g:generateContent", []string{"X-Goog-Api-Key", "k"}, `{}`, 400, "INVALID_ARGUMENT", nil},
		{"rate limited", "/v1beta/models/limited:generateContent", []string{"X-Goog-Api-Key", "k"}, gemBody, 429, "RESOURCE_EXHAUSTED", nil},
		{"unknown method", "/v1beta/models/g:fly", []string{"X-Goog-Api-Key", "k"}, gemBody, 404, "NOT_FOUND", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", url+tt.url, tt.body, tt.hdr...)
			v := decode(t, b)
			if res.StatusCode != tt.status || path(v, "error", "code") != float64(tt.status) || path(v, "error", "status") != tt.want ||
				path(v, "error", "details", 0, "reason") != tt.reason {
				t.Errorf("status %d: %s", res.StatusCode, b)
			}
		})
	}
}

func TestGeminiMidStreamError(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("g", Step{Text: "a b c", ErrorAfterTokens: 1, Status: 503}, Step{Text: "a b c", ErrorAfterTokens: 1})
	_, b := do(t, "POST", url+"/v1beta/models/g:streamGenerateContent?alt=sse", gemBody, "X-Goog-Api-Key", "k")
	evs := sseEvents(t, b)
	if len(evs) != 2 || path(decode(t, evs[1].Data), "error", "status") != "UNAVAILABLE" {
		t.Errorf("sse: %q", b)
	}
	_, b = do(t, "POST", url+"/v1beta/models/g:streamGenerateContent", gemBody, "X-Goog-Api-Key", "k")
	var arr []map[string]any
	if err := json.Unmarshal(b, &arr); err != nil || len(arr) != 2 || path(arr[1], "error", "status") != "INTERNAL" {
		t.Errorf("array %q: %v", b, err)
	}
}

func TestGeminiEmbedAndCount(t *testing.T) {
	_, url := start(t, Config{})
	_, b := do(t, "POST", url+"/v1beta/models/text-embedding-004:embedContent",
		`{"content":{"parts":[{"text":"hi"}]},"outputDimensionality":4}`, "X-Goog-Api-Key", "k")
	if v, _ := path(decode(t, b), "embedding", "values").([]any); len(v) != 4 {
		t.Errorf("embedContent %s", b)
	}
	_, b = do(t, "POST", url+"/v1beta/models/text-embedding-004:batchEmbedContents",
		`{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]}}]}`,
		"X-Goog-Api-Key", "k")
	if v, _ := path(decode(t, b), "embeddings").([]any); len(v) != 2 || len(path(v[1], "values").([]any)) != defaultDims {
		t.Errorf("batchEmbedContents %s", b)
	}
	_, b = do(t, "POST", url+"/v1beta/models/g:countTokens", gemBody, "X-Goog-Api-Key", "k")
	if n, _ := path(decode(t, b), "totalTokens").(float64); n < 1 || !strings.Contains(string(b), "promptTokensDetails") {
		t.Errorf("countTokens %s", b)
	}
}
