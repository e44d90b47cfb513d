package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

const llmChatMutation = `mutation($in: LlmChatInput!) { llmChatCompletion(input: $in) {
  id model provider deployment content stopReason costUsd latencyMs addedMs
  toolCalls { id name arguments }
  usage { inputTokens cacheReadTokens cacheWriteTokens outputTokens reasoningTokens promptTokens completionTokens totalTokens }
  route { deployment model outcome errorKind status }
} }`

const llmStreamSubscription = `subscription($in: LlmChatInput!) { llmStream(input: $in) {
  type index text stopReason callId costUsd provider model error errorKind
  usage { inputTokens cacheReadTokens outputTokens totalTokens }
} }`

// gqlUsage is an LlmUsage.
type gqlUsage struct {
	InputTokens      int `json:"inputTokens"`
	CacheReadTokens  int `json:"cacheReadTokens"`
	CacheWriteTokens int `json:"cacheWriteTokens"`
	OutputTokens     int `json:"outputTokens"`
	ReasoningTokens  int `json:"reasoningTokens"`
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
	TotalTokens      int `json:"totalTokens"`
}

// gqlChunk is an LlmStreamChunk.
type gqlChunk struct {
	Type       string    `json:"type"`
	Text       *string   `json:"text"`
	StopReason *string   `json:"stopReason"`
	CallID     *string   `json:"callId"`
	CostUsd    *float64  `json:"costUsd"`
	Provider   *string   `json:"provider"`
	Model      *string   `json:"model"`
	Error      *string   `json:"error"`
	ErrorKind  *string   `json:"errorKind"`
	Usage      *gqlUsage `json:"usage"`
}

