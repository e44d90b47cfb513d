package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// antBlock is a content block of an Anthropic message.
type antBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// antMessage is a message as the Anthropic SDK returns it.
type antMessage struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Role       string     `json:"role"`
	Model      string     `json:"model"`
	Content    []antBlock `json:"content"`
	StopReason string     `json:"stop_reason"`
	Usage      struct {
		InputTokens              int  `json:"input_tokens"`
		OutputTokens             int  `json:"output_tokens"`
		CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
		CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	} `json:"usage"`
}

func (m antMessage) text() string {
	var b strings.Builder
	for _, c := range m.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// antTools are weatherTools in Anthropic's format.
var antTools = []map[string]any{
	{"name": "get_weather", "description": "Current weather in a city", "input_schema": map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"}},
		"required": []string{"city"},
	}},
	{"name": "get_time", "description": "Local time in a time zone", "input_schema": map[string]any{
		"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}, "h24": map[string]any{"type": "boolean"}},
	}},
}

// checkToolUse checks that the message's tool_use blocks are exactly the
// calls of want: ids, names and inputs (as JSON values).
func checkToolUse(t *testing.T, m antMessage, want []llm.ToolCall) {
	t.Helper()
	var uses []antBlock
	for _, c := range m.Content {
		if c.Type == "tool_use" {
			uses = append(uses, c)
		}
	}
	if len(uses) != len(want) || m.StopReason != "tool_use" {
		t.Fatalf("message stops with %q and has %d tool_use blocks, want tool_use and %d: %+v", m.StopReason, len(uses), len(want), m.Content)
	}
	for i, u := range uses {
		if u.ID != want[i].ID || u.Name != want[i].Name {
			t.Errorf("tool_use %d = %s %s, want %s %s", i, u.ID, u.Name, want[i].ID, want[i].Name)
		}
		var g, w any
		if err := json.Unmarshal(u.Input, &g); err != nil {
			t.Errorf("tool_use %d input %s: %v", i, u.Input, err)
			continue
		}
		_ = json.Unmarshal([]byte(want[i].Arguments), &w)
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("tool_use %d input (-want +got):\n%s", i, d)
		}
	}
}

