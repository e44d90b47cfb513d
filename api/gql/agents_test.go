package gql_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// agentEnv is a schema over a System whose agents call the simulator
// through a router with one deployment, "oai" (gpt-4o), and an HTTP tool
// server that answers {"temperatureC": 21}.
type agentEnv struct {
	*env
	sim  *sim.Server
	tool *httptest.Server
}

func newAgentEnv(t *testing.T) *agentEnv {
	t.Helper()
	s := sim.New(sim.Config{})
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	c, err := providers.New(providers.Config{Name: "oai", Format: "openai", BaseURL: up.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := router.New(router.Config{Deployments: []router.Deployment{{Name: "oai", Provider: "openai", Client: c, Models: []string{"gpt-4o"}}}})
	if err != nil {
		t.Fatal(err)
	}
	tool := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"temperatureC": 21}`)
	}))
	t.Cleanup(tool.Close)

	store := natsjstest.Open(t, "")
	sys := actors.New(store, actors.Options{LLM: r})
	runner := projections.NewRunner(store, nil, projections.NewViews(), projections.RunnerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	schema, err := gql.New(gql.Deps{System: sys, Runner: runner, Store: store, LLM: r})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tenant := r.Header.Get("X-Test-Tenant"); tenant != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Tenant: tenant, Subject: "test", Method: "apikey"}))
		}
		schema.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		_ = sys.Stop(context.Background())
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	})
	return &agentEnv{env: &env{schema: schema, srv: hs, sys: sys, store: store, views: runner.Views()}, sim: s, tool: tool}
}

// weather is an agent input with one HTTP tool.
func (e *agentEnv) weather(name string) map[string]any {
	return map[string]any{
		"name": name, "llmProvider": "oai", "model": "gpt-4o", "systemPrompt": "Report the weather.",
		"tools": []any{map[string]any{"name": "get_weather", "type": "http", "url": e.tool.URL, "headers": map[string]any{"X-Key": "secret-7d1"},
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}},
	}
}

// script queues a tool call, then the final answer.
func (e *agentEnv) script(answer string) {
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}, Usage: &llm.Usage{Input: 10, Output: 5}},
		sim.Step{Text: answer, Usage: &llm.Usage{Input: 20, Output: 4}})
}

// problemPaths lists the paths of the first error's problems.
func problemPaths(r *gqlResp) []string {
	var out []string
	if len(r.Errors) == 0 {
		return nil
	}
	probs, _ := r.Errors[0].Extensions["problems"].([]any)
	for _, p := range probs {
		path, _ := p.(map[string]any)["path"].(string)
		out = append(out, path)
	}
	return out
}

func TestAgentDefinitions(t *testing.T) {
	e := newAgentEnv(t)
	const create = `mutation($in: AgentInput!) { createAgent(input: $in) { id name version llmProvider provider model
		maxSteps timeoutSeconds tools { name type url method headers } } }`
	data := e.ok(t, "acme", create, map[string]any{"in": e.weather("Weather Bot")})
	if got := dig(data, "createAgent", "id"); got != "weather-bot" {
		t.Fatalf("id = %v", got)
	}
	a := dig(data, "createAgent").(map[string]any)
	if a["version"] != 1.0 || a["llmProvider"] != "oai" || a["provider"] != "oai" || a["maxSteps"] != 10.0 || a["timeoutSeconds"] != 300.0 {
		t.Fatalf("agent = %v", a)
	}
	tool := dig(a, "tools", 0).(map[string]any)
	if tool["type"] != "http" || tool["method"] != "POST" || !slices.Equal(tool["headers"].([]any), []any{"X-Key"}) {
		t.Fatalf("tool = %v", tool)
	}
	// The same name again gets the next free id.
	if got := dig(e.ok(t, "acme", create, map[string]any{"in": e.weather("Weather Bot")}), "createAgent", "id"); got != "weather-bot-2" {
		t.Fatalf("second id = %v", got)
	}

	t.Run("versions", func(t *testing.T) {
		const update = `mutation($id: ID!, $in: AgentInput!) { updateAgent(id: $id, input: $in) { version systemPrompt } }`
		in := e.weather("Weather Bot")
		in["systemPrompt"] = "Report the weather, briefly."
		if v := dig(e.ok(t, "acme", update, map[string]any{"id": "weather-bot", "in": in}), "updateAgent", "version"); v != 2.0 {
			t.Fatalf("version = %v", v)
		}
		if v := dig(e.ok(t, "acme", update, map[string]any{"id": "weather-bot", "in": in}), "updateAgent", "version"); v != 2.0 {
			t.Fatalf("an unchanged definition stored version %v", v)
		}
		v1 := e.ok(t, "acme", `{ agent(id: "weather-bot", version: 1) { version systemPrompt } }`, nil)
		if dig(v1, "agent", "systemPrompt") != "Report the weather." {
			t.Fatalf("version 1 = %v", v1)
		}
		list := e.ok(t, "acme", `{ agents { id version } }`, nil)
		if got := dig(list, "agents"); len(got.([]any)) != 2 || dig(got, 0, "version") != 2.0 {
			t.Fatalf("agents = %v", got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		noURL := e.weather("x")
		delete(noURL["tools"].([]any)[0].(map[string]any), "url")
		badTemp := e.weather("y")
		badTemp["temperature"] = 3.5
		taken := e.weather("z")
		taken["id"] = "weather-bot"
		cases := []struct {
			name, query string
			vars        map[string]any
			code        string
			paths       []string
		}{
			{"http tool without url", create, map[string]any{"in": noURL}, "VALIDATION", []string{"input.tools[0].url"}},
			{"temperature", create, map[string]any{"in": badTemp}, "VALIDATION", []string{"input.temperature"}},
			{"no model and a bad id", create, map[string]any{"in": map[string]any{"name": "n", "id": "no spaces"}}, "VALIDATION", []string{"input.id", "input.model"}},
			{"id taken", create, map[string]any{"in": taken}, "CONFLICT", nil},
			{"update of none", `mutation($in: AgentInput!) { updateAgent(id: "nope", input: $in) { id } }`, map[string]any{"in": e.weather("n")}, "NOT_FOUND", nil},
			{"update with another id", `mutation($in: AgentInput!) { updateAgent(id: "weather-bot", input: $in) { id } }`, map[string]any{"in": taken}, "VALIDATION", nil},
			{"unknown version", `{ agent(id: "weather-bot", version: 9) { id } }`, nil, "NOT_FOUND", nil},
		}
		taken["id"] = "weather-bot-2"
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.gql(t, "acme", c.query, c.vars)
				if r.code(0) != c.code || len(r.Errors) != 1 {
					t.Fatalf("errors %+v, want one %s", r.Errors, c.code)
				}
				if c.paths != nil && !slices.Equal(problemPaths(r), c.paths) {
					t.Fatalf("problem paths %v, want %v", problemPaths(r), c.paths)
				}
			})
		}
	})

	t.Run("another tenant's agent is NOT_FOUND", func(t *testing.T) {
		for _, q := range []string{
			`{ agent(id: "weather-bot") { id } }`,
			`mutation { deleteAgent(id: "weather-bot") { id } }`,
			`mutation { executeAgent(agentId: "weather-bot", input: "hi") { id } }`,
		} {
			if r := e.gql(t, "globex", q, nil); r.code(0) != "NOT_FOUND" {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
		}
		if got := dig(e.ok(t, "globex", `{ agents { id } }`, nil), "agents"); len(got.([]any)) != 0 {
			t.Fatalf("globex agents = %v", got)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if got := dig(e.ok(t, "acme", `mutation { deleteAgent(id: "weather-bot-2") { id version } }`, nil), "deleteAgent", "id"); got != "weather-bot-2" {
			t.Fatalf("deleteAgent = %v", got)
		}
		if r := e.gql(t, "acme", `{ agent(id: "weather-bot-2") { id } }`, nil); r.code(0) != "NOT_FOUND" {
			t.Fatalf("deleted agent: %+v", r.Errors)
		}
		if got := dig(e.ok(t, "acme", `{ agents { id } }`, nil), "agents"); len(got.([]any)) != 1 {
			t.Fatalf("agents after delete = %v", got)
		}
	})
}

// runEvent is an AgentRunEvent as the subscription delivers it.
type runEvent struct {
	Type     string `json:"type"`
	RunID    string `json:"runId"`
	Step     *int   `json:"step"`
	Text     string `json:"text"`
	ToolName string `json:"toolName"`
	Result   string `json:"result"`
	Position *int   `json:"position"`
	Run      *struct {
		Status string `json:"status"`
		Output string `json:"output"`
		Steps  int    `json:"steps"`
	} `json:"run"`
}

const runEventsQuery = `subscription($id: ID!) { agentRunEvents(runId: $id) { type runId step text toolName result position run { status output steps } } }`

// collect reads a run's events until the subscription ends.
func collect(t *testing.T, ch <-chan *graphql.Response) []runEvent {
	t.Helper()
	var out []runEvent
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return out
			}
			if len(r.Errors) > 0 {
				t.Fatalf("errors %v", r.Errors)
			}
			var d struct {
				E runEvent `json:"agentRunEvents"`
			}
			if err := json.Unmarshal(r.Data, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d.E)
		case <-timeout:
			t.Fatalf("the subscription did not end within 30s; got %+v", out)
		}
	}
}

func types(evs []runEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Type == "TOKEN" && len(out) > 0 && out[len(out)-1] == "TOKEN" {
			continue
		}
		out = append(out, e.Type)
	}
	return out
}

func TestAgentRuns(t *testing.T) {
	e := newAgentEnv(t)
	e.ok(t, "acme", `mutation($in: AgentInput!) { createAgent(input: $in) { id } }`, map[string]any{"in": e.weather("Weather Bot")})
	const answer = "Oslo: 21 degrees."
	e.script(answer)
	const fields = `id agentId agentVersion status input output steps costUsd error usage { inputTokens outputTokens }`
	data := e.ok(t, "acme", `mutation { executeAgent(agentId: "weather-bot", input: "Weather in Oslo?", idempotencyKey: "k1") { `+fields+` } }`, nil)
	runID, _ := dig(data, "executeAgent", "id").(string)
	if runID == "" || dig(data, "executeAgent", "input") != "Weather in Oslo?" || dig(data, "executeAgent", "agentVersion") != 1.0 {
		t.Fatalf("executeAgent = %v", data)
	}
	again := e.ok(t, "acme", `mutation { executeAgent(agentId: "weather-bot", input: "Weather in Oslo?", idempotencyKey: "k1") { id } }`, nil)
	if dig(again, "executeAgent", "id") != runID {
		t.Fatalf("the same idempotency key started run %v, not %s", dig(again, "executeAgent", "id"), runID)
	}

	ctx, cancel := context.WithTimeout(as("acme"), 30*time.Second)
	defer cancel()
	ch, err := e.schema.Subscribe(ctx, runEventsQuery, "", map[string]any{"id": runID})
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, ch)
	got := types(evs)
	// Tokens are live only: a subscriber that attaches late sees none.
	got = slices.DeleteFunc(got, func(s string) bool { return s == "TOKEN" })
	want := []string{"STARTED", "MODEL_CALLED", "TOOL_CALL", "TOOL_RESULT", "MODEL_CALLED", "COMPLETED"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	last := evs[len(evs)-1]
	if last.RunID != runID || last.Run == nil || last.Run.Status != "completed" || last.Run.Output != answer || last.Run.Steps != 2 || last.Position == nil {
		t.Fatalf("last event %+v", last)
	}
	res := evs[slices.IndexFunc(evs, func(e runEvent) bool { return e.Type == "TOOL_RESULT" })]
	if res.ToolName != "get_weather" || !strings.Contains(res.Result, "21") {
		t.Fatalf("TOOL_RESULT %+v", res)
	}

	// A second identical subscription is not shared with the first: it
	// replays the run from its start too.
	ch2, err := e.schema.Subscribe(ctx, runEventsQuery, "", map[string]any{"id": runID})
	if err != nil {
		t.Fatal(err)
	}
	if evs2 := collect(t, ch2); len(evs2) == 0 || evs2[0].Type != "STARTED" || evs2[len(evs2)-1].Type != "COMPLETED" {
		t.Fatalf("second subscription: %v", types(evs2))
	}

	run := e.ok(t, "acme", `query($id: ID!) { agentRun(id: $id) { `+fields+` } }`, map[string]any{"id": runID})
	if dig(run, "agentRun", "status") != "completed" || dig(run, "agentRun", "output") != answer ||
		dig(run, "agentRun", "usage", "inputTokens") != 30.0 || dig(run, "agentRun", "costUsd") == nil {
		t.Fatalf("agentRun = %v", run)
	}
	list := e.ok(t, "acme", `{ agentRuns(agentId: "weather-bot", status: "completed") { id status output steps } }`, nil)
	if dig(list, "agentRuns", 0, "id") != runID || dig(list, "agentRuns", 0, "output") != answer || dig(list, "agentRuns", 0, "steps") != 2.0 {
		t.Fatalf("agentRuns = %v", list)
	}

	t.Run("cancel", func(t *testing.T) {
		e.sim.Script("gpt-4o", sim.Step{Hang: true})
		id := dig(e.ok(t, "acme", `mutation { executeAgent(agentId: "weather-bot", input: "wait") { id } }`, nil), "executeAgent", "id").(string)
		ch, err := e.schema.Subscribe(ctx, runEventsQuery, "", map[string]any{"id": id})
		if err != nil {
			t.Fatal(err)
		}
		c := e.ok(t, "acme", `mutation($id: ID!) { cancelAgentRun(id: $id) { status } }`, map[string]any{"id": id})
		if dig(c, "cancelAgentRun", "status") != "cancelled" {
			t.Fatalf("cancelAgentRun = %v", c)
		}
		if evs := collect(t, ch); evs[len(evs)-1].Type != "CANCELLED" {
			t.Fatalf("events %v", types(evs))
		}
		if r := e.gql(t, "acme", `mutation($id: ID!) { answerAgentRun(id: $id, answer: "x") { status } }`, map[string]any{"id": id}); r.code(0) != "FAILED_PRECONDITION" {
			t.Fatalf("answering a cancelled run: %+v", r.Errors)
		}
	})

	t.Run("another tenant's run is NOT_FOUND", func(t *testing.T) {
		for _, q := range []string{
			`query($id: ID!) { agentRun(id: $id) { id } }`,
			`mutation($id: ID!) { cancelAgentRun(id: $id) { id } }`,
			`mutation($id: ID!) { answerAgentRun(id: $id, answer: "x") { id } }`,
		} {
			if r := e.gql(t, "globex", q, map[string]any{"id": runID}); r.code(0) != "NOT_FOUND" {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
		}
		ch, err := e.schema.Subscribe(as("globex"), runEventsQuery, "", map[string]any{"id": runID})
		if err != nil {
			t.Fatal(err)
		}
		r := <-ch
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
			t.Fatalf("globex agentRunEvents: %+v", r)
		}
		for range ch {
		}
		if got := dig(e.ok(t, "globex", `{ agentRuns { id } }`, nil), "agentRuns"); len(got.([]any)) != 0 {
			t.Fatalf("globex agentRuns = %v", got)
		}
	})
}