// chunks reads llmStream results from c until the operation completes.
func (c *nodeClient) chunks(t *testing.T) []gqlChunk {
	t.Helper()
	var out []gqlChunk
	for {
		l := c.next(t)
		if l.Complete {
			c.wait(t)
			return out
		}
		if l.Next == nil || len(l.Next.Errors) > 0 {
			t.Fatalf("node %s: want a chunk or complete, got %s\nstderr:\n%s", c.name, l.raw, c.stderr)
		}
		var d struct {
			LlmStream gqlChunk `json:"llmStream"`
		}
		if err := json.Unmarshal(l.Next.Data, &d); err != nil {
			t.Fatalf("node %s: %v: %s", c.name, err, l.raw)
		}
		out = append(out, d.LlmStream)
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestLLMGraphQL checks the LLM router over GraphQL: llmChatCompletion
// returns content, usage, cost and route as recorded; llmStream over
// graphql-ws (the official client) yields TEXT chunks then DONE with the
// call id, or ERROR; a virtual model created by one tenant routes that
// tenant's calls and is invisible to another (X-Tenant, authentication
// off).
func TestLLMGraphQL(t *testing.T) {
	requireLLMClients(t)
	s := startLLM(t, "")

	t.Run("llmChatCompletion", func(t *testing.T) {
		const tenant = "gql-chat"
		u := llm.Usage{Input: 120, CacheRead: 30, Output: 12}
		s.sim.Script(claudeModel, sim.Step{Text: "Answered over GraphQL.", Usage: &u})
		var out struct {
			C struct {
				ID         string   `json:"id"`
				Model      string   `json:"model"`
				Provider   string   `json:"provider"`
				Deployment string   `json:"deployment"`
				Content    string   `json:"content"`
				StopReason string   `json:"stopReason"`
				CostUsd    *float64 `json:"costUsd"`
				LatencyMs  float64  `json:"latencyMs"`
				ToolCalls  []any    `json:"toolCalls"`
				Usage      gqlUsage `json:"usage"`
				Route      []struct {
					Deployment string `json:"deployment"`
					Model      string `json:"model"`
					Outcome    string `json:"outcome"`
				} `json:"route"`
			} `json:"llmChatCompletion"`
		}
		s.gqlAs(t, tenant, llmChatMutation, map[string]any{"in": map[string]any{
			"model": claudeModel, "maxTokens": 64, "user": "ada", "project": "apollo",
			"messages": []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello?"}},
		}}, &out)
		c := out.C
		if c.ID == "" || c.Model != claudeModel || c.Provider != "anthropic" || c.Deployment != "claude" || c.Content != "Answered over GraphQL." ||
			c.StopReason != "end" || len(c.ToolCalls) != 0 {
			t.Fatalf("llmChatCompletion = %+v", c)
		}
		if want := (gqlUsage{InputTokens: 120, CacheReadTokens: 30, OutputTokens: 12, PromptTokens: 150, CompletionTokens: 12, TotalTokens: 162}); c.Usage != want {
			t.Fatalf("usage = %+v, want %+v", c.Usage, want)
		}
		cost := priceOf(t, "anthropic", claudeModel).cost(t, 120, 30, 0, 12)
		if c.CostUsd == nil || !sameUSD(*c.CostUsd, cost) {
			t.Fatalf("costUsd = %v, want %v", c.CostUsd, cost)
		}
		if len(c.Route) != 1 || c.Route[0].Deployment != "claude" || c.Route[0].Model != claudeModel || c.Route[0].Outcome != "ok" {
			t.Fatalf("route = %+v", c.Route)
		}
		rec := s.waitCalls(t, tenant, callStream(tenant), c.ID)[c.ID]
		if rec.User != "ada" || rec.Project != "apollo" || !rec.Priced || !sameUSD(rec.CostUSD, cost) || rec.Tokens.CacheRead != 30 {
			t.Fatalf("recorded call = %+v", rec)
		}
	})

	t.Run("llmChatCompletion of an unknown model is NOT_FOUND", func(t *testing.T) {
		r := s.gqlAs(t, "gql-chat", llmChatMutation, map[string]any{"in": map[string]any{
			"model": "no-such-model", "messages": []map[string]any{{"role": "user", "content": "hi"}}}}, nil)
		if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].code() != "NOT_FOUND" || r.hasData() {
			t.Fatalf("want one NOT_FOUND error, got %d %s", r.Status, r.Body)
		}
	})

	t.Run("llmStream over graphql-ws", func(t *testing.T) {
		const text = "streamed over a web socket to the official client"
		u := llm.Usage{Input: 40, Output: 9}
		s.sim.Script(geminiModel, sim.Step{Text: text, Usage: &u})
		c := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Query: llmStreamSubscription,
			Variables: map[string]any{"in": map[string]any{"model": geminiModel, "messages": []map[string]any{{"role": "user", "content": "Stream, please."}}}}})
		chunks := c.chunks(t)
		var got strings.Builder
		texts := 0
		known := []string{"START", "TEXT", "STOP", "USAGE", "DONE"}
		for i, ch := range chunks {
			if !slices.Contains(known, ch.Type) {
				t.Fatalf("chunk %d: type %q in a plain text stream: %+v", i, ch.Type, chunks)
			}
			if ch.Type == "TEXT" {
				texts++
				got.WriteString(str(ch.Text))
			}
			if ch.Type == "DONE" && i != len(chunks)-1 {
				t.Fatalf("DONE is chunk %d of %d", i, len(chunks))
			}
		}
		if got.String() != text || texts < 2 {
			t.Fatalf("%d TEXT chunks make %q, want %q in several", texts, got.String(), text)
		}
		done := chunks[len(chunks)-1]
		cost := priceOf(t, "google", geminiModel).cost(t, 40, 0, 0, 9)
		if done.Type != "DONE" || str(done.CallID) == "" || str(done.Provider) != "google" || str(done.Model) != geminiModel ||
			done.CostUsd == nil || !sameUSD(*done.CostUsd, cost) {
			t.Fatalf("last chunk = %+v, want DONE with the call id, google, %s and cost %v", done, geminiModel, cost)
		}
		id := str(done.CallID)
		rec := s.waitCalls(t, "default", callStream("default"), id)[id]
		if !rec.Stream || rec.Outcome != "ok" || rec.Tokens.Input != 40 || rec.Tokens.Output != 9 {
			t.Fatalf("recorded call = %+v", rec)
		}
	})

	t.Run("llmStream error mid-stream", func(t *testing.T) {
		s.sim.Script(geminiModel, sim.Step{Text: "one two three four", ErrorAfterTokens: 2, Status: http.StatusInternalServerError})
		c := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Query: llmStreamSubscription,
			Variables: map[string]any{"in": map[string]any{"model": geminiModel, "messages": []map[string]any{{"role": "user", "content": "Fail."}}}}})
		chunks := c.chunks(t)
		last := chunks[len(chunks)-1]
		var got string
		for _, ch := range chunks {
			if ch.Type == "TEXT" {
				got += str(ch.Text)
			}
		}
		if last.Type != "ERROR" || str(last.Error) == "" || str(last.ErrorKind) == "" || str(last.CallID) == "" || got != "one two" {
			t.Fatalf("chunks = %+v, want TEXT \"one two\" then ERROR with a message, kind and call id", chunks)
		}
	})

	t.Run("tenant virtual models", func(t *testing.T) {
		const a, b = "team-a", "team-b"
		const name = "house-fast"
		var created struct {
			V struct {
				Name     string `json:"name"`
				Strategy string `json:"strategy"`
				Targets  []struct {
					Model string `json:"model"`
				} `json:"targets"`
				Version int `json:"version"`
			} `json:"createVirtualModel"`
		}
		s.gqlAs(t, a, `mutation($in: VirtualModelInput!) { createVirtualModel(input: $in) { name strategy targets { model } version } }`,
			map[string]any{"in": map[string]any{"name": name, "strategy": "fallback",
				"targets": []map[string]any{{"model": "gemini/" + geminiModel}, {"model": gptModel}}}}, &created)
		if v := created.V; v.Name != name || v.Strategy != "fallback" || v.Version != 1 || len(v.Targets) != 2 {
			t.Fatalf("createVirtualModel = %+v", v)
		}

		listed := func(tenant string) (virtual, models []string) {
			var out struct {
				VirtualModels []struct {
					Name string `json:"name"`
				} `json:"virtualModels"`
				LlmModels []struct {
					ID      string `json:"id"`
					Virtual bool   `json:"virtual"`
				} `json:"llmModels"`
			}
			s.gqlAs(t, tenant, `{ virtualModels { name } llmModels { id virtual } }`, nil, &out)
			for _, v := range out.VirtualModels {
				virtual = append(virtual, v.Name)
			}
			for _, m := range out.LlmModels {
				if m.Virtual {
					models = append(models, m.ID)
				}
			}
			return virtual, models
		}
		if v, m := listed(a); !slices.Equal(v, []string{name}) || !slices.Contains(m, name) || !slices.Contains(m, resilientName) {
			t.Fatalf("%s sees virtual models %v and virtual llmModels %v", a, v, m)
		}
		if v, m := listed(b); len(v) != 0 || slices.Contains(m, name) || !slices.Contains(m, resilientName) {
			t.Fatalf("%s sees virtual models %v and virtual llmModels %v", b, v, m)
		}

		// A's calls route through it; B's do not find it.
		s.sim.Script(geminiModel, sim.Step{Text: "team a's house model"})
		r := s.do(t, http.MethodPost, "/v1/chat/completions", chatBody(name, "hi", nil), "X-Tenant", a)
		if r.Status != http.StatusOK || completionText(t, r.Body) != "team a's house model" || r.Header.Get("X-Circuit-Breaker-Deployment") != "gemini" {
			t.Fatalf("%s calling %s: %d %s (deployment %q)", a, name, r.Status, r.Body, r.Header.Get("X-Circuit-Breaker-Deployment"))
		}
		before := len(s.sim.Requests())
		if r := s.do(t, http.MethodPost, "/v1/chat/completions", chatBody(name, "hi", nil), "X-Tenant", b); r.Status != http.StatusNotFound {
			t.Fatalf("%s calling %s's virtual model: %d %s, want 404", b, a, r.Status, r.Body)
		}
		g := s.gqlAs(t, b, llmChatMutation, map[string]any{"in": map[string]any{"model": name, "messages": []map[string]any{{"role": "user", "content": "hi"}}}}, nil)
		if len(g.Errors) != 1 || g.Errors[0].code() != "NOT_FOUND" {
			t.Fatalf("%s: llmChatCompletion of %s's virtual model = %s, want NOT_FOUND", b, a, g.Body)
		}
		if n := len(s.sim.Requests()) - before; n != 0 {
			t.Fatalf("%d upstream requests for %s's refused calls", n, b)
		}

		// B cannot delete it; A can, and then it no longer routes.
		var del struct {
			D bool `json:"deleteVirtualModel"`
		}
		if s.gqlAs(t, b, `mutation($n: String!) { deleteVirtualModel(name: $n) }`, map[string]any{"n": name}, &del); del.D {
			t.Fatalf("%s deleted %s's virtual model", b, a)
		}
		if v, _ := listed(a); !slices.Equal(v, []string{name}) {
			t.Fatalf("after %s's delete, %s has %v", b, a, v)
		}
		if s.gqlAs(t, a, `mutation($n: String!) { deleteVirtualModel(name: $n) }`, map[string]any{"n": name}, &del); !del.D {
			t.Fatalf("%s could not delete its virtual model", a)
		}
		if r := s.do(t, http.MethodPost, "/v1/chat/completions", chatBody(name, "hi", nil), "X-Tenant", a); r.Status != http.StatusNotFound {
			t.Fatalf("%s calling its deleted virtual model: %d %s, want 404", a, r.Status, r.Body)
		}
	})
}