// TestLLMAnthropicSDK drives the router with the official @anthropic-ai/sdk,
// unchanged, against an OpenAI-format and a Bedrock-format upstream: JSON
// messages, streams accumulated by the SDK (text and tool use with
// input_json_delta fragments), and the SDK's typed errors after its own
// retries.
func TestLLMAnthropicSDK(t *testing.T) {
	requireLLMClients(t)
	s := startLLM(t, "")
	run := func(t *testing.T, scenario string, body any, more ...any) llmNodeResult {
		t.Helper()
		args := map[string]any{"baseURL": s.base, "apiKey": "any-key-auth-is-off", "scenario": scenario, "body": body}
		for i := 0; i+1 < len(more); i += 2 {
			args[more[i].(string)] = more[i+1]
		}
		return s.runSDK(t, "llm-anthropic.mjs", args)
	}
	msgBody := func(model, prompt string, extra map[string]any) map[string]any {
		b := map[string]any{"model": model, "max_tokens": 256, "messages": []map[string]any{{"role": "user", "content": prompt}}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	upstreams := []struct {
		name     string
		model    string // as the client asks
		upstream string // as the simulator sees it
		format   string
		auth     string // the Authorization header the upstream gets
	}{
		{"OpenAI upstream", gptModel, gptModel, "openai", "Bearer sim-openai-key"},
		{"Bedrock upstream", bedrockModel, bedrockUp, "bedrock", "Bearer sim-bedrock-bearer"},
	}

	for _, up := range upstreams {
		t.Run("messages.create, "+up.name, func(t *testing.T) {
			const text = "A short answer, from far away."
			usage := llm.Usage{Input: 50, CacheRead: 20, Output: 9}
			s.sim.Script(up.upstream, sim.Step{Text: text, Usage: &usage})
			before := len(s.simRequests(up.upstream))
			var out struct {
				Message antMessage        `json:"message"`
				Headers map[string]string `json:"headers"`
			}
			run(t, "create", msgBody(up.model, "Answer briefly.", map[string]any{"system": "You are terse."})).ok(t, &out)
			m := out.Message
			if m.Type != "message" || m.Role != "assistant" || m.ID == "" || m.Model != up.model || m.text() != text || m.StopReason != "end_turn" {
				t.Fatalf("message = %+v", m)
			}
			if m.Usage.InputTokens != 50 || m.Usage.OutputTokens != 9 || derefInt(m.Usage.CacheReadInputTokens) != 20 {
				t.Fatalf("usage = %+v (cache read %d), want input 50 (uncached), cache read 20, output 9", m.Usage, derefInt(m.Usage.CacheReadInputTokens))
			}
			if out.Headers["x-circuit-breaker-model"] != up.upstream {
				t.Fatalf("route headers = %v", out.Headers)
			}
			reqs := s.simRequests(up.upstream)[before:]
			if len(reqs) != 1 || reqs[0].Format != up.format || reqs[0].Stream || reqs[0].Header.Get("Authorization") != up.auth {
				t.Fatalf("upstream requests = %+v", reqs)
			}
			if !strings.Contains(string(reqs[0].Body), "You are terse.") {
				t.Fatalf("the system prompt did not reach the upstream: %s", reqs[0].Body)
			}
		})

		t.Run("messages.stream, "+up.name, func(t *testing.T) {
			const text = "one two three four five six seven"
			usage := llm.Usage{Input: 31, CacheRead: 5, Output: 7}
			s.sim.Script(up.upstream, sim.Step{Text: text, Usage: &usage})
			var out struct {
				Message antMessage `json:"message"`
				Texts   []string   `json:"texts"`
				Events  []string   `json:"events"`
			}
			run(t, "stream", msgBody(up.model, "Count to seven.", nil)).ok(t, &out)
			if strings.Join(out.Texts, "") != text || len(out.Texts) < 2 {
				t.Fatalf("text events %q, want %q in several deltas", out.Texts, text)
			}
			m := out.Message
			if m.text() != text || m.StopReason != "end_turn" || m.Model != up.model {
				t.Fatalf("final message = %+v", m)
			}
			if m.Usage.OutputTokens != 7 || m.Usage.InputTokens != 31 || derefInt(m.Usage.CacheReadInputTokens) != 5 {
				t.Fatalf("final usage = %+v (cache read %d), want input 31, cache read 5, output 7", m.Usage, derefInt(m.Usage.CacheReadInputTokens))
			}
			if out.Events[0] != "message_start" || out.Events[len(out.Events)-1] != "message_stop" {
				t.Fatalf("stream events %v", out.Events)
			}
		})

		t.Run("tool use streamed, "+up.name, func(t *testing.T) {
			s.sim.Script(up.upstream, sim.Step{ToolCalls: parallelCalls})
			var out struct {
				Message antMessage `json:"message"`
				Events  []string   `json:"events"`
			}
			run(t, "stream", msgBody(up.model, "Weather and time in Paris? Use the tools.", map[string]any{"tools": antTools})).ok(t, &out)
			checkToolUse(t, out.Message, parallelCalls)
			var fragments int
			for _, e := range out.Events {
				if e == "content_block_delta:input_json_delta" {
					fragments++
				}
			}
			if fragments <= len(parallelCalls) {
				t.Fatalf("%d input_json_delta events for %d calls: the arguments were not streamed in fragments (events %v)", fragments, len(parallelCalls), out.Events)
			}
		})
	}

	t.Run("error mid-stream is the SDK's APIError", func(t *testing.T) {
		s.sim.Script(gptModel, sim.Step{Text: "one two three four", ErrorAfterTokens: 2, Status: http.StatusInternalServerError,
			ErrorMessage: "the upstream broke mid-stream"})
		e := run(t, "stream", msgBody(gptModel, "Count.", nil)).thrown(t)
		if e.Class != "APIError" || !strings.Contains(e.Message, "the upstream broke mid-stream") {
			t.Fatalf("SDK error = %s %d %q, want an APIError from the stream's error event with the upstream's message", e.Class, e.Status, e.Message)
		}
	})

	t.Run("tool use, JSON, Gemini upstream", func(t *testing.T) {
		calls := slices.Clone(parallelCalls)
		s.sim.Script(geminiModel, sim.Step{ToolCalls: calls})
		var out struct {
			Message antMessage `json:"message"`
		}
		run(t, "create", msgBody(geminiModel, "Weather and time in Paris? Use the tools.", map[string]any{"tools": antTools})).ok(t, &out)
		// Gemini carries no call ids: the router makes them up, so compare
		// the rest.
		for i := range calls {
			calls[i].ID = ""
		}
		for i, c := range out.Message.Content {
			if c.Type == "tool_use" {
				if c.ID == "" {
					t.Fatalf("tool_use %d has no id", i)
				}
				out.Message.Content[i].ID = ""
			}
		}
		checkToolUse(t, out.Message, calls)
	})

	t.Run("errors", func(t *testing.T) {
		const maxRetries = 2 // the SDK's default
		tests := []struct {
			name     string
			script   []sim.Step // for gptModel
			body     map[string]any
			class    string
			status   int
			errType  string // Anthropic's error type in the body
			message  string // the body's error message contains it
			attempts int    // requests the SDK sends
			upstream int    // requests the simulator gets
		}{
			{
				name: "429 after every retry is RateLimitError",
				script: slices.Repeat([]sim.Step{{Status: http.StatusTooManyRequests, ErrorMessage: "slow down, sim"}},
					(maxRetries+1)*2), // the SDK's attempts × the router's max_attempts
				body: msgBody(gptModel, "hi", nil), class: "RateLimitError", status: http.StatusTooManyRequests,
				errType: "rate_limit_error", message: "slow down, sim", attempts: maxRetries + 1, upstream: (maxRetries + 1) * 2,
			},
			{
				name:   "upstream 400 is BadRequestError",
				script: []sim.Step{{Status: http.StatusBadRequest, ErrorMessage: "prompt is too long for the sim"}},
				body:   msgBody(gptModel, "hi", nil), class: "BadRequestError", status: http.StatusBadRequest,
				errType: "invalid_request_error", message: "prompt is too long for the sim", attempts: 1, upstream: 1,
			},
			{
				name:  "no max_tokens is BadRequestError",
				body:  map[string]any{"model": gptModel, "messages": []map[string]any{{"role": "user", "content": "hi"}}},
				class: "BadRequestError", status: http.StatusBadRequest, errType: "invalid_request_error", message: "max_tokens", attempts: 1, upstream: 0,
			},
			{
				name:  "unknown model is NotFoundError",
				body:  msgBody("claude-unknown-9", "hi", nil),
				class: "NotFoundError", status: http.StatusNotFound, errType: "not_found_error", message: `model "claude-unknown-9" is not served`, attempts: 1, upstream: 0,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if len(tt.script) > 0 {
					s.sim.Script(gptModel, tt.script...)
				}
				before := len(s.sim.Requests())
				e := run(t, "create", tt.body, "maxRetries", maxRetries).thrown(t)
				var body struct {
					Type  string `json:"type"`
					Error struct {
						Type    string `json:"type"`
						Message string `json:"message"`
					} `json:"error"`
				}
				_ = json.Unmarshal(e.Body, &body)
				if e.Class != tt.class || e.Status != tt.status || body.Type != "error" || body.Error.Type != tt.errType ||
					!strings.Contains(body.Error.Message, tt.message) {
					t.Fatalf("SDK error = %s %d %s, want %s %d, %s containing %q", e.Class, e.Status, e.Body, tt.class, tt.status, tt.errType, tt.message)
				}
				if e.Attempts != tt.attempts {
					t.Fatalf("the SDK sent %d requests, want %d", e.Attempts, tt.attempts)
				}
				if n := len(s.sim.Requests()) - before; n != tt.upstream {
					t.Fatalf("the simulator got %d requests, want %d", n, tt.upstream)
				}
				if n := s.sim.Pending(gptModel); n != 0 {
					t.Fatalf("%d scripted steps left", n)
				}
			})
		}
	})
}
