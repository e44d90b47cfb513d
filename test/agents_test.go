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

// authRequired is the configuration that makes a test server require
// authentication, with adminKey as its bootstrap admin key.
const authRequired = "\n[auth]\nmode = \"required\"\nadmin_key = \"" + adminKey + "\"\n"

// weatherAgent is an agent input with one HTTP tool served by tool; its
// model is gpt-4o pinned to the "oai" deployment.
func weatherAgent(name, toolURL string) map[string]any {
	return map[string]any{
		"name": name, "role": "assistant", "type": "conversational",
		"llmProvider": "oai", "model": gptModel,
		"systemPrompt": "You report the weather. Use the get_weather tool.",
		"temperature":  0.2, "maxTokens": 256, "maxSteps": 5,
		"tools": []map[string]any{{
			"name": "get_weather", "description": "The current weather of a city.", "type": "http",
			"url": toolURL + "/weather", "method": "post",
			"headers":    map[string]any{"Authorization": "Bearer tool-secret-91c2"},
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
		}},
	}
}

// weatherScript queues the model's two answers of a weather run: a call of
// get_weather, then the final answer.
func weatherScript(s *llmServer, answer string) {
	s.sim.Script(gptModel,
		sim.Step{ToolCalls: []llm.ToolCall{{ID: "call_weather_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}, Usage: &llm.Usage{Input: 50, Output: 12}},
		sim.Step{Text: answer, Usage: &llm.Usage{Input: 90, Output: 9}},
	)
}

const runEventsSubscription = `subscription($id: ID!) { agentRunEvents(runId: $id) { ` + agentRunEventFields + ` } }`

// TestAgents drives agents through the binary with authentication on and
// two tenants' API keys: a multi-step run (model → HTTP tool → model)
// streamed with graphql-ws and the REST SSE route, its journal, usage and
// cost; definitions and their validation errors; cancellation; and tenant
// isolation of agents and runs on every surface.
func TestAgents(t *testing.T) {
	requireNode(t)
	s := startLLM(t, authRequired)
	acme, globex := s.createKey(t, "acme"), s.createKey(t, "globex")
	tool := newToolServer(t, true)
	agentID := s.createAgent(t, acme.Secret, weatherAgent("Weather Reporter", tool.URL))
	const answer = "It is 21 degrees and clear in Paris today."
	var runID string

	t.Run("multi-step run streamed over graphql-ws and SSE", func(t *testing.T) {
		weatherScript(s, answer)
		before := len(s.simRequests(gptModel))
		run := s.executeAgent(t, acme.Secret, agentID, "What is the weather in Paris?")
		runID = run.ID
		if run.Status != "running" || run.AgentVersion != 1 || run.Input != "What is the weather in Paris?" {
			t.Fatalf("executeAgent = %+v", run)
		}
		// The tool holds the run after its first model call: both streams
		// attach now, replay what is journaled, then follow live.
		tool.waitEntered(t)
		ws := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Token: acme.Secret, Query: runEventsSubscription, Variables: map[string]any{"id": run.ID}})
		rest := s.runStream(t, acme.Secret, run.ID)
		if rest.Status != http.StatusOK || !strings.HasPrefix(rest.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("GET run stream: %d %s %s", rest.Status, rest.Header.Get("Content-Type"), rest.Body)
		}
		wsEvents := ws.runEvents(t, "MODEL_CALLED")
		restEvents := rest.until(t, "MODEL_CALLED")
		tool.release()
		wsEvents = append(wsEvents, ws.runEvents(t, "")...)
		for {
			ev, ok := rest.next(t)
			if !ok {
				break
			}
			restEvents = append(restEvents, ev)
		}

		var fromREST []runEvent
		for _, ev := range restEvents {
			if ev.Name != ev.Event.Type {
				t.Fatalf("SSE event name %q carries type %q", ev.Name, ev.Event.Type)
			}
			if (ev.ID != "") != (ev.Event.Position != 0) {
				t.Fatalf("SSE id %q for an event at position %d", ev.ID, ev.Event.Position)
			}
			fromREST = append(fromREST, ev.Event)
		}
		for name, evs := range map[string][]runEvent{"graphql-ws": wsEvents, "SSE": fromREST} {
			checkWeatherEvents(t, name, run.ID, evs, answer)
		}

		final := s.agentRun(t, acme.Secret, run.ID)
		if final.Status != "completed" || final.Output != answer || final.Steps != 2 || final.Error != "" {
			t.Fatalf("agentRun = %+v", final)
		}
		if want := (gqlUsage{InputTokens: 140, OutputTokens: 21, TotalTokens: 161}); final.Usage.InputTokens != want.InputTokens ||
			final.Usage.OutputTokens != want.OutputTokens || final.Usage.TotalTokens != want.TotalTokens {
			t.Fatalf("usage = %+v, want %+v", final.Usage, want)
		}

		// The journal: one model call per step, one tool result, and a cost
		// equal to the catalogue's price of the tokens and to the sum of the
		// router's LlmCallCompleted events of those calls.
		log := s.runLog(t, acme.Secret, run.ID)
		if n := countTypes(log); n["AgentRunStarted"] != 1 || n["AgentModelCalled"] != 2 || n["AgentToolCalled"] != 1 || n["AgentRunCompleted"] != 1 {
			t.Fatalf("run stream holds %v", n)
		}
		calls := modelCalls(t, log)
		price := priceOf(t, "openai", gptModel)
		want := price.cost(t, 50, 0, 0, 12) + price.cost(t, 90, 0, 0, 9)
		if final.CostUsd == nil || !sameUSD(*final.CostUsd, want) {
			t.Fatalf("costUsd = %v, want %v", final.CostUsd, want)
		}
		ledger := s.waitCalls(t, acme.Secret, callStream("acme"), calls[0].CallID, calls[1].CallID)
		var sum float64
		for i, c := range calls {
			rec := ledger[c.CallID]
			if c.Step != i+1 || !c.Priced || !sameUSD(c.CostUSD, rec.CostUSD) || rec.Outcome != "ok" || rec.Deployment != "oai" {
				t.Fatalf("step %d: AgentModelCalled %+v, LlmCallCompleted %+v", i+1, c, rec)
			}
			sum += rec.CostUSD
		}
		if !sameUSD(sum, *final.CostUsd) {
			t.Fatalf("run cost %v, LlmCallCompleted sum %v", *final.CostUsd, sum)
		}

		// Upstream: two requests, the second carrying the tool's result; the
		// tool got the model's arguments with its configured header.
		reqs := s.simRequests(gptModel)[before:]
		if len(reqs) != 2 {
			t.Fatalf("%d upstream requests, want 2", len(reqs))
		}
		if b := string(reqs[1].Body); !strings.Contains(b, "call_weather_1") || !strings.Contains(b, `temperatureC`) || !strings.Contains(b, "You report the weather.") {
			t.Fatalf("second model request lacks the tool result or system prompt: %s", b)
		}
		got := tool.received()
		if len(got) != 1 || got[0].Method != http.MethodPost || got[0].Path != "/weather" || got[0].Auth != "Bearer tool-secret-91c2" ||
			!strings.Contains(got[0].Body, `"city":"Paris"`) {
			t.Fatalf("tool calls = %+v", got)
		}
	})

	t.Run("definitions", func(t *testing.T) {
		const q = `query($id: ID!, $v: Int) { agent(id: $id, version: $v) { id name role type llmProvider provider model systemPrompt
			temperature maxTokens maxSteps timeoutSeconds version outputSchema
			tools { name description type parameters url method headers timeoutSeconds } } }`
		r := s.gqlAs(t, acme.Secret, q, map[string]any{"id": agentID}, nil)
		if len(r.Errors) > 0 || strings.Contains(string(r.Body), "tool-secret-91c2") {
			t.Fatalf("agent: %s", r.Body)
		}
		var a struct {
			A struct {
				ID, Name, Model, LlmProvider, Provider string
				Version, MaxSteps, TimeoutSeconds      int
				Temperature                            float64
				Tools                                  []struct {
					Name, Type, URL, Method string
					Headers                 []string
				}
			} `json:"agent"`
		}
		if err := json.Unmarshal(r.Data, &a); err != nil {
			t.Fatal(err)
		}
		if a.A.ID != agentID || a.A.Name != "Weather Reporter" || a.A.Model != gptModel || a.A.LlmProvider != "oai" || a.A.Provider != "oai" ||
			a.A.Version != 1 || a.A.MaxSteps != 5 || a.A.TimeoutSeconds != 300 || a.A.Temperature != 0.2 ||
			len(a.A.Tools) != 1 || a.A.Tools[0].Type != "http" || a.A.Tools[0].Method != "POST" || !slices.Equal(a.A.Tools[0].Headers, []string{"Authorization"}) {
			t.Fatalf("agent = %+v", a.A)
		}

		in := weatherAgent("Weather Reporter", tool.URL)
		in["systemPrompt"] = "You report the weather, briefly."
		var up struct {
			U struct {
				Version      int    `json:"version"`
				SystemPrompt string `json:"systemPrompt"`
			} `json:"updateAgent"`
		}
		const update = `mutation($id: ID!, $in: AgentInput!) { updateAgent(id: $id, input: $in) { version systemPrompt } }`
		s.gqlAs(t, acme.Secret, update, map[string]any{"id": agentID, "in": in}, &up)
		if up.U.Version != 2 || up.U.SystemPrompt != "You report the weather, briefly." {
			t.Fatalf("updateAgent = %+v", up.U)
		}
		s.gqlAs(t, acme.Secret, update, map[string]any{"id": agentID, "in": in}, &up)
		if up.U.Version != 2 {
			t.Fatalf("an unchanged definition made version %d", up.U.Version)
		}
		var v1 struct {
			A struct {
				Version      int    `json:"version"`
				SystemPrompt string `json:"systemPrompt"`
			} `json:"agent"`
		}
		s.gqlAs(t, acme.Secret, q, map[string]any{"id": agentID, "v": 1}, &v1)
		if v1.A.Version != 1 || v1.A.SystemPrompt != "You report the weather. Use the get_weather tool." {
			t.Fatalf("agent version 1 = %+v", v1.A)
		}

		var list struct {
			Agents []struct {
				ID      string `json:"id"`
				Version int    `json:"version"`
			} `json:"agents"`
		}
		other := s.createAgent(t, acme.Secret, map[string]any{"name": "Support Classifier", "type": "conversational", "llmProvider": "claude",
			"model": claudeModel, "systemPrompt": "Classify customer inquiries into categories: billing, technical, general",
			"tools": []map[string]any{{"name": "escalate_to_human", "description": "Request human intervention"}}})
		if other != "support-classifier" {
			t.Fatalf("id from the name = %q", other)
		}
		s.gqlAs(t, acme.Secret, `{ agents { id version } }`, nil, &list)
		if len(list.Agents) != 2 {
			t.Fatalf("agents = %+v", list.Agents)
		}
		var del struct {
			D struct {
				ID string `json:"id"`
			} `json:"deleteAgent"`
		}
		s.gqlAs(t, acme.Secret, `mutation($id: ID!) { deleteAgent(id: $id) { id } }`, map[string]any{"id": other}, &del)
		if del.D.ID != other {
			t.Fatalf("deleteAgent = %+v", del.D)
		}
		r = s.gqlAs(t, acme.Secret, `query($id: ID!) { agent(id: $id) { id } }`, map[string]any{"id": other}, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "NOT_FOUND" {
			t.Fatalf("deleted agent: %s", r.Body)
		}
	})

	t.Run("a tool declared by name only is run by the caller", func(t *testing.T) {
		// The seed's addTool('database_lookup', 'Look up customer information'):
		// no URL, no kind. The run waits for the caller's result.
		in := weatherAgent("Inquiry Classifier", tool.URL)
		in["tools"] = []map[string]any{{"name": "database_lookup", "description": "Look up customer information"}}
		id := s.createAgent(t, acme.Secret, in)
		s.sim.Script(gptModel,
			sim.Step{ToolCalls: []llm.ToolCall{{ID: "call_db_1", Name: "database_lookup", Arguments: `{"customer":"c-42"}`}}},
			sim.Step{Text: "billing"})
		before := len(s.simRequests(gptModel))
		run := s.executeAgent(t, acme.Secret, id, "My bill seems incorrect this month")
		waiting := s.waitRun(t, acme.Secret, run.ID, "waiting")
		if waiting.Steps != 1 {
			t.Fatalf("waiting run = %+v", waiting)
		}
		var out struct {
			R gqlRun `json:"answerAgentRun"`
		}
		s.gqlAs(t, acme.Secret, `mutation($id: ID!) { answerAgentRun(id: $id, answer: "{\"plan\":\"pro\",\"overdue\":true}") { `+agentRunFields+` } }`,
			map[string]any{"id": run.ID}, &out)
		done := s.waitRun(t, acme.Secret, run.ID, "completed", "failed")
		if done.Status != "completed" || done.Output != "billing" || done.Steps != 2 {
			t.Fatalf("answered run = %+v", done)
		}
		reqs := s.simRequests(gptModel)[before:]
		if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), `overdue`) || !strings.Contains(string(reqs[1].Body), "call_db_1") {
			t.Fatalf("the model did not get the caller's result: %d requests, last %s", len(reqs), reqs[len(reqs)-1].Body)
		}
	})

	t.Run("validation errors name the input field", func(t *testing.T) {
		cases := []struct {
			name string
			edit func(map[string]any)
			path string
		}{
			{"no model", func(in map[string]any) { delete(in, "model") }, "input.model"},
			{"temperature out of range", func(in map[string]any) { in["temperature"] = 5 }, "input.temperature"},
			{"http tool without url", func(in map[string]any) { delete(in["tools"].([]map[string]any)[0], "url") }, "input.tools[0].url"},
			{"unknown tool type", func(in map[string]any) { in["tools"].([]map[string]any)[0]["type"] = "telepathy" }, "input.tools[0].type"},
			{"two providers", func(in map[string]any) { in["provider"] = "claude" }, "input.provider"},
			{"bad output schema", func(in map[string]any) { in["outputSchema"] = map[string]any{"type": 7} }, "input.outputSchema"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := weatherAgent("Invalid "+c.name, tool.URL)
				c.edit(in)
				r := s.gqlAs(t, acme.Secret, `mutation($in: AgentInput!) { createAgent(input: $in) { id } }`, map[string]any{"in": in}, nil)
				if len(r.Errors) != 1 || r.Errors[0].code() != "VALIDATION" || r.hasData() {
					t.Fatalf("want one VALIDATION error, got %s", r.Body)
				}
				probs, _ := r.Errors[0].Extensions["problems"].([]any)
				var paths []string
				for _, p := range probs {
					path, _ := p.(map[string]any)["path"].(string)
					paths = append(paths, path)
				}
				if !slices.Contains(paths, c.path) {
					t.Fatalf("problem paths %v, want %s: %s", paths, c.path, r.Body)
				}
			})
		}
	})

	t.Run("cancel a run waiting for its model", func(t *testing.T) {
		s.sim.Script(gptModel, sim.Step{Hang: true})
		before := len(s.simRequests(gptModel))
		run := s.executeAgent(t, acme.Secret, agentID, "Never mind.")
		ws := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Token: acme.Secret, Query: runEventsSubscription, Variables: map[string]any{"id": run.ID}})
		ws.runEvents(t, "STARTED")
		waitFor(t, "the model call", func() bool { return len(s.simRequests(gptModel)) > before })
		var out struct {
			C gqlRun `json:"cancelAgentRun"`
		}
		s.gqlAs(t, acme.Secret, `mutation($id: ID!) { cancelAgentRun(id: $id) { `+agentRunFields+` } }`, map[string]any{"id": run.ID}, &out)
		if out.C.Status != "cancelled" {
			t.Fatalf("cancelAgentRun = %+v", out.C)
		}
		evs := ws.runEvents(t, "")
		if last := evs[len(evs)-1]; last.Type != "CANCELLED" || last.Run == nil || last.Run.Status != "cancelled" {
			t.Fatalf("last event %+v", last)
		}
		if s.agentRun(t, acme.Secret, run.ID).Status != "cancelled" {
			t.Fatal("the run is not cancelled")
		}
		if n := countTypes(s.waitRunLog(t, acme.Secret, run.ID, "AgentRunCancelled")); n["AgentRunCancelled"] != 1 || n["AgentRunCompleted"]+n["AgentRunFailed"] != 0 {
			t.Fatalf("run stream holds %v", n)
		}
		r := s.gqlAs(t, acme.Secret, `mutation($id: ID!) { cancelAgentRun(id: $id) { status } }`, map[string]any{"id": run.ID}, nil)
		if len(r.Errors) > 0 && (r.Errors[0].code() == "INTERNAL" || r.Errors[0].code() == "") {
			t.Fatalf("cancelling an ended run: %s", r.Body)
		}
		var list struct {
			Runs []gqlRun `json:"agentRuns"`
		}
		s.gqlAs(t, acme.Secret, `query($a: ID) { agentRuns(agentId: $a, status: "cancelled") { id status } }`, map[string]any{"a": agentID}, &list)
		if len(list.Runs) != 1 || list.Runs[0].ID != run.ID {
			t.Fatalf("cancelled runs = %+v", list.Runs)
		}
	})

	t.Run("tenants see only their own agents and runs", func(t *testing.T) {
		if runID == "" {
			t.Skip("no run of acme")
		}
		for _, c := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"agent", `query($id: ID!) { agent(id: $id) { id name } }`, map[string]any{"id": agentID}},
			{"agentRun", `query($id: ID!) { agentRun(id: $id) { id output } }`, map[string]any{"id": runID}},
			{"executeAgent", `mutation($id: ID!) { executeAgent(agentId: $id, input: "hi") { id } }`, map[string]any{"id": agentID}},
			{"updateAgent", `mutation($id: ID!, $in: AgentInput!) { updateAgent(id: $id, input: $in) { id } }`, map[string]any{"id": agentID, "in": weatherAgent("Hijack", tool.URL)}},
			{"deleteAgent", `mutation($id: ID!) { deleteAgent(id: $id) { id } }`, map[string]any{"id": agentID}},
			{"cancelAgentRun", `mutation($id: ID!) { cancelAgentRun(id: $id) { id } }`, map[string]any{"id": runID}},
			{"answerAgentRun", `mutation($id: ID!) { answerAgentRun(id: $id, answer: "yes") { id } }`, map[string]any{"id": runID}},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := s.gqlAs(t, globex.Secret, c.query, c.vars, nil)
				if len(r.Errors) != 1 || r.Errors[0].code() != "NOT_FOUND" || r.hasData() || strings.Contains(string(r.Body), answer) {
					t.Fatalf("globex %s: want NOT_FOUND and nothing of acme's, got %s", c.name, r.Body)
				}
			})
		}
		var lists struct {
			Agents []any `json:"agents"`
			Runs   []any `json:"agentRuns"`
		}
		s.gqlAs(t, globex.Secret, `{ agents { id } agentRuns { id } }`, nil, &lists)
		if len(lists.Agents) != 0 || len(lists.Runs) != 0 {
			t.Fatalf("globex lists %+v", lists)
		}
		var evs struct {
			Events []loggedEvent `json:"events"`
		}
		s.gqlAs(t, globex.Secret, `{ events(from: 1, limit: 1000) { stream type } }`, nil, &evs)
		for _, e := range evs.Events {
			if strings.HasPrefix(e.Stream, "agent") {
				t.Fatalf("globex sees %s in %s", e.Type, e.Stream)
			}
		}

		ws := runNode(t, subscribeOpts{Transport: "ws", URL: s.wsURL(), Token: globex.Secret, Query: runEventsSubscription, Variables: map[string]any{"id": runID}})
		l := ws.next(t)
		errs := l.Error
		if l.Next != nil {
			errs = l.Next.Errors
		}
		if len(errs) != 1 || errs[0].code() != "NOT_FOUND" || strings.Contains(l.raw, answer) {
			t.Fatalf("globex agentRunEvents: %s", l.raw)
		}

		rest := s.runStream(t, globex.Secret, runID)
		if rest.Status != http.StatusNotFound || strings.Contains(string(rest.Body), answer) {
			t.Fatalf("globex GET run stream: %d %s", rest.Status, rest.Body)
		}
		var oaiErr struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rest.Body, &oaiErr); err != nil || oaiErr.Error.Message == "" {
			t.Fatalf("not an OpenAI error: %s", rest.Body)
		}
		if anon := s.runStream(t, "", runID); anon.Status != http.StatusUnauthorized {
			t.Fatalf("GET run stream without a key: %d %s", anon.Status, anon.Body)
		}
	})
}

