package sim

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

const bearerK = "Bearer k"

func TestOpenAIJSON(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("gpt-4o", Step{Text: "Hi there", Usage: &llm.Usage{Input: 10, CacheRead: 5, Output: 3, Reasoning: 2}})
	res, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"gpt-4o","messages":`+userHello+`}`, "Authorization", bearerK)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	v := decode(t, b)
	checks := map[string]any{
		"object":                                    "chat.completion",
		"model":                                     "gpt-4o",
		"choices.0.message.role":                    "assistant",
		"choices.0.message.content":                 "Hi there",
		"choices.0.finish_reason":                   "stop",
		"usage.prompt_tokens":                       15.0,
		"usage.completion_tokens":                   5.0,
		"usage.total_tokens":                        20.0,
		"usage.prompt_tokens_details.cached_tokens": 5.0,
		"usage.completion_tokens_details.reasoning_tokens": 2.0,
	}
	checkPaths(t, v, checks)
	if id, _ := v["id"].(string); !strings.HasPrefix(id, "chatcmpl-") {
		t.Errorf("id %q", id)
	}
}

// checkPaths compares dotted paths (numbers index arrays) with values.
func checkPaths(t *testing.T, v any, want map[string]any) {
	t.Helper()
	for p, w := range want {
		var keys []any
		for _, k := range strings.Split(p, ".") {
			if n, err := json.Number(k).Int64(); err == nil {
				keys = append(keys, int(n))
			} else {
				keys = append(keys, k)
			}
		}
		if got := path(v, keys...); !cmp.Equal(got, w) {
			t.Errorf("%s = %#v, want %#v", p, got, w)
		}
	}
}

func TestOpenAIMaxTokens(t *testing.T) {
	_, url := start(t, Config{})
	_, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"gpt-4o","max_completion_tokens":6,"messages":`+userHello+`}`, "Authorization", bearerK)
	v := decode(t, b)
	text, _ := path(v, "choices", 0, "message", "content").(string)
	if len(tokens(text)) != 6 || path(v, "choices", 0, "finish_reason") != "length" {
		t.Errorf("reply %q finish %v: want 6 tokens and length", text, path(v, "choices", 0, "finish_reason"))
	}
}

// oaiChunks parses a Chat Completions stream into its chunks; done reports
// the [DONE] terminator.
func oaiChunks(t *testing.T, b []byte) (chunks []map[string]any, done bool) {
	t.Helper()
	for _, ev := range sseEvents(t, b) {
		if ev.Event != "" {
			t.Errorf("OpenAI events are unnamed, got %q", ev.Event)
		}
		if string(ev.Data) == "[DONE]" {
			done = true
			continue
		}
		if done {
			t.Error("data after [DONE]")
		}
		chunks = append(chunks, decode(t, ev.Data))
	}
	return chunks, done
}

func TestOpenAIStream(t *testing.T) {
	tests := []struct {
		name         string
		includeUsage bool
	}{{"with usage", true}, {"without usage", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := start(t, Config{TokensPerSecond: 100000})
			body := `{"model":"gpt-4o","stream":true,"messages":` + userHello + `}`
			if tt.includeUsage {
				body = `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":` + userHello + `}`
			}
			res, b := do(t, "POST", url+"/v1/chat/completions", body, "Authorization", bearerK)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("content type %q", ct)
			}
			chunks, done := oaiChunks(t, b)
			if !done {
				t.Fatal("no [DONE]")
			}
			if path(chunks[0], "choices", 0, "delta", "role") != "assistant" {
				t.Errorf("first chunk %v has no role", chunks[0])
			}
			var text strings.Builder
			deltas, finish, usage := 0, "", map[string]any(nil)
			for i, c := range chunks {
				if c["object"] != "chat.completion.chunk" || c["id"] != chunks[0]["id"] {
					t.Errorf("chunk %d: %v", i, c)
				}
				u, hasUsage := c["usage"]
				if hasUsage != tt.includeUsage {
					t.Errorf("chunk %d has usage field: %v", i, hasUsage)
				}
				if ch, _ := c["choices"].([]any); len(ch) == 0 {
					usage, _ = u.(map[string]any)
					if i != len(chunks)-1 {
						t.Error("the usage chunk is not the last")
					}
					continue
				} else if u != nil {
					t.Errorf("chunk %d: usage %v before the end", i, u)
				}
				if s, ok := path(c, "choices", 0, "delta", "content").(string); ok && s != "" {
					text.WriteString(s)
					deltas++
				}
				if f, ok := path(c, "choices", 0, "finish_reason").(string); ok {
					finish = f
				}
			}
			if deltas < 5 || finish != "stop" || !strings.HasPrefix(text.String(), "Simulated reply from gpt-4o:") {
				t.Errorf("%d deltas, finish %q, text %q", deltas, finish, text.String())
			}
			if tt.includeUsage && (usage == nil || usage["completion_tokens"] != float64(genTokens) || path(usage, "prompt_tokens_details", "cached_tokens") != 0.0) {
				t.Errorf("usage %v", usage)
			}
		})
	}
}

