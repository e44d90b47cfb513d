package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func TestControlScript(t *testing.T) {
	s, url := start(t, Config{})
	script := `{"model":"gpt-4o","steps":[
	  {"text":"scripted","usage":{"input":1,"output":2,"cacheRead":3}},
	  {"tool_calls":[{"id":"c1","name":"f","arguments":{"a": 1}},{"name":"g","arguments":"{\"b\":2}"}]},
	  {"status":429,"error_message":"later","retry_after":"2s","delay":5}
	]}`
	res, b := do(t, "POST", url+"/_sim/script", script)
	if res.StatusCode != 200 || decode(t, b)["pending"] != 3.0 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	want := []Step{
		{Text: "scripted", Usage: &llm.Usage{Input: 1, Output: 2, CacheRead: 3}},
		{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f", Arguments: `{"a":1}`}, {Name: "g", Arguments: `{"b":2}`}}},
		{Status: 429, ErrorMessage: "later", RetryAfter: 2 * time.Second, Delay: 5 * time.Millisecond},
	}
	s.mu.Lock()
	got := append([]Step(nil), s.scripts["gpt-4o"]...)
	s.mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	_, b = do(t, "POST", url+"/v1/chat/completions", `{"model":"gpt-4o","messages":`+userHello+`}`, "Authorization", bearerK)
	if path(decode(t, b), "choices", 0, "message", "content") != "scripted" {
		t.Errorf("reply %s", b)
	}
}

func TestControlScriptErrors(t *testing.T) {
	_, url := start(t, Config{})
	tests := []struct {
		name, body, want string
	}{
		{"not json", `{`, "unexpected EOF"},
		{"no model", `{"steps":[{"text":"x"}]}`, "model is required"},
		{"no steps", `{"model":"m","steps":[]}`, "steps is empty"},
		{"unknown field", `{"model":"m","steps":[{"txt":"x"}]}`, `steps[0]: json: unknown field "txt"`},
		{"bad status", `{"model":"m","steps":[{},{"status":200}]}`, "steps[1]: status 200"},
		{"bad stop", `{"model":"m","steps":[{"stop_reason":"done"}]}`, `stop_reason "done"`},
		{"nameless tool", `{"model":"m","steps":[{"tool_calls":[{"arguments":{}}]}]}`, "tool_calls[0].name is required"},
		{"array arguments", `{"model":"m","steps":[{"tool_calls":[{"name":"f","arguments":[1]}]}]}`, "must be an object or a string"},
		{"negative delay", `{"model":"m","steps":[{"delay":"-1s"}]}`, "out of range"},
		{"negative tokens", `{"model":"m","steps":[{"error_after_tokens":-1}]}`, "error_after_tokens -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", url+"/_sim/script", tt.body)
			msg, _ := decode(t, b)["error"].(string)
			if res.StatusCode != 400 || !strings.Contains(msg, tt.want) {
				t.Errorf("%d %q, want it to contain %q", res.StatusCode, msg, tt.want)
			}
		})
	}
}

func TestControlRequestsResetConfig(t *testing.T) {
	s, url := start(t, Config{AWSSecretAccessKey: "hidden"})
	do(t, "POST", url+"/v2/chat", `{"model":"command-r","messages":`+userHello+`}`, "Authorization", bearerK)
	do(t, "GET", url+"/_sim/config", "") // control requests are not logged
	_, b := do(t, "GET", url+"/_sim/requests", "")
	var reqs []Request
	if err := json.Unmarshal(b, &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("requests %s: %v", b, err)
	}
	if r := reqs[0]; r.Format != "cohere" || r.Model != "command-r" || !strings.Contains(string(r.Body), "Hello there") {
		t.Errorf("logged %+v", r)
	}
	if res, _ := do(t, "POST", url+"/_sim/reset", ""); res.StatusCode != 204 || len(s.Requests()) != 0 {
		t.Errorf("reset: %d, %d left", res.StatusCode, len(s.Requests()))
	}

	_, b = do(t, "PUT", url+"/_sim/config", `{"api_key":"k2","latency":"1ms"}`)
	_, b = do(t, "PUT", url+"/_sim/config", `{"error_rate":0.25,"ttft":3}`)
	v := decode(t, b)
	checkPaths(t, v, map[string]any{"api_key": "k2", "latency": "1ms", "ttft": "3ms", "error_rate": 0.25})
	if _, ok := v["aws_secret_access_key"]; ok {
		t.Error("the secret was echoed")
	}
	if cfg := s.Config(); cfg.AWSSecretAccessKey != "hidden" || cfg.APIKey != "k2" || cfg.TTFT != 3*time.Millisecond {
		t.Errorf("config %+v", cfg)
	}
	for _, bad := range []string{`{"error_rate":2}`, `{"colour":1}`, `{"latency":"soon"}`, `[`} {
		if res, b := do(t, "PUT", url+"/_sim/config", bad); res.StatusCode != 400 {
			t.Errorf("%s: %d %s", bad, res.StatusCode, b)
		}
	}
	if res, _ := do(t, "GET", url+"/nowhere", ""); res.StatusCode != 404 {
		t.Errorf("unknown path: %d", res.StatusCode)
	}
}
