package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/examples"
)

// The demo itself runs the real binary as its server, so it is tested
// end to end in test/examples_test.go; these are its flags and printing.
func TestDemoFlags(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"list", []string{"demo", "--list"}, 0, "content-creation     Content Creation Pipeline: ", ""},
		{"unknown example", []string{"demo", "--example", "nope"}, 2, "", `no example "nope"; the examples are content-creation, `},
		{"bad timeout", []string{"demo", "--timeout", "0s"}, 2, "", "--timeout must be positive"},
		{"stray argument", []string{"demo", "now"}, 2, "", `unexpected argument "now"`},
		{"help", []string{"demo", "-h"}, 0, "", "-serve-tools address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
		})
	}
}

func envelope(t *testing.T, typ string, at time.Time, data any) events.Envelope {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return events.Envelope{Type: typ, Time: at, Data: b}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := []events.Envelope{
		envelope(t, events.TypeResourceCreated, t0, events.ResourceCreated{ResourceID: "r", State: "new", Data: map[string]any{"topic": "x"}}),
		envelope(t, events.TypeAgentRunStarted, t0.Add(time.Millisecond), events.AgentRunStarted{RunID: "run1", AgentID: "writer",
			AgentVersion: 2, Activity: "write", MaxSteps: 5, Definition: json.RawMessage(`{"model":"gpt-4o","tools":[{"name":"search"}]}`)}),
		envelope(t, events.TypeAgentModelCalled, t0.Add(2*time.Millisecond), events.AgentModelCalled{RunID: "run1", Step: 1, CallID: "c1",
			Model: "gpt-4o", Deployment: "openai", Usage: events.LlmTokens{Input: 10, Output: 5}, CostUSD: 0.25, Priced: true,
			Parts: []events.AgentPart{{Kind: events.AgentPartToolCall, Name: "search", Arguments: `{"q":"x"}`}}}),
		envelope(t, events.TypeLlmCallCompleted, t0.Add(2*time.Millisecond), events.LlmCallCompleted{CallID: "c1", CostUSD: 0.25, Priced: true}),
		envelope(t, events.TypeAgentToolCalled, t0.Add(3*time.Millisecond), events.AgentToolCalled{RunID: "run1", Step: 1, Name: "search",
			Result: "no such page", IsError: true}),
		envelope(t, events.TypeAgentRunCompleted, t0.Add(4*time.Millisecond), events.AgentRunCompleted{RunID: "run1", Output: "done",
			Steps: 1, CostUSD: 0.25, Priced: true}),
		envelope(t, events.TypeStateChanged, t0.Add(5*time.Millisecond), events.StateChanged{ResourceID: "r", Activity: "write",
			From: "new", To: "written", Input: map[string]any{"write": "done"}}),
	}
	var b strings.Builder
	tl := newTimeline(&b, examples.Scenario{ResourceID: "r"})
	for _, e := range evs {
		tl.print(e)
	}
	tl.summary(examples.Result{State: "written", Data: map[string]any{"write": "done"}})
	out := b.String()
	for _, want := range []string{
		`   +0.000s  resource                 ResourceCreated      in new, data {"topic":"x"}`,
		`   +0.001s  writer                   AgentRunStarted      run run1 for write: model gpt-4o, at most 5 steps, tools search`,
		`step 1: gpt-4o via openai, 10+5 tokens, $0.250000: calls search {"q":"x"}`,
		`step 1: search FAILED no such page`,
		`AgentRunCompleted    1 step, $0.250000: done`,
		`write: new -> written  with {"write":"done"}`,
		`  writer v2                    completed  gpt-4o             1 model call, 1 tool call, 10+5 tokens, $0.250000`,
		`the LLM call ledger (1 LlmCallCompleted event, $0.250000) agrees with the runs' events`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "LlmCallCompleted  ") {
		t.Errorf("ledger events are summed, not printed:\n%s", out)
	}
}
