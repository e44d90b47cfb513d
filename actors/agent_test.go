package actors_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

func toolCall(id, name, args string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: name, Arguments: args}
}

func start(t *testing.T, sys *actors.System, req actors.StartRun) actors.RunView {
	t.Helper()
	v, err := sys.Agents.Start(context.Background(), acme, req)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkCost checks that the run's cost is the sum of its AgentModelCalled
// events and of the router's records of the same calls.
func checkCost(t *testing.T, e *agentEnv, v actors.RunView) {
	t.Helper()
	var journaled float64
	ids := map[string]bool{}
	for _, ev := range e.journal(v.ID) {
		if ev.Type == events.TypeAgentModelCalled {
			var d events.AgentModelCalled
			if err := ev.Decode(&d); err != nil {
				t.Fatal(err)
			}
			journaled += d.CostUSD
			ids[d.CallID] = true
		}
	}
	var recorded float64
	for _, c := range e.rec.all() {
		if ids[c.ID] {
			recorded += c.CostUSD
			if c.Tenant != acme.Tenant || c.Project != "agent:"+v.AgentID {
				t.Errorf("call %s made for %+v", c.ID, c.Caller)
			}
		}
	}
	if len(ids) == 0 || v.CostUSD <= 0 || !v.Priced {
		t.Fatalf("run cost $%v priced=%v over %d calls", v.CostUSD, v.Priced, len(ids))
	}
	if math.Abs(v.CostUSD-journaled) > 1e-12 || math.Abs(v.CostUSD-recorded) > 1e-12 {
		t.Errorf("run cost $%v, journaled $%v, recorded $%v", v.CostUSD, journaled, recorded)
	}
}

func TestAgentRunMultiStep(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Weather", e.tools.tool("weather", "/weather"))
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("c1", "weather", `{"q":"Paris"}`)}},
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("c2", "weather", `{"q":"Lyon"}`)}},
		sim.Step{Text: "Paris and Lyon are both 21C."},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "Weather in Paris and Lyon?"})
	if v.Status != "running" || v.AgentVersion != 1 {
		t.Fatalf("started %+v", v)
	}
	seen, v := e.wait(e.sys, v.ID)
	if v.Status != "completed" || v.Output != "Paris and Lyon are both 21C." || v.Steps != 3 {
		t.Fatalf("run %+v", v)
	}
	want := []string{events.TypeAgentRunStarted,
		events.TypeAgentModelCalled, events.TypeAgentToolCalled,
		events.TypeAgentModelCalled, events.TypeAgentToolCalled,
		events.TypeAgentModelCalled, events.TypeAgentRunCompleted}
	if diff := cmp.Diff(want, types(e.journal(v.ID))); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	wantEv := []string{"STARTED", "MODEL_CALLED", "TOOL_CALL", "TOOL_RESULT", "MODEL_CALLED", "TOOL_CALL", "TOOL_RESULT", "MODEL_CALLED", "COMPLETED"}
	if diff := cmp.Diff(wantEv, evTypes(seen)); diff != "" {
		t.Errorf("watched (-want +got):\n%s", diff)
	}
	chats := e.chats()
	if len(chats) != 3 {
		t.Fatalf("%d model requests, want 3", len(chats))
	}
	if body := string(chats[2].Body); !strings.Contains(body, `{\"temp\":21}`) || !strings.Contains(body, "c2") {
		t.Errorf("third request lacks the tool results: %s", body)
	}
	if got := e.tools.seen(); len(got) != 2 {
		t.Errorf("tool calls %v, want 2", got)
	}
	checkCost(t, e, v)
	if e.sys.Agents.Active() != 0 {
		t.Errorf("%d run actors resident after the run ended", e.sys.Agents.Active())
	}
	// A watch of an ended run replays it and ends.
	again, _ := e.wait(e.sys, v.ID)
	if diff := cmp.Diff(wantEv, evTypes(again)); diff != "" {
		t.Errorf("replayed watch (-want +got):\n%s", diff)
	}
}

