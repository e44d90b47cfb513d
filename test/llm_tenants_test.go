package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// TestLLMTenantIsolation runs the router with authentication required and
// real API keys of two tenants, given to the official SDKs as their API
// keys: each tenant's calls are recorded in its own llm-calls stream with
// its key id, and globex sees none of acme's LlmCallCompleted events — not
// in the audit log, not over REST, not by subscription. A call without a
// valid key is refused before any upstream request.
func TestLLMTenantIsolation(t *testing.T) {
	requireLLMClients(t)
	s := startLLM(t, "\n[auth]\nmode = \"required\"\nadmin_key = \""+adminKey+"\"\n")
	acme, globex := s.createKey(t, "acme"), s.createKey(t, "globex")
	const acmeSecretWords = "acme-private-prompt-5be1"

	// acme calls first, so that its events precede globex's in the log.
	s.sim.Script(gptModel, sim.Step{Text: "for acme only"})
	var oai struct {
		Headers map[string]string `json:"headers"`
	}
	s.runSDK(t, "llm-openai.mjs", map[string]any{"baseURL": s.base + "/v1", "apiKey": acme.Secret, "scenario": "create",
		"body": chatBody(gptModel, acmeSecretWords, nil)}).ok(t, &oai)
	var gql struct {
		C struct {
			ID string `json:"id"`
		} `json:"llmChatCompletion"`
	}
	s.gqlAs(t, acme.Secret, llmChatMutation, map[string]any{"in": map[string]any{
		"model": claudeModel, "messages": []map[string]any{{"role": "user", "content": acmeSecretWords}}}}, &gql)
	acmeCalls := []string{oai.Headers["x-circuit-breaker-call-id"], gql.C.ID}

	var ant struct {
		Headers map[string]string `json:"headers"`
	}
	s.runSDK(t, "llm-anthropic.mjs", map[string]any{"baseURL": s.base, "apiKey": globex.Secret, "scenario": "create",
		"body": map[string]any{"model": geminiModel, "max_tokens": 32, "messages": []map[string]any{{"role": "user", "content": "globex here"}}}}).ok(t, &ant)
	globexCall := ant.Headers["x-circuit-breaker-call-id"]
	if acmeCalls[0] == "" || acmeCalls[1] == "" || globexCall == "" {
		t.Fatalf("call ids: acme %q, globex %q", acmeCalls, globexCall)
	}

	t.Run("no valid key", func(t *testing.T) {
		before := len(s.sim.Requests())
		bogus := "cb_" + strings.Repeat("B", 43)
		e := s.runSDK(t, "llm-openai.mjs", map[string]any{"baseURL": s.base + "/v1", "apiKey": bogus, "scenario": "create",
			"body": chatBody(gptModel, "hi", nil)}).thrown(t)
		if e.Class != "AuthenticationError" || e.Status != http.StatusUnauthorized {
			t.Fatalf("openai SDK with a bogus key: %s %d %q, want AuthenticationError 401", e.Class, e.Status, e.Message)
		}
		e = s.runSDK(t, "llm-anthropic.mjs", map[string]any{"baseURL": s.base, "apiKey": bogus, "scenario": "create",
			"body": map[string]any{"model": gptModel, "max_tokens": 8, "messages": []map[string]any{{"role": "user", "content": "hi"}}}}).thrown(t)
		if e.Class != "AuthenticationError" || e.Status != http.StatusUnauthorized {
			t.Fatalf("Anthropic SDK with a bogus key: %s %d %q, want AuthenticationError 401", e.Class, e.Status, e.Message)
		}
		if n := len(s.sim.Requests()) - before; n != 0 {
			t.Fatalf("%d upstream requests for unauthenticated calls", n)
		}
	})

	t.Run("each tenant's calls in its own stream, with its key", func(t *testing.T) {
		calls := s.waitCalls(t, acme.Secret, callStream("acme"), acmeCalls...)
		if len(calls) != len(acmeCalls) {
			t.Fatalf("llm-acme:calls holds %d calls, want %d", len(calls), len(acmeCalls))
		}
		for _, id := range acmeCalls {
			if c := calls[id]; c.Tenant != "acme" || keyOf(c) != acme.ID || c.Outcome != "ok" {
				t.Fatalf("acme's call %s = %+v (key %s)", id, c, acme.ID)
			}
		}
		g := s.waitCalls(t, globex.Secret, callStream("globex"), globexCall)
		if c := g[globexCall]; len(g) != 1 || c.Tenant != "globex" || keyOf(c) != globex.ID || c.Deployment != "gemini" {
			t.Fatalf("globex's calls = %+v (key %s)", g, globex.ID)
		}
	})

	leaks := func(t *testing.T, where, text string) {
		t.Helper()
		for _, id := range acmeCalls {
			if strings.Contains(text, id) {
				t.Fatalf("%s shows globex acme's call %s", where, id)
			}
		}
		if strings.Contains(text, "llm-acme:") || strings.Contains(text, acmeSecretWords) || strings.Contains(text, acme.ID) {
			t.Fatalf("%s shows globex something of acme's: %s", where, text)
		}
	}

	t.Run("globex sees none of acme's calls", func(t *testing.T) {
		r := s.gqlAs(t, globex.Secret, `{ events(from: 1, limit: 1000) { position stream type data } }`, nil, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("events: %d %s", r.Status, r.Body)
		}
		leaks(t, "the events query", string(r.Body))
		for _, q := range []string{`{ events(stream: "llm-acme:calls") { data } }`, `{ events(stream: "llm-calls") { data } }`} {
			r := s.gqlAs(t, globex.Secret, q, nil, nil)
			leaks(t, q, string(r.Body))
		}

		rest := s.do(t, http.MethodGet, "/api/v1/events", nil, "Authorization", "Bearer "+globex.Secret)
		if rest.Status != http.StatusOK {
			t.Fatalf("GET /api/v1/events: %d %s", rest.Status, rest.Body)
		}
		leaks(t, "GET /api/v1/events", string(rest.Body))
		sawOwn := false
		sc := bufio.NewScanner(bytes.NewReader(rest.Body))
		for sc.Scan() {
			var e struct {
				Data llmCall `json:"data"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Data.CallID == globexCall {
				sawOwn = true
			}
		}
		if !sawOwn {
			t.Fatalf("GET /api/v1/events does not show globex its own call:\n%s", rest.Body)
		}

		// From position 1, the first LLM call globex's subscription yields
		// is its own, although acme's came first.
		c := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Token: globex.Secret,
			Query: `subscription { events(from: 1, streamPrefix: "llm-") { stream type data } }`, Count: 1})
		l := c.next(t)
		leaks(t, "the events subscription", l.raw)
		if l.Next == nil || !strings.Contains(l.raw, globexCall) {
			t.Fatalf("globex's subscription: want its own call first, got %s", l.raw)
		}
		c.done(t)
	})
}

// keyOf is the API key id a call is recorded with. The event holds the
// principal's subject, "apikey:<id>".
func keyOf(c llmCall) string { return strings.TrimPrefix(c.KeyID, "apikey:") }
