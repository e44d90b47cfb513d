package projections

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// VirtualModelView is the read model of a tenant's virtual model: its
// latest definition (name, strategy, targets as JSON). Deleted ones are
// removed.
type VirtualModelView struct {
	Name       string          `json:"name"`
	Tenant     string          `json:"tenant,omitempty"`
	Definition json.RawMessage `json:"definition"`
	Version    int             `json:"version"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
}

// virtualModelEvent folds a VirtualModelDefined or VirtualModelDeleted
// event. The caller holds v.mu.
func (v *Views) virtualModelEvent(e events.Envelope) error {
	if v.virtual == nil {
		v.virtual = make(map[string]*VirtualModelView)
	}
	if e.Type == events.TypeVirtualModelDeleted {
		var d events.VirtualModelDeleted
		if err := e.Decode(&d); err != nil {
			return err
		}
		delete(v.virtual, events.Scoped(e.Tenant, d.Name))
		return nil
	}
	var d events.VirtualModelDefined
	if err := e.Decode(&d); err != nil {
		return err
	}
	key := events.Scoped(e.Tenant, d.Name)
	m, ok := v.virtual[key]
	if !ok {
		m = &VirtualModelView{Name: d.Name, Tenant: e.Tenant, CreatedAt: e.Time}
		v.virtual[key] = m
	}
	m.Definition, m.Version, m.UpdatedAt = d.Definition, int(e.Revision), e.Time
	return nil
}

// VirtualModel returns a tenant's virtual model.
func (v *Views) VirtualModel(tenant, name string) (VirtualModelView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	m, ok := v.virtual[events.Scoped(tenant, name)]
	if !ok {
		return VirtualModelView{}, false
	}
	return *m, true
}

// VirtualModels lists a tenant's virtual models by name.
func (v *Views) VirtualModels(tenant string) []VirtualModelView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	prefix := events.Scope(tenant) + ":"
	var out []VirtualModelView
	for k, m := range v.virtual {
		if strings.HasPrefix(k, prefix) {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b VirtualModelView) int { return strings.Compare(a.Name, b.Name) })
	return out
}
