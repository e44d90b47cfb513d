package actors

import "time"

// Caller identifies who sends a command: the tenant it acts for and the
// principal (user, key or service) recorded as the events' actor.
type Caller struct {
	Tenant string
	Actor  string
}

// CreateResource starts a resource on a workflow.
type CreateResource struct {
	Caller
	// ResourceID is optional; a ULID is generated when empty.
	ResourceID string
	WorkflowID string
	// WorkflowVersion is optional; 0 means the latest version.
	WorkflowVersion int
	Data            map[string]any
	IdempotencyKey  string
	CorrelationID   string
}

// FireActivity fires an activity on a resource.
type FireActivity struct {
	Caller
	ResourceID     string
	ActivityID     string
	Input          map[string]any
	IdempotencyKey string
	CorrelationID  string
}

// Resource is the state of a resource as its actor sees it.
type Resource struct {
	ID              string         `json:"id"`
	Tenant          string         `json:"tenant,omitempty"`
	WorkflowID      string         `json:"workflowId"`
	WorkflowVersion int            `json:"workflowVersion"`
	State           string         `json:"state"`
	Data            map[string]any `json:"data"`
	Revision        uint64         `json:"revision"`
	Position        uint64         `json:"position"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
	// Parked is the human wait the resource is parked on; nil when none.
	Parked *Wait `json:"parked,omitempty"`
	// AgentRuns are the agent runs working for the resource in its state.
	AgentRuns []AgentRunLink `json:"agentRuns,omitempty"`
}

// Transition is the result of a fired activity.
type Transition struct {
	ResourceID string `json:"resourceId"`
	Activity   string `json:"activity"`
	From       string `json:"from"`
	To         string `json:"to"`
	// Revision and Position locate the StateChanged event.
	Revision uint64 `json:"revision"`
	Position uint64 `json:"position"`
	// Replayed is true when the command's idempotency key had been seen
	// and this is the first result, not a new transition.
	Replayed bool `json:"replayed,omitempty"`
	// AgentRunID is set when the activity runs an agent: the resource
	// stays in From (To equals From) until the run completes.
	AgentRunID string `json:"agentRunId,omitempty"`
	// WaitID is set when the activity waits for a human: the resource is
	// parked in From (To equals From) until ResumeResource.
	WaitID string `json:"waitId,omitempty"`
}

// messages the resource actor receives.
type (
	createMsg struct{ cmd CreateResource }
	fireMsg   struct{ cmd FireActivity }
	getMsg    struct{ caller Caller }
	// passivateMsg asks an idle actor to stop.
	passivateMsg struct{}
	// reply is every answer of the resource actor.
	reply struct {
		res   Resource
		trans Transition
		err   error
	}
)
