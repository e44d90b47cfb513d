package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Status is where a run is.
type Status string

// Run statuses. Completed, failed and cancelled are terminal.
const (
	StatusRunning   Status = "running"
	StatusWaiting   Status = "waiting"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Terminal reports whether a run with this status has ended.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// PendingCall is a tool call of the current step and, once journaled, its
// result.
type PendingCall struct {
	llm.ToolCall
	Done    bool
	Result  string
	IsError bool
}

// Waiting is an escalate_to_human call the run waits on.
type Waiting struct {
	Step       int
	ToolCallID string
	Question   string
	Since      time.Time
}

// Run is an agent run rebuilt from its stream. The zero value is an empty
// stream; Apply folds events in revision order. A Run is not safe for
// concurrent use.
type Run struct {
	ID             string
	Tenant         string
	AgentID        string
	AgentVersion   int
	Definition     Definition
	Input          string
	Data           map[string]any
	ResourceID     string
	Activity       string
	IdempotencyKey string
	// StartedBy is the actor of AgentRunStarted.
	StartedBy string
	MaxSteps  int
	// Deadline is when the run times out; it moves later by the time spent
	// waiting for a human.
	Deadline time.Time
	Status   Status
	// Messages is the conversation so far: the user's input, the model's
	// answers and the results of completed steps. The tool results of the
	// current step join it once every call of the step has one.
	Messages []llm.Message
	// Steps counts model calls (the repair included).
	Steps   int
	Usage   llm.Usage
	CostUSD float64
	// Priced is false when any model call of the run was unpriced.
	Priced bool
	// Pending are the tool calls of the current step, until every one has
	// a result.
	Pending []PendingCall
	Waiting *Waiting
	// Repairs counts repair calls (at most one).
	Repairs    int
	Output     string
	OutputJSON json.RawMessage
	Error      string
	FailKind   string
	Revision   uint64
	Position   uint64
	StartedAt  time.Time
	UpdatedAt  time.Time

	final   bool   // the last answer had no tool calls
	invalid string // why the final answer does not match the output schema
	schema  *Schema
	tools   []llm.Tool
}

// Apply folds the next event of the run's stream into the run. Events of
// unknown types are skipped (newer writers may add some).
func (r *Run) Apply(e events.Envelope) error {
	if e.Revision != r.Revision+1 {
		return fmt.Errorf("agent run: event %s@%d applied at revision %d", e.Stream, e.Revision, r.Revision)
	}
	if r.Revision == 0 && e.Type != events.TypeAgentRunStarted {
		return fmt.Errorf("agent run: stream %s starts with %s, not %s", e.Stream, e.Type, events.TypeAgentRunStarted)
	}
	var err error
	switch e.Type {
	case events.TypeAgentRunStarted:
		err = r.started(e)
	case events.TypeAgentModelCalled:
		var d events.AgentModelCalled
		if err = e.Decode(&d); err == nil {
			r.modelCalled(d)
		}
	case events.TypeAgentToolCalled:
		var d events.AgentToolCalled
		if err = e.Decode(&d); err == nil {
			r.result(d.ToolCallID, d.Result, d.IsError)
		}
	case events.TypeAgentRunWaiting:
		var d events.AgentRunWaiting
		if err = e.Decode(&d); err == nil {
			r.Status = StatusWaiting
			r.Waiting = &Waiting{Step: d.Step, ToolCallID: d.ToolCallID, Question: d.Question, Since: e.Time}
		}
	case events.TypeAgentRunAnswered:
		var d events.AgentRunAnswered
		if err = e.Decode(&d); err == nil {
			if r.Waiting != nil && !r.Deadline.IsZero() && e.Time.After(r.Waiting.Since) {
				r.Deadline = r.Deadline.Add(e.Time.Sub(r.Waiting.Since))
			}
			r.Waiting = nil
			if !r.Status.Terminal() {
				r.Status = StatusRunning
			}
			r.result(d.ToolCallID, d.Answer, false)
		}
	case events.TypeAgentRunCompleted:
		var d events.AgentRunCompleted
		if err = e.Decode(&d); err == nil {
			r.Status, r.Output, r.OutputJSON = StatusCompleted, d.Output, d.OutputJSON
			r.totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
		}
	case events.TypeAgentRunFailed:
		var d events.AgentRunFailed
		if err = e.Decode(&d); err == nil {
			r.Status, r.Error, r.FailKind = StatusFailed, d.Error, d.Kind
			r.totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
		}
	case events.TypeAgentRunCancelled:
		var d events.AgentRunCancelled
		if err = e.Decode(&d); err == nil {
			r.Status = StatusCancelled
			r.totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
		}
	}
	if err != nil {
		return err
	}
	r.Revision, r.Position, r.UpdatedAt = e.Revision, e.Position, e.Time
	return nil
}

func (r *Run) started(e events.Envelope) error {
	var d events.AgentRunStarted
	if err := e.Decode(&d); err != nil {
		return err
	}
	var def Definition
	if len(d.Definition) > 0 {
		// Lenient: a newer writer may have stored fields this one lacks.
		if err := json.Unmarshal(d.Definition, &def); err != nil {
			return fmt.Errorf("agent run %s: definition: %w", d.RunID, err)
		}
	}
	def = Normalize(def)
	r.ID, r.Tenant, r.AgentID, r.AgentVersion = d.RunID, e.Tenant, d.AgentID, d.AgentVersion
	r.Definition, r.Input, r.Data = def, d.Input, d.Data
	r.ResourceID, r.Activity, r.IdempotencyKey, r.StartedBy = d.ResourceID, d.Activity, d.IdempotencyKey, e.Actor
	r.MaxSteps, r.Deadline = d.MaxSteps, d.Deadline
	if r.MaxSteps <= 0 {
		r.MaxSteps = def.MaxSteps
	}
	r.Status, r.Priced, r.StartedAt = StatusRunning, true, e.Time
	r.Messages = []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(UserMessage(d.Input, d.Data))}}}
	return nil
}

