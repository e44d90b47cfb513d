package sim

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func TestOllamaStreamByDefault(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("llama3.2", Step{Thinking: "hmm", Text: "one two three", ToolCalls: []llm.ToolCall{{Name: "f", Arguments: `{"a":1}`}}})
	res, b := do(t, "POST", url+"/api/chat", `{"model":"llama3.2","messages":`+userHello+`}`)
	if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q: %s", ct, b)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var lines []map[string]any
	for sc.Scan() {
		lines = append(lines, decode(t, sc.Bytes()))
	}
	text, thinking := "", ""
	var call any
	for i, l := range lines {
		if l["model"] != "llama3.2" || l["created_at"] == nil || path(l, "message", "role") != "assistant" {
			t.Errorf("line %d: %v", i, l)
		}
		if (l["done"] == true) != (i == len(lines)-1) {
			t.Errorf("line %d done %v", i, l["done"])
		}
		text += path(l, "message", "content").(string)
		if s, ok := path(l, "message", "thinking").(string); ok {
			thinking += s
		}
		if c := path(l, "message", "tool_calls", 0); c != nil {
			call = c
		}
	}
	last := lines[len(lines)-1]
	if text != "one two three" || thinking != "hmm" || path(call, "function", "arguments", "a") != 1.0 || path(call, "function", "name") != "f" {
		t.Errorf("text %q thinking %q call %v", text, thinking, call)
	}
	checkPaths(t, last, map[string]any{"done_reason": "stop"})
	for _, k := range []string{"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"} {
		if n, _ := last[k].(float64); n <= 0 {
			t.Errorf("%s = %v", k, last[k])
		}
	}
}

func TestOllamaJSONAndErrors(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("llama3.2", Step{Status: 404, ErrorMessage: `model "llama3.2" not found, try pulling it first`}, Step{Text: "mid", ErrorAfterTokens: 1})
	res, b := do(t, "POST", url+"/api/chat", `{"model":"llama3.2","messages":`+userHello+`}`)
	if res.StatusCode != 404 || decode(t, b)["error"] == nil {
		t.Errorf("%d %s", res.StatusCode, b)
	}
	_, b = do(t, "POST", url+"/api/chat", `{"model":"llama3.2","messages":`+userHello+`}`)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 2 || decode(t, lines[1])["error"] == nil {
		t.Errorf("mid-stream error: %s", b)
	}
	res, b = do(t, "POST", url+"/api/chat", `{"model":"llama3.2","stream":false,"options":{"num_predict":3},"messages":`+userHello+`}`)
	v := decode(t, b)
	if res.Header.Get("Content-Type") != "application/json; charset=utf-8" || v["done"] != true || v["done_reason"] != "length" ||
		len(tokens(path(v, "message", "content").(string))) != 3 || v["eval_count"] != 3.0 {
		t.Errorf("stream false: %s", b)
	}
	res, b = do(t, "POST", url+"/api/chat", `{"messages":[]}`)
	if res.StatusCode != 400 || decode(t, b)["error"] != "model is required" {
		t.Errorf("no model: %d %s", res.StatusCode, b)
	}
}

func TestOllamaKeyEmbedTags(t *testing.T) {
	_, url := start(t, Config{APIKey: "k"})
	if res, b := do(t, "POST", url+"/api/chat", `{"model":"m","stream":false,"messages":`+userHello+`}`); res.StatusCode != 401 {
		t.Errorf("no key: %d %s", res.StatusCode, b)
	}
	_, b := do(t, "POST", url+"/api/embed", `{"model":"nomic-embed-text","input":["a","b","c"]}`, "Authorization", bearerK)
	if e, _ := decode(t, b)["embeddings"].([]any); len(e) != 3 {
		t.Errorf("embed %s", b)
	}
	_, b = do(t, "GET", url+"/api/tags", "", "Authorization", bearerK)
	if m, _ := decode(t, b)["models"].([]any); len(m) < 1 || path(m[0], "details", "format") != "gguf" {
		t.Errorf("tags %s", b)
	}
}
