package router

import (
	"errors"
	"maps"
	"sort"
	"time"
)

// CheckVirtual reports every problem of a virtual model against the
// current deployments (strategy, targets, weights) without adding it.
func (r *Router) CheckVirtual(v VirtualModel) error {
	_, errs := r.tab.Load().compile(v)
	return errors.Join(errs...)
}

// SetVirtual adds or replaces a virtual model. It is checked like the
// configuration's; calls already routed keep their route.
func (r *Router) SetVirtual(v VirtualModel) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.tab.Load()
	vm, errs := old.compile(v)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t := *old
	t.virtual = maps.Clone(old.virtual)
	t.virtual[v.Name] = vm
	r.tab.Store(&t)
	return nil
}

// DeleteVirtual removes a virtual model; false when there was none.
func (r *Router) DeleteVirtual(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.tab.Load()
	if _, ok := old.virtual[name]; !ok {
		return false
	}
	t := *old
	t.virtual = maps.Clone(old.virtual)
	delete(t.virtual, name)
	r.tab.Store(&t)
	return true
}

// ModelInfo describes a model the router serves.
type ModelInfo struct {
	ID string `json:"id"`
	// OwnedBy is the catalogue provider of the first deployment serving
	// the model (its name when it has no provider), or "virtual".
	OwnedBy string `json:"ownedBy"`
	Virtual bool   `json:"virtual,omitempty"`
	// Strategy is a virtual model's strategy.
	Strategy string `json:"strategy,omitempty"`
	// Deployments serve the model, in routing order for a model and
	// configuration order for a virtual model's targets.
	Deployments []string `json:"deployments"`
}

// Models lists the virtual models, then the models of the deployments,
// each sorted by id.
func (r *Router) Models() []ModelInfo {
	t := r.tab.Load()
	out := make([]ModelInfo, 0, len(t.virtual)+len(t.bare))
	for name, v := range t.virtual {
		out = append(out, ModelInfo{ID: name, OwnedBy: "virtual", Virtual: true, Strategy: v.Strategy, Deployments: depNames(v.flat)})
	}
	nv := len(out)
	for name, cs := range t.bare {
		owner := cs[0].dep.Provider
		if owner == "" {
			owner = cs[0].dep.Name
		}
		out = append(out, ModelInfo{ID: name, OwnedBy: owner, Deployments: depNames(cs)})
	}
	sort.Slice(out[:nv], func(i, j int) bool { return out[i].ID < out[j].ID })
	rest := out[nv:]
	sort.Slice(rest, func(i, j int) bool { return rest[i].ID < rest[j].ID })
	return out
}

func depNames(cs []candidate) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if len(out) == 0 || out[len(out)-1] != c.dep.Name {
			out = append(out, c.dep.Name)
		}
	}
	return out
}

// DeploymentInfo describes a deployment's health; it holds no secrets.
type DeploymentInfo struct {
	Name     string `json:"name"`
	Provider string `json:"provider,omitempty"`
	// Models is the number of models the deployment serves by name.
	Models int `json:"models"`
	// Breaker is "closed", "open" or "half-open".
	Breaker string `json:"breaker"`
	// Failures counts consecutive provider faults.
	Failures int `json:"failures"`
	// OpenUntil is when an open circuit lets a probe through.
	OpenUntil *time.Time    `json:"openUntil,omitempty"`
	Latency   []LatencyInfo `json:"latency"`
}

// Deployments lists the deployments in configuration order.
func (r *Router) Deployments() []DeploymentInfo {
	t := r.tab.Load()
	out := make([]DeploymentInfo, 0, len(t.deps))
	for _, d := range t.deps {
		st, fails, until := d.br.snapshot()
		info := DeploymentInfo{Name: d.Name, Provider: d.Provider, Models: len(d.served), Breaker: stateName(st),
			Failures: fails, Latency: d.lat.info()}
		if st == stateOpen {
			info.OpenUntil = &until
		}
		out = append(out, info)
	}
	return out
}