func TestAgentStreamsTokens(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Talker", e.tools.tool("wait", "/block"))
	// The run blocks in its tool until the watch is open, so that the
	// watch sees the next answer stream.
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("w", "wait", `{}`)}},
		sim.Step{Text: "alpha beta gamma"},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "count"})
	ch, err := e.sys.Agents.Watch(context.Background(), acme, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the tool call", func() bool { return len(e.tools.seen()) == 1 })
	close(e.tools.release)
	var text strings.Builder
	var last actors.RunEvent
	for ev := range ch {
		if ev.Type == actors.RunEventToken {
			if ev.Step != 2 {
				t.Errorf("token of step %d", ev.Step)
			}
			text.WriteString(ev.Text)
		}
		last = ev
	}
	if text.String() != "alpha beta gamma" {
		t.Errorf("tokens %q", text.String())
	}
	if last.Type != actors.RunEventCompleted || last.Run == nil || last.Run.Output != "alpha beta gamma" {
		t.Errorf("last event %+v", last)
	}
}

func TestAgentParallelToolCalls(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Parallel", e.tools.tool("pair", "/pair"))
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("a", "pair", `{"q":"A"}`), toolCall("b", "pair", `{"q":"B"}`)}},
		sim.Step{Text: "done"},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "go"})
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "completed" {
		t.Fatalf("run %+v", v)
	}
	e.tools.mu.Lock()
	maxIn := e.tools.maxIn
	e.tools.mu.Unlock()
	if maxIn != 2 {
		t.Errorf("at most %d tool calls ran at once, want 2", maxIn)
	}
	var results []string
	for _, ev := range e.journal(v.ID) {
		if ev.Type == events.TypeAgentToolCalled {
			var d events.AgentToolCalled
			_ = ev.Decode(&d)
			results = append(results, d.ToolCallID+"="+d.Result)
		}
	}
	if len(results) != 2 {
		t.Fatalf("journaled results %v", results)
	}
	body := string(e.chats()[1].Body)
	if ia, ib := strings.Index(body, `\"echo\":\"A\"`), strings.Index(body, `\"echo\":\"B\"`); ia < 0 || ib < 0 || ia > ib {
		t.Errorf("results not sent in call order: %s", body)
	}
}

func TestAgentToolErrorsGoToTheModel(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Failing", e.tools.tool("broken", "/fail"))
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("a", "broken", `{}`), toolCall("b", "missing", `{}`)}},
		sim.Step{Text: "the tools failed"},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "go"})
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "completed" || v.Output != "the tools failed" {
		t.Fatalf("run %+v", v)
	}
	got := map[string]events.AgentToolCalled{}
	for _, ev := range e.journal(v.ID) {
		if ev.Type == events.TypeAgentToolCalled {
			var d events.AgentToolCalled
			_ = ev.Decode(&d)
			got[d.ToolCallID] = d
		}
	}
	if r := got["a"]; !r.IsError || r.Result != "HTTP 500: boom" {
		t.Errorf("broken tool result %+v", r)
	}
	if r := got["b"]; !r.IsError || !strings.Contains(r.Result, "unknown tool") {
		t.Errorf("missing tool result %+v", r)
	}
	if body := string(e.chats()[1].Body); !strings.Contains(body, "HTTP 500: boom") {
		t.Errorf("the error did not reach the model: %s", body)
	}
}

func TestAgentStepLimit(t *testing.T) {
	e := newAgentEnv(t)
	d, err := e.sys.Agents.Save(context.Background(), acme, agent.Definition{Name: "Looper", Model: "gpt-4o", MaxSteps: 2,
		Tools: []agent.Tool{e.tools.tool("weather", "/weather")}})
	if err != nil {
		t.Fatal(err)
	}
	loop := sim.Step{ToolCalls: []llm.ToolCall{toolCall("", "weather", `{}`)}}
	e.sim.Script("gpt-4o", loop, loop, loop)
	v := start(t, e.sys, actors.StartRun{AgentID: d.ID, Input: "loop"})
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "failed" || v.ErrorKind != events.AgentFailStepLimit || v.Steps != 2 {
		t.Fatalf("run %+v", v)
	}
	if n := len(e.chats()); n != 2 {
		t.Errorf("%d model calls, want 2", n)
	}
}

