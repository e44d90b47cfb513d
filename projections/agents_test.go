package projections_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// TestAgentViews: given agent and agent run events, expect the agents and
// runs read models (tenants apart, deleted agents gone, runs newest first
// with their status and totals), which survive a checkpoint round trip.
func TestAgentViews(t *testing.T) {
	v := projections.NewViews()
	def := json.RawMessage(`{"name":"A","model":"gpt-4o"}`)
	tok := events.LlmTokens{Input: 10, Output: 2}
	for _, e := range []events.Envelope{
		ruleEvent(t, 1, "acme", events.TypeAgentDefined, events.AgentDefined{AgentID: "a", Version: 1, Definition: def}),
		ruleEvent(t, 2, "acme", events.TypeAgentDefined, events.AgentDefined{AgentID: "a", Version: 2, Definition: def}),
		ruleEvent(t, 3, "acme", events.TypeAgentDefined, events.AgentDefined{AgentID: "gone", Version: 1, Definition: def}),
		ruleEvent(t, 4, "acme", events.TypeAgentDeleted, events.AgentDeleted{AgentID: "gone"}),
		ruleEvent(t, 5, "other", events.TypeAgentDefined, events.AgentDefined{AgentID: "a", Version: 1, Definition: def}),
		ruleEvent(t, 6, "acme", events.TypeAgentRunStarted, events.AgentRunStarted{RunID: "r1", AgentID: "a", AgentVersion: 2, ResourceID: "doc", Activity: "review"}),
		ruleEvent(t, 7, "acme", events.TypeAgentModelCalled, events.AgentModelCalled{RunID: "r1", Step: 1, Usage: tok, CostUSD: 0.5, Priced: true}),
		ruleEvent(t, 8, "acme", events.TypeAgentToolCalled, events.AgentToolCalled{RunID: "r1", Step: 1, ToolCallID: "c", Name: "t", Result: "ok"}),
		ruleEvent(t, 9, "acme", events.TypeAgentModelCalled, events.AgentModelCalled{RunID: "r1", Step: 2, Usage: tok, CostUSD: 0.25}),
		ruleEvent(t, 10, "acme", events.TypeAgentRunStarted, events.AgentRunStarted{RunID: "r2", AgentID: "a", AgentVersion: 2}),
		ruleEvent(t, 11, "acme", events.TypeAgentRunWaiting, events.AgentRunWaiting{RunID: "r2", Step: 1, ToolCallID: "h", Question: "?"}),
		ruleEvent(t, 12, "acme", events.TypeAgentRunCompleted, events.AgentRunCompleted{RunID: "r1", Output: "done", Steps: 2,
			Usage: events.LlmTokens{Input: 20, Output: 4}, CostUSD: 0.75, Priced: false}),
		ruleEvent(t, 13, "other", events.TypeAgentRunStarted, events.AgentRunStarted{RunID: "r1", AgentID: "a", AgentVersion: 1}),
		ruleEvent(t, 14, "other", events.TypeAgentRunFailed, events.AgentRunFailed{RunID: "r1", Error: "step limit", Kind: "step_limit", Priced: true}),
		ruleEvent(t, 15, "acme", events.TypeAgentModelCalled, events.AgentModelCalled{RunID: "unknown", Step: 1}),
	} {
		if err := v.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	check := func(v *projections.Views) {
		t.Helper()
		a, ok := v.Agent("acme", "a")
		if !ok || a.Version != 2 || a.CreatedAt.Unix() != 1 || a.UpdatedAt.Unix() != 2 || string(a.Definition) != string(def) {
			t.Fatalf("agent a = %+v %v", a, ok)
		}
		if _, ok := v.Agent("acme", "gone"); ok {
			t.Fatal("deleted agent still listed")
		}
		if l := v.Agents("acme"); len(l) != 1 || l[0].ID != "a" {
			t.Fatalf("agents = %+v", l)
		}
		ids := func(f projections.AgentRunFilter) []string {
			var out []string
			for _, r := range v.AgentRuns("acme", f) {
				out = append(out, r.ID+":"+r.Status)
			}
			return out
		}
		for name, c := range map[string]struct {
			f    projections.AgentRunFilter
			want []string
		}{
			"all, newest first": {projections.AgentRunFilter{}, []string{"r2:waiting", "r1:completed"}},
			"by status":         {projections.AgentRunFilter{Status: "completed"}, []string{"r1:completed"}},
			"by agent":          {projections.AgentRunFilter{AgentID: "b"}, nil},
			"limited":           {projections.AgentRunFilter{Limit: 1}, []string{"r2:waiting"}},
		} {
			if diff := cmp.Diff(c.want, ids(c.f)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
		r, _ := v.AgentRun("acme", "r1")
		want := projections.AgentRunView{ID: "r1", Tenant: "acme", AgentID: "a", AgentVersion: 2, Status: "completed", Steps: 2,
			Usage: events.LlmTokens{Input: 20, Output: 4}, CostUSD: 0.75, ResourceID: "doc", Activity: "review", Position: 6,
			StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt}
		if diff := cmp.Diff(want, r); diff != "" || r.StartedAt.Unix() != 6 || r.UpdatedAt.Unix() != 12 {
			t.Fatalf("run r1 (-want +got):\n%s", diff)
		}
		if o, _ := v.AgentRun("other", "r1"); o.Status != "failed" || o.Error != "step limit" || o.AgentVersion != 1 {
			t.Fatalf("other's run r1 = %+v", o)
		}
	}
	check(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	restored := projections.NewViews()
	if err := json.Unmarshal(b, restored); err != nil {
		t.Fatal(err)
	}
	check(restored)
}
