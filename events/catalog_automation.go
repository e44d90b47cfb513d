package events

// Event types of workflow automation, with their current schema versions.
// Both live in the resource's stream.
//
// ResourceAgentStarted records that an activity with an agent was fired
// (by a caller, or automatically on entering its from-state): the agent
// run RunID works for the resource, which stays in its state until the
// run ends. Its completion appends the StateChanged of the activity (with
// the idempotency key RunID); its failure a ResourceActivityFailed.
// ResourceActivityFailed records that automation could not move the
// resource: the run failed or was cancelled, the activity's conditions
// rejected the agent's output, a wait's timeout activity could not fire,
// or too many automatic transitions followed each other. The resource
// stays where it is; a caller may fire another activity.
const (
	TypeResourceAgentStarted   = "ResourceAgentStarted"
	TypeResourceActivityFailed = "ResourceActivityFailed"

	ResourceAgentStartedVersion   = 1
	ResourceActivityFailedVersion = 1
)

// ResourceAgentStarted is the data of TypeResourceAgentStarted. RunID is
// deterministic (derived from the resource, the activity and the revision
// at which the resource entered its state), so starting the run again
// after a crash finds the same run. Input is the data the activity was
// fired with, merged into the transition with the agent's output.
type ResourceAgentStarted struct {
	ResourceID string         `json:"resourceId"`
	Activity   string         `json:"activity"`
	RunID      string         `json:"runId"`
	AgentID    string         `json:"agentId,omitempty"`
	Input      map[string]any `json:"input,omitempty"`
}

// Kinds of ResourceActivityFailed.
const (
	// ActivityFailAgent: the agent run failed (or could not start).
	ActivityFailAgent = "agent_failed"
	// ActivityFailCancelled: the agent run was cancelled.
	ActivityFailCancelled = "agent_cancelled"
	// ActivityFailRejected: the activity could not fire with the agent's
	// output (its conditions did not hold).
	ActivityFailRejected = "rejected"
	// ActivityFailTimeout: a wait timed out but its timeout activity could
	// not fire; the resource keeps waiting for a human, without timeout.
	ActivityFailTimeout = "timeout_rejected"
	// ActivityFailAutoLimit: automatic transitions followed each other too
	// many times in a row (a loop); automation stops for the resource.
	ActivityFailAutoLimit = "auto_limit"
)

// ResourceActivityFailed is the data of TypeResourceActivityFailed. RunID
// is set for agent activities, WaitID for wait timeouts.
type ResourceActivityFailed struct {
	ResourceID string `json:"resourceId"`
	Activity   string `json:"activity"`
	Kind       string `json:"kind"`
	Error      string `json:"error"`
	RunID      string `json:"runId,omitempty"`
	WaitID     string `json:"waitId,omitempty"`
}
