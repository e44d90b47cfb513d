package projections

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// RuleView is the read model of a rule: its latest version. Deleted rules
// are removed from the views.
type RuleView struct {
	ID          string          `json:"id"`
	Tenant      string          `json:"tenant,omitempty"`
	Name        string          `json:"name"`
	Type        string          `json:"type,omitempty"`
	Description string          `json:"description,omitempty"`
	Status      string          `json:"status"`
	Definition  json.RawMessage `json:"definition"`
	Version     int             `json:"version"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

// ruleEvent folds a RuleCreated, RuleUpdated or RuleDeleted event. The
// caller holds v.mu.
func (v *Views) ruleEvent(e events.Envelope) error {
	if v.rules == nil {
		v.rules = make(map[string]*RuleView)
	}
	if e.Type == events.TypeRuleDeleted {
		var d events.RuleDeleted
		if err := e.Decode(&d); err != nil {
			return err
		}
		delete(v.rules, events.Scoped(e.Tenant, d.RuleID))
		return nil
	}
	var d events.RuleDefined
	if err := e.Decode(&d); err != nil {
		return err
	}
	key := events.Scoped(e.Tenant, d.RuleID)
	r, ok := v.rules[key]
	if !ok || e.Type == events.TypeRuleCreated {
		r = &RuleView{ID: d.RuleID, Tenant: e.Tenant, CreatedAt: e.Time}
		v.rules[key] = r
	}
	r.Name, r.Type, r.Description, r.Definition = d.Name, d.Type, d.Description, d.Definition
	r.Status, r.Version, r.UpdatedAt = "active", int(e.Revision), e.Time
	return nil
}

// Rule returns a tenant's rule.
func (v *Views) Rule(tenant, id string) (RuleView, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.rules[events.Scoped(tenant, id)]
	if !ok || r.Tenant != tenant {
		return RuleView{}, false
	}
	return *r, true
}

// Rules lists a tenant's rules by id.
func (v *Views) Rules(tenant string) []RuleView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []RuleView
	for _, r := range v.rules {
		if r.Tenant == tenant {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b RuleView) int { return strings.Compare(a.ID, b.ID) })
	return out
}
