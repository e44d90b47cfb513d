package workflow

import (
	"time"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// Limits on the size of a definition, enforced by Validate.
const (
	MaxStates     = 1000 // states per definition
	MaxActivities = 1000 // activities per definition
	MaxIDLength   = 128  // characters in a definition id, state or activity id
	// MaxPromptLength is the most characters a waitForHuman prompt has.
	MaxPromptLength = 10000
	// MaxWaitSeconds is the longest waitForHuman timeout: 366 days.
	MaxWaitSeconds = 366 * 24 * 60 * 60
)

// Definition is a workflow: a state machine whose states a resource moves
// through by firing activities. Its JSON shape is the createWorkflow input.
type Definition struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Version counts from 1; 0 means not yet assigned (see NextVersion).
	Version int `json:"version,omitempty"`
	// States lists every state, in order. State names are their own ids.
	States []string `json:"states"`
	// InitialState is where new resources start; empty means States[0].
	InitialState string `json:"initialState,omitempty"`
	// TerminalStates are states no activity leaves. Empty means every
	// state without an outgoing activity.
	TerminalStates []string   `json:"terminalStates,omitempty"`
	Activities     []Activity `json:"activities,omitempty"`
	// AgentTransitions is the seed's agent_transition shorthand: each one
	// is an automatic agent activity. Validate expands them into
	// Activities (after the explicit ones) and clears the list, so a
	// normalised definition holds activities only.
	AgentTransitions []AgentTransition `json:"agentTransitions,omitempty"`
}

// AgentTransition is the shorthand for an activity from From to To that
// runs the stored agent AgentID as soon as a resource enters From, and
// moves the resource to To with the agent's output once the run completes:
//
//	{ID: <ID, default "<from>_to_<to>">, FromStates: [From], ToState: To,
//	 AgentConfig: {AgentID: AgentID, Auto: true, OutputKey: OutputKey}}
//
// Chaining them (topic_received → researching → writing → reviewing) is
// a multi-agent pipeline where each agent reads its predecessors' output
// from the resource data.
type AgentTransition struct {
	// ID is the activity's id; empty means "<from>_to_<to>".
	ID        string `json:"id,omitempty"`
	From      string `json:"from"`
	To        string `json:"to"`
	AgentID   string `json:"agentId"`
	OutputKey string `json:"outputKey,omitempty"`
}

// Activity returns the activity t stands for.
func (t AgentTransition) Activity() Activity {
	id := t.ID
	if id == "" {
		id = t.From + "_to_" + t.To
	}
	return Activity{
		ID: id, FromStates: []string{t.From}, ToState: t.To,
		AgentConfig: &AgentConfig{AgentID: t.AgentID, Auto: true, OutputKey: t.OutputKey},
	}
}

// Activity is a transition from any of FromStates to ToState. It fires only
// when all of its Conditions hold against the resource data.
type Activity struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	FromStates  []string `json:"fromStates"`
	ToState     string   `json:"toState"`
	// Conditions are ANDed; nest a group for OR / NOT.
	Conditions  []rules.Condition `json:"conditions,omitempty"`
	AgentConfig *AgentConfig      `json:"agentConfig,omitempty"`
	Retry       *RetryPolicy      `json:"retry,omitempty"`
	// TimeoutSeconds bounds one attempt; 0 means no timeout.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// Auto fires the activity on its own when a resource enters one of its
	// from-states and its conditions hold (see Machine.NextAuto). An auto
	// activity with an agent runs the agent; one that waits for a human
	// parks the resource.
	Auto bool `json:"auto,omitempty"`
	// WaitForHuman makes firing the activity park the resource until a
	// human answers (the answer is merged under the activity's id and the
	// transition is recorded then) or the timeout fires TimeoutActivity.
	WaitForHuman *HumanWait `json:"waitForHuman,omitempty"`
}

// Automatic reports whether the activity fires on its own on entering one
// of its from-states: Auto, or an agent configured with Auto.
func (a Activity) Automatic() bool {
	return a.Auto || a.AgentConfig != nil && a.AgentConfig.Auto
}

// OutputKey is the key of the resource data under which the activity's
// result (its agent's output or the human's answer) is merged: the agent's
// OutputKey when set, else the activity's id.
func (a Activity) OutputKey() string {
	if a.AgentConfig != nil && a.AgentConfig.OutputKey != "" {
		return a.AgentConfig.OutputKey
	}
	return a.ID
}

