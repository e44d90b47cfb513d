package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// oaiUsage is an OpenAI usage object as the SDK returns it.
type oaiUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (u *oaiUsage) cached() int {
	if u == nil || u.PromptTokensDetails == nil {
		return -1
	}
	return u.PromptTokensDetails.CachedTokens
}

// oaiToolCall is a tool call of an OpenAI assistant message.
type oaiToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// oaiCompletion is a chat completion as the SDK returns it.
type oaiCompletion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string        `json:"role"`
			Content   *string       `json:"content"`
			ToolCalls []oaiToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *oaiUsage `json:"usage"`
}

// sentBody is a request body the SDK sent.
type sentBody struct {
	URL  string         `json:"url"`
	Body map[string]any `json:"body"`
}

// weatherTools are two tools in OpenAI's format.
var weatherTools = []map[string]any{
	{"type": "function", "function": map[string]any{
		"name": "get_weather", "description": "Current weather in a city",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{
			"city": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
		}, "required": []string{"city"}},
	}},
	{"type": "function", "function": map[string]any{
		"name": "get_time", "description": "Local time in a time zone",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{
			"tz": map[string]any{"type": "string"}, "h24": map[string]any{"type": "boolean"},
		}},
	}},
}

// parallelCalls is the scripted reply that calls both tools at once, with
// arguments that exercise escaping and nesting.
var parallelCalls = []llm.ToolCall{
	{ID: "call_weather_1", Name: "get_weather", Arguments: `{"city":"Paris \"Île-de-France\"","unit":"celsius","near":{"lat":48.85,"lon":2.35}}`},
	{ID: "call_time_2", Name: "get_time", Arguments: `{"tz":"Europe/Paris","h24":true,"tags":["a","b"]}`},
}

// checkToolCalls checks that got are exactly the calls of want (names and
// arguments as JSON values; ids too when sameIDs).
func checkToolCalls(t *testing.T, got []oaiToolCall, want []llm.ToolCall, sameIDs bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tool calls, want %d: %+v", len(got), len(want), got)
	}
	ids := map[string]bool{}
	for i, tc := range got {
		if tc.Type != "function" || tc.Function.Name != want[i].Name {
			t.Errorf("tool call %d = %s %q, want function %q", i, tc.Type, tc.Function.Name, want[i].Name)
		}
		if tc.ID == "" || ids[tc.ID] {
			t.Errorf("tool call %d: id %q empty or repeated", i, tc.ID)
		}
		ids[tc.ID] = true
		if sameIDs && tc.ID != want[i].ID {
			t.Errorf("tool call %d: id %q, want the upstream's %q", i, tc.ID, want[i].ID)
		}
		var g, w any
		if err := json.Unmarshal([]byte(tc.Function.Arguments), &g); err != nil {
			t.Errorf("tool call %d: arguments %q do not parse: %v", i, tc.Function.Arguments, err)
			continue
		}
		if err := json.Unmarshal([]byte(want[i].Arguments), &w); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("tool call %d arguments (-want +got):\n%s", i, d)
		}
	}
}

