package agent_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// journal builds a run stream event by event.
type journal struct {
	t   testing.TB
	evs []events.Envelope
}

func (j *journal) add(typ string, at time.Duration, data any) *journal {
	b, err := json.Marshal(data)
	if err != nil {
		j.t.Fatal(err)
	}
	n := uint64(len(j.evs) + 1)
	j.evs = append(j.evs, events.Envelope{Stream: "agentrun-acme:r1", Type: typ, Version: 1, Revision: n,
		Position: 100 + n, Time: t0.Add(at), Tenant: "acme", Actor: "tester", Data: b})
	return j
}

func (j *journal) start(def agent.Definition) *journal {
	def = agent.Normalize(def)
	b, _ := json.Marshal(def)
	return j.add(events.TypeAgentRunStarted, 0, events.AgentRunStarted{RunID: "r1", AgentID: "a", AgentVersion: 1,
		Definition: b, Input: "hello", MaxSteps: def.MaxSteps, Deadline: t0.Add(def.Timeout())})
}

func (j *journal) model(step int, text string, calls ...llm.ToolCall) *journal {
	var parts []llm.Part
	if text != "" {
		parts = append(parts, llm.TextPart(text))
	}
	for i := range calls {
		parts = append(parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &calls[i]})
	}
	return j.add(events.TypeAgentModelCalled, time.Duration(step)*time.Second, events.AgentModelCalled{
		RunID: "r1", Step: step, CallID: "c" + string(rune('0'+step)), Parts: agent.EventParts(parts),
		Usage: events.LlmTokens{Input: 10, Output: 5}, CostUSD: 0.25, Priced: true})
}

func (j *journal) tool(step int, id, result string, isErr bool) *journal {
	return j.add(events.TypeAgentToolCalled, time.Duration(step)*time.Second+time.Millisecond,
		events.AgentToolCalled{RunID: "r1", Step: step, ToolCallID: id, Name: "lookup", Result: result, IsError: isErr})
}

func (j *journal) run() *agent.Run {
	j.t.Helper()
	var r agent.Run
	for _, e := range j.evs {
		if err := r.Apply(e); err != nil {
			j.t.Fatal(err)
		}
	}
	return &r
}

func call(id, name string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: name, Arguments: `{"q":"` + id + `"}`}
}

func plain() agent.Definition {
	return agent.Definition{Name: "a", Model: "gpt-4o", SystemPrompt: "Be brief.", MaxSteps: 3,
		Tools: []agent.Tool{{Name: "lookup", HTTP: &agent.HTTPTool{URL: "http://x/"}}, {Name: agent.ToolEscalateToHuman}}}
}

func withSchema() agent.Definition {
	d := plain()
	d.OutputSchema = json.RawMessage(`{"type":"object","required":["ok"]}`)
	return d
}

