package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// errNoAgents is returned when an agent activity fires on a system without
// the Agents service.
var errNoAgents = errors.New("agents are not available")

// startRun starts, or finds, the agent run r of the resource's activity:
// the run id is deterministic, so starting it again returns the first
// start. The agent gets the activity's description (or name) as its input
// and the resource data, with the fire's input merged, as structured
// input.
func (a *resourceActor) startRun(ctx context.Context, c Caller, r pendingRun) error {
	if a.sys.Agents == nil {
		return errNoAgents
	}
	act, ok := a.machine.Activity(r.Activity)
	if !ok || act.AgentConfig == nil {
		return fmt.Errorf("activity %q has no agent", r.Activity)
	}
	req := StartRun{
		AgentID: act.AgentConfig.AgentID, Input: runInput(act, a.id, a.st.State),
		Data: workflow.Merge(a.st.Data, r.Input), RunID: r.RunID, ResourceID: a.id, Activity: act.ID,
	}
	def, err := a.runAgent(ctx, c, act)
	if err != nil {
		return err
	}
	req.Agent = def
	_, err = a.sys.Agents.Start(ctx, c, req)
	return err
}

// runAgent is the agent an activity runs when it is not simply the stored
// agent: an inline one (no agentId), or the stored one with the
// activity's overrides (model, provider, system prompt, temperature, max
// tokens, timeout). nil means the stored agent as it is.
func (a *resourceActor) runAgent(ctx context.Context, c Caller, act *workflow.Activity) (*agent.Definition, error) {
	cfg := act.AgentConfig
	overrides := cfg.Model != "" || cfg.LLMProvider != "" || cfg.SystemPrompt != "" ||
		cfg.Temperature != nil || cfg.MaxTokens != nil || act.TimeoutSeconds > 0
	var def agent.Definition
	switch {
	case cfg.AgentID == "":
		def = agent.Definition{Name: act.ID, Description: act.Description}
		if act.Name != "" {
			def.Name = act.Name
		}
	case !overrides:
		return nil, nil
	default:
		d, err := a.sys.Agents.Get(ctx, c, cfg.AgentID, 0)
		if err != nil {
			return nil, err
		}
		def = d
	}
	if cfg.Model != "" {
		def.Model = cfg.Model
	}
	if cfg.LLMProvider != "" {
		def.Provider = cfg.LLMProvider
	}
	if cfg.SystemPrompt != "" {
		def.SystemPrompt = cfg.SystemPrompt
	}
	if cfg.Temperature != nil {
		t := *cfg.Temperature
		def.Temperature = &t
	}
	if cfg.MaxTokens != nil {
		def.MaxTokens = *cfg.MaxTokens
	}
	if act.TimeoutSeconds > 0 {
		def.TimeoutSeconds = act.TimeoutSeconds
	}
	return &def, nil
}

// runInput is the instruction an activity's agent starts with.
func runInput(act *workflow.Activity, resourceID, state string) string {
	switch {
	case act.Description != "":
		return act.Description
	case act.Name != "":
		return act.Name
	}
	return fmt.Sprintf("Carry out the workflow activity %q for resource %q (in state %q, moving to %q).",
		act.ID, resourceID, state, act.ToState)
}

// answerRun gives a human's answer to the resource's waiting agent run.
func (a *resourceActor) answerRun(ctx context.Context, c Caller, runID, answer string) error {
	if a.sys.Agents == nil {
		return errNoAgents
	}
	_, err := a.sys.Agents.Answer(ctx, c, runID, answer)
	return err
}

// cancelRuns cancels the agent runs a transition left behind, best effort:
// their results would be ignored anyway.
func (a *resourceActor) cancelRuns(ctx context.Context, c Caller, runs []pendingRun) {
	if a.sys.Agents == nil {
		return
	}
	for _, r := range runs {
		if _, err := a.sys.Agents.Cancel(ctx, c, r.RunID); err != nil {
			a.sys.log.Info("abandoned agent run not cancelled", "resource", a.key, "run", r.RunID, "err", err)
		}
	}
}