// TestLLMOpenAISDK drives the router with the official openai npm SDK,
// unchanged, against upstreams of other formats: a JSON completion from an
// Anthropic upstream with cached tokens, a stream with usage from a Gemini
// upstream, parallel tool calls (plain and through the SDK's stream
// helpers), the model list, base64 embeddings, and the SDK's typed errors.
func TestLLMOpenAISDK(t *testing.T) {
	requireLLMClients(t)
	s := startLLM(t, "")
	base := map[string]any{"baseURL": s.base + "/v1", "apiKey": "any-key-auth-is-off"}
	run := func(t *testing.T, scenario string, body any, more ...any) llmNodeResult {
		t.Helper()
		args := map[string]any{"scenario": scenario, "body": body}
		for k, v := range base {
			args[k] = v
		}
		for i := 0; i+1 < len(more); i += 2 {
			args[more[i].(string)] = more[i+1]
		}
		return s.runSDK(t, "llm-openai.mjs", args)
	}

	t.Run("completion from an Anthropic upstream", func(t *testing.T) {
		const text = "Bonjour! Le cache a servi 40 jetons."
		usage := llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 10, Output: 7}
		s.sim.Script(claudeModel, sim.Step{Text: text, Usage: &usage})
		before := len(s.simRequests(claudeModel))
		var out struct {
			Completion oaiCompletion     `json:"completion"`
			Headers    map[string]string `json:"headers"`
		}
		run(t, "create", chatBody(claudeModel, "Say hello in French, please.", map[string]any{"max_tokens": 64})).ok(t, &out)
		c := out.Completion
		if c.Object != "chat.completion" || c.Model != claudeModel || c.ID == "" || len(c.Choices) != 1 {
			t.Fatalf("completion = %+v", c)
		}
		ch := c.Choices[0]
		if ch.Message.Role != "assistant" || ch.Message.Content == nil || *ch.Message.Content != text || ch.FinishReason != "stop" {
			t.Fatalf("choice = %+v (content %v)", ch, ch.Message.Content)
		}
		if u := c.Usage; u == nil || u.PromptTokens != 150 || u.CompletionTokens != 7 || u.TotalTokens != 157 || u.cached() != 40 {
			t.Fatalf("usage = %+v (cached %d), want prompt 150 (100 + 40 cached + 10 written), completion 7, total 157, cached 40", u, u.cached())
		}
		want := priceOf(t, "anthropic", claudeModel).cost(t, 100, 40, 10, 7)
		if h := out.Headers; h["x-circuit-breaker-deployment"] != "claude" || h["x-circuit-breaker-provider"] != "anthropic" ||
			h["x-circuit-breaker-model"] != claudeModel || h["x-circuit-breaker-call-id"] == "" {
			t.Fatalf("route headers = %v", h)
		}
		if got, err := strconv.ParseFloat(out.Headers["x-circuit-breaker-cost-usd"], 64); err != nil || !sameUSDRounded(got, want) {
			t.Fatalf("cost header = %q, want %g", out.Headers["x-circuit-breaker-cost-usd"], want)
		}
		reqs := s.simRequests(claudeModel)[before:]
		if len(reqs) != 1 || reqs[0].Format != "anthropic" || reqs[0].Path != "/v1/messages" || reqs[0].Stream ||
			reqs[0].Header.Get("X-Api-Key") != "sim-anthropic-key" || !bytes.Contains(reqs[0].Body, []byte("Say hello in French, please.")) {
			t.Fatalf("upstream requests = %+v", reqs)
		}
	})

	t.Run("stream with usage from a Gemini upstream", func(t *testing.T) {
		const text = "alpha beta gamma delta epsilon zeta"
		usage := llm.Usage{Input: 21, CacheRead: 4, Output: 6}
		s.sim.Script(geminiModel, sim.Step{Text: text, Usage: &usage})
		before := len(s.simRequests(geminiModel))
		var out struct {
			Chunks []struct {
				Object  string `json:"object"`
				Model   string `json:"model"`
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
				Usage *oaiUsage `json:"usage"`
			} `json:"chunks"`
			Text    string            `json:"text"`
			Usage   *oaiUsage         `json:"usage"`
			Headers map[string]string `json:"headers"`
		}
		run(t, "stream", chatBody(geminiModel, "Count in Greek letters.", map[string]any{"stream_options": map[string]any{"include_usage": true}})).ok(t, &out)
		if out.Text != text {
			t.Fatalf("streamed text %q, want %q", out.Text, text)
		}
		var deltas, finishes int
		for i, c := range out.Chunks {
			if c.Object != "chat.completion.chunk" || c.Model != geminiModel {
				t.Fatalf("chunk %d: object %q model %q", i, c.Object, c.Model)
			}
			for _, ch := range c.Choices {
				if ch.Delta.Content != "" {
					deltas++
				}
				if ch.FinishReason != nil {
					finishes++
					if *ch.FinishReason != "stop" {
						t.Fatalf("finish_reason %q, want stop", *ch.FinishReason)
					}
				}
			}
		}
		if deltas < 2 || finishes != 1 {
			t.Fatalf("%d content deltas (want several: the text was streamed), %d finish reasons (want 1)", deltas, finishes)
		}
		last := out.Chunks[len(out.Chunks)-1]
		if len(last.Choices) != 0 || last.Usage == nil {
			t.Fatalf("last chunk = %+v, want the usage chunk with no choices", last)
		}
		if u := out.Usage; u == nil || u.PromptTokens != 25 || u.CompletionTokens != 6 || u.TotalTokens != 31 || u.cached() != 4 {
			t.Fatalf("final usage = %+v (cached %d), want prompt 25, completion 6, total 31, cached 4", u, u.cached())
		}
		if out.Headers["x-circuit-breaker-deployment"] != "gemini" {
			t.Fatalf("route headers = %v", out.Headers)
		}
		reqs := s.simRequests(geminiModel)[before:]
		if len(reqs) != 1 || reqs[0].Format != "gemini" || !reqs[0].Stream || !strings.HasSuffix(reqs[0].Path, ":streamGenerateContent") {
			t.Fatalf("upstream requests = %+v", reqs)
		}
	})

	t.Run("error mid-stream is the SDK's APIError", func(t *testing.T) {
		s.sim.Script(geminiModel, sim.Step{Text: "one two three four", ErrorAfterTokens: 2, Status: http.StatusInternalServerError,
			ErrorMessage: "the upstream broke mid-stream"})
		e := run(t, "stream", chatBody(geminiModel, "Count.", nil)).thrown(t)
		if e.Class != "APIError" || !strings.Contains(e.Message, "the upstream broke mid-stream") {
			t.Fatalf("SDK error = %s %d %q, want an APIError from the stream's error chunk with the upstream's message", e.Class, e.Status, e.Message)
		}
	})

	t.Run("parallel tool calls", func(t *testing.T) {
		tests := []struct {
			name     string
			model    string // upstream
			scenario string // create, or helper (chat.completions.stream + finalChatCompletion)
			sameIDs  bool   // the upstream format carries call ids
		}{
			{"Anthropic upstream, JSON", claudeModel, "create", true},
			{"Anthropic upstream, stream helper", claudeModel, "helper", true},
			{"Gemini upstream, JSON", geminiModel, "create", false},
			{"Gemini upstream, stream helper", geminiModel, "helper", false},
			{"Bedrock upstream, stream helper", bedrockModel, "helper", true},
			{"OpenAI upstream, stream helper", gptModel, "helper", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				up := tt.model
				if up == bedrockModel {
					up = bedrockUp
				}
				s.sim.Script(up, sim.Step{ToolCalls: parallelCalls})
				body := chatBody(tt.model, "What is the weather and the time in Paris? Use the tools.",
					map[string]any{"tools": weatherTools, "parallel_tool_calls": true})
				var out struct {
					Completion oaiCompletion `json:"completion"`
					Final      oaiCompletion `json:"final"`
					Chunks     int           `json:"chunks"`
				}
				run(t, tt.scenario, body).ok(t, &out)
				c := out.Completion
				if tt.scenario == "helper" {
					c = out.Final
					if out.Chunks < 3 {
						t.Fatalf("the stream helper saw %d chunks: not streamed", out.Chunks)
					}
				}
				if len(c.Choices) != 1 || c.Choices[0].FinishReason != "tool_calls" {
					t.Fatalf("completion = %+v, want one choice finishing with tool_calls", c)
				}
				checkToolCalls(t, c.Choices[0].Message.ToolCalls, parallelCalls, tt.sameIDs)
				if s.sim.Pending(up) != 0 {
					t.Fatalf("the scripted reply for %s was not consumed", up)
				}
			})
		}
	})

	t.Run("models.list", func(t *testing.T) {
		var out struct {
			Models []struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				OwnedBy string `json:"owned_by"`
			} `json:"models"`
		}
		run(t, "models", nil).ok(t, &out)
		owners := map[string]string{}
		for _, m := range out.Models {
			if m.Object != "model" {
				t.Fatalf("model %+v: object %q", m, m.Object)
			}
			owners[m.ID] = m.OwnedBy
		}
		want := map[string]string{
			resilientName: "virtual", claudeModel: "anthropic", geminiModel: "google", gptModel: "openai",
			embedModel: "openai", bedrockModel: "amazon-bedrock", customModel: "custom",
		}
		if d := cmp.Diff(want, owners); d != "" {
			t.Fatalf("models (-want +got):\n%s", d)
		}
	})

	t.Run("base64 embeddings from an OpenAI upstream", func(t *testing.T) {
		inputs := []string{"the first text to embed", "and a second one"}
		var out struct {
			Embeddings struct {
				Object string `json:"object"`
				Model  string `json:"model"`
				Data   []struct {
					Object    string    `json:"object"`
					Index     int       `json:"index"`
					Embedding []float64 `json:"embedding"`
				} `json:"data"`
				Usage struct {
					PromptTokens int `json:"prompt_tokens"`
					TotalTokens  int `json:"total_tokens"`
				} `json:"usage"`
			} `json:"embeddings"`
			Sent []sentBody `json:"sent"`
		}
		run(t, "embed", map[string]any{"model": embedModel, "input": inputs}).ok(t, &out)
		if len(out.Sent) != 1 || out.Sent[0].Body["encoding_format"] != "base64" {
			t.Fatalf("the SDK sent %+v; this test relies on its default base64 encoding", out.Sent)
		}
		want := simEmbeddings(t, s.simURL, inputs)
		e := out.Embeddings
		if e.Object != "list" || e.Model != embedModel || len(e.Data) != len(inputs) || e.Usage.PromptTokens <= 0 {
			t.Fatalf("embeddings = %+v", e)
		}
		for i, d := range e.Data {
			if d.Object != "embedding" || d.Index != i || len(d.Embedding) != len(want[i]) {
				t.Fatalf("embedding %d: object %q index %d, %d dimensions, want %d", i, d.Object, d.Index, len(d.Embedding), len(want[i]))
			}
			for j, v := range d.Embedding {
				if float32(v) != want[i][j] {
					t.Fatalf("embedding %d[%d] = %v, the upstream's is %v", i, j, v, want[i][j])
				}
			}
		}
	})

	t.Run("unknown model is NotFoundError", func(t *testing.T) {
		before := len(s.sim.Requests())
		e := run(t, "create", chatBody("no-such-model", "hi", nil)).thrown(t)
		if e.Class != "NotFoundError" || e.Status != http.StatusNotFound || !strings.Contains(e.Message, `model "no-such-model" is not served`) {
			t.Fatalf("SDK error = %s %d %q, want NotFoundError 404 with the router's message", e.Class, e.Status, e.Message)
		}
		if n := len(s.sim.Requests()) - before; n != 0 {
			t.Fatalf("%d upstream requests for an unknown model", n)
		}
	})

	t.Run("malformed requests are BadRequestError", func(t *testing.T) {
		tests := []struct {
			name  string
			body  map[string]any
			field string // the error message names it
		}{
			{"unknown role", map[string]any{"model": gptModel, "messages": []map[string]any{{"role": "wizard", "content": "abracadabra"}}}, "role"},
			{"temperature is a string", chatBody(gptModel, "hi", map[string]any{"temperature": "hot"}), "temperature"},
			{"no messages", map[string]any{"model": gptModel, "messages": []any{}}, "messages"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(s.sim.Requests())
				e := run(t, "create", tt.body).thrown(t)
				if e.Class != "BadRequestError" || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tt.field) {
					t.Fatalf("SDK error = %s %d %q, want BadRequestError 400 naming %q", e.Class, e.Status, e.Message, tt.field)
				}
				if n := len(s.sim.Requests()) - before; n != 0 {
					t.Fatalf("%d upstream requests for a malformed request", n)
				}
			})
		}
	})
}

// simEmbeddings asks the simulator itself (not the router) for the float
// embeddings of inputs: what the router must hand on, bit for bit.
func simEmbeddings(t *testing.T, simURL string, inputs []string) [][]float32 {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"model": embedModel, "input": inputs, "encoding_format": "float"})
	req, _ := http.NewRequest(http.MethodPost, simURL+"/v1/embeddings", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer direct")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Data) != len(inputs) {
		t.Fatalf("simulator embeddings: %d %s", res.StatusCode, body)
	}
	slices.SortFunc(out.Data, func(a, b struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}) int {
		return a.Index - b.Index
	})
	vs := make([][]float32, len(out.Data))
	for i, d := range out.Data {
		vs[i] = d.Embedding
	}
	return vs
}

// sameUSDRounded compares a cost header, rounded to 1e-8 USD, with the
// exact cost.
func sameUSDRounded(header, exact float64) bool {
	d := header - exact
	return d < 1e-8 && d > -1e-8
}