func TestOpenAIStreamToolCalls(t *testing.T) {
	s, url := start(t, Config{})
	calls := []llm.ToolCall{
		{ID: "call_a", Name: "get_weather", Arguments: `{"city":"Paris","unit":"celsius"}`},
		{Name: "get_time", Arguments: `{"tz":"Europe/Paris"}`},
	}
	s.Script("gpt-4o", Step{ToolCalls: calls})
	_, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":`+userHello+`}`, "Authorization", bearerK)
	chunks, _ := oaiChunks(t, b)
	type acc struct {
		id, name string
		args     strings.Builder
		frags    int
	}
	got := map[int]*acc{}
	finish := ""
	for _, c := range chunks {
		if f, ok := path(c, "choices", 0, "finish_reason").(string); ok {
			finish = f
		}
		tcs, _ := path(c, "choices", 0, "delta", "tool_calls").([]any)
		for _, tc := range tcs {
			i := int(path(tc, "index").(float64))
			a := got[i]
			id, hasID := path(tc, "id").(string)
			name, _ := path(tc, "function", "name").(string)
			if a == nil {
				if !hasID || name == "" || path(tc, "type") != "function" {
					t.Errorf("first fragment of %d lacks id, name or type: %v", i, tc)
				}
				a = &acc{id: id, name: name}
				got[i] = a
			} else if hasID || name != "" {
				t.Errorf("a later fragment of %d repeats id or name: %v", i, tc)
			}
			frag, _ := path(tc, "function", "arguments").(string)
			a.args.WriteString(frag)
			a.frags++
		}
	}
	if finish != "tool_calls" || len(got) != 2 {
		t.Fatalf("finish %q, %d calls", finish, len(got))
	}
	for i, want := range calls {
		a := got[i]
		if !json.Valid([]byte(a.args.String())) || a.args.String() != want.Arguments || a.name != want.Name || a.frags < 3 {
			t.Errorf("call %d: id %q name %q args %q in %d fragments", i, a.id, a.name, a.args.String(), a.frags)
		}
	}
	if got[0].id != "call_a" || !strings.HasPrefix(got[1].id, "call_") {
		t.Errorf("ids %q %q", got[0].id, got[1].id)
	}
}

func TestOpenAIGeneratedToolCall(t *testing.T) {
	_, url := start(t, Config{})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Use a tool please"}]}],
	  "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]}`
	_, b := do(t, "POST", url+"/v1/chat/completions", body, "Authorization", bearerK)
	v := decode(t, b)
	checkPaths(t, v, map[string]any{
		"choices.0.message.content":                         nil,
		"choices.0.message.tool_calls.0.function.name":      "lookup",
		"choices.0.message.tool_calls.0.function.arguments": `{"q":"sim"}`,
		"choices.0.finish_reason":                           "tool_calls",
	})
	// A tool result as the last message gets text.
	body = `{"model":"gpt-4o","messages":[{"role":"user","content":"use a tool"},{"role":"tool","tool_call_id":"x","content":"42"}],
	  "tools":[{"type":"function","function":{"name":"lookup"}}]}`
	_, b = do(t, "POST", url+"/v1/chat/completions", body, "Authorization", bearerK)
	if path(decode(t, b), "choices", 0, "finish_reason") != "stop" {
		t.Errorf("after a tool result: %s", b)
	}
}

func TestOpenAIErrors(t *testing.T) {
	s, url := start(t, Config{APIKey: "right"})
	s.Script("limited", Step{Status: 429, RetryAfter: 1500 * time.Millisecond, ErrorMessage: "slow down"})
	s.Script("broken", Step{Status: 503})
	tests := []struct {
		name      string
		body      string
		auth      string
		status    int
		errType   string
		code      any
		retry     string
		retryMs   string
		msgPrefix string
	}{
		{"no key", `{"model":"gpt-4o","messages":` + userHello + `}`, "", 401, "invalid_request_error", nil, "", "", "You didn't provide"},
		{"wrong key", `{"model":"gpt-4o","messages":` + userHello + `}`, "Bearer wrong", 401, "invalid_request_error", "invalid_api_key", "", "", "Incorrect API key"},
		{"bad json", `{"model":`, "Bearer right", 400, "invalid_request_error", nil, "", "", "We could not parse"},
		{"no messages", `{"model":"gpt-4o"}`, "Bearer right", 400, "invalid_request_error", nil, "", "", "Missing required parameter"},
		{"scripted 429", `{"model":"limited","messages":` + userHello + `}`, "Bearer right", 429, "requests", "rate_limit_exceeded", "2", "1500", "slow down"},
		{"scripted 503", `{"model":"broken","messages":` + userHello + `}`, "Bearer right", 503, "server_error", nil, "", "", "The service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", url+"/v1/chat/completions", tt.body, "Authorization", tt.auth)
			v := decode(t, b)
			msg, _ := path(v, "error", "message").(string)
			if res.StatusCode != tt.status || path(v, "error", "type") != tt.errType || path(v, "error", "code") != tt.code ||
				!strings.HasPrefix(msg, tt.msgPrefix) {
				t.Errorf("status %d body %s", res.StatusCode, b)
			}
			if _, ok := path(v, "error").(map[string]any)["param"]; !ok {
				t.Error("error has no param field")
			}
			if res.Header.Get("Retry-After") != tt.retry || res.Header.Get("Retry-After-Ms") != tt.retryMs {
				t.Errorf("Retry-After %q, retry-after-ms %q", res.Header.Get("Retry-After"), res.Header.Get("Retry-After-Ms"))
			}
		})
	}
}

