package events

import "encoding/json"

// Stream name prefixes of the aggregates.
const (
	WorkflowStreamPrefix = "workflow-"
	ResourceStreamPrefix = "resource-"
)

// WorkflowStream names the stream of a workflow definition.
func WorkflowStream(id string) string { return WorkflowStreamPrefix + id }

// ResourceStream names the stream of a resource (workflow instance).
func ResourceStream(id string) string { return ResourceStreamPrefix + id }

// Event types of the workflow core, with their current schema versions.
const (
	// TypeWorkflowDefined records a version of a workflow definition; the
	// revision of the event in its stream is the definition's version.
	TypeWorkflowDefined = "WorkflowDefined"
	// TypeResourceCreated records a new resource in its initial state.
	TypeResourceCreated = "ResourceCreated"
	// TypeStateChanged records an activity moving a resource.
	TypeStateChanged = "StateChanged"

	WorkflowDefinedVersion = 1
	ResourceCreatedVersion = 1
	StateChangedVersion    = 1
)

// WorkflowDefined is the data of TypeWorkflowDefined. Definition is the
// workflow definition as JSON (package workflow's shape).
type WorkflowDefined struct {
	WorkflowID string          `json:"workflowId"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
}

// ResourceCreated is the data of TypeResourceCreated.
type ResourceCreated struct {
	ResourceID      string         `json:"resourceId"`
	WorkflowID      string         `json:"workflowId"`
	WorkflowVersion int            `json:"workflowVersion"`
	State           string         `json:"state"`
	Data            map[string]any `json:"data"`
	IdempotencyKey  string         `json:"idempotencyKey,omitempty"`
}

// StateChanged is the data of TypeStateChanged. Input is the data the
// activity was fired with; it is merged into the resource's data
// (workflow.Merge), so the data after the event is a pure function of the
// stream.
type StateChanged struct {
	ResourceID     string         `json:"resourceId"`
	WorkflowID     string         `json:"workflowId"`
	Activity       string         `json:"activity"`
	From           string         `json:"from"`
	To             string         `json:"to"`
	Input          map[string]any `json:"input,omitempty"`
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
}
