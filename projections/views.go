package projections

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// WorkflowView is the read model of a workflow: its latest definition.
type WorkflowView struct {
	ID         string          `json:"id"`
	Tenant     string          `json:"tenant,omitempty"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
	Versions   []int           `json:"versions"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Counts     map[string]int  `json:"resourcesByState"`
}

// ResourceView is the read model of a resource.
type ResourceView struct {
	ID              string         `json:"id"`
	Tenant          string         `json:"tenant,omitempty"`
	WorkflowID      string         `json:"workflowId"`
	WorkflowVersion int            `json:"workflowVersion"`
	State           string         `json:"state"`
	Data            map[string]any `json:"data"`
	Revision        uint64         `json:"revision"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
}

// Views holds the read models, keyed by tenant-scoped id (events.Scoped):
// tenants may use the same ids. It is safe for concurrent use: one writer
// (Apply) and many readers. Returned views are copies.
type Views struct {
	mu        sync.RWMutex
	position  uint64
	workflows map[string]*WorkflowView
	resources map[string]*ResourceView
	rules     map[string]*RuleView
	virtual   map[string]*VirtualModelView
	agents    map[string]*AgentView
	runs      map[string]*AgentRunView
}

// NewViews returns empty views.
func NewViews() *Views {
	return &Views{
		workflows: make(map[string]*WorkflowView),
		resources: make(map[string]*ResourceView),
		rules:     make(map[string]*RuleView),
		virtual:   make(map[string]*VirtualModelView),
		agents:    make(map[string]*AgentView),
		runs:      make(map[string]*AgentRunView),
	}
}

// Position is the position of the last event applied.
func (v *Views) Position() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.position
}

// Apply folds one event into the views. Events at or before Position are
// ignored (a redelivery); events of unknown types only advance Position.
func (v *Views) Apply(e events.Envelope) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Position <= v.position {
		return nil
	}
	var err error
	switch e.Type {
	case events.TypeWorkflowDefined:
		err = v.workflowDefined(e)
	case events.TypeResourceCreated:
		err = v.resourceCreated(e)
	case events.TypeStateChanged:
		err = v.stateChanged(e)
	case events.TypeRuleCreated, events.TypeRuleUpdated, events.TypeRuleDeleted:
		err = v.ruleEvent(e)
	case events.TypeVirtualModelDefined, events.TypeVirtualModelDeleted:
		err = v.virtualModelEvent(e)
	case events.TypeAgentDefined, events.TypeAgentDeleted:
		err = v.agentEvent(e)
	case events.TypeAgentRunStarted, events.TypeAgentModelCalled, events.TypeAgentRunWaiting, events.TypeAgentRunAnswered,
		events.TypeAgentRunCompleted, events.TypeAgentRunFailed, events.TypeAgentRunCancelled:
		err = v.agentRunEvent(e)
	}
	if err != nil {
		return fmt.Errorf("projections: %s at position %d: %w", e.Type, e.Position, err)
	}
	v.position = e.Position
	return nil
}

func (v *Views) workflowDefined(e events.Envelope) error {
	var d events.WorkflowDefined
	if err := e.Decode(&d); err != nil {
		return err
	}
	key := events.Scoped(e.Tenant, d.WorkflowID)
	w, ok := v.workflows[key]
	if !ok {
		w = &WorkflowView{ID: d.WorkflowID, Tenant: e.Tenant, CreatedAt: e.Time, Counts: map[string]int{}}
		v.workflows[key] = w
	}
	w.Version, w.Definition, w.UpdatedAt = d.Version, d.Definition, e.Time
	w.Versions = append(w.Versions, d.Version)
	return nil
}

func (v *Views) resourceCreated(e events.Envelope) error {
	var d events.ResourceCreated
	if err := e.Decode(&d); err != nil {
		return err
	}
	v.resources[events.Scoped(e.Tenant, d.ResourceID)] = &ResourceView{
		ID: d.ResourceID, Tenant: e.Tenant, WorkflowID: d.WorkflowID, WorkflowVersion: d.WorkflowVersion,
		State: d.State, Data: d.Data, Revision: e.Revision, CreatedAt: e.Time, UpdatedAt: e.Time,
	}
	if w, ok := v.workflows[events.Scoped(e.Tenant, d.WorkflowID)]; ok {
		w.Counts[d.State]++
	}
	return nil
}

func (v *Views) stateChanged(e events.Envelope) error {
	var d events.StateChanged
	if err := e.Decode(&d); err != nil {
		return err
	}
	r, ok := v.resources[events.Scoped(e.Tenant, d.ResourceID)]
	if !ok {
		return fmt.Errorf("resource %q has no ResourceCreated event", d.ResourceID)
	}
	if w, ok := v.workflows[events.Scoped(e.Tenant, r.WorkflowID)]; ok {
		w.Counts[r.State]--
		if w.Counts[r.State] == 0 {
			delete(w.Counts, r.State)
		}
		w.Counts[d.To]++
	}
	r.State, r.Data, r.Revision, r.UpdatedAt = d.To, workflow.Merge(r.Data, d.Input), e.Revision, e.Time
	return nil
}

// Workflow returns a tenant's workflow.
func (v *Views) Workflow(tenant, id string) (WorkflowView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	w, ok := v.workflows[events.Scoped(tenant, id)]
	if !ok || w.Tenant != tenant {
		return WorkflowView{}, false
	}
	return w.copy(), true
}

// Workflows lists a tenant's workflows by id.
func (v *Views) Workflows(tenant string) []WorkflowView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []WorkflowView
	for _, w := range v.workflows {
		if w.Tenant == tenant {
			out = append(out, w.copy())
		}
	}
	slices.SortFunc(out, func(a, b WorkflowView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Resource returns a tenant's resource.
func (v *Views) Resource(tenant, id string) (ResourceView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.resources[events.Scoped(tenant, id)]
	if !ok || r.Tenant != tenant {
		return ResourceView{}, false
	}
	c := *r
	c.Data = maps.Clone(r.Data)
	return c, true
}

// ResourceFilter selects resources; empty fields match everything.
type ResourceFilter struct {
	WorkflowID string
	State      string
}

// Resources lists a tenant's resources matching f, by id.
func (v *Views) Resources(tenant string, f ResourceFilter) []ResourceView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []ResourceView
	for _, r := range v.resources {
		if r.Tenant != tenant || (f.WorkflowID != "" && r.WorkflowID != f.WorkflowID) || (f.State != "" && r.State != f.State) {
			continue
		}
		c := *r
		c.Data = maps.Clone(r.Data)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b ResourceView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (w *WorkflowView) copy() WorkflowView {
	c := *w
	c.Versions = slices.Clone(w.Versions)
	c.Counts = maps.Clone(w.Counts)
	return c
}

// state is the serialized form of Views: checkpoints and replay
// comparisons use it. Maps serialize with sorted keys, so equal views give
// equal bytes.
type state struct {
	Position  uint64                       `json:"position"`
	Workflows map[string]*WorkflowView     `json:"workflows"`
	Resources map[string]*ResourceView     `json:"resources"`
	Rules     map[string]*RuleView         `json:"rules,omitempty"`
	Virtual   map[string]*VirtualModelView `json:"virtualModels,omitempty"`
	Agents    map[string]*AgentView        `json:"agents,omitempty"`
	Runs      map[string]*AgentRunView     `json:"agentRuns,omitempty"`
}

// MarshalJSON serializes the views deterministically.
func (v *Views) MarshalJSON() ([]byte, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return json.Marshal(state{v.position, v.workflows, v.resources, v.rules, v.virtual, v.agents, v.runs})
}

// UnmarshalJSON restores views saved by MarshalJSON.
func (v *Views) UnmarshalJSON(b []byte) error {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.position = s.Position
	v.workflows, v.resources, v.rules, v.virtual = s.Workflows, s.Resources, s.Rules, s.Virtual
	v.agents, v.runs = s.Agents, s.Runs
	if v.agents == nil {
		v.agents = map[string]*AgentView{}
	}
	if v.runs == nil {
		v.runs = map[string]*AgentRunView{}
	}
	if v.virtual == nil {
		v.virtual = map[string]*VirtualModelView{}
	}
	if v.workflows == nil {
		v.workflows = map[string]*WorkflowView{}
	}
	if v.resources == nil {
		v.resources = map[string]*ResourceView{}
	}
	if v.rules == nil {
		v.rules = map[string]*RuleView{}
	}
	for _, w := range v.workflows {
		if w.Counts == nil {
			w.Counts = map[string]int{}
		}
	}
	return nil
}
