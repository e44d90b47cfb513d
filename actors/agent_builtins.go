package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
)

// builtinRuns serves the built-in tools from the Agents service.
type builtinRuns struct{ a *Agents }

var _ tools.Runs = builtinRuns{}

func outputOf(v RunView) tools.RunOutput {
	return tools.RunOutput{Status: agent.Status(v.Status), Output: v.Output, OutputJSON: v.OutputJSON, Error: v.Error}
}

func (b builtinRuns) Output(ctx context.Context, tenant, runID string) (tools.RunOutput, error) {
	v, err := b.a.Run(ctx, Caller{Tenant: tenant}, runID)
	if errors.Is(err, ErrNotFound) {
		return tools.RunOutput{Status: "not found"}, nil
	}
	if err != nil {
		return tools.RunOutput{}, err
	}
	return outputOf(v), nil
}

// RunAgent starts the run (idempotently: its id derives from the calling
// tool call) and waits for its end by watching it.
func (b builtinRuns) RunAgent(ctx context.Context, tenant, agentID, runID, input string) (tools.RunOutput, error) {
	c := Caller{Tenant: tenant, Actor: "agent"}
	v, err := b.a.Start(ctx, c, StartRun{AgentID: agentID, RunID: runID, Input: input})
	if err != nil {
		return tools.RunOutput{}, err
	}
	if agent.Status(v.Status).Terminal() {
		return outputOf(v), nil
	}
	evs, err := b.a.Watch(ctx, c, runID)
	if err != nil {
		return tools.RunOutput{}, err
	}
	for ev := range evs {
		switch ev.Type {
		case RunEventCompleted, RunEventFailed, RunEventCancelled:
			if ev.Run != nil {
				out := outputOf(*ev.Run)
				if ev.Type == RunEventCompleted {
					out.Output, out.OutputJSON = ev.Run.Output, ev.Run.OutputJSON
				}
				return out, nil
			}
		}
	}
	if ctx.Err() != nil {
		return tools.RunOutput{}, ctx.Err()
	}
	return tools.RunOutput{}, fmt.Errorf("agent run %q: watch ended before the run did", runID)
}
