package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// Workflows stores versioned workflow definitions as events (one stream per
// workflow; the event's revision is the version) and caches their compiled
// machines. Definitions are immutable once stored, so the cache needs no
// invalidation.
type Workflows struct {
	store events.Store

	mu       sync.RWMutex
	machines map[wfKey]*compiled
}

type wfKey struct {
	id      string // tenant-scoped (events.Scoped)
	version int
}

type compiled struct {
	tenant  string
	machine *workflow.Machine
}

func newWorkflows(store events.Store) *Workflows {
	return &Workflows{store: store, machines: make(map[wfKey]*compiled)}
}

// Create validates def and stores it as version 1 of a new workflow.
func (w *Workflows) Create(ctx context.Context, c Caller, def workflow.Definition) (workflow.Definition, error) {
	if def.ID == "" {
		def.ID = ulid.Make().String()
	}
	if err := events.ValidateStream(events.WorkflowStream(c.Tenant, def.ID)); err != nil {
		return workflow.Definition{}, fmt.Errorf("id: %w", err)
	}
	def.Version = 1
	return w.put(ctx, c, def, events.NoStream)
}

// NewVersion stores def as the next version of workflow id. Resources
// already running stay on the version they started with. A definition equal
// to the latest one stores nothing and returns the latest.
func (w *Workflows) NewVersion(ctx context.Context, c Caller, id string, def workflow.Definition) (workflow.Definition, error) {
	prev, err := w.Latest(ctx, c, id)
	if err != nil {
		return workflow.Definition{}, err
	}
	def = workflow.NextVersion(&prev, def)
	if same, err := sameDefinition(prev, def); err != nil {
		return workflow.Definition{}, err
	} else if same {
		return prev, nil // nothing changed: no new version
	}
	return w.put(ctx, c, def, events.Exact(uint64(prev.Version)))
}

// sameDefinition reports whether next, once normalised, equals prev except
// for its version. An invalid next is reported by put, not here.
func sameDefinition(prev, next workflow.Definition) (bool, error) {
	m, err := workflow.Compile(next)
	if err != nil {
		return false, nil
	}
	n := m.Definition()
	n.Version = prev.Version
	a, err := json.Marshal(prev)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(n)
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

func (w *Workflows) put(ctx context.Context, c Caller, def workflow.Definition, expected events.Revision) (workflow.Definition, error) {
	m, err := workflow.Compile(def)
	if err != nil {
		return workflow.Definition{}, err
	}
	def = m.Definition()
	body, err := json.Marshal(def)
	if err != nil {
		return workflow.Definition{}, fmt.Errorf("encode workflow: %w", err)
	}
	ev, err := events.NewEvent(events.TypeWorkflowDefined, events.WorkflowDefinedVersion,
		events.WorkflowDefined{WorkflowID: def.ID, Version: def.Version, Definition: body})
	if err != nil {
		return workflow.Definition{}, err
	}
	ev.Tenant, ev.Actor = c.Tenant, c.Actor
	if _, err := w.store.Append(ctx, events.WorkflowStream(c.Tenant, def.ID), expected, ev); err != nil {
		if errors.Is(err, events.ErrConflict) {
			if expected == events.NoStream {
				return workflow.Definition{}, fmt.Errorf("workflow %q: %w", def.ID, ErrAlreadyExists)
			}
			return workflow.Definition{}, fmt.Errorf("workflow %q changed concurrently: %w", def.ID, err)
		}
		return workflow.Definition{}, err
	}
	w.mu.Lock()
	w.machines[wfKey{events.Scoped(c.Tenant, def.ID), def.Version}] = &compiled{tenant: c.Tenant, machine: m}
	w.mu.Unlock()
	return def, nil
}

// Latest returns the newest version of workflow id.
func (w *Workflows) Latest(ctx context.Context, c Caller, id string) (workflow.Definition, error) {
	m, err := w.Machine(ctx, c, id, 0)
	if err != nil {
		return workflow.Definition{}, err
	}
	return m.Definition(), nil
}

// Machine returns the compiled version of workflow id (0 = latest).
func (w *Workflows) Machine(ctx context.Context, c Caller, id string, version int) (*workflow.Machine, error) {
	if version > 0 {
		w.mu.RLock()
		cm, ok := w.machines[wfKey{events.Scoped(c.Tenant, id), version}]
		w.mu.RUnlock()
		if ok {
			if cm.tenant != c.Tenant {
				return nil, fmt.Errorf("workflow %q: %w", id, ErrNotFound)
			}
			return cm.machine, nil
		}
	}
	if events.ValidateStream(events.WorkflowStream(c.Tenant, id)) != nil {
		return nil, fmt.Errorf("workflow %q: %w", id, ErrNotFound)
	}
	var evs []events.Envelope
	var err error
	if version > 0 {
		evs, err = w.store.ReadStream(ctx, events.WorkflowStream(c.Tenant, id), uint64(version), 1)
	} else {
		evs, err = w.store.ReadStream(ctx, events.WorkflowStream(c.Tenant, id), 0, 0)
		if len(evs) > 0 {
			evs = evs[len(evs)-1:]
		}
	}
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 || evs[0].Tenant != c.Tenant {
		return nil, fmt.Errorf("workflow %q: %w", id, ErrNotFound)
	}
	var wd events.WorkflowDefined
	if err := evs[0].Decode(&wd); err != nil {
		return nil, err
	}
	def, err := workflow.Parse(wd.Definition)
	if err != nil {
		return nil, fmt.Errorf("stored workflow %q v%d: %w", id, wd.Version, err)
	}
	m, err := workflow.Compile(def)
	if err != nil {
		return nil, fmt.Errorf("stored workflow %q v%d: %w", id, wd.Version, err)
	}
	w.mu.Lock()
	w.machines[wfKey{events.Scoped(c.Tenant, id), wd.Version}] = &compiled{tenant: evs[0].Tenant, machine: m}
	w.mu.Unlock()
	return m, nil
}