func TestNext(t *testing.T) {
	now := t0.Add(time.Minute)
	cases := []struct {
		name  string
		build func(j *journal)
		at    time.Time
		want  agent.Decision
	}{
		{"empty stream", func(*journal) {}, now, agent.Done{}},
		{"first step", func(j *journal) { j.start(plain()) }, now, agent.CallModel{Step: 1}},
		{"parallel tools", func(j *journal) {
			j.start(plain()).model(1, "", call("a", "lookup"), call("b", "lookup"))
		}, now, agent.CallTools{Step: 1, Calls: []llm.ToolCall{call("a", "lookup"), call("b", "lookup")}}},
		{"only unjournaled tools", func(j *journal) {
			j.start(plain()).model(1, "", call("a", "lookup"), call("b", "lookup")).tool(1, "b", "B", false)
		}, now, agent.CallTools{Step: 1, Calls: []llm.ToolCall{call("a", "lookup")}}},
		{"tool error goes back to the model", func(j *journal) {
			j.start(plain()).model(1, "", call("a", "lookup")).tool(1, "a", "boom", true)
		}, now, agent.CallModel{Step: 2}},
		{"answer completes", func(j *journal) {
			j.start(plain()).model(1, "", call("a", "lookup")).tool(1, "a", "A", false).model(2, "done")
		}, now, agent.Complete{Output: "done"}},
		{"step limit", func(j *journal) {
			j.start(plain()).model(1, "", call("a", "lookup")).tool(1, "a", "A", false).
				model(2, "", call("b", "lookup")).tool(2, "b", "B", false).
				model(3, "", call("c", "lookup")).tool(3, "c", "C", false)
		}, now, agent.Fail{Kind: events.AgentFailStepLimit, Error: "the run reached its step limit of 3 model calls"}},
		{"timeout", func(j *journal) { j.start(plain()) }, t0.Add(time.Hour),
			agent.Fail{Kind: events.AgentFailTimeout, Error: "the run did not finish within its timeout of 300s"}},
		{"escalation after other tools", func(j *journal) {
			j.start(plain()).model(1, "", call("h", agent.ToolEscalateToHuman), call("a", "lookup"))
		}, now, agent.CallTools{Step: 1, Calls: []llm.ToolCall{call("a", "lookup")}}},
		{"escalation", func(j *journal) {
			j.start(plain()).model(1, "", llm.ToolCall{ID: "h", Name: agent.ToolEscalateToHuman, Arguments: `{"question":"ok?"}`})
		}, now, agent.Escalate{Step: 1, Call: llm.ToolCall{ID: "h", Name: agent.ToolEscalateToHuman, Arguments: `{"question":"ok?"}`}, Question: "ok?"}},
		{"waiting", func(j *journal) {
			j.start(plain()).model(1, "", call("h", agent.ToolEscalateToHuman)).
				add(events.TypeAgentRunWaiting, 2*time.Second, events.AgentRunWaiting{RunID: "r1", Step: 1, ToolCallID: "h", Question: "q"})
		}, t0.Add(24 * time.Hour), agent.Wait{ToolCallID: "h", Question: "q"}},
		{"answered: the wait does not count against the timeout", func(j *journal) {
			j.start(plain()).model(1, "", call("h", agent.ToolEscalateToHuman)).
				add(events.TypeAgentRunWaiting, 2*time.Second, events.AgentRunWaiting{RunID: "r1", Step: 1, ToolCallID: "h", Question: "q"}).
				add(events.TypeAgentRunAnswered, 2*time.Second+10*time.Hour, events.AgentRunAnswered{RunID: "r1", ToolCallID: "h", Answer: "yes"})
		}, t0.Add(10*time.Hour + time.Minute), agent.CallModel{Step: 2}},
		{"valid structured output", func(j *journal) {
			j.start(withSchema()).model(1, "```json\n{\"ok\": true}\n```")
		}, now, agent.Complete{Output: "```json\n{\"ok\": true}\n```", OutputJSON: json.RawMessage(`{"ok":true}`)}},
		{"repair", func(j *journal) { j.start(withSchema()).model(1, "not json") }, now, agent.CallModel{Step: 2, Repair: true}},
		{"repair after the step limit", func(j *journal) {
			j.start(withSchema()).model(1, "", call("a", "lookup")).tool(1, "a", "A", false).
				model(2, "", call("b", "lookup")).tool(2, "b", "B", false).model(3, "{}")
		}, now, agent.CallModel{Step: 4, Repair: true}},
		{"repaired", func(j *journal) { j.start(withSchema()).model(1, "not json").model(2, `{"ok":1}`) },
			now, agent.Complete{Output: `{"ok":1}`, OutputJSON: json.RawMessage(`{"ok":1}`)}},
		{"repair failed", func(j *journal) { j.start(withSchema()).model(1, "not json").model(2, `{}`) },
			now, agent.Fail{Kind: events.AgentFailSchema}},
		{"completed", func(j *journal) {
			j.start(plain()).model(1, "x").add(events.TypeAgentRunCompleted, 2*time.Second, events.AgentRunCompleted{RunID: "r1", Output: "x"})
		}, now, agent.Done{}},
		{"cancelled", func(j *journal) {
			j.start(plain()).add(events.TypeAgentRunCancelled, time.Second, events.AgentRunCancelled{RunID: "r1"})
		}, now, agent.Done{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := &journal{t: t}
			c.build(j)
			r := j.run()
			got := r.Next(c.at)
			// Requests are checked in TestRequest; here only the shape.
			switch g := got.(type) {
			case agent.CallModel:
				if g.Request == nil || g.Request.Model != "gpt-4o" || !g.Request.Stream {
					t.Fatalf("request %+v", g.Request)
				}
				g.Request = nil
				got = g
			case agent.Fail:
				if w, ok := c.want.(agent.Fail); ok && w.Error == "" {
					g.Error = ""
					got = g
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
			if again := r.Next(c.at); !sameKind(again, got) {
				t.Errorf("Next is not repeatable: %T then %T", got, again)
			}
		})
	}
}

func sameKind(a, b agent.Decision) bool { return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b) }

func TestRequest(t *testing.T) {
	j := &journal{t: t}
	j.start(withSchema()).model(1, "thinking aloud", call("a", "lookup"), call("b", "lookup")).
		tool(1, "b", "B", false).tool(1, "a", "oops", true).model(2, "not json")
	r := j.run()
	d, ok := r.Next(t0.Add(time.Minute)).(agent.CallModel)
	if !ok || !d.Repair {
		t.Fatalf("decision %#v, want a repair call", d)
	}
	req := d.Request
	if got := req.System[0].Text; got != "Be brief." {
		t.Errorf("system %q", got)
	}
	if req.ResponseFormat == nil || string(req.ResponseFormat.Schema) != `{"type":"object","required":["ok"]}` {
		t.Errorf("response format %+v", req.ResponseFormat)
	}
	var names []string
	for _, tl := range req.Tools {
		names = append(names, tl.Name)
	}
	if diff := cmp.Diff([]string{"lookup", agent.ToolEscalateToHuman}, names); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	var roles []llm.Role
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if diff := cmp.Diff([]llm.Role{llm.RoleUser, llm.RoleAssistant, llm.RoleTool, llm.RoleAssistant, llm.RoleUser}, roles); diff != "" {
		t.Fatalf("roles (-want +got):\n%s", diff)
	}
	// Tool results are in call order, whatever order they were journaled in.
	res := req.Messages[2].Parts
	if res[0].ToolResult.CallID != "a" || !res[0].ToolResult.IsError || res[1].ToolResult.CallID != "b" || res[1].ToolResult.Text() != "B" {
		t.Errorf("tool results %+v %+v", res[0].ToolResult, res[1].ToolResult)
	}
	// The request does not alias the run: appending leaves it alone.
	n := len(r.Messages)
	_ = append(req.Messages, llm.Message{})
	if len(r.Messages) != n || r.Steps != 2 || r.CostUSD != 0.5 || !r.Priced || r.Usage.Input != 20 {
		t.Errorf("run changed or totals wrong: %d messages, %d steps, $%v, usage %+v", len(r.Messages), r.Steps, r.CostUSD, r.Usage)
	}
	// Once the repair is journaled it is part of the conversation.
	j.model(3, `{"ok":true}`)
	r = j.run()
	if got := r.Messages[len(r.Messages)-2]; got.Role != llm.RoleUser || r.Repairs != 1 {
		t.Errorf("repair message not folded: %+v", got)
	}
}

func TestApplyRejects(t *testing.T) {
	j := &journal{t: t}
	j.start(plain())
	var r agent.Run
	bad := j.evs[0]
	bad.Revision = 2
	if err := r.Apply(bad); err == nil {
		t.Error("revision gap accepted")
	}
	j2 := &journal{t: t}
	j2.add(events.TypeAgentToolCalled, 0, events.AgentToolCalled{})
	if err := r.Apply(j2.evs[0]); err == nil {
		t.Error("stream not starting with AgentRunStarted accepted")
	}
}

func TestUserMessage(t *testing.T) {
	cases := []struct {
		input string
		data  map[string]any
		want  string
	}{
		{"hi", nil, "hi"},
		{"", nil, "Start."},
		{"hi", map[string]any{"b": 1, "a": "x"}, "hi\n\nInput data (JSON):\n{\n  \"a\": \"x\",\n  \"b\": 1\n}"},
	}
	for _, c := range cases {
		if got := agent.UserMessage(c.input, c.data); got != c.want {
			t.Errorf("UserMessage(%q, %v) = %q, want %q", c.input, c.data, got, c.want)
		}
	}
}