func TestAgentTimeout(t *testing.T) {
	e := newAgentEnv(t)
	d, err := e.sys.Agents.Save(context.Background(), acme, agent.Definition{Name: "Slow", Model: "gpt-4o", TimeoutSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Script("gpt-4o", sim.Step{Hang: true})
	v := start(t, e.sys, actors.StartRun{AgentID: d.ID, Input: "hang"})
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "failed" || v.ErrorKind != events.AgentFailTimeout {
		t.Fatalf("run %+v", v)
	}
	evs := e.journal(v.ID)
	var failed events.AgentRunFailed
	if err := evs[len(evs)-1].Decode(&failed); err != nil {
		t.Fatal(err)
	}
	calls := e.rec.all()
	if len(calls) != 1 || failed.CallID != calls[0].ID || calls[0].Outcome == "ok" {
		t.Errorf("failed %+v; router calls %+v", failed, calls)
	}
	eventually(t, "the upstream to see the disconnect", func() bool { return e.upstreamGone() == 1 })
}

func TestAgentCancel(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Cancelled")
	e.sim.Script("gpt-4o", sim.Step{Hang: true})
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "hang"})
	eventually(t, "the model call", func() bool { return len(e.chats()) == 1 })
	got, err := e.sys.Agents.Cancel(context.Background(), actors.Caller{Tenant: "acme", Actor: "alice"}, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "cancelled" {
		t.Fatalf("cancel returned %+v", got)
	}
	eventually(t, "the upstream to see the disconnect", func() bool { return e.upstreamGone() == 1 })
	evs := e.journal(v.ID)
	if diff := cmp.Diff([]string{events.TypeAgentRunStarted, events.TypeAgentRunCancelled}, types(evs)); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if evs[1].Actor != "alice" {
		t.Errorf("cancelled by %q", evs[1].Actor)
	}
	// Cancelling again returns the ended run; another tenant sees nothing.
	if again, err := e.sys.Agents.Cancel(context.Background(), acme, v.ID); err != nil || again.Status != "cancelled" {
		t.Errorf("second cancel %+v %v", again, err)
	}
	if _, err := e.sys.Agents.Cancel(context.Background(), actors.Caller{Tenant: "other"}, v.ID); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("other tenant's cancel: %v", err)
	}
	if _, err := e.sys.Agents.Run(context.Background(), actors.Caller{Tenant: "other"}, v.ID); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("other tenant's read: %v", err)
	}
	eventually(t, "the run's actor to stop", func() bool { return e.sys.Agents.Active() == 0 })
}

func TestAgentSchemaRepair(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"category":{"enum":["billing","technical"]}},"required":["category"]}`)
	cases := []struct {
		name    string
		steps   []sim.Step
		status  string
		kind    string
		outJSON string
	}{
		{"valid at once", []sim.Step{{Text: `{"category":"billing"}`}}, "completed", "", `{"category":"billing"}`},
		{"repaired", []sim.Step{{Text: "It is about billing."}, {Text: "```json\n{\"category\": \"billing\"}\n```"}}, "completed", "", `{"category":"billing"}`},
		{"repair fails", []sim.Step{{Text: "billing"}, {Text: `{"category":"other"}`}}, "failed", events.AgentFailSchema, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAgentEnv(t)
			d, err := e.sys.Agents.Save(context.Background(), acme, agent.Definition{Name: "Classifier", Model: "gpt-4o", OutputSchema: schema})
			if err != nil {
				t.Fatal(err)
			}
			e.sim.Script("gpt-4o", c.steps...)
			v := start(t, e.sys, actors.StartRun{AgentID: d.ID, Input: "My bill is wrong"})
			_, v = e.wait(e.sys, v.ID)
			if v.Status != c.status || v.ErrorKind != c.kind || string(v.OutputJSON) != c.outJSON {
				t.Fatalf("run %+v", v)
			}
			chats := e.chats()
			if len(chats) != len(c.steps) {
				t.Fatalf("%d model calls, want %d", len(chats), len(c.steps))
			}
			if !strings.Contains(string(chats[0].Body), `"response_format"`) {
				t.Errorf("no response format sent: %s", chats[0].Body)
			}
			if len(chats) == 2 && !strings.Contains(string(chats[1].Body), "does not match the required output JSON Schema") {
				t.Errorf("repair request lacks the validation error: %s", chats[1].Body)
			}
		})
	}
}

