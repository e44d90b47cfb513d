package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// completionText decodes an OpenAI chat completion (or an Anthropic
// message) and returns its text.
func completionText(t *testing.T, b []byte) string {
	t.Helper()
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	if len(out.Choices) > 0 {
		return out.Choices[0].Message.Content
	}
	var s strings.Builder
	for _, c := range out.Content {
		s.WriteString(c.Text)
	}
	return s.String()
}

// TestLLMRouting checks routing through the binary: a configured virtual
// model falls back to its second deployment when the first fails (after
// its retries), the body's circuit_breaker.fallback_models do the same in
// both API formats, and a stream that fails after its first tokens reaches
// the client as a stream error with no fallback. The call records show the
// routes taken.
func TestLLMRouting(t *testing.T) {
	s := startLLM(t, "")
	const tenant = "routing"
	who := []string{"X-Tenant", tenant}
	countPaths := func(path string) int {
		n := 0
		for _, r := range s.sim.Requests() {
			if r.Path == path {
				n++
			}
		}
		return n
	}
	var callIDs []string

	t.Run("virtual model falls back to its second deployment", func(t *testing.T) {
		const answer = "the second deployment answered"
		fail := sim.Step{Status: http.StatusInternalServerError, ErrorMessage: "the first deployment is down"}
		s.sim.Script(claudeModel, fail, fail) // max_attempts = 2
		s.sim.Script(gptModel, sim.Step{Text: answer})
		claudeBefore, oaiBefore := countPaths("/v1/messages"), countPaths("/v1/chat/completions")
		r := s.do(t, http.MethodPost, "/v1/chat/completions", chatBody(resilientName, "Who is there?", nil), who...)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if got := completionText(t, r.Body); got != answer {
			t.Fatalf("answer %q, want %q", got, answer)
		}
		h := r.Header
		if h.Get("X-Circuit-Breaker-Deployment") != "oai" || h.Get("X-Circuit-Breaker-Provider") != "openai" ||
			h.Get("X-Circuit-Breaker-Model") != gptModel || h.Get("X-Circuit-Breaker-Attempts") != "3" {
			t.Fatalf("route headers: deployment %q provider %q model %q attempts %q; want oai, openai, %s, 3 (2 on claude, 1 on oai)",
				h.Get("X-Circuit-Breaker-Deployment"), h.Get("X-Circuit-Breaker-Provider"), h.Get("X-Circuit-Breaker-Model"),
				h.Get("X-Circuit-Breaker-Attempts"), gptModel)
		}
		if c, o := countPaths("/v1/messages")-claudeBefore, countPaths("/v1/chat/completions")-oaiBefore; c != 2 || o != 1 {
			t.Fatalf("upstream requests: %d to claude, %d to oai; want 2 and 1", c, o)
		}
		id := h.Get("X-Circuit-Breaker-Call-Id")
		callIDs = append(callIDs, id)
		call := s.waitCalls(t, tenant, callStream(tenant), id)[id]
		if call.Outcome != "ok" || call.RequestedModel != resilientName || call.Deployment != "oai" || len(call.Route) != 3 ||
			call.Route[0].Deployment != "claude" || call.Route[0].Outcome != "error" || call.Route[0].Status != 500 ||
			call.Route[1].Deployment != "claude" || call.Route[1].Outcome != "error" ||
			call.Route[2].Deployment != "oai" || call.Route[2].Outcome != "ok" {
			t.Fatalf("recorded call = %+v", call)
		}
	})

	t.Run("circuit_breaker.fallback_models in the body", func(t *testing.T) {
		tests := []struct {
			name, path string
			body       map[string]any
		}{
			{"OpenAI format", "/v1/chat/completions",
				chatBody(geminiModel, "Anyone?", map[string]any{"circuit_breaker": map[string]any{"fallback_models": []string{gptModel}}})},
			{"Anthropic format", "/v1/messages", map[string]any{"model": geminiModel, "max_tokens": 100,
				"messages":        []map[string]any{{"role": "user", "content": "Anyone?"}},
				"circuit_breaker": map[string]any{"fallback_models": []string{gptModel}}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				answer := "fallback answer for the " + tt.name
				fail := sim.Step{Status: http.StatusServiceUnavailable, ErrorMessage: "gemini is overloaded"}
				s.sim.Script(geminiModel, fail, fail)
				s.sim.Script(gptModel, sim.Step{Text: answer})
				gemBefore, gptBefore := len(s.simRequests(geminiModel)), len(s.simRequests(gptModel))
				r := s.do(t, http.MethodPost, tt.path, tt.body, who...)
				if r.Status != http.StatusOK || completionText(t, r.Body) != answer {
					t.Fatalf("status %d: %s; want %q", r.Status, r.Body, answer)
				}
				if d := r.Header.Get("X-Circuit-Breaker-Deployment"); d != "oai" {
					t.Fatalf("answered by %q, want oai", d)
				}
				if g, o := len(s.simRequests(geminiModel))-gemBefore, len(s.simRequests(gptModel))-gptBefore; g != 2 || o != 1 {
					t.Fatalf("upstream requests: %d to gemini, %d to gpt-4o; want 2 and 1", g, o)
				}
				callIDs = append(callIDs, r.Header.Get("X-Circuit-Breaker-Call-Id"))
			})
		}
	})

	t.Run("no fallback once the stream has started", func(t *testing.T) {
		s.sim.Script(claudeModel, sim.Step{Text: "one two three four five six seven eight", ErrorAfterTokens: 3})
		oaiBefore := countPaths("/v1/chat/completions")
		st := s.stream(t, "/v1/chat/completions", chatBody(resilientName, "Count.", map[string]any{"stream": true}), who...)
		if st.Status != http.StatusOK || st.Header.Get("X-Circuit-Breaker-Deployment") != "claude" {
			t.Fatalf("stream status %d, deployment %q", st.Status, st.Header.Get("X-Circuit-Breaker-Deployment"))
		}
		var text string
		var streamErr *chunk
		evs := st.all(t)
		for i, ev := range evs {
			if ev.Data == "[DONE]" {
				t.Fatalf("event %d: [DONE] after a failed stream", i)
			}
			var c chunk
			if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
				t.Fatalf("event %d %q: %v", i, ev.Data, err)
			}
			if c.Error != nil {
				if i != len(evs)-1 {
					t.Fatalf("events after the error: %v", evs[i+1:])
				}
				streamErr = &c
				break
			}
			for _, ch := range c.Choices {
				text += ch.Delta.Content
			}
		}
		if text != "one two three" || streamErr == nil || streamErr.Error.Message == "" {
			t.Fatalf("streamed %q then error %+v; want the first 3 tokens, then an error", text, streamErr)
		}
		if n := countPaths("/v1/chat/completions") - oaiBefore; n != 0 {
			t.Fatalf("%d requests to the second deployment after the stream had started", n)
		}
		id := st.Header.Get("X-Circuit-Breaker-Call-Id")
		callIDs = append(callIDs, id)
		call := s.waitCalls(t, tenant, callStream(tenant), id)[id]
		if call.Outcome != "error" || !call.Stream || call.Deployment != "claude" || len(call.Route) != 1 || call.Tokens.Output == 0 {
			t.Fatalf("recorded call = %+v; want one attempt on claude, an error, the streamed tokens", call)
		}
	})

	// Every call above is recorded once.
	calls := s.waitCalls(t, tenant, callStream(tenant), callIDs...)
	if len(calls) != len(callIDs) {
		t.Fatalf("%d calls recorded, want %d: %+v", len(calls), len(callIDs), calls)
	}
}