// UserMessage is the first message of a run: the input, then the
// structured data as JSON.
func UserMessage(input string, data map[string]any) string {
	var b strings.Builder
	b.WriteString(input)
	if len(data) > 0 {
		if js, err := json.MarshalIndent(data, "", "  "); err == nil {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString("Input data (JSON):\n")
			b.Write(js)
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "Start."
	}
	return b.String()
}

func (r *Run) modelCalled(d events.AgentModelCalled) {
	if r.final && r.invalid != "" {
		r.Messages = append(r.Messages, repairMessage(r.invalid))
		r.Repairs++
	}
	parts := LLMParts(d.Parts)
	if len(parts) > 0 {
		r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: parts})
	}
	r.Steps = max(r.Steps+1, d.Step)
	r.Usage = r.Usage.Add(Usage(d.Usage))
	r.CostUSD += d.CostUSD
	r.Priced = r.Priced && d.Priced
	r.Pending = r.Pending[:0]
	for _, p := range parts {
		if p.Kind == llm.PartToolCall {
			r.Pending = append(r.Pending, PendingCall{ToolCall: *p.ToolCall})
		}
	}
	r.final = len(r.Pending) == 0
	r.invalid, r.Output, r.OutputJSON = "", "", nil
	if !r.final {
		return
	}
	r.Output = llm.Message{Parts: parts}.Text()
	if len(r.Definition.OutputSchema) == 0 {
		return
	}
	s, err := r.outputSchema()
	if err != nil {
		r.invalid = err.Error()
		return
	}
	out, err := s.Validate(r.Output)
	if err != nil {
		r.invalid = err.Error()
		return
	}
	r.OutputJSON = out
}

func (r *Run) outputSchema() (*Schema, error) {
	if r.schema != nil {
		return r.schema, nil
	}
	s, err := CompileSchema(r.Definition.OutputSchema)
	if err != nil {
		return nil, fmt.Errorf("the output schema does not compile: %w", err)
	}
	r.schema = s
	return s, nil
}

// repairMessage asks the model to fix an answer that does not match the
// output schema.
func repairMessage(problem string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(
		"Your answer does not match the required output JSON Schema: " + problem +
			"\nAnswer again with only a JSON value that matches the schema.")}}
}

// result records the result of a pending call; once every call of the
// step has one, the results join the conversation in call order.
func (r *Run) result(id, content string, isError bool) {
	for i := range r.Pending {
		if r.Pending[i].ID == id && !r.Pending[i].Done {
			r.Pending[i].Done, r.Pending[i].Result, r.Pending[i].IsError = true, content, isError
			break
		}
	}
	for _, p := range r.Pending {
		if !p.Done {
			return
		}
	}
	if len(r.Pending) == 0 {
		return
	}
	parts := make([]llm.Part, len(r.Pending))
	for i, p := range r.Pending {
		parts[i] = llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{
			CallID: p.ID, Name: p.Name, Content: []llm.Part{llm.TextPart(p.Result)}, IsError: p.IsError}}
	}
	r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, Parts: parts})
	r.Pending = nil
}

func (r *Run) totals(steps int, u events.LlmTokens, cost float64, priced bool) {
	r.Steps, r.Usage, r.CostUSD, r.Priced = max(steps, r.Steps), Usage(u), cost, priced
	r.Pending, r.Waiting = nil, nil
}

// Undone lists the pending calls that have no result yet, in call order.
func (r *Run) Undone() []llm.ToolCall {
	var out []llm.ToolCall
	for _, p := range r.Pending {
		if !p.Done {
			out = append(out, p.ToolCall)
		}
	}
	return out
}

// Escalation reports whether call parks the run until someone answers: a
// call of escalate_to_human that the agent declares as its built-in, or of
// a client tool (whose result the caller gives).
func (r *Run) Escalation(call llm.ToolCall) bool {
	t, ok := r.Definition.Tool(call.Name)
	switch {
	case !ok:
		return false
	case t.Kind == KindClient:
		return true // the caller runs it: wait for its result
	}
	return call.Name == ToolEscalateToHuman && t.Kind == KindBuiltin
}

// toolSpecs are the tools as the model sees them, computed once.
func (r *Run) toolSpecs() []llm.Tool {
	if r.tools == nil && len(r.Definition.Tools) > 0 {
		r.tools = make([]llm.Tool, len(r.Definition.Tools))
		for i, t := range r.Definition.Tools {
			r.tools[i] = t.Spec()
		}
	}
	return r.tools
}