// checkWeatherEvents checks the events of a weather run as one stream
// delivered them: started, the tool call and its result, the final
// answer's tokens, completion, in that order.
func checkWeatherEvents(t *testing.T, name, runID string, evs []runEvent, answer string) {
	t.Helper()
	if len(evs) == 0 || evs[0].Type != "STARTED" || !evs[len(evs)-1].terminal() {
		t.Fatalf("%s: events %s", name, eventTypes(evs))
	}
	idx := func(typ string) int {
		return slices.IndexFunc(evs, func(e runEvent) bool { return e.Type == typ })
	}
	call, result, done := idx("TOOL_CALL"), idx("TOOL_RESULT"), len(evs)-1
	if call < 0 || result < call {
		t.Fatalf("%s: no TOOL_CALL then TOOL_RESULT: %s", name, eventTypes(evs))
	}
	if c := evs[call]; c.ToolName != "get_weather" || c.Step != 1 || !strings.Contains(c.Arguments, "Paris") {
		t.Fatalf("%s: TOOL_CALL %+v", name, c)
	}
	if r := evs[result]; r.ToolName != "get_weather" || r.IsError || !strings.Contains(r.Result, "temperatureC") || r.Position == 0 {
		t.Fatalf("%s: TOOL_RESULT %+v", name, r)
	}
	var tokens strings.Builder
	for _, e := range evs[result:] {
		if e.Type == "TOKEN" {
			tokens.WriteString(e.Text)
		}
	}
	if tokens.String() != answer {
		t.Fatalf("%s: tokens after the tool result spell %q, want %q (%s)", name, tokens.String(), answer, eventTypes(evs))
	}
	last := evs[done]
	if last.Type != "COMPLETED" || last.Run == nil || last.Run.Status != "completed" || last.Run.Output != answer || last.Run.Steps != 2 {
		t.Fatalf("%s: last event %+v", name, last)
	}
	for _, e := range evs {
		if e.RunID != runID {
			t.Fatalf("%s: event of run %q", name, e.RunID)
		}
	}
}
