package actors

import (
	"sort"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// ParkedResource is a resource parked on a human wait, as automation last
// saw it in the log.
type ParkedResource struct {
	Tenant     string `json:"tenant"`
	ResourceID string `json:"resourceId"`
	Wait       Wait   `json:"wait"`
}

// runLink ties an agent run to the resource it works for. A run the
// resource recorded (ResourceAgentStarted) whose AgentRunStarted has not
// been seen is not Started: the resource's actor was cut short between
// recording and starting it, or is still starting it.
type runLink struct {
	Tenant     string    `json:"tenant"`
	ResourceID string    `json:"resourceId"`
	RunID      string    `json:"runId"`
	Started    bool      `json:"started,omitempty"`
	Recorded   time.Time `json:"recorded,omitzero"`
}

// index is what automation folds from the log: where it is, the parked
// resources (for the timer wheel and Parked), the agent runs working for
// resources, and which workflows have automatic activities. It is the
// automation checkpoint's content, and is touched only by Run's goroutine
// (Parked reads it under Automation.mu).
type index struct {
	Position uint64                    `json:"position"`
	Parked   map[string]ParkedResource `json:"parked"` // by resource stream
	Links    map[string]runLink        `json:"links"`  // by run stream
	// Auto records, by workflow stream, whether some version of the
	// workflow has automatic activities: resources of the others need
	// no look when they enter a state.
	Auto map[string]bool `json:"auto"`
}

func newIndex() index {
	return index{Parked: map[string]ParkedResource{}, Links: map[string]runLink{}, Auto: map[string]bool{}}
}

// action is what one event asks of automation: a message to a resource
// actor, and changes to the wheel.
type action struct {
	tenant, resourceID string
	msg                autoMsg
	// enter marks an enterMsg, which catch-up defers and deduplicates.
	enter bool
}

// apply folds e into the index and returns what it asks for. wheel
// changes are made on w.
func (x *index) apply(e events.Envelope, w *wheel) ([]action, error) {
	c := Caller{Tenant: e.Tenant, Actor: AutomationActor}
	switch e.Type {
	case events.TypeWorkflowDefined:
		var d events.WorkflowDefined
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if def, err := workflow.Parse(d.Definition); err == nil && hasAuto(def) {
			x.Auto[e.Stream] = true
		}
	case events.TypeResourceCreated:
		var d events.ResourceCreated
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		return x.entered(e, c, d.ResourceID, d.WorkflowID), nil
	case events.TypeStateChanged:
		var d events.StateChanged
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		x.unpark(e.Stream, w)
		return x.entered(e, c, d.ResourceID, d.WorkflowID), nil
	case events.TypeResourceParked:
		var d events.ResourceParked
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		x.Parked[e.Stream] = ParkedResource{Tenant: e.Tenant, ResourceID: d.ResourceID, Wait: Wait{
			ID: d.WaitID, Activity: d.Activity, RunID: d.RunID, Prompt: d.Prompt, ParkedAt: e.Time,
			Deadline: d.Deadline, TimeoutActivity: d.TimeoutActivity,
		}}
		if d.Deadline.IsZero() {
			w.Remove(e.Stream)
		} else {
			w.Add(e.Stream, d.Deadline)
		}
	case events.TypeResourceResumed:
		var d events.ResourceResumed
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if p, ok := x.Parked[e.Stream]; ok && p.Wait.ID == d.WaitID {
			x.unpark(e.Stream, w)
		}
	case events.TypeResourceActivityFailed:
		var d events.ResourceActivityFailed
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		p, ok := x.Parked[e.Stream]
		switch {
		case !ok:
		case d.RunID != "" && p.Wait.RunID == d.RunID:
			x.unpark(e.Stream, w)
		case d.WaitID != "" && p.Wait.ID == d.WaitID:
			p.Wait.Deadline = time.Time{}
			x.Parked[e.Stream] = p
			w.Remove(e.Stream)
		}
		if d.RunID != "" {
			delete(x.Links, events.AgentRunStream(e.Tenant, d.RunID))
		}
	case events.TypeResourceAgentStarted:
		var d events.ResourceAgentStarted
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		key := events.AgentRunStream(e.Tenant, d.RunID)
		if _, ok := x.Links[key]; !ok {
			x.Links[key] = runLink{Tenant: e.Tenant, ResourceID: d.ResourceID, RunID: d.RunID, Recorded: e.Time}
		}
	default:
		if strings.HasPrefix(e.Stream, events.AgentRunStreamPrefix) {
			return x.run(e, c)
		}
	}
	return nil, nil
}

// entered asks the resource to look for an automatic activity, unless its
// workflow has none.
func (x *index) entered(e events.Envelope, c Caller, resourceID, workflowID string) []action {
	if wf := events.WorkflowStream(e.Tenant, workflowID); !x.Auto[wf] {
		return nil
	}
	return []action{{tenant: e.Tenant, resourceID: resourceID, enter: true, msg: &enterMsg{c: c, rev: e.Revision}}}
}

func (x *index) unpark(stream string, w *wheel) {
	if _, ok := x.Parked[stream]; ok {
		delete(x.Parked, stream)
		w.Remove(stream)
	}
}

// run handles the events of agent runs that work for resources.
func (x *index) run(e events.Envelope, c Caller) ([]action, error) {
	if e.Type == events.TypeAgentRunStarted {
		// A run linked to a resource by its starter: covers runs the
		// resource did not record (it records before it starts them).
		var d events.AgentRunStarted
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		if l, ok := x.Links[e.Stream]; ok {
			l.Started = true
			x.Links[e.Stream] = l
		} else if d.ResourceID != "" {
			x.Links[e.Stream] = runLink{Tenant: e.Tenant, ResourceID: d.ResourceID, RunID: d.RunID, Started: true, Recorded: e.Time}
		}
		return nil, nil
	}
	l, ok := x.Links[e.Stream]
	if !ok {
		return nil, nil
	}
	var msg autoMsg
	switch e.Type {
	case events.TypeAgentRunCompleted:
		var d events.AgentRunCompleted
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		msg = &runEndedMsg{c: c, runID: d.RunID, status: runCompleted, output: workflow.OutputValue(d.Output, d.OutputJSON)}
	case events.TypeAgentRunFailed:
		var d events.AgentRunFailed
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		msg = &runEndedMsg{c: c, runID: d.RunID, status: runFailed, problem: d.Kind + ": " + d.Error}
	case events.TypeAgentRunCancelled:
		var d events.AgentRunCancelled
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		msg = &runEndedMsg{c: c, runID: d.RunID, status: runCancelled}
	case events.TypeAgentRunWaiting:
		var d events.AgentRunWaiting
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		msg = &runWaitingMsg{c: c, runID: d.RunID, toolCallID: d.ToolCallID, question: d.Question}
	case events.TypeAgentRunAnswered:
		var d events.AgentRunAnswered
		if err := e.Decode(&d); err != nil {
			return nil, err
		}
		msg = &runAnsweredMsg{c: c, runID: d.RunID, toolCallID: d.ToolCallID, answer: d.Answer, by: d.By}
	default:
		return nil, nil
	}
	if _, ended := msg.(*runEndedMsg); ended {
		delete(x.Links, e.Stream)
	}
	return []action{{tenant: l.Tenant, resourceID: l.ResourceID, msg: msg}}, nil
}

// unstarted returns ensureRunMsg actions for the runs recorded before
// cutoff that have not started.
func (x *index) unstarted(cutoff time.Time) []action {
	var out []action
	for _, l := range x.Links {
		if !l.Started && l.Recorded.Before(cutoff) {
			out = append(out, action{tenant: l.Tenant, resourceID: l.ResourceID,
				msg: &ensureRunMsg{c: Caller{Tenant: l.Tenant, Actor: AutomationActor}, runID: l.RunID}})
		}
	}
	return out
}

// parked lists tenant's parked resources, oldest wait first.
func (x *index) parked(tenant string) []ParkedResource {
	var out []ParkedResource
	for _, p := range x.Parked {
		if p.Tenant == tenant {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Wait.ParkedAt.Equal(out[j].Wait.ParkedAt) {
			return out[i].Wait.ParkedAt.Before(out[j].Wait.ParkedAt)
		}
		return out[i].ResourceID < out[j].ResourceID
	})
	return out
}

// hasAuto reports whether a stored (normalised) definition has automatic
// activities.
func hasAuto(d workflow.Definition) bool {
	for _, a := range d.Activities {
		if a.Automatic() {
			return true
		}
	}
	return len(d.AgentTransitions) > 0
}
