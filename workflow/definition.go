package workflow

import "github.com/circuit-breaker/circuit-breaker/rules"

// Limits on the size of a definition, enforced by Validate.
const (
	MaxStates     = 1000 // states per definition
	MaxActivities = 1000 // activities per definition
	MaxIDLength   = 128  // characters in a definition id, state or activity id
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
	// activity's from-states, instead of waiting for an explicit fire.
	Auto bool `json:"auto,omitempty"`
	// OutputKey is the key of the resource data the agent's output is
	// merged under; empty merges at the top level.
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