func TestAgentEscalation(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Coordinator", agent.Tool{Name: agent.ToolEscalateToHuman})
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("h1", agent.ToolEscalateToHuman, `{"question":"Publish it?"}`)}},
		sim.Step{Text: "Published."},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "Publish the post"})
	ev := e.waitFor(e.sys, v.ID, actors.RunEventWaiting)
	if ev.Text != "Publish it?" || ev.Run == nil || ev.Run.Status != "waiting" || ev.Run.Question != "Publish it?" {
		t.Fatalf("waiting event %+v", ev)
	}
	// A waiting run holds no actor.
	eventually(t, "the waiting run's actor to stop", func() bool { return e.sys.Agents.Active() == 0 })
	if _, err := e.sys.Agents.Answer(context.Background(), acme, "nope", "x"); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("answer to an unknown run: %v", err)
	}
	got, err := e.sys.Agents.Answer(context.Background(), actors.Caller{Tenant: "acme", Actor: "bob"}, v.ID, "yes, publish")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "running" {
		t.Errorf("answered run %+v", got)
	}
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "completed" || v.Output != "Published." {
		t.Fatalf("run %+v", v)
	}
	if _, err := e.sys.Agents.Answer(context.Background(), acme, v.ID, "again"); !errors.Is(err, actors.ErrNotWaiting) {
		t.Errorf("answer to an ended run: %v", err)
	}
	want := []string{events.TypeAgentRunStarted, events.TypeAgentModelCalled, events.TypeAgentRunWaiting,
		events.TypeAgentRunAnswered, events.TypeAgentModelCalled, events.TypeAgentRunCompleted}
	if diff := cmp.Diff(want, types(e.journal(v.ID))); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if body := string(e.chats()[1].Body); !strings.Contains(body, "yes, publish") {
		t.Errorf("the answer did not reach the model: %s", body)
	}
}

func TestAgentBuiltins(t *testing.T) {
	e := newAgentEnv(t)
	writer := e.define("Writer")
	coord := e.define("Coordinator", agent.Tool{Name: agent.ToolGetAgentOutput}, agent.Tool{Name: agent.ToolSendAgentFeedback})
	e.sim.Script("gpt-4o", sim.Step{Text: "first draft"})
	w := start(t, e.sys, actors.StartRun{AgentID: writer.ID, Input: "write"})
	e.wait(e.sys, w.ID)
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("g", agent.ToolGetAgentOutput, `{"runId":"`+w.ID+`"}`)}},
		// The writer's feedback run answers in between.
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("f", agent.ToolSendAgentFeedback, `{"agentId":"`+writer.ID+`","runId":"`+w.ID+`","feedback":"shorter"}`)}},
		sim.Step{Text: "second draft"},
		sim.Step{Text: "approved"},
	)
	v := start(t, e.sys, actors.StartRun{AgentID: coord.ID, Input: "review"})
	_, v = e.wait(e.sys, v.ID)
	if v.Status != "completed" || v.Output != "approved" {
		t.Fatalf("run %+v", v)
	}
	results := map[string]string{}
	for _, ev := range e.journal(v.ID) {
		if ev.Type == events.TypeAgentToolCalled {
			var d events.AgentToolCalled
			_ = ev.Decode(&d)
			results[d.ToolCallID] = d.Result
		}
	}
	if diff := cmp.Diff(map[string]string{"g": "first draft", "f": "second draft"}, results); diff != "" {
		t.Errorf("built-in results (-want +got):\n%s", diff)
	}
}

