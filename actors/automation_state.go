package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"time"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
)

// AutomationActor is the actor recorded on the events that automation
// appends: automatic transitions, agent completions, wait timeouts.
const AutomationActor = "automation"

// MaxAutoChain is how many automatic transitions may follow each other
// before automation stops for a resource (a loop of automatic activities);
// a transition fired by anyone else resets the count.
const MaxAutoChain = 100

// Wait is a human wait a resource is parked on.
type Wait struct {
	ID string `json:"id"`
	// Activity is the waitForHuman activity, or the agent activity whose
	// run escalated to a human (RunID set).
	Activity string    `json:"activity"`
	RunID    string    `json:"runId,omitempty"`
	Prompt   string    `json:"prompt,omitempty"`
	ParkedAt time.Time `json:"parkedAt"`
	// Deadline is when TimeoutActivity fires; zero when there is none or
	// it has already fired in vain.
	Deadline        time.Time `json:"deadline,omitzero"`
	TimeoutActivity string    `json:"timeoutActivity,omitempty"`
}

// AgentRunLink is an agent run working for a resource.
type AgentRunLink struct {
	RunID    string `json:"runId"`
	Activity string `json:"activity"`
}

// autoState is the automation part of resourceState (JSON fields inline in
// snapshots).
type autoState struct {
	// EnteredAt is the revision of the event that put the resource in its
	// state.
	EnteredAt uint64 `json:"enteredAt,omitempty"`
	// Runs are the agent runs working for the resource in its state.
	Runs []pendingRun `json:"runs,omitempty"`
	// Wait is the human wait the resource is parked on.
	Wait *parkedWait `json:"wait,omitempty"`
	// AutoChain counts the automatic transitions in a row.
	AutoChain int `json:"autoChain,omitempty"`
}

type pendingRun struct {
	RunID    string         `json:"runId"`
	Activity string         `json:"activity"`
	Input    map[string]any `json:"input,omitempty"`
}

type parkedWait struct {
	Wait
	Input map[string]any `json:"input,omitempty"`
}

// entered records that the event e put the resource in a (new) state:
// the runs and the wait of the previous state are over.
func (s *resourceState) entered(e events.Envelope) {
	s.EnteredAt, s.Runs, s.Wait = e.Revision, nil, nil
	switch {
	case e.Type == events.TypeResourceCreated:
		s.AutoChain = 0
	case e.Actor == AutomationActor:
		s.AutoChain++
	default:
		s.AutoChain = 0
	}
}

// applyAutomation folds the automation events of the resource's stream;
// other event types are ignored.
func (s *resourceState) applyAutomation(e events.Envelope) error {
	switch e.Type {
	case events.TypeResourceAgentStarted:
		var d events.ResourceAgentStarted
		if err := e.Decode(&d); err != nil {
			return err
		}
		if s.run(d.RunID) == nil {
			s.Runs = append(s.Runs, pendingRun{RunID: d.RunID, Activity: d.Activity, Input: d.Input})
		}
	case events.TypeResourceParked:
		var d events.ResourceParked
		if err := e.Decode(&d); err != nil {
			return err
		}
		s.Wait = &parkedWait{Wait: Wait{
			ID: d.WaitID, Activity: d.Activity, RunID: d.RunID, Prompt: d.Prompt, ParkedAt: e.Time,
			Deadline: d.Deadline, TimeoutActivity: d.TimeoutActivity,
		}, Input: d.Input}
	case events.TypeResourceResumed:
		var d events.ResourceResumed
		if err := e.Decode(&d); err != nil {
			return err
		}
		if s.Wait != nil && s.Wait.ID == d.WaitID {
			s.Wait = nil
		}
	case events.TypeResourceActivityFailed:
		var d events.ResourceActivityFailed
		if err := e.Decode(&d); err != nil {
			return err
		}
		if d.RunID != "" {
			s.Runs = removeRun(s.Runs, d.RunID)
			if s.Wait != nil && s.Wait.RunID == d.RunID {
				s.Wait = nil // the run that asked is over
			}
		}
		if d.WaitID != "" && s.Wait != nil && s.Wait.ID == d.WaitID {
			s.Wait.Deadline = time.Time{} // timed out in vain: wait for the human
		}
	}
	return nil
}

func (s *resourceState) run(id string) *pendingRun {
	for i := range s.Runs {
		if s.Runs[i].RunID == id {
			return &s.Runs[i]
		}
	}
	return nil
}

func removeRun(runs []pendingRun, id string) []pendingRun {
	out := runs[:0]
	for _, r := range runs {
		if r.RunID != id {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *resourceState) parkedView() *Wait {
	if s.Wait == nil {
		return nil
	}
	w := s.Wait.Wait
	return &w
}

func (s *resourceState) runsView() []AgentRunLink {
	if len(s.Runs) == 0 {
		return nil
	}
	out := make([]AgentRunLink, len(s.Runs))
	for i, r := range s.Runs {
		out[i] = AgentRunLink{RunID: r.RunID, Activity: r.Activity}
	}
	return out
}

// RunID is the id of the agent run that activity starts for resource at
// revision (the resource's revision when the run is recorded): the same
// arguments always give the same id, so starting a run again after a crash
// finds the first one, while a new attempt after a failure (a later
// revision) gets a new id. It is "<resourceId>_<activity>_<revision>" when the activity id is made
// of letters, digits and '-' (starting with a letter or digit), with
// "-<hash>" standing for any other activity id; when that is not a valid
// run id (1-128 letters, digits, '-' and '_') it is "wf-<hash>" instead.
func RunID(resourceID, activity string, revision uint64) string {
	act := activity
	if !plainID(activity) {
		act = "-" + shortHash(activity)
	}
	rev := strconv.FormatUint(revision, 10)
	id := resourceID + "_" + act + "_" + rev
	if !agent.ValidID(id) {
		id = "wf-" + shortHash(resourceID+"\x00"+activity+"\x00"+rev)
	}
	return id
}

// waitID is the id of the wait of a waitForHuman activity fired at the
// resource's revision; escalations of agent runs use
// "<runId>/<toolCallId>".
func waitID(activity string, revision uint64) string {
	return activity + "@" + strconv.FormatUint(revision, 10)
}

func plainID(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// withKey returns input with value set under key (input is not modified).
func withKey(input map[string]any, key string, value any) map[string]any {
	out := maps.Clone(input)
	if out == nil {
		out = make(map[string]any, 1)
	}
	out[key] = value
	return out
}
