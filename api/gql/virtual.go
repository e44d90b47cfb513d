package gql

import (
	"context"
	"encoding/json"
	"fmt"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// VirtualChecker validates a virtual model against the router's
// deployments; *router.Router implements it.
type VirtualChecker interface {
	CheckVirtual(router.VirtualModel) error
}

// decodeVirtual reads a stored virtual model definition.
func decodeVirtual(name string, def json.RawMessage) (router.VirtualModel, error) {
	var vm router.VirtualModel
	if err := json.Unmarshal(def, &vm); err != nil {
		return vm, fmt.Errorf("virtual model %s: %w", name, err)
	}
	vm.Name = name
	return vm, nil
}

type virtualModelTargetInput struct {
	Model  string
	Weight *int32
}

type virtualModelInput struct {
	Name     string
	Strategy *string
	Targets  []virtualModelTargetInput
}

type virtualModel struct {
	vm   router.VirtualModel
	view projections.VirtualModelView
}

func (v *virtualModel) Name() string { return v.vm.Name }
func (v *virtualModel) Strategy() string {
	if v.vm.Strategy == "" {
		return router.StrategyFallback
	}
	return v.vm.Strategy
}
func (v *virtualModel) Targets() []*virtualTarget {
	out := make([]*virtualTarget, len(v.vm.Targets))
	for i, t := range v.vm.Targets {
		out[i] = &virtualTarget{t}
	}
	return out
}
func (v *virtualModel) Version() int32           { return int32(v.view.Version) }
func (v *virtualModel) CreatedAt() *graphql.Time { return gtime(v.view.CreatedAt) }
func (v *virtualModel) UpdatedAt() *graphql.Time { return gtime(v.view.UpdatedAt) }

type virtualTarget struct{ t router.Target }

func (t *virtualTarget) Model() string { return t.t.Model }
func (t *virtualTarget) Weight() *int32 {
	if t.t.Weight == 0 {
		return nil
	}
	w := int32(t.t.Weight)
	return &w
}

func (q *query) VirtualModels(ctx context.Context) []*virtualModel {
	out := []*virtualModel{}
	for _, v := range q.c.views.VirtualModels(principal(ctx).Tenant) {
		vm, err := decodeVirtual(v.Name, v.Definition)
		if err != nil {
			q.c.log.Error("stored virtual model unreadable", "name", v.Name, "tenant", v.Tenant, "err", err)
			continue
		}
		out = append(out, &virtualModel{vm, v})
	}
	return out
}

func (m *mutation) CreateVirtualModel(ctx context.Context, args struct{ Input virtualModelInput }) (*virtualModel, error) {
	if err := m.c.llmEnabled(); err != nil {
		return nil, err
	}
	in := args.Input
	vm := router.VirtualModel{Name: in.Name, Strategy: deref(in.Strategy)}
	for _, t := range in.Targets {
		tg := router.Target{Model: t.Model}
		if t.Weight != nil {
			tg.Weight = int(*t.Weight)
		}
		vm.Targets = append(vm.Targets, tg)
	}
	if ck, ok := m.c.llm.(VirtualChecker); ok {
		if err := ck.CheckVirtual(vm); err != nil {
			return nil, &Error{Code: apierr.CodeValidation, Msg: "invalid virtual model: " + err.Error(),
				Problems: []Problem{{Path: "input", Msg: err.Error()}}}
		}
	}
	def, err := json.Marshal(vm)
	if err != nil {
		return nil, wrap(m.c.log, "input", err)
	}
	p := principal(ctx)
	ev, err := events.NewEvent(events.TypeVirtualModelDefined, events.VirtualModelDefinedVersion, events.VirtualModelDefined{Name: vm.Name, Definition: def})
	if err != nil {
		return nil, wrap(m.c.log, "input", err)
	}
	ev.Tenant, ev.Actor = p.Tenant, p.Subject
	app, err := m.c.store.Append(ctx, events.VirtualModelStream(p.Tenant, vm.Name), events.Any, ev)
	if err != nil {
		return nil, wrap(m.c.log, "input", err)
	}
	m.c.waitFor(ctx, app.LastPosition)
	view, _ := m.c.views.VirtualModel(p.Tenant, vm.Name)
	return &virtualModel{vm, view}, nil
}

func (m *mutation) DeleteVirtualModel(ctx context.Context, args struct{ Name string }) (bool, error) {
	p := principal(ctx)
	if _, ok := m.c.views.VirtualModel(p.Tenant, args.Name); !ok {
		return false, nil
	}
	ev, err := events.NewEvent(events.TypeVirtualModelDeleted, events.VirtualModelDeletedVersion, events.VirtualModelDeleted{Name: args.Name})
	if err != nil {
		return false, wrap(m.c.log, "name", err)
	}
	ev.Tenant, ev.Actor = p.Tenant, p.Subject
	app, err := m.c.store.Append(ctx, events.VirtualModelStream(p.Tenant, args.Name), events.Any, ev)
	if err != nil {
		return false, wrap(m.c.log, "name", err)
	}
	m.c.waitFor(ctx, app.LastPosition)
	return true, nil
}

// TenantModels serves the tenants' virtual models, as stored through this
// schema, to the router (router.TenantModels).
type TenantModels struct{ Views *projections.Views }

var _ router.TenantLister = TenantModels{}

// VirtualModel implements router.TenantModels.
func (t TenantModels) VirtualModel(tenant, name string) (router.VirtualModel, int, bool) {
	v, ok := t.Views.VirtualModel(tenant, name)
	if !ok {
		return router.VirtualModel{}, 0, false
	}
	vm, err := decodeVirtual(name, v.Definition)
	if err != nil {
		return router.VirtualModel{}, 0, false
	}
	return vm, v.Version, true
}

// VirtualModels implements router.TenantLister.
func (t TenantModels) VirtualModels(tenant string) []router.VirtualModel {
	var out []router.VirtualModel
	for _, v := range t.Views.VirtualModels(tenant) {
		if vm, err := decodeVirtual(v.Name, v.Definition); err == nil {
			out = append(out, vm)
		}
	}
	return out
}
