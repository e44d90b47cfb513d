package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// TestLLMEventsAndCost checks the ledger: every call through the binary —
// JSON and streamed, OpenAI and Anthropic API, chat and embeddings, priced,
// unpriced and cancelled — appends exactly one LlmCallCompleted to the
// tenant's llm-calls stream, with the provider, model, tokens by kind and a
// cost equal to the tokens at the catalogue's prices (read here from
// providers/catalog/models-dev.json). An unpriced model is recorded as
// priced=false, never as a $0 priced call; a stream the client cancels is
// recorded as cancelled with the tokens streamed so far.
func TestLLMEventsAndCost(t *testing.T) {
	s := startLLM(t, "")
	const tenant = "ledger"
	stream := callStream(tenant)
	who := []string{"X-Tenant", tenant}

	type want struct {
		requested, provider, deployment, model string
		stream                                 bool
		input, cacheRead, cacheWrite, output   int
		reasoning                              int
		cost                                   float64 // when priced
		priced                                 bool
	}
	wants := map[string]want{} // by call id
	var attributed string      // the call made for a user and project
	callOK := func(t *testing.T, path string, body any, headers ...string) httpResult {
		t.Helper()
		r := s.do(t, http.MethodPost, path, body, append(headers, who...)...)
		if r.Status != http.StatusOK || r.Header.Get("X-Circuit-Breaker-Call-Id") == "" {
			t.Fatalf("POST %s: %d %s (call id %q)", path, r.Status, r.Body, r.Header.Get("X-Circuit-Breaker-Call-Id"))
		}
		return r
	}

	claudePrice := priceOf(t, "anthropic", claudeModel)
	t.Run("JSON, Anthropic upstream, cached tokens", func(t *testing.T) {
		u := llm.Usage{Input: 1000, CacheRead: 2000, CacheWrite: 300, Output: 500}
		s.sim.Script(claudeModel, sim.Step{Text: "priced", Usage: &u})
		r := callOK(t, "/v1/chat/completions", chatBody(claudeModel, "What does this cost?", nil),
			"X-Circuit-Breaker-User", "grace", "X-Circuit-Breaker-Project", "cobol")
		attributed = r.Header.Get("X-Circuit-Breaker-Call-Id")
		w := want{claudeModel, "anthropic", "claude", claudeModel, false, 1000, 2000, 300, 500, 0,
			claudePrice.cost(t, 1000, 2000, 300, 500), true}
		wants[r.Header.Get("X-Circuit-Breaker-Call-Id")] = w
		h := r.Header.Get("X-Circuit-Breaker-Cost-Usd")
		if got, err := strconv.ParseFloat(h, 64); err != nil || !sameUSDRounded(got, w.cost) {
			t.Fatalf("cost header %q, want %v", h, w.cost)
		}
	})

	t.Run("stream, Gemini upstream, thinking tokens", func(t *testing.T) {
		u := llm.Usage{Input: 200, CacheRead: 100, Output: 50, Reasoning: 30}
		s.sim.Script(geminiModel, sim.Step{Text: "a streamed and priced answer", Thinking: "let me think", Usage: &u})
		st := s.stream(t, "/v1/chat/completions", chatBody(geminiModel, "Stream it.", map[string]any{"stream": true}), who...)
		evs := st.all(t)
		if st.Status != http.StatusOK || len(evs) == 0 || evs[len(evs)-1].Data != "[DONE]" {
			t.Fatalf("stream: %d %v", st.Status, evs)
		}
		if h := st.Header.Get("X-Circuit-Breaker-Cost-Usd"); h != "" {
			t.Fatalf("a stream's headers cannot know its cost, got %q", h)
		}
		gp := priceOf(t, "google", geminiModel)
		wants[st.Header.Get("X-Circuit-Breaker-Call-Id")] = want{geminiModel, "google", "gemini", geminiModel, true, 200, 100, 0, 50, 30,
			gp.cost(t, 200, 100, 0, 50) + gp.reasoningCost(30), true}
	})

	t.Run("Anthropic API, Bedrock upstream with a model map", func(t *testing.T) {
		u := llm.Usage{Input: 300, Output: 40}
		s.sim.Script(bedrockUp, sim.Step{Text: "from bedrock", Usage: &u})
		r := callOK(t, "/v1/messages", map[string]any{"model": bedrockModel, "max_tokens": 64,
			"messages": []map[string]any{{"role": "user", "content": "hi"}}})
		wants[r.Header.Get("X-Circuit-Breaker-Call-Id")] = want{bedrockModel, "amazon-bedrock", "bedrock", bedrockUp, false, 300, 0, 0, 40, 0,
			priceOf(t, "amazon-bedrock", bedrockUp).cost(t, 300, 0, 0, 40), true}
	})

	t.Run("embeddings", func(t *testing.T) {
		r := callOK(t, "/v1/embeddings", map[string]any{"model": embedModel, "input": []string{"twelve bytes", "and sixteen more"}})
		var out struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil || out.Usage.PromptTokens <= 0 {
			t.Fatalf("embeddings answer %s", r.Body)
		}
		n := out.Usage.PromptTokens
		wants[r.Header.Get("X-Circuit-Breaker-Call-Id")] = want{embedModel, "openai", "oai", embedModel, false, n, 0, 0, 0, 0,
			priceOf(t, "openai", embedModel).cost(t, n, 0, 0, 0), true}
	})

	t.Run("unpriced model", func(t *testing.T) {
		u := llm.Usage{Input: 10, Output: 5}
		s.sim.Script(customModel, sim.Step{Text: "no price list here", Usage: &u})
		r := callOK(t, "/v1/chat/completions", chatBody(customModel, "Free?", nil))
		if h := r.Header.Get("X-Circuit-Breaker-Cost-Usd"); h != "unpriced" {
			t.Fatalf("cost header %q, want unpriced", h)
		}
		wants[r.Header.Get("X-Circuit-Breaker-Call-Id")] = want{customModel, "", "custom", customModel, false, 10, 0, 0, 5, 0, 0, false}
	})

	var cancelled string
	t.Run("stream cancelled by the client", func(t *testing.T) {
		words := make([]string, 20)
		for i := range words {
			words[i] = fmt.Sprintf("w%d", i+1)
		}
		// Five tokens, then the upstream stalls until the call is cancelled.
		s.sim.Script(claudeModel, sim.Step{Text: strings.Join(words, " "), ErrorAfterTokens: 5, Hang: true})
		st := s.stream(t, "/v1/chat/completions", chatBody(claudeModel, "Tell me a long story.", map[string]any{"stream": true}), who...)
		var text string
		for text != "w1 w2 w3 w4 w5" {
			ev, ok := st.next(t)
			if !ok {
				t.Fatalf("stream ended after %q", text)
			}
			var c chunk
			if err := json.Unmarshal([]byte(ev.Data), &c); err != nil || c.Error != nil {
				t.Fatalf("event %q", ev.Data)
			}
			for _, ch := range c.Choices {
				text += ch.Delta.Content
			}
		}
		st.cancel() // the client goes away mid-stream
		cancelled = st.Header.Get("X-Circuit-Breaker-Call-Id")
	})

	ids := make([]string, 0, len(wants)+1)
	for id := range wants {
		ids = append(ids, id)
	}
	ids = append(ids, cancelled)
	if slices.Contains(ids, "") {
		t.Fatalf("a call had no call id header: %q", ids)
	}
	calls := s.waitCalls(t, tenant, stream, ids...)
	if len(calls) != len(ids) {
		t.Fatalf("%s holds %d calls, want %d (one per call): %+v", stream, len(calls), len(ids), calls)
	}

	t.Run("one event per call, priced from the catalogue", func(t *testing.T) {
		for id, w := range wants {
			c := calls[id]
			if c.Tenant != tenant || c.RequestedModel != w.requested || c.Provider != w.provider || c.Deployment != w.deployment ||
				c.Model != w.model || c.Stream != w.stream || c.Outcome != "ok" {
				t.Errorf("call %s = %+v, want %+v", id, c, w)
			}
			if tk := c.Tokens; tk.Input != w.input || tk.CacheRead != w.cacheRead || tk.CacheWrite != w.cacheWrite || tk.Output != w.output || tk.Reasoning != w.reasoning || c.Estimated {
				t.Errorf("call %s (%s) tokens = %+v (estimated %v), want input %d, cache read %d, cache write %d, output %d, reasoning %d",
					id, w.requested, tk, c.Estimated, w.input, w.cacheRead, w.cacheWrite, w.output, w.reasoning)
			}
			if c.Priced != w.priced || (w.priced && !sameUSD(c.CostUSD, w.cost)) || (!w.priced && c.CostUSD != 0) {
				t.Errorf("call %s (%s): cost %v priced %v, want %v priced %v", id, w.requested, c.CostUSD, c.Priced, w.cost, w.priced)
			}
		}
	})

	t.Run("user and project from the headers", func(t *testing.T) {
		if c := calls[attributed]; c.User != "grace" || c.Project != "cobol" {
			t.Fatalf("call %s recorded for user %q project %q, want grace and cobol", attributed, c.User, c.Project)
		}
	})

	t.Run("the cancelled stream is billed for what was streamed", func(t *testing.T) {
		c := calls[cancelled]
		if c.Outcome != "cancelled" || !c.Stream || c.Deployment != "claude" || c.Tokens.Output <= 0 || c.Tokens.Input <= 0 {
			t.Fatalf("cancelled call = %+v; want outcome cancelled with the streamed output tokens (> 0)", c)
		}
		want := claudePrice.cost(t, c.Tokens.Input, c.Tokens.CacheRead, c.Tokens.CacheWrite, c.Tokens.Output)
		if !c.Priced || !sameUSD(c.CostUSD, want) {
			t.Fatalf("cancelled call cost %v priced %v, want %v for its tokens", c.CostUSD, c.Priced, want)
		}
	})

	t.Run("the stream reads back by name", func(t *testing.T) {
		// The tenant names its stream without its scope: "llm-calls".
		var out struct {
			Events []loggedEvent `json:"events"`
		}
		s.gqlAs(t, tenant, `query($s: String) { events(stream: $s, limit: 1000) { position stream type data } }`, map[string]any{"s": "llm-calls"}, &out)
		got := map[string]bool{}
		for _, e := range out.Events {
			var c llmCall
			_ = json.Unmarshal(e.Data, &c)
			got[c.CallID] = true
		}
		r := s.do(t, http.MethodGet, "/api/v1/events?stream=llm-calls", nil, who...)
		rest := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		for sc.Scan() {
			var e struct {
				Data llmCall `json:"data"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				rest[e.Data.CallID] = true
			}
		}
		for _, id := range ids {
			if !got[id] || !rest[id] {
				t.Errorf("call %s: in events(stream: %q) %v, in GET /api/v1/events?stream=%s %v", id, stream, got[id], stream, rest[id])
			}
		}
	})
}
