package agent_test

import (
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
)

// FuzzRunApply folds arbitrary event data after a valid start: Apply may
// refuse it, but never panics, and Next always decides.
func FuzzRunApply(f *testing.F) {
	f.Add(uint8(1), []byte(`{"runId":"r1","step":1,"parts":[{"kind":"tool_call","toolCallId":"a","name":"lookup","arguments":"{}"}]}`))
	f.Add(uint8(1), []byte(`{"parts":[{"kind":"text","text":"{\"ok\":1}"}]}`))
	f.Add(uint8(2), []byte(`{"toolCallId":"a","result":"x","isError":true}`))
	f.Add(uint8(3), []byte(`{"toolCallId":"h","question":"?"}`))
	f.Add(uint8(4), []byte(`{"toolCallId":"h","answer":"yes"}`))
	f.Add(uint8(5), []byte(`{"output":"x","steps":-1}`))
	f.Add(uint8(0), []byte(`{"definition":{"outputSchema":{"type":"object"}},"maxSteps":-5}`))
	kinds := []string{events.TypeAgentRunStarted, events.TypeAgentModelCalled, events.TypeAgentToolCalled,
		events.TypeAgentRunWaiting, events.TypeAgentRunAnswered, events.TypeAgentRunCompleted,
		events.TypeAgentRunFailed, events.TypeAgentRunCancelled}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		j := &journal{t: t}
		j.start(withSchema()).model(1, "", call("a", "lookup"), call("h", agent.ToolEscalateToHuman))
		var r agent.Run
		for _, e := range j.evs {
			if err := r.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		e := events.Envelope{Stream: "agentrun-acme:r1", Type: kinds[int(kind)%len(kinds)], Version: 1,
			Revision: r.Revision + 1, Time: t0.Add(time.Minute), Tenant: "acme", Data: data}
		_ = r.Apply(e)
		if r.Next(t0.Add(2*time.Minute)) == nil {
			t.Fatal("no decision")
		}
		// A second fold from scratch of a stream starting with the data
		// must not panic either.
		var fresh agent.Run
		e.Revision, e.Type = 1, events.TypeAgentRunStarted
		if fresh.Apply(e) == nil {
			_ = fresh.Next(t0)
		}
	})
}