func TestAgentStartIsIdempotent(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Once")
	e.sim.Script("gpt-4o", sim.Step{Text: "done"})
	ctx := context.Background()
	a := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "x", IdempotencyKey: "k1"})
	b := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "x", IdempotencyKey: "k1"})
	if a.ID != b.ID {
		t.Errorf("same key, runs %s and %s", a.ID, b.ID)
	}
	e.wait(e.sys, a.ID)
	c := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "x", RunID: a.ID})
	if c.ID != a.ID || c.Status != "completed" {
		t.Errorf("restart of an ended run id: %+v", c)
	}
	if n := len(e.journal(a.ID)); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	if _, err := e.sys.Agents.Start(ctx, acme, actors.StartRun{AgentID: "missing"}); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("start of a missing agent: %v", err)
	}
	if _, err := e.sys.Agents.Start(ctx, acme, actors.StartRun{AgentID: def.ID, RunID: "bad id"}); err == nil {
		t.Error("bad run id accepted")
	}
	// An inline agent (a workflow's agentConfig) needs no stored agent.
	e.sim.Script("gpt-4o", sim.Step{Text: "inline done"})
	in := start(t, e.sys, actors.StartRun{Agent: &agent.Definition{Name: "inline", Model: "gpt-4o"}, Input: "x", ResourceID: "doc-1", Activity: "review"})
	_, in = e.wait(e.sys, in.ID)
	if in.Status != "completed" || in.ResourceID != "doc-1" || in.Activity != "review" {
		t.Errorf("inline run %+v", in)
	}
}

func TestAgentDefinitions(t *testing.T) {
	e := newAgentEnv(t)
	ctx := context.Background()
	ag := e.sys.Agents
	d1, err := ag.Save(ctx, acme, agent.Definition{Name: "Support Classifier", Model: "claude-3-haiku", Provider: "anthropic"})
	if err != nil {
		t.Fatal(err)
	}
	if d1.ID != "support-classifier" || d1.Version != 1 || d1.MaxSteps != agent.DefaultMaxSteps {
		t.Fatalf("saved %+v", d1)
	}
	same, err := ag.Save(ctx, acme, agent.Definition{ID: d1.ID, Name: "Support Classifier", Model: "claude-3-haiku", Provider: "anthropic"})
	if err != nil || same.Version != 1 {
		t.Fatalf("unchanged save: %+v %v", same, err)
	}
	d2, err := ag.Save(ctx, acme, agent.Definition{ID: d1.ID, Name: "Support Classifier", Model: "claude-3-haiku", Provider: "anthropic", SystemPrompt: "Classify."})
	if err != nil || d2.Version != 2 || !d2.CreatedAt.Equal(d1.CreatedAt) {
		t.Fatalf("changed save: %+v %v", d2, err)
	}
	evs, _ := e.store.ReadStream(ctx, events.AgentStream("acme", d1.ID), 1, 0)
	if len(evs) != 2 {
		t.Errorf("%d AgentDefined events, want 2", len(evs))
	}
	if g, err := ag.Get(ctx, acme, d1.ID, 1); err != nil || g.SystemPrompt != "" || g.Version != 1 {
		t.Errorf("get v1: %+v %v", g, err)
	}
	if g, err := ag.Get(ctx, acme, d1.ID, 0); err != nil || g.SystemPrompt != "Classify." {
		t.Errorf("get latest: %+v %v", g, err)
	}
	if _, err := ag.Get(ctx, actors.Caller{Tenant: "other"}, d1.ID, 0); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("other tenant's get: %v", err)
	}
	c, err := ag.Create(ctx, acme, agent.Definition{Name: "Support Classifier", Model: "x"})
	if err != nil || c.ID != "support-classifier-2" {
		t.Errorf("create with a taken name: %+v %v", c, err)
	}
	if _, err := ag.Create(ctx, acme, agent.Definition{ID: d1.ID, Name: "x", Model: "x"}); !errors.Is(err, actors.ErrAlreadyExists) {
		t.Errorf("create with a taken id: %v", err)
	}
	var ve *agent.ValidationError
	if _, err := ag.Save(ctx, acme, agent.Definition{Name: "", Model: ""}); !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Errorf("invalid save: %v", err)
	}
	if err := ag.Delete(ctx, acme, d1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.Get(ctx, acme, d1.ID, 0); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if err := ag.Delete(ctx, acme, d1.ID); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	d3, err := ag.Save(ctx, acme, agent.Definition{ID: d1.ID, Name: "Back", Model: "m"})
	if err != nil || d3.Version != 3 {
		t.Errorf("save after delete: %+v %v", d3, err)
	}
}