// HumanWait is a human-in-the-loop step: the resource is parked, holding
// no compute, until a human answers or the timeout passes.
type HumanWait struct {
	// Prompt is what the human is asked.
	Prompt string `json:"prompt,omitempty"`
	// TimeoutSeconds is how long the resource waits; 0 means forever.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// TimeoutActivity is fired when the wait times out. It must be able
	// to leave every from-state of the waiting activity; it is required
	// with a timeout.
	TimeoutActivity string `json:"timeoutActivity,omitempty"`
}

// Timeout is the wait's timeout; 0 means none.
func (h HumanWait) Timeout() time.Duration {
	return time.Duration(h.TimeoutSeconds) * time.Second
}

// AgentConfig is the agent run attached to an activity: either a reference
// to a stored agent (AgentID) or an inline provider and model.
type AgentConfig struct {
	AgentID      string   `json:"agentId,omitempty"`
	LLMProvider  string   `json:"llmProvider,omitempty"`
	Model        string   `json:"model,omitempty"`
	SystemPrompt string   `json:"systemPrompt,omitempty"`
	Temperature  *float64 `json:"temperature,omitempty"`
	MaxTokens    *int     `json:"maxTokens,omitempty"`
	// Auto runs the agent as soon as a resource enters one of the
	// activity's from-states, instead of waiting for an explicit fire
	// (like Activity.Auto).
	Auto bool `json:"auto,omitempty"`
	// OutputKey is the key of the resource data the agent's output is
	// merged under; empty means the activity's id.
	OutputKey string `json:"outputKey,omitempty"`
}

// RetryPolicy says how often and how patiently a failing activity is
// retried. The delay before attempt n+1 is BackoffSeconds·2^(n-1), capped
// at MaxBackoffSeconds when that is positive.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt, so 1 means no retries.
	MaxAttempts       int     `json:"maxAttempts"`
	BackoffSeconds    float64 `json:"backoffSeconds,omitempty"`
	MaxBackoffSeconds float64 `json:"maxBackoffSeconds,omitempty"`
}

// NextVersion returns next as the version following prev: it takes prev's
// ID and prev.Version+1. With a nil prev, next is a first version: its ID is
// kept and its Version is 1. The caller stores every version; a resource
// stays on the version it started with. next's slices are shared, not
// copied.
func NextVersion(prev *Definition, next Definition) Definition {
	if prev == nil {
		next.Version = 1
		return next
	}
	next.ID = prev.ID
	next.Version = prev.Version + 1
	return next
}

// Clone returns a deep copy of d.
func (d Definition) Clone() Definition {
	d.States = cloneStrings(d.States)
	d.TerminalStates = cloneStrings(d.TerminalStates)
	if d.Activities != nil {
		acts := make([]Activity, len(d.Activities))
		for i, a := range d.Activities {
			acts[i] = a.Clone()
		}
		d.Activities = acts
	}
	if d.AgentTransitions != nil {
		d.AgentTransitions = append([]AgentTransition(nil), d.AgentTransitions...)
	}
	return d
}

// Clone returns a deep copy of a.
func (a Activity) Clone() Activity {
	a.FromStates = cloneStrings(a.FromStates)
	a.Conditions = cloneConditions(a.Conditions)
	if a.AgentConfig != nil {
		c := *a.AgentConfig
		if c.Temperature != nil {
			t := *c.Temperature
			c.Temperature = &t
		}
		if c.MaxTokens != nil {
			n := *c.MaxTokens
			c.MaxTokens = &n
		}
		a.AgentConfig = &c
	}
	if a.Retry != nil {
		r := *a.Retry
		a.Retry = &r
	}
	if a.WaitForHuman != nil {
		h := *a.WaitForHuman
		a.WaitForHuman = &h
	}
	return a
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

func cloneConditions(cs []rules.Condition) []rules.Condition {
	if cs == nil {
		return nil
	}
	out := make([]rules.Condition, len(cs))
	for i, c := range cs {
		c.Value = cloneValue(c.Value)
		c.Conditions = cloneConditions(c.Conditions)
		out[i] = c
	}
	return out
}

// cloneValue deep-copies the JSON-shaped values a condition may hold.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneValue(e)
		}
		return s
	case []string:
		return cloneStrings(x)
	}
	return v
}
