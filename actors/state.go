package actors

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// snapshotVersion is the schema version of resourceState in snapshots
// (2: automation fields; older snapshots are ignored and the stream is
// replayed).
const snapshotVersion = 2

// maxRememberedKeys bounds the idempotency keys a resource remembers: a
// retry is recognised if fewer than this many other commands came after.
const maxRememberedKeys = 256

// resourceState is a resource rebuilt from its events. It is what
// snapshots store.
type resourceState struct {
	Tenant          string         `json:"tenant,omitempty"`
	WorkflowID      string         `json:"workflowId,omitempty"`
	WorkflowVersion int            `json:"workflowVersion,omitempty"`
	State           string         `json:"state,omitempty"`
	Data            map[string]any `json:"data,omitempty"`
	Revision        uint64         `json:"revision"`
	Position        uint64         `json:"position"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
	CreateKey       string         `json:"createKey,omitempty"`
	// Keys are the most recent idempotency keys, oldest first.
	Keys []keyedTransition `json:"keys,omitempty"`
	// Automation (automation_state.go): where the resource entered its
	// state, the agent runs working for it there, the human wait it is
	// parked on and the automatic transitions in a row.
	autoState
}

type keyedTransition struct {
	Key string     `json:"key"`
	T   Transition `json:"t"`
}

func (s *resourceState) exists() bool { return s.Revision > 0 }

// apply folds one event of the resource's stream into the state.
func (s *resourceState) apply(e events.Envelope) error {
	if e.Revision != s.Revision+1 {
		return fmt.Errorf("event %s@%d applied at revision %d", e.Stream, e.Revision, s.Revision)
	}
	switch e.Type {
	case events.TypeResourceCreated:
		var d events.ResourceCreated
		if err := e.Decode(&d); err != nil {
			return err
		}
		s.Tenant, s.WorkflowID, s.WorkflowVersion = e.Tenant, d.WorkflowID, d.WorkflowVersion
		s.State, s.Data, s.CreateKey = d.State, d.Data, d.IdempotencyKey
		s.CreatedAt = e.Time
		s.entered(e)
	case events.TypeStateChanged:
		var d events.StateChanged
		if err := e.Decode(&d); err != nil {
			return err
		}
		s.State = d.To
		s.Data = workflow.Merge(s.Data, d.Input)
		if d.IdempotencyKey != "" {
			s.remember(d.IdempotencyKey, Transition{Activity: d.Activity, From: d.From, To: d.To, Revision: e.Revision, Position: e.Position})
		}
		s.entered(e)
	default:
		if err := s.applyAutomation(e); err != nil {
			return err
		}
	}
	s.Revision, s.Position, s.UpdatedAt = e.Revision, e.Position, e.Time
	return nil
}

func (s *resourceState) remember(key string, t Transition) {
	if len(s.Keys) >= maxRememberedKeys {
		s.Keys = append(s.Keys[:0], s.Keys[1:]...)
	}
	s.Keys = append(s.Keys, keyedTransition{Key: key, T: t})
}

func (s *resourceState) seen(key string) (Transition, bool) {
	if key == "" {
		return Transition{}, false
	}
	for i := len(s.Keys) - 1; i >= 0; i-- {
		if s.Keys[i].Key == key {
			return s.Keys[i].T, true
		}
	}
	return Transition{}, false
}

func (s *resourceState) view(id string) Resource {
	return Resource{
		ID: id, Tenant: s.Tenant, WorkflowID: s.WorkflowID, WorkflowVersion: s.WorkflowVersion,
		State: s.State, Data: maps.Clone(s.Data), Revision: s.Revision, Position: s.Position,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		Parked: s.parkedView(), AgentRuns: s.runsView(),
	}
}

func (s *resourceState) snapshot(stream string) (events.Snapshot, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return events.Snapshot{}, err
	}
	return events.Snapshot{Stream: stream, Revision: s.Revision, Position: s.Position, Version: snapshotVersion, Time: time.Now().UTC(), State: b}, nil
}
