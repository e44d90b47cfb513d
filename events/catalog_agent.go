package events

import (
	"encoding/json"
	"time"
)

// Stream name prefixes of agents.
const (
	// AgentStreamPrefix prefixes the stream of an agent definition.
	AgentStreamPrefix = "agent-"
	// AgentRunStreamPrefix prefixes the stream of an agent run.
	AgentRunStreamPrefix = "agentrun-"
)

// AgentStream names the stream of a tenant's agent definition: every
// version of the agent is one AgentDefined event in it.
func AgentStream(tenant, id string) string { return AgentStreamPrefix + Scoped(tenant, id) }

// AgentRunStream names the stream of a tenant's agent run.
func AgentRunStream(tenant, runID string) string {
	return AgentRunStreamPrefix + Scoped(tenant, runID)
}

// Event types of agents and agent runs, with their current schema
// versions.
//
// An agent's stream holds one AgentDefined per version (an unchanged
// definition stores nothing) and may end with AgentDeleted.
//
// A run's stream starts with AgentRunStarted, then holds, step by step,
// one AgentModelCalled (appended after the model answered and before any
// tool of that step runs) and one AgentToolCalled per tool call of that
// answer (appended after the tool finished, before the next model call).
// A call to the escalate_to_human tool appends AgentRunWaiting instead of
// AgentToolCalled; AgentRunAnswered later stands for its result. The
// stream ends with exactly one of AgentRunCompleted, AgentRunFailed or
// AgentRunCancelled. Because every side effect is journaled before the
// next one starts, a run rebuilt from its stream never repeats a model or
// tool call whose result is stored.
const (
	TypeAgentDefined      = "AgentDefined"
	TypeAgentDeleted      = "AgentDeleted"
	TypeAgentRunStarted   = "AgentRunStarted"
	TypeAgentModelCalled  = "AgentModelCalled"
	TypeAgentToolCalled   = "AgentToolCalled"
	TypeAgentRunWaiting   = "AgentRunWaiting"
	TypeAgentRunAnswered  = "AgentRunAnswered"
	TypeAgentRunCompleted = "AgentRunCompleted"
	TypeAgentRunFailed    = "AgentRunFailed"
	TypeAgentRunCancelled = "AgentRunCancelled"

	AgentDefinedVersion      = 1
	AgentDeletedVersion      = 1
	AgentRunStartedVersion   = 1
	AgentModelCalledVersion  = 1
	AgentToolCalledVersion   = 1
	AgentRunWaitingVersion   = 1
	AgentRunAnsweredVersion  = 1
	AgentRunCompletedVersion = 1
	AgentRunFailedVersion    = 1
	AgentRunCancelledVersion = 1
)

// Kinds of AgentRunFailed.
const (
	AgentFailStepLimit = "step_limit"
	AgentFailTimeout   = "timeout"
	AgentFailModel     = "model"
	AgentFailSchema    = "schema"
	AgentFailInternal  = "internal"
)

// AgentDefined is the data of TypeAgentDefined. Definition is the agent
// definition as JSON (package agent's shape); Version is the agent's
// version, 1 for the first.
type AgentDefined struct {
	AgentID    string          `json:"agentId"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
}

// AgentDeleted is the data of TypeAgentDeleted.
type AgentDeleted struct {
	AgentID string `json:"agentId"`
}

// AgentRunStarted is the data of TypeAgentRunStarted. Definition is a
// snapshot of the agent the run uses, so that a later version of the agent
// never changes a run under way. ResourceID and Activity link a run that a
// workflow activity started. Deadline is when the run fails with a timeout.
type AgentRunStarted struct {
	RunID          string          `json:"runId"`
	AgentID        string          `json:"agentId,omitempty"`
	AgentVersion   int             `json:"agentVersion,omitempty"`
	Definition     json.RawMessage `json:"definition"`
	Input          string          `json:"input,omitempty"`
	Data           map[string]any  `json:"data,omitempty"`
	ResourceID     string          `json:"resourceId,omitempty"`
	Activity       string          `json:"activity,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	MaxSteps       int             `json:"maxSteps"`
	Deadline       time.Time       `json:"deadline"`
}

