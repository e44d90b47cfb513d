package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Decision is what a run does next: one of CallModel, CallTools, Escalate,
// Complete, Fail, Wait or Done.
type Decision interface{ decision() }

// CallModel asks for model call number Step. Repair marks the one call
// that asks the model to fix an answer that failed the output schema.
type CallModel struct {
	Step    int
	Request *llm.Request
	Repair  bool
}

// CallTools asks for the tool calls of Step that have no journaled result
// yet, in call order; they may run concurrently. Escalations are never
// among them.
type CallTools struct {
	Step  int
	Calls []llm.ToolCall
}

// Escalate asks for the run to park on Call, an escalate_to_human call,
// until a human answers Question (append AgentRunWaiting).
type Escalate struct {
	Step     int
	Call     llm.ToolCall
	Question string
}

// Complete ends the run with its output. OutputJSON is set when the agent
// has an output schema.
type Complete struct {
	Output     string
	OutputJSON json.RawMessage
}

// Fail ends the run. Kind is one of the events.AgentFail* constants.
type Fail struct {
	Kind  string
	Error string
}

// Wait means the run is parked until a human answers.
type Wait struct {
	ToolCallID string
	Question   string
}

// Done means the run has ended (or never started): nothing to do.
type Done struct{}

func (CallModel) decision() {}
func (CallTools) decision() {}
func (Escalate) decision()  {}
func (Complete) decision()  {}
func (Fail) decision()      {}
func (Wait) decision()      {}
func (Done) decision()      {}

// Next decides what the run does next, at time now. It is pure: the same
// run and time give the same decision, and it does not change the run.
func (r *Run) Next(now time.Time) Decision {
	switch {
	case r.Revision == 0 || r.Status.Terminal():
		return Done{}
	case r.Status == StatusWaiting:
		if r.Waiting == nil {
			return Wait{}
		}
		return Wait{ToolCallID: r.Waiting.ToolCallID, Question: r.Waiting.Question}
	case !r.Deadline.IsZero() && !now.Before(r.Deadline):
		return Fail{Kind: events.AgentFailTimeout, Error: fmt.Sprintf("the run did not finish within its timeout of %ds", r.Definition.TimeoutSeconds)}
	}
	if undone := r.Undone(); len(undone) > 0 {
		var calls []llm.ToolCall
		for _, c := range undone {
			if !r.Escalation(c) {
				calls = append(calls, c)
			}
		}
		if len(calls) > 0 {
			return CallTools{Step: r.Steps, Calls: calls}
		}
		return Escalate{Step: r.Steps, Call: undone[0], Question: Question(undone[0].Arguments)}
	}
	if r.final {
		switch {
		case r.invalid == "":
			return Complete{Output: r.Output, OutputJSON: r.OutputJSON}
		case r.Repairs == 0:
			req := r.request()
			req.Messages = append(req.Messages, repairMessage(r.invalid))
			return CallModel{Step: r.Steps + 1, Request: req, Repair: true}
		default:
			return Fail{Kind: events.AgentFailSchema, Error: "the answer does not match the output schema after a repair: " + r.invalid}
		}
	}
	if r.Steps >= r.MaxSteps {
		return Fail{Kind: events.AgentFailStepLimit, Error: fmt.Sprintf("the run reached its step limit of %d model calls", r.MaxSteps)}
	}
	return CallModel{Step: r.Steps + 1, Request: r.request()}
}

// request builds the next model request from the conversation so far. Its
// Messages share the run's backing array but have no spare capacity, so
// appending to them never changes the run.
func (r *Run) request() *llm.Request {
	d := r.Definition
	req := &llm.Request{
		Model: d.RouterModel(), MaxTokens: d.MaxTokens, Temperature: d.Temperature, Stream: true,
		Messages: r.Messages[:len(r.Messages):len(r.Messages)], Tools: r.toolSpecs(),
	}
	if d.SystemPrompt != "" {
		req.System = []llm.Part{llm.TextPart(d.SystemPrompt)}
	}
	if len(d.OutputSchema) > 0 {
		req.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", Name: "output", Schema: d.OutputSchema}
	}
	return req
}
