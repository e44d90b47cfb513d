package actors_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/openai"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// autoSimModels are the models the simulator deployment serves; each test
// agent uses its own, so scripts never mix.
var autoSimModels = []string{"sim-classify", "sim-research", "sim-write", "sim-review", "sim-coordinate"}

// simRouter is a router with one OpenAI-format deployment on a simulator.
func autoSimRouter(t *testing.T) (*router.Router, *sim.Server) {
	t.Helper()
	s := sim.New(sim.Config{APIKey: "sim-key"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client, err := openai.New(providers.Config{Name: "sim", Format: "openai", BaseURL: srv.URL + "/v1", APIKey: "sim-key"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := router.New(router.Config{Deployments: []router.Deployment{{Name: "sim", Client: client, Models: autoSimModels}}})
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

// agentNode is a node whose agents call the simulator.
func autoAgentNode(t *testing.T, store events.Store, r *router.Router) *autoNode {
	t.Helper()
	return startAutoNode(t, store, actors.Options{LLM: r})
}

func mustAgent(t *testing.T, n *autoNode, d agent.Definition) string {
	t.Helper()
	d, err := n.sys.Agents.Save(context.Background(), acme, d)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// triage: an agent classifies a ticket, then rules on two automatic
// activities route it by the agent's output.
func triageFlow(agentID string, auto bool) workflow.Definition {
	return workflow.Definition{
		Name:   "Triage",
		States: []string{"new", "classified", "billing", "general"},
		Activities: []workflow.Activity{
			{ID: "classify", FromStates: []string{"new"}, ToState: "classified",
				AgentConfig: &workflow.AgentConfig{AgentID: agentID, Auto: auto}},
			{ID: "route_billing", FromStates: []string{"classified"}, ToState: "billing", Auto: true,
				Conditions: []rules.Condition{{Field: "classify.category", Operator: "equals", Value: "billing"}}},
			{ID: "route_general", FromStates: []string{"classified"}, ToState: "general", Auto: true},
		},
	}
}

func TestAgentActivityMovesResource(t *testing.T) {
	store := natsjstest.Open(t, "")
	r, s := autoSimRouter(t)
	n := autoAgentNode(t, store, r)
	ctx := context.Background()
	classifier := mustAgent(t, n, agent.Definition{Name: "Classifier", Model: "sim-classify",
		SystemPrompt: `Answer {"category": "billing"} or {"category": "general"}.`})
	wf := mustWorkflow(t, n.sys, triageFlow(classifier, false))

	tests := []struct {
		name, id, reply string
		wantState       string
		wantOutput      any
	}{
		{"billing", "ticket-1", `{"category": "billing"}`, "billing", map[string]any{"category": "billing"}},
		{"anything else", "ticket-2", `{"category": "shipping"}`, "general", map[string]any{"category": "shipping"}},
		{"plain text", "ticket-3", `I cannot tell.`, "general", "I cannot tell."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustCreate(t, n.sys, wf, tt.id, map[string]any{"subject": "Invoice " + tt.id})
			s.Script("sim-classify", sim.Step{Text: tt.reply})
			tr, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: tt.id, ActivityID: "classify",
				Input: map[string]any{"priority": "high"}})
			wantRun := actors.RunID(tt.id, "classify", 1)
			if err != nil || tr.AgentRunID != wantRun || tr.From != "new" || tr.To != "new" {
				t.Fatalf("fire = %+v, %v; want run %s with the resource still in new", tr, err, wantRun)
			}
			// Firing it again while the run works gives the same run.
			again, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: tt.id, ActivityID: "classify"})
			if err != nil || again.AgentRunID != wantRun || !again.Replayed {
				t.Errorf("second fire = %+v, %v", again, err)
			}
			res := reachState(t, n.sys, tt.id, tt.wantState)
			want := map[string]any{"subject": "Invoice " + tt.id, "priority": "high", "classify": tt.wantOutput}
			if diff := cmp.Diff(want, res.Data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			evs, _ := store.ReadStream(ctx, events.ResourceStream("acme", tt.id), 0, 0)
			var sc events.StateChanged
			if len(evs) != 4 || evs[2].Decode(&sc) != nil || sc.Activity != "classify" || sc.IdempotencyKey != wantRun {
				t.Errorf("events %v; want created, agent started, classify (key %s), route", streamTypes(t, store, tt.id), wantRun)
			}
			run, err := n.sys.Agents.Run(ctx, acme, wantRun)
			if err != nil || run.ResourceID != tt.id || run.Activity != "classify" {
				t.Errorf("run = %+v, %v", run, err)
			}
		})
	}
	// The agent saw the resource data with the fire's input.
	reqs := s.Requests()
	if len(reqs) == 0 || !strings.Contains(string(reqs[0].Body), "Invoice ticket-1") || !strings.Contains(string(reqs[0].Body), "priority") {
		t.Errorf("first request %s does not carry the resource data", reqs[0].Body)
	}
}

func TestAgentFailureIsRecorded(t *testing.T) {
	store := natsjstest.Open(t, "")
	r, s := autoSimRouter(t)
	n := autoAgentNode(t, store, r)
	classifier := mustAgent(t, n, agent.Definition{Name: "Classifier", Model: "sim-classify"})
	wf := mustWorkflow(t, n.sys, triageFlow(classifier, true))
	s.Script("sim-classify", sim.Step{Status: 400, ErrorMessage: "bad request"})
	mustCreate(t, n.sys, wf, "t", nil)
	var f events.ResourceActivityFailed
	awaitCond(t, "the failure to be recorded", func() (bool, string) {
		evs, _ := store.ReadStream(context.Background(), events.ResourceStream("acme", "t"), 0, 0)
		last := evs[len(evs)-1]
		return last.Type == events.TypeResourceActivityFailed && last.Decode(&f) == nil, last.Type
	})
	if f.Kind != events.ActivityFailAgent || f.Activity != "classify" || f.RunID != actors.RunID("t", "classify", 1) || f.Error == "" {
		t.Errorf("failure %+v", f)
	}
	res, err := n.sys.Resource(context.Background(), acme, "t")
	if err != nil || res.State != "new" || len(res.AgentRuns) != 0 {
		t.Errorf("resource %+v, %v; want it in new with no run", res, err)
	}
	// A caller tries again: a new run (the failed one keeps its id).
	s.Script("sim-classify", sim.Step{Text: `{"category": "billing"}`})
	tr, err := n.sys.Fire(context.Background(), actors.FireActivity{Caller: acme, ResourceID: "t", ActivityID: "classify"})
	if err != nil || tr.AgentRunID == f.RunID || tr.AgentRunID != actors.RunID("t", "classify", 3) {
		t.Fatalf("second attempt = %+v, %v; want a new run", tr, err)
	}
	reachState(t, n.sys, "t", "billing")
}

func TestMultiAgentPipeline(t *testing.T) {
	store := natsjstest.Open(t, "")
	r, s := autoSimRouter(t)
	n := autoAgentNode(t, store, r)
	for _, a := range []agent.Definition{
		{Name: "Research Agent", Role: "researcher", Model: "sim-research", SystemPrompt: "You are a thorough researcher."},
		{Name: "Writing Agent", Role: "writer", Model: "sim-write", SystemPrompt: "You are a professional writer."},
		{Name: "Review Agent", Role: "reviewer", Model: "sim-review", SystemPrompt: "You are a careful editor."},
	} {
		mustAgent(t, n, a)
	}
	def, err := workflow.Parse([]byte(`
name: Content Creation Pipeline
states: [topic_received, researching, writing, reviewing, published]
agentTransitions:
  - {id: research, from: topic_received, to: researching, agentId: research-agent}
  - {id: write, from: researching, to: writing, agentId: writing-agent, outputKey: draft}
  - {id: review, from: writing, to: reviewing, agentId: review-agent}
`))
	if err != nil {
		t.Fatal(err)
	}
	wf := mustWorkflow(t, n.sys, def)
	s.Script("sim-research", sim.Step{Text: "Fact: octopuses have three hearts."})
	s.Script("sim-write", sim.Step{Text: "Octopuses: three hearts, one ocean."})
	s.Script("sim-review", sim.Step{Text: `{"approved": true, "score": 9}`})
	mustCreate(t, n.sys, wf, "post-1", map[string]any{"topic": "octopuses"})

	res := reachState(t, n.sys, "post-1", "reviewing")
	want := map[string]any{
		"topic":    "octopuses",
		"research": "Fact: octopuses have three hearts.",
		"draft":    "Octopuses: three hearts, one ocean.",
		"review":   map[string]any{"approved": true, "score": 9.0},
	}
	if diff := cmp.Diff(want, res.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	// Each agent read its predecessors' output from the resource data.
	var sawResearch, sawDraft bool
	for _, q := range s.Requests() {
		body := string(q.Body)
		switch q.Model {
		case "sim-write":
			sawResearch = strings.Contains(body, "three hearts")
		case "sim-review":
			sawDraft = strings.Contains(body, "one ocean")
		}
	}
	if !sawResearch || !sawDraft {
		t.Errorf("writer saw the research: %v; reviewer saw the draft: %v", sawResearch, sawDraft)
	}
	wantTypes := []string{"ResourceCreated",
		"ResourceAgentStarted", "StateChanged", "ResourceAgentStarted", "StateChanged", "ResourceAgentStarted", "StateChanged"}
	if diff := cmp.Diff(wantTypes, streamTypes(t, store, "post-1")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestAgentEscalationParksResource(t *testing.T) {
	store := natsjstest.Open(t, "")
	r, s := autoSimRouter(t)
	n := autoAgentNode(t, store, r)
	ctx := context.Background()
	coordinator := mustAgent(t, n, agent.Definition{Name: "Coordinator", Model: "sim-coordinate",
		SystemPrompt: "Escalate to a human when unsure.",
		Tools:        []agent.Tool{{Name: agent.ToolEscalateToHuman, Kind: agent.KindBuiltin}}})
	wf := mustWorkflow(t, n.sys, triageFlow(coordinator, true))
	s.Script("sim-coordinate",
		sim.Step{ToolCalls: []llm.ToolCall{{ID: "call-1", Name: agent.ToolEscalateToHuman, Arguments: `{"question": "Refund or not?"}`}}},
		sim.Step{Text: `{"category": "billing"}`})
	mustCreate(t, n.sys, wf, "t", nil)
	w := parkedOn(t, n, "t")
	runID := actors.RunID("t", "classify", 1)
	if w.RunID != runID || w.Prompt != "Refund or not?" || w.ID != runID+"/call-1" {
		t.Fatalf("wait %+v", w)
	}

	// The node goes down while the resource and its run wait.
	n.stop(t)
	n = autoAgentNode(t, store, r)
	parkedOn(t, n, "t")
	_, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "t", ActivityID: "classify"})
	if !errors.Is(err, actors.ErrWaiting) {
		t.Errorf("fire while parked on an escalation: %v, want ErrWaiting", err)
	}
	tr, err := n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "t", Answer: "Refund it."})
	if err != nil || tr.AgentRunID != runID || tr.To != "new" {
		t.Fatalf("resume = %+v, %v", tr, err)
	}
	res := reachState(t, n.sys, "t", "billing")
	if res.Parked != nil {
		t.Errorf("still parked: %+v", res.Parked)
	}
	// The model got the human's answer as the result of its tool call.
	reqs := s.Requests()
	last := string(reqs[len(reqs)-1].Body)
	if !strings.Contains(last, "Refund it.") {
		t.Errorf("last request %s lacks the answer", last)
	}
	wantTypes := []string{"ResourceCreated", "ResourceAgentStarted", "ResourceParked", "ResourceResumed", "StateChanged", "StateChanged"}
	if diff := cmp.Diff(wantTypes, streamTypes(t, store, "t")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// A crash between recording an agent run and starting it: the run is
// started by the automation of the next node, once.
func TestRecordedRunStartsAfterRestart(t *testing.T) {
	store := natsjstest.Open(t, "")
	r, s := autoSimRouter(t)
	n := autoAgentNode(t, store, r)
	ctx := context.Background()
	classifier := mustAgent(t, n, agent.Definition{Name: "Classifier", Model: "sim-classify"})
	wf := mustWorkflow(t, n.sys, triageFlow(classifier, false))
	mustCreate(t, n.sys, wf, "t", nil)
	n.stop(t)

	runID := actors.RunID("t", "classify", 1)
	ev, err := events.NewEvent(events.TypeResourceAgentStarted, events.ResourceAgentStartedVersion,
		events.ResourceAgentStarted{ResourceID: "t", Activity: "classify", RunID: runID, AgentID: classifier})
	if err != nil {
		t.Fatal(err)
	}
	ev.Tenant, ev.Actor = "acme", "test"
	if _, err := store.Append(ctx, events.ResourceStream("acme", "t"), events.Exact(1), ev); err != nil {
		t.Fatal(err)
	}
	s.Script("sim-classify", sim.Step{Text: `{"category": "billing"}`})
	n = autoAgentNode(t, store, r)
	reachState(t, n.sys, "t", "billing")
	calls := 0
	for _, q := range s.Requests() {
		if q.Model == "sim-classify" {
			calls++
		}
	}
	if calls != 1 {
		t.Errorf("%d model calls, want 1", calls)
	}
	evs, _ := store.ReadStream(ctx, events.AgentRunStream("acme", runID), 0, 0)
	if len(evs) == 0 || evs[0].Type != events.TypeAgentRunStarted {
		t.Fatalf("run stream %v", evs)
	}
	var started events.AgentRunStarted
	if err := json.Unmarshal(evs[0].Data, &started); err != nil || started.ResourceID != "t" || started.Activity != "classify" {
		t.Errorf("run started %+v, %v", started, err)
	}
}

func TestRunIDs(t *testing.T) {
	tests := []struct {
		name, resource, activity string
		entered                  uint64
		want                     string
	}{
		{"readable", "doc-1", "classify", 3, "doc-1_classify_3"},
		{"underscores in the resource", "doc_1", "route-billing", 12, "doc_1_route-billing_12"},
		{"activity with a space", "doc-1", "route billing", 3, "doc-1_-"},
		{"resource with a colon", "acme:doc", "classify", 1, "wf-"},
		{"too long", strings.Repeat("r", 130), "classify", 1, "wf-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := actors.RunID(tt.resource, tt.activity, tt.entered)
			if !strings.HasPrefix(got, tt.want) || !agent.ValidID(got) {
				t.Errorf("RunID = %q, want a valid id starting %q", got, tt.want)
			}
			if again := actors.RunID(tt.resource, tt.activity, tt.entered); again != got {
				t.Errorf("RunID is not deterministic: %q then %q", got, again)
			}
			if other := actors.RunID(tt.resource, tt.activity, tt.entered+1); other == got {
				t.Errorf("RunID ignores the revision")
			}
		})
	}
}
