package agent

import (
	"encoding/json"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Built-in tool names.
const (
	// ToolGetAgentOutput returns the output of another run of the tenant.
	ToolGetAgentOutput = "get_agent_output"
	// ToolSendAgentFeedback sends feedback to an agent, which answers it in
	// a run of its own; the result is that run's output.
	ToolSendAgentFeedback = "send_agent_feedback"
	// ToolEscalateToHuman parks the run until a human answers; the answer
	// is the tool's result.
	ToolEscalateToHuman = "escalate_to_human"
)

type builtin struct {
	description string
	parameters  json.RawMessage
}

var builtins = map[string]builtin{
	ToolGetAgentOutput: {
		description: "Get the output of an agent run by its id.",
		parameters:  json.RawMessage(`{"type":"object","properties":{"runId":{"type":"string","description":"The id of the agent run."}},"required":["runId"]}`),
	},
	ToolSendAgentFeedback: {
		description: "Send feedback to an agent; it answers with its revised output.",
		parameters:  json.RawMessage(`{"type":"object","properties":{"agentId":{"type":"string","description":"The id of the agent to send the feedback to."},"runId":{"type":"string","description":"The id of the run the feedback is about (optional)."},"feedback":{"type":"string","description":"The feedback."}},"required":["agentId","feedback"]}`),
	},
	ToolEscalateToHuman: {
		description: "Ask a human for help or a decision; the run waits for the answer.",
		parameters:  json.RawMessage(`{"type":"object","properties":{"question":{"type":"string","description":"What the human should answer."}},"required":["question"]}`),
	},
}

// IsBuiltin reports whether name is a built-in tool.
func IsBuiltin(name string) bool {
	_, ok := builtins[name]
	return ok
}

// Builtins lists the built-in tool names.
func Builtins() []string {
	return []string{ToolGetAgentOutput, ToolSendAgentFeedback, ToolEscalateToHuman}
}

// anyObject is the parameter schema of a tool that declares none.
var anyObject = json.RawMessage(`{"type":"object"}`)

// Spec is the tool as the model sees it: its name, description and
// parameter schema, with a built-in's own when t leaves them empty.
func (t Tool) Spec() llm.Tool {
	out := llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
	if b, ok := builtins[t.Name]; ok && t.Kind == KindBuiltin {
		if out.Description == "" {
			out.Description = b.description
		}
		if len(out.Parameters) == 0 {
			out.Parameters = b.parameters
		}
	}
	if len(out.Parameters) == 0 {
		out.Parameters = anyObject
	}
	return out
}

// Question is the question of an escalate_to_human call: the "question"
// argument, or the arguments' text when they have none.
func Question(arguments string) string {
	var a struct {
		Question string `json:"question"`
	}
	if json.Unmarshal([]byte(arguments), &a) == nil && strings.TrimSpace(a.Question) != "" {
		return a.Question
	}
	return arguments
}
