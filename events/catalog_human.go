package events

import "time"

// Event types of human-in-the-loop waits, with their current schema
// versions. Both live in the resource's stream.
//
// ResourceParked records that a resource waits for a human: a waitForHuman
// activity was fired (RunID empty), or the agent run RunID that an activity
// started asked a human through escalate_to_human. The resource stays in its
// state and holds no compute. ResourceResumed records the human's answer;
// a resumed waitForHuman activity is followed, in the same append, by the
// StateChanged it stood for. Any StateChanged also ends a wait (a timeout
// fires the wait's TimeoutActivity with the idempotency key
// "timeout:<waitId>").
const (
	TypeResourceParked  = "ResourceParked"
	TypeResourceResumed = "ResourceResumed"

	ResourceParkedVersion  = 1
	ResourceResumedVersion = 1
)

// ResourceParked is the data of TypeResourceParked. WaitID is unique within
// the resource. Deadline is zero when the wait has no timeout; at Deadline
// TimeoutActivity is fired. Input is the data the activity was fired with,
// merged into the transition when the human answers.
type ResourceParked struct {
	ResourceID      string         `json:"resourceId"`
	WaitID          string         `json:"waitId"`
	Activity        string         `json:"activity"`
	Prompt          string         `json:"prompt,omitempty"`
	Deadline        time.Time      `json:"deadline,omitzero"`
	TimeoutActivity string         `json:"timeoutActivity,omitempty"`
	RunID           string         `json:"runId,omitempty"`
	Input           map[string]any `json:"input,omitempty"`
}

// ResourceResumed is the data of TypeResourceResumed: the answer a human
// (By) gave to the wait WaitID, any JSON value. TimedOut marks the end of
// a wait by its timeout instead: no answer, and the TimeoutActivity fires
// in the same append.
type ResourceResumed struct {
	ResourceID string `json:"resourceId"`
	WaitID     string `json:"waitId"`
	Answer     any    `json:"answer,omitempty"`
	By         string `json:"by,omitempty"`
	TimedOut   bool   `json:"timedOut,omitempty"`
}
