package actors

import (
	"context"
	"errors"
)

// errNoAgents is returned when an agent activity fires on a system without
// the Agents service.
var errNoAgents = errors.New("agents are not available")

// startRun starts, or finds, the agent run r of the resource's activity.
func (a *resourceActor) startRun(ctx context.Context, c Caller, r pendingRun) error {
	return errNoAgents
}

// answerRun gives a human's answer to the resource's waiting agent run.
func (a *resourceActor) answerRun(ctx context.Context, c Caller, runID, answer string) error {
	return errNoAgents
}

// cancelRuns cancels the agent runs a transition left behind, best effort:
// their results would be ignored anyway.
func (a *resourceActor) cancelRuns(ctx context.Context, c Caller, runs []pendingRun) {}
