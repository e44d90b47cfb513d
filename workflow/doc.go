// Package workflow holds workflow definitions and the pure state-machine
// logic that decides whether an activity may fire. It performs no I/O and
// knows nothing of storage, actors or the API; callers feed it a resource's
// current state and data and persist the decisions it returns.
//
// # Lifecycle
//
// A definition goes through three steps:
//
//  1. Parse decodes JSON or YAML strictly: an unknown field or a value of the
//     wrong type is an error naming its path.
//  2. Validate normalises the definition (a missing initialState becomes the
//     first state; when terminalStates is empty, every state without an
//     outgoing activity is terminal) and reports every problem at once as a
//     *ValidationError whose paths name the offending fields, e.g.
//     "activities[1].toState: unknown state \"x\"".
//  3. Compile validates a private copy, compiles each activity's conditions
//     once and returns an immutable *Machine. A Machine is safe for
//     concurrent use by any number of goroutines.
//
// # Firing
//
// Machine.Fire is a pure decision. It checks, in order: that the activity
// exists (ErrUnknownActivity), that the state exists (ErrUnknownState), that
// the state is not terminal (ErrTerminal), that the activity may fire from
// the state (*WrongStateError), and that its conditions hold against the
// resource data (*ConditionsFailedError, carrying the per-condition trace).
// On success it returns a Decision naming the transition; recording it (as a
// StateChanged event) is the caller's job. Agents configured on an activity
// are described by AgentConfig but run elsewhere.
//
// # Automation
//
// An activity is automatic (Activity.Automatic) when it has Auto set or an
// agent with AgentConfig.Auto: it fires on its own when a resource enters
// one of its from-states. NextAuto picks the first automatic activity, in
// definition order, whose conditions hold, so rules choose the next step
// from the data an agent produced. What firing means is the caller's:
// an activity with an agent runs it and records the transition when the
// run completes, with the output (OutputValue) merged under OutputKey; one
// with WaitForHuman parks the resource until a human answers or its
// timeout fires TimeoutActivity. AgentTransitions, the seed's
// agent_transition, are shorthand for automatic agent activities; Validate
// expands them.
//
// # Versions
//
// Definitions are versioned. NextVersion derives the next version of a
// stored definition; the caller stores every version, and a running resource
// stays on the version it started with, so a Machine is built per version
// and never changes.
package workflow
