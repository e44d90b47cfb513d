package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

// RunOutput is how a run ended, as the built-ins report it.
type RunOutput struct {
	Status     agent.Status
	Output     string
	OutputJSON json.RawMessage
	Error      string
}

// Runs is what the built-in tools need of the agents service.
type Runs interface {
	// Output returns the state of the tenant's run runID.
	Output(ctx context.Context, tenant, runID string) (RunOutput, error)
	// RunAgent starts a run of the tenant's agent agentID with input
	// under the id runID — a second start with the same id starts nothing —
	// and returns once that run has ended (or ctx ends).
	RunAgent(ctx context.Context, tenant, agentID, runID, input string) (RunOutput, error)
}

// RegisterBuiltins registers get_agent_output, send_agent_feedback and
// escalate_to_human served by runs.
func (r *Registry) RegisterBuiltins(runs Runs) error {
	return errors.Join(
		r.RegisterBuiltin(agent.ToolGetAgentOutput, Func(func(ctx context.Context, c Call) (Result, error) {
			return getAgentOutput(ctx, runs, c)
		})),
		r.RegisterBuiltin(agent.ToolSendAgentFeedback, Func(func(ctx context.Context, c Call) (Result, error) {
			return sendAgentFeedback(ctx, runs, c)
		})),
		r.RegisterBuiltin(agent.ToolEscalateToHuman, Func(escalate)),
	)
}

func getAgentOutput(ctx context.Context, runs Runs, c Call) (Result, error) {
	var a struct {
		RunID string `json:"runId"`
	}
	if err := json.Unmarshal([]byte(c.Arguments), &a); err != nil || strings.TrimSpace(a.RunID) == "" {
		return Result{Content: `the arguments must be {"runId": "<id of an agent run>"}`, IsError: true}, nil
	}
	out, err := runs.Output(ctx, c.Tenant, a.RunID)
	if err != nil {
		return Result{}, err
	}
	return report(a.RunID, out), nil
}

// report is a run's output as a tool result: the JSON output, else the
// text; an error when the run did not complete.
func report(runID string, out RunOutput) Result {
	switch out.Status {
	case agent.StatusCompleted:
		if len(out.OutputJSON) > 0 {
			return Result{Content: string(out.OutputJSON)}
		}
		return Result{Content: out.Output}
	case agent.StatusFailed:
		return Result{Content: fmt.Sprintf("run %s failed: %s", runID, out.Error), IsError: true}
	default:
		return Result{Content: fmt.Sprintf("run %s has no output: it is %s", runID, out.Status), IsError: true}
	}
}

func sendAgentFeedback(ctx context.Context, runs Runs, c Call) (Result, error) {
	var a struct {
		AgentID  string `json:"agentId"`
		RunID    string `json:"runId"`
		Feedback string `json:"feedback"`
	}
	if err := json.Unmarshal([]byte(c.Arguments), &a); err != nil || strings.TrimSpace(a.AgentID) == "" || strings.TrimSpace(a.Feedback) == "" {
		return Result{Content: `the arguments must be {"agentId": "<agent id>", "feedback": "<text>", "runId": "<optional run id>"}`, IsError: true}, nil
	}
	input := a.Feedback
	if a.RunID != "" {
		prev, err := runs.Output(ctx, c.Tenant, a.RunID)
		if err != nil {
			return Result{}, err
		}
		input = "Your previous output:\n" + prev.Output + "\n\nFeedback:\n" + a.Feedback + "\n\nRevise your output accordingly."
	}
	id := FeedbackRunID(c)
	out, err := runs.RunAgent(ctx, c.Tenant, a.AgentID, id, input)
	if err != nil {
		return Result{}, err
	}
	return report(id, out), nil
}

// FeedbackRunID is the id of the run that send_agent_feedback starts for
// c: derived from the calling run and tool call, so that a call repeated
// after a crash finds the run it started instead of starting another.
func FeedbackRunID(c Call) string {
	sum := sha256.Sum256([]byte(c.Tenant + "\x00" + c.RunID + "\x00" + c.ToolCallID))
	return "fb-" + hex.EncodeToString(sum[:10])
}

// escalate is never called by a run, which parks on escalate_to_human
// calls instead; it serves runs outside an actor that cannot wait.
func escalate(context.Context, Call) (Result, error) {
	return Result{}, errors.New("no human can be reached from here")
}
