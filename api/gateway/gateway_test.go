package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	_ "github.com/circuit-breaker/circuit-breaker/providers/all"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

type recorder struct {
	mu    sync.Mutex
	calls []router.Call
}

func (r *recorder) Record(c router.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) last(t *testing.T) router.Call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("no call recorded")
	}
	return r.calls[len(r.calls)-1]
}

type env struct {
	url string
	sim *sim.Server
	rec *recorder
}

// newEnv serves the gateway in front of a router whose deployments are the
// simulator in three formats: OpenAI (gpt-4o), Anthropic
// (claude-sonnet-4-5) and Gemini (gemini-2.0-flash).
func newEnv(t *testing.T) *env {
	t.Helper()
	s := sim.New(sim.Config{})
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	dep := func(name, format, base string, models ...string) router.Deployment {
		c, err := providers.New(providers.Config{Name: name, Format: format, BaseURL: base, APIKey: "sk-test"})
		if err != nil {
			t.Fatal(err)
		}
		return router.Deployment{Name: name, Provider: name, Client: c, Models: models}
	}
	rec := &recorder{}
	r, err := router.New(router.Config{Recorder: rec, Deployments: []router.Deployment{
		dep("openai", "openai", up.URL+"/v1", "gpt-4o"),
		dep("anthropic", "anthropic", up.URL, "claude-sonnet-4-5"),
		dep("google", "gemini", up.URL+"/v1beta", "gemini-2.0-flash"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := gateway.New(gateway.Deps{Router: r, Authenticate: func(r *http.Request) (auth.Principal, error) {
		if r.Header.Get("Authorization") == "Bearer bad" {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		p := auth.Anonymous()
		p.Tenant = "acme"
		return p, nil
	}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, sim: s, rec: rec}
}

func (e *env) post(t *testing.T, path, body string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenAICallerAnthropicUpstream(t *testing.T) {
	e := newEnv(t)
	e.sim.Script("claude-sonnet-4-5", sim.Step{Text: "Bonjour!", Usage: &llm.Usage{Input: 1000, CacheRead: 2000, Output: 500}})
	resp := e.post(t, "/v1/chat/completions", `{"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"be nice"},{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body := decode(t, resp.Body)
	msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if msg["content"] != "Bonjour!" {
		t.Fatalf("content = %v", msg["content"])
	}
	usage := body["usage"].(map[string]any)
	if usage["prompt_tokens"].(float64) != 3000 || usage["prompt_tokens_details"].(map[string]any)["cached_tokens"].(float64) != 2000 {
		t.Fatalf("usage = %v", usage)
	}
	// 1000×3 + 2000×0.3 + 500×15 per 1M tokens.
	const want = (1000*3.0 + 2000*0.3 + 500*15.0) / 1e6
	if got := resp.Header.Get(gateway.HeaderCost); got != "0.0111" {
		t.Fatalf("cost header %q, want %v", got, want)
	}
	if resp.Header.Get(gateway.HeaderProvider) != "anthropic" || resp.Header.Get(gateway.HeaderCallID) == "" || resp.Header.Get(gateway.HeaderAddedMs) == "" {
		t.Fatalf("headers %v", resp.Header)
	}
	c := e.rec.last(t)
	if c.Tenant != "acme" || !c.Priced || c.CostUSD < want-1e-12 || c.CostUSD > want+1e-12 {
		t.Fatalf("call = %+v", c)
	}
}

// sseEvents reads a whole SSE body.
func sseEvents(t *testing.T, r io.Reader) []sse.Event {
	t.Helper()
	rd := sse.NewReader(r)
	var out []sse.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}

func TestOpenAIStreamFromGemini(t *testing.T) {
	e := newEnv(t)
	e.sim.Script("gemini-2.0-flash", sim.Step{Text: "one two three four", Usage: &llm.Usage{Input: 10, Output: 4, Reasoning: 6}})
	resp := e.post(t, "/v1/chat/completions", `{"model":"gemini-2.0-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count"}]}`)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d content type %q", resp.StatusCode, ct)
	}
	evs := sseEvents(t, resp.Body)
	if len(evs) < 3 || string(evs[len(evs)-1].Data) != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %d events", len(evs))
	}
	var text strings.Builder
	var usage map[string]any
	for _, ev := range evs[:len(evs)-1] {
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	if text.String() != "one two three four" {
		t.Fatalf("text %q", text.String())
	}
	// Gemini's thoughts are billed as reasoning inside completion tokens.
	if usage["completion_tokens"].(float64) != 10 {
		t.Fatalf("usage %v", usage)
	}
	c := e.rec.last(t)
	if !c.Stream || c.Outcome != router.OutcomeOK || c.Usage.Reasoning != 6 || c.Provider != "google" {
		t.Fatalf("call %+v", c)
	}
}

func TestAnthropicCallerStreamedToolCallsFromOpenAI(t *testing.T) {
	e := newEnv(t)
	e.sim.Script("gpt-4o", sim.Step{Text: "Checking.", ToolCalls: []llm.ToolCall{
		{ID: "call_1", Name: "weather", Arguments: `{"city":"Paris"}`},
		{ID: "call_2", Name: "weather", Arguments: `{"city":"Oslo"}`},
	}})
	resp := e.post(t, "/v1/messages", `{"model":"gpt-4o","max_tokens":100,"stream":true,
		"tools":[{"name":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
		"messages":[{"role":"user","content":"weather in Paris and Oslo?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	evs := sseEvents(t, resp.Body)
	var names []string
	args := map[int]string{}
	var stop string
	for _, ev := range evs {
		names = append(names, ev.Event)
		var d struct {
			Index int `json:"index"`
			Delta struct {
				Type        string `json:"type"`
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			} `json:"delta"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		if d.Delta.Type == "input_json_delta" {
			args[d.Index] += d.Delta.PartialJSON
		}
		if ev.Event == "message_delta" {
			stop = d.Delta.StopReason
		}
	}
	if names[0] != "message_start" || names[len(names)-1] != "message_stop" {
		t.Fatalf("events %v", names)
	}
	if stop != "tool_use" || args[1] != `{"city":"Paris"}` || args[2] != `{"city":"Oslo"}` {
		t.Fatalf("stop %q args %v (events %v)", stop, args, names)
	}
}

func TestErrorsInTheCallersFormat(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, path, body string
		hdr              []string
		status           int
		check            func(map[string]any) bool
	}{
		{"unknown model, OpenAI shape", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, nil, 404,
			func(m map[string]any) bool {
				return strings.Contains(m["error"].(map[string]any)["message"].(string), `"nope"`)
			}},
		{"malformed JSON", "/v1/chat/completions", `{"model":`, nil, 400,
			func(m map[string]any) bool { return m["error"].(map[string]any)["type"] == "invalid_request_error" }},
		{"missing max_tokens, Anthropic shape", "/v1/messages", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, nil, 400,
			func(m map[string]any) bool {
				return m["type"] == "error" && strings.Contains(m["error"].(map[string]any)["message"].(string), "max_tokens")
			}},
		{"bad key, Anthropic shape", "/v1/messages", `{}`, []string{"Authorization", "Bearer bad"}, 401,
			func(m map[string]any) bool { return m["error"].(map[string]any)["type"] == "authentication_error" }},
		{"empty body", "/v1/chat/completions", ``, nil, 400,
			func(m map[string]any) bool {
				return strings.Contains(m["error"].(map[string]any)["message"].(string), "empty")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.post(t, c.path, c.body, c.hdr...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if m := decode(t, resp.Body); !c.check(m) {
				t.Fatalf("body %v", m)
			}
		})
	}
}

func TestUpstreamErrorIsPassedOnAfterRetries(t *testing.T) {
	e := newEnv(t)
	e.sim.Script("gpt-4o", sim.Step{Status: 400, ErrorMessage: "messages: too long"})
	resp := e.post(t, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if m := decode(t, resp.Body); !strings.Contains(m["error"].(map[string]any)["message"].(string), "too long") {
		t.Fatalf("body %v", m)
	}
	if c := e.rec.last(t); c.Outcome != router.OutcomeError || c.Fault != "caller" {
		t.Fatalf("call %+v", c)
	}
}

func TestModels(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := decode(t, resp.Body)
	var ids []string
	for _, d := range m["data"].([]any) {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "claude-sonnet-4-5,gemini-2.0-flash,gpt-4o" {
		t.Fatalf("models %v", ids)
	}
}
