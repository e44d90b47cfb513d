package actors_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// TestAgentRunSurvivesRestart stops the System while a run's tool call is
// in flight (its model step journaled, its tool step not), starts a new
// System on the same store and checks that Resume continues the run
// without sending the journaled model step again.
func TestAgentRunSurvivesRestart(t *testing.T) {
	e := newAgentEnv(t)
	def := e.define("Restarted", e.tools.tool("slow", "/block"), e.tools.tool("weather", "/weather"))
	e.sim.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("w", "weather", `{"q":"Paris"}`)}},
		sim.Step{ToolCalls: []llm.ToolCall{toolCall("s", "slow", `{"q":"x"}`)}},
		sim.Step{Text: "finished"},
	)
	ctx := context.Background()
	v := start(t, e.sys, actors.StartRun{AgentID: def.ID, Input: "go"})
	eventually(t, "the blocking tool call", func() bool {
		seen := e.tools.seen()
		return len(seen) == 2 && seen[1] == "/block"
	})
	if err := e.sys.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	before := types(e.journal(v.ID))
	want := []string{events.TypeAgentRunStarted, events.TypeAgentModelCalled, events.TypeAgentToolCalled, events.TypeAgentModelCalled}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Fatalf("journal at the stop (-want +got):\n%s", diff)
	}
	if n := len(e.chats()); n != 2 {
		t.Fatalf("%d model calls before the restart, want 2", n)
	}

	close(e.tools.release) // the slow tool answers from now on
	sys := e.start()
	if err := sys.Agents.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	_, v = e.wait(sys, v.ID)
	if v.Status != "completed" || v.Output != "finished" || v.Steps != 3 {
		t.Fatalf("run after the restart %+v", v)
	}
	// Three model calls in all: the two journaled before the stop were
	// not sent again.
	chats := e.chats()
	if len(chats) != 3 {
		t.Fatalf("%d model calls, want 3", len(chats))
	}
	// The third request carries both journaled tool results: the weather
	// (once, before the stop) and the slow tool (after the restart).
	if got := e.tools.seen(); !cmp.Equal(got, []string{"/weather", "/block", "/block"}) {
		t.Errorf("tool calls %v: the journaled weather call must not run again", got)
	}
	want = append(want, events.TypeAgentToolCalled, events.TypeAgentModelCalled, events.TypeAgentRunCompleted)
	if diff := cmp.Diff(want, types(e.journal(v.ID))); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	checkCost(t, e, v)

	// Resume leaves waiting and ended runs alone.
	if err := sys.Agents.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.chats()); n != 3 {
		t.Errorf("%d model calls after a second Resume", n)
	}
}