// AgentPart is one part of a model's answer: Kind is "text", "thinking" or
// "tool_call". Text (and Signature) are set for text and thinking parts;
// ToolCallID, Name and Arguments (a JSON object as text) for tool calls.
type AgentPart struct {
	Kind       string `json:"kind"`
	Text       string `json:"text,omitempty"`
	Signature  string `json:"signature,omitempty"`
	ToolCallID string `json:"toolCallId,omitempty"`
	Name       string `json:"name,omitempty"`
	Arguments  string `json:"arguments,omitempty"`
}

// Kinds of AgentPart.
const (
	AgentPartText     = "text"
	AgentPartThinking = "thinking"
	AgentPartToolCall = "tool_call"
)

// AgentModelCalled is the data of TypeAgentModelCalled: the answer of the
// model at Step (1-based). CallID is the router's call id, the callId of
// the LlmCallCompleted event that bills the call; CostUSD is meaningful
// only when Priced.
type AgentModelCalled struct {
	RunID      string      `json:"runId"`
	Step       int         `json:"step"`
	CallID     string      `json:"callId"`
	Model      string      `json:"model,omitempty"`
	Provider   string      `json:"provider,omitempty"`
	Deployment string      `json:"deployment,omitempty"`
	Parts      []AgentPart `json:"parts"`
	StopReason string      `json:"stopReason,omitempty"`
	Usage      LlmTokens   `json:"usage"`
	CostUSD    float64     `json:"costUsd"`
	Priced     bool        `json:"priced"`
}

// AgentToolCalled is the data of TypeAgentToolCalled: the result of one
// tool call of the model's answer at Step. IsError marks a failed tool; its
// Result (the error) is reported to the model like any result.
type AgentToolCalled struct {
	RunID      string `json:"runId"`
	Step       int    `json:"step"`
	ToolCallID string `json:"toolCallId"`
	Name       string `json:"name"`
	Arguments  string `json:"arguments,omitempty"`
	Result     string `json:"result"`
	IsError    bool   `json:"isError,omitempty"`
}

// AgentRunWaiting is the data of TypeAgentRunWaiting: the run is parked
// until a human answers Question (the escalate_to_human tool call
// ToolCallID of Step).
type AgentRunWaiting struct {
	RunID      string `json:"runId"`
	Step       int    `json:"step"`
	ToolCallID string `json:"toolCallId"`
	Question   string `json:"question"`
}

// AgentRunAnswered is the data of TypeAgentRunAnswered: a human's answer,
// which is the result of the waiting tool call.
type AgentRunAnswered struct {
	RunID      string `json:"runId"`
	ToolCallID string `json:"toolCallId"`
	Answer     string `json:"answer"`
	By         string `json:"by,omitempty"`
}

// AgentRunCompleted is the data of TypeAgentRunCompleted. OutputJSON is the
// validated output when the agent has an output schema. Usage, CostUSD and
// Priced sum the run's AgentModelCalled events (the run's cost); Priced is
// false when any call was unpriced.
type AgentRunCompleted struct {
	RunID      string          `json:"runId"`
	Output     string          `json:"output"`
	OutputJSON json.RawMessage `json:"outputJson,omitempty"`
	Steps      int             `json:"steps"`
	Usage      LlmTokens       `json:"usage"`
	CostUSD    float64         `json:"costUsd"`
	Priced     bool            `json:"priced"`
}

// AgentRunFailed is the data of TypeAgentRunFailed. Kind is one of the
// AgentFail* constants. When a model call was cut short (it failed, or
// the run timed out while it streamed), CallID is that router call and
// Usage, CostUSD and Priced include it: the run's totals are every call
// it paid for.
type AgentRunFailed struct {
	RunID   string    `json:"runId"`
	Error   string    `json:"error"`
	Kind    string    `json:"kind"`
	Steps   int       `json:"steps"`
	Usage   LlmTokens `json:"usage"`
	CostUSD float64   `json:"costUsd"`
	Priced  bool      `json:"priced"`
	CallID  string    `json:"callId,omitempty"`
}

// AgentRunCancelled is the data of TypeAgentRunCancelled. CallID is the
// model call the cancellation cut short, if any; the totals include it.
type AgentRunCancelled struct {
	RunID   string    `json:"runId"`
	By      string    `json:"by,omitempty"`
	Steps   int       `json:"steps"`
	Usage   LlmTokens `json:"usage"`
	CostUSD float64   `json:"costUsd"`
	Priced  bool      `json:"priced"`
	CallID  string    `json:"callId,omitempty"`
}
