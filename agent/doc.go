// Package agent is the pure domain of AI agents: an agent's definition and
// its validation, and the fold of an agent run's event stream with the
// decision of what the run does next.
//
// A Definition names a model (a catalogue model, "deployment/model" or a
// virtual model), a system prompt, tools and an optional JSON Schema for
// the structured output. Definitions are versioned by the actors package;
// this package only parses, normalises and validates them.
//
// A Run is rebuilt from the events of its stream (events.AgentRunStream):
// AgentRunStarted, then per step one AgentModelCalled and one
// AgentToolCalled per tool call of that answer, then a terminal event. Run
// holds the conversation the next model call needs (Messages), the tool
// calls of the current step that have no result yet, the run's usage and
// cost, and its status. Next is pure: from the state and the current time
// it decides the next side effect (CallModel, CallTools, Escalate) or the
// end of the run (Complete, Fail), so an actor only executes decisions and
// journals their results. Because a decision is derived from the journal
// alone, a run rebuilt after a crash continues at the first step whose
// result is not journaled and never repeats one whose result is.
//
// The rules Next applies:
//
//   - A model answer with tool calls is followed by those tool calls; a
//     tool's failure is a result with IsError, reported to the model on
//     the next call, never fatal.
//   - A model answer without tool calls ends the run. When the agent has
//     an OutputSchema the answer must be JSON (a ```json fence is
//     tolerated) that validates against it; otherwise the model is asked
//     once to repair its answer, with the validation error as a user
//     message, and the run fails with kind "schema" if the repair is
//     invalid too.
//   - Before every model call but the repair, the run fails with kind
//     "step_limit" when MaxSteps model calls were made.
//   - At or after the run's deadline the run fails with kind "timeout".
//     Time spent waiting for a human (escalate_to_human) does not count:
//     the deadline moves by the length of the wait when the answer comes.
package agent