func TestOpenAIMidStreamError(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("m", Step{Text: "one two three four five six", ErrorAfterTokens: 3})
	res, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"m","stream":true,"messages":`+userHello+`}`, "Authorization", bearerK)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	chunks, done := oaiChunks(t, b)
	if done {
		t.Error("a failed stream sent [DONE]")
	}
	var text strings.Builder
	for _, c := range chunks[:len(chunks)-1] {
		s, _ := path(c, "choices", 0, "delta", "content").(string)
		text.WriteString(s)
	}
	last := chunks[len(chunks)-1]
	if text.String() != "one two three" || path(last, "error", "type") != "server_error" {
		t.Errorf("text %q, last chunk %v", text.String(), last)
	}
}

func TestOpenAIEmbeddingsAndModels(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("my-model", Step{})
	_, b := do(t, "POST", url+"/v1/embeddings", `{"model":"text-embedding-3-small","input":["a","b"],"dimensions":8}`, "Authorization", bearerK)
	v := decode(t, b)
	if path(v, "object") != "list" || len(path(v, "data").([]any)) != 2 || len(path(v, "data", 1, "embedding").([]any)) != 8 ||
		path(v, "data", 1, "index") != 1.0 || path(v, "usage", "prompt_tokens") == nil {
		t.Errorf("embeddings %s", b)
	}
	_, b = do(t, "POST", url+"/v1/embeddings", `{"model":"text-embedding-3-small","input":"a","encoding_format":"base64"}`, "Authorization", bearerK)
	enc, _ := path(decode(t, b), "data", 0, "embedding").(string)
	if raw, err := base64.StdEncoding.DecodeString(enc); err != nil || len(raw) != 4*defaultDims {
		t.Errorf("base64 embedding %q: %v", enc, err)
	}
	res, b := do(t, "POST", url+"/v1/embeddings", `{"model":"e","input":[]}`, "Authorization", bearerK)
	if res.StatusCode != 400 || path(decode(t, b), "error", "param") != "input" {
		t.Errorf("empty input: %d %s", res.StatusCode, b)
	}
	_, b = do(t, "GET", url+"/v1/models", "", "Authorization", bearerK)
	var ids []string
	for _, m := range path(decode(t, b), "data").([]any) {
		ids = append(ids, path(m, "id").(string))
	}
	if diff := cmp.Diff([]string{"gpt-4o", "gpt-4o-mini", "my-model", "text-embedding-3-small"}, ids); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestAzure(t *testing.T) {
	_, url := start(t, Config{APIKey: "az"})
	base := url + "/openai/deployments/my-gpt/chat/completions"
	tests := []struct {
		name   string
		url    string
		hdr    []string
		status int
		code   string
	}{
		{"ok", base + "?api-version=2024-10-21", []string{"Api-Key", "az"}, 200, ""},
		{"bearer", base + "?api-version=2024-10-21", []string{"Authorization", "Bearer az"}, 200, ""},
		{"no api-version", base, []string{"Api-Key", "az"}, 400, "BadRequest"},
		{"no key", base + "?api-version=2024-10-21", nil, 401, "401"},
		{"wrong key", base + "?api-version=2024-10-21", []string{"Api-Key", "no"}, 401, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", tt.url, `{"messages":`+userHello+`}`, tt.hdr...)
			v := decode(t, b)
			if res.StatusCode != tt.status || (tt.code != "" && path(v, "error", "code") != tt.code) {
				t.Errorf("status %d: %s", res.StatusCode, b)
			}
			if tt.status == 200 && (path(v, "model") != "my-gpt" || path(v, "prompt_filter_results", 0, "prompt_index") != 0.0) {
				t.Errorf("reply %s", b)
			}
		})
	}
	_, b := do(t, "POST", base+"?api-version=2024-10-21", `{"stream":true,"messages":`+userHello+`}`, "Api-Key", "az")
	chunks, done := oaiChunks(t, b)
	if !done || len(path(chunks[0], "choices").([]any)) != 0 || path(chunks[0], "prompt_filter_results") == nil ||
		path(chunks[1], "choices", 0, "delta", "role") != "assistant" {
		t.Errorf("Azure stream opening: %v %v", chunks[0], chunks[1])
	}
	_, b = do(t, "POST", url+"/openai/deployments/emb/embeddings?api-version=2024-10-21", `{"input":"x"}`, "Api-Key", "az")
	if path(decode(t, b), "model") != "emb" {
		t.Errorf("Azure embeddings: %s", b)
	}
}
