package workflow

import (
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// Machine is a compiled, validated definition. It is immutable and safe for
// concurrent use; build one per definition version with Compile.
type Machine struct {
	def      Definition
	acts     map[string]*compiledActivity
	byState  map[string][]*compiledActivity // outgoing, in definition order
	states   map[string]bool
	terminal map[string]bool
}

type compiledActivity struct {
	act  Activity
	from map[string]bool
	rule *rules.Rule // nil when the activity has no conditions
}

// AvailableActivity is an activity that can leave a given state, and
// whether its conditions currently hold.
type AvailableActivity struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	ToState string `json:"toState"`
	// Auto reports whether the activity fires on its own on entering the
	// state (Activity.Automatic).
	Auto bool `json:"auto,omitempty"`
	// Enabled reports whether the conditions hold, so Fire would succeed.
	Enabled bool `json:"enabled"`
	// Trace is the conditions' trace; nil when there are none.
	Trace []rules.TraceEntry `json:"trace,omitempty"`
}

// Decision is the outcome of a successful Fire: the transition to record.
type Decision struct {
	From       string             `json:"from"`
	To         string             `json:"to"`
	ActivityID string             `json:"activityId"`
	Trace      []rules.TraceEntry `json:"trace,omitempty"`
}

// Compile validates a private copy of d (see Validate), compiles every
// activity's conditions once and returns the machine. The error, if any, is
// a *ValidationError.
func Compile(d Definition) (*Machine, error) {
	d = d.Clone()
	compiled, err := validate(&d)
	if err != nil {
		return nil, err
	}
	m := &Machine{
		def:      d,
		acts:     make(map[string]*compiledActivity, len(d.Activities)),
		byState:  make(map[string][]*compiledActivity),
		states:   make(map[string]bool, len(d.States)),
		terminal: make(map[string]bool, len(d.TerminalStates)),
	}
	for _, s := range d.States {
		m.states[s] = true
	}
	for _, s := range d.TerminalStates {
		m.terminal[s] = true
	}
	for i, a := range d.Activities {
		ca := &compiledActivity{act: a, from: make(map[string]bool, len(a.FromStates)), rule: compiled[i]}
		for _, s := range a.FromStates {
			ca.from[s] = true
			m.byState[s] = append(m.byState[s], ca)
		}
		m.acts[a.ID] = ca
	}
	return m, nil
}

// Definition returns a copy of the normalised definition.
func (m *Machine) Definition() Definition {
	return m.def.Clone()
}

// InitialState returns the state new resources start in.
func (m *Machine) InitialState() string {
	return m.def.InitialState
}

// Activity returns a copy of the activity with the given id.
func (m *Machine) Activity(id string) (*Activity, bool) {
	ca, ok := m.acts[id]
	if !ok {
		return nil, false
	}
	a := ca.act.Clone()
	return &a, true
}

// IsTerminal reports whether state is a terminal state.
func (m *Machine) IsTerminal(state string) bool {
	return m.terminal[state]
}

// Available returns the activities that can leave state, in definition
// order, each with whether its conditions hold against data. It returns nil
// for an unknown or terminal state.
func (m *Machine) Available(state string, data map[string]any) []AvailableActivity {
	acts := m.byState[state]
	if len(acts) == 0 {
		return nil
	}
	out := make([]AvailableActivity, len(acts))
	for i, ca := range acts {
		ok, trace := ca.check(data)
		out[i] = AvailableActivity{
			ID:      ca.act.ID,
			Name:    ca.act.Name,
			ToState: ca.act.ToState,
			Auto:    ca.act.Automatic(),
			Enabled: ok,
			Trace:   trace,
		}
	}
	return out
}

// Fire decides whether the activity may fire from state given the resource
// data. It checks, in order, that the activity exists (ErrUnknownActivity),
// that the state exists (ErrUnknownState) and is not terminal (ErrTerminal),
// that the activity may leave it (*WrongStateError) and that its conditions
// hold (*ConditionsFailedError). Fire changes nothing: recording the
// returned Decision is the caller's job.
func (m *Machine) Fire(state, activityID string, data map[string]any) (Decision, error) {
	ca, ok := m.acts[activityID]
	switch {
	case !ok:
		return Decision{}, fmt.Errorf("%w %q", ErrUnknownActivity, activityID)
	case !m.states[state]:
		return Decision{}, fmt.Errorf("%w %q", ErrUnknownState, state)
	case m.terminal[state]:
		return Decision{}, fmt.Errorf("%w %q: no activity can fire", ErrTerminal, state)
	case !ca.from[state]:
		return Decision{}, &WrongStateError{
			Activity:   activityID,
			State:      state,
			FromStates: cloneStrings(ca.act.FromStates),
		}
	}
	matched, trace := ca.check(data)
	if !matched {
		return Decision{}, &ConditionsFailedError{Activity: activityID, Trace: trace}
	}
	return Decision{From: state, To: ca.act.ToState, ActivityID: activityID, Trace: trace}, nil
}

// NextAuto returns the automatic activity (Activity.Automatic) that fires
// on its own in state given data: the first, in definition order, whose
// conditions hold. ok is false when there is none, or the state is
// unknown or terminal. Rules thus choose between automatic activities:
// give the specific ones conditions and put a catch-all last.
func (m *Machine) NextAuto(state string, data map[string]any) (d Decision, ok bool) {
	if m.terminal[state] {
		return Decision{}, false
	}
	for _, ca := range m.byState[state] {
		if !ca.act.Automatic() {
			continue
		}
		if matched, trace := ca.check(data); matched {
			return Decision{From: state, To: ca.act.ToState, ActivityID: ca.act.ID, Trace: trace}, true
		}
	}
	return Decision{}, false
}

// check evaluates the activity's conditions against data.
func (ca *compiledActivity) check(data map[string]any) (bool, []rules.TraceEntry) {
	if ca.rule == nil {
		return true, nil
	}
	res := ca.rule.Evaluate(data)
	return res.Matched, res.Trace
}
