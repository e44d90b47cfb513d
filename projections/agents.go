package projections

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// AgentView is the read model of an agent: its latest version. Deleted
// agents are removed from the views.
type AgentView struct {
	ID         string          `json:"id"`
	Tenant     string          `json:"tenant,omitempty"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
}

// AgentRunView is the read model of an agent run: what lists show and
// filter on (not its input nor output, which the run's stream holds).
// Status is running, waiting, completed, failed or cancelled; Usage,
// CostUSD and Priced sum its model calls so far.
type AgentRunView struct {
	ID           string           `json:"id"`
	Tenant       string           `json:"tenant,omitempty"`
	AgentID      string           `json:"agentId,omitempty"`
	AgentVersion int              `json:"agentVersion,omitempty"`
	Status       string           `json:"status"`
	Steps        int              `json:"steps"`
	Usage        events.LlmTokens `json:"usage"`
	CostUSD      float64          `json:"costUsd"`
	Priced       bool             `json:"priced"`
	Error        string           `json:"error,omitempty"`
	ResourceID   string           `json:"resourceId,omitempty"`
	Activity     string           `json:"activity,omitempty"`
	// Position is that of the run's AgentRunStarted: lists are newest first.
	Position  uint64    `json:"position"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Agent run statuses of AgentRunView.
const (
	RunRunning   = "running"
	RunWaiting   = "waiting"
	RunCompleted = "completed"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// agentEvent folds an AgentDefined or AgentDeleted event. The caller holds
// v.mu.
func (v *Views) agentEvent(e events.Envelope) error {
	if v.agents == nil {
		v.agents = make(map[string]*AgentView)
	}
	if e.Type == events.TypeAgentDeleted {
		var d events.AgentDeleted
		if err := e.Decode(&d); err != nil {
			return err
		}
		delete(v.agents, events.Scoped(e.Tenant, d.AgentID))
		return nil
	}
	var d events.AgentDefined
	if err := e.Decode(&d); err != nil {
		return err
	}
	key := events.Scoped(e.Tenant, d.AgentID)
	a, ok := v.agents[key]
	if !ok {
		a = &AgentView{ID: d.AgentID, Tenant: e.Tenant, CreatedAt: e.Time}
		v.agents[key] = a
	}
	a.Version, a.Definition, a.UpdatedAt = d.Version, d.Definition, e.Time
	return nil
}

// agentRunEvent folds an event of an agent run's stream. The caller holds
// v.mu.
func (v *Views) agentRunEvent(e events.Envelope) error {
	if v.runs == nil {
		v.runs = make(map[string]*AgentRunView)
	}
	if e.Type == events.TypeAgentRunStarted {
		var d events.AgentRunStarted
		if err := e.Decode(&d); err != nil {
			return err
		}
		v.runs[events.Scoped(e.Tenant, d.RunID)] = &AgentRunView{ID: d.RunID, Tenant: e.Tenant, AgentID: d.AgentID,
			AgentVersion: d.AgentVersion, Status: RunRunning, Priced: true, ResourceID: d.ResourceID, Activity: d.Activity,
			Position: e.Position, StartedAt: e.Time, UpdatedAt: e.Time}
		return nil
	}
	var id struct {
		RunID string `json:"runId"`
	}
	if err := e.Decode(&id); err != nil {
		return err
	}
	r, ok := v.runs[events.Scoped(e.Tenant, id.RunID)]
	if !ok {
		return nil // its start is before the views' first event
	}
	r.UpdatedAt = e.Time
	totals := func(steps int, u events.LlmTokens, cost float64, priced bool) {
		r.Steps, r.Usage, r.CostUSD, r.Priced = steps, u, cost, priced
	}
	switch e.Type {
	case events.TypeAgentModelCalled:
		var d events.AgentModelCalled
		if err := e.Decode(&d); err != nil {
			return err
		}
		r.Steps = max(r.Steps, d.Step)
		r.Usage = addTokens(r.Usage, d.Usage)
		r.CostUSD += d.CostUSD
		r.Priced = r.Priced && d.Priced
	case events.TypeAgentRunWaiting:
		r.Status = RunWaiting
	case events.TypeAgentRunAnswered:
		r.Status = RunRunning
	case events.TypeAgentRunCompleted:
		var d events.AgentRunCompleted
		if err := e.Decode(&d); err != nil {
			return err
		}
		r.Status = RunCompleted
		totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
	case events.TypeAgentRunFailed:
		var d events.AgentRunFailed
		if err := e.Decode(&d); err != nil {
			return err
		}
		r.Status, r.Error = RunFailed, d.Error
		totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
	case events.TypeAgentRunCancelled:
		var d events.AgentRunCancelled
		if err := e.Decode(&d); err != nil {
			return err
		}
		r.Status = RunCancelled
		totals(d.Steps, d.Usage, d.CostUSD, d.Priced)
	}
	return nil
}

func addTokens(a, b events.LlmTokens) events.LlmTokens {
	return events.LlmTokens{Input: a.Input + b.Input, CacheRead: a.CacheRead + b.CacheRead,
		CacheWrite: a.CacheWrite + b.CacheWrite, Output: a.Output + b.Output, Reasoning: a.Reasoning + b.Reasoning}
}

// Agent returns a tenant's agent.
func (v *Views) Agent(tenant, id string) (AgentView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.agents[events.Scoped(tenant, id)]
	if !ok || a.Tenant != tenant {
		return AgentView{}, false
	}
	return *a, true
}

// Agents lists a tenant's agents by id.
func (v *Views) Agents(tenant string) []AgentView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []AgentView
	for _, a := range v.agents {
		if a.Tenant == tenant {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b AgentView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AgentRun returns a tenant's agent run.
func (v *Views) AgentRun(tenant, id string) (AgentRunView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.runs[events.Scoped(tenant, id)]
	if !ok || r.Tenant != tenant {
		return AgentRunView{}, false
	}
	return *r, true
}

// AgentRunFilter selects agent runs; zero fields select all.
type AgentRunFilter struct {
	AgentID string
	Status  string
	// Limit caps the runs returned; 0 means no limit.
	Limit int
}

// AgentRuns lists a tenant's agent runs that f selects, newest first.
func (v *Views) AgentRuns(tenant string, f AgentRunFilter) []AgentRunView {
	v.mu.RLock()
	var out []AgentRunView
	for _, r := range v.runs {
		if r.Tenant == tenant && (f.AgentID == "" || r.AgentID == f.AgentID) && (f.Status == "" || r.Status == f.Status) {
			out = append(out, *r)
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b AgentRunView) int { return cmp.Compare(b.Position, a.Position) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}
