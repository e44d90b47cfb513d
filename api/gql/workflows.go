package gql

import (
	"context"
	"slices"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

type workflowResolver struct {
	def  workflow.Definition
	view projections.WorkflowView // may be empty when the projections lag
}

// workflow returns a tenant's workflow, version 0 meaning the latest.
func (c *core) workflow(ctx context.Context, id string, version int) (*workflowResolver, error) {
	cl := caller(ctx)
	view, inView := c.views.Workflow(cl.Tenant, id)
	if version == 0 && inView {
		version = view.Version // a cached machine, no store read
	}
	m, err := c.sys.Workflows.Machine(ctx, cl, id, version)
	if err != nil {
		return nil, wrap(c.log, "id", err)
	}
	return &workflowResolver{def: m.Definition(), view: view}, nil
}

func (q *query) Workflow(ctx context.Context, args struct {
	ID      graphql.ID
	Version *int32
}) (*workflowResolver, error) {
	v := 0
	if args.Version != nil {
		v = int(*args.Version)
	}
	return q.c.workflow(ctx, string(args.ID), v)
}

func (q *query) Workflows(ctx context.Context) ([]*workflowResolver, error) {
	var out []*workflowResolver
	for _, v := range q.c.views.Workflows(caller(ctx).Tenant) {
		w, err := q.c.workflow(ctx, v.ID, v.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (m *mutation) CreateWorkflow(ctx context.Context, args struct{ Input workflowInput }) (*workflowResolver, error) {
	def := args.Input.definition()
	def, err := m.c.sys.Workflows.Create(ctx, caller(ctx), def)
	if err != nil {
		return nil, wrap(m.c.log, "input", err)
	}
	m.c.waitLatest(ctx)
	view, _ := m.c.views.Workflow(caller(ctx).Tenant, def.ID)
	return &workflowResolver{def: def, view: view}, nil
}

func (m *mutation) UpdateWorkflow(ctx context.Context, args struct {
	ID    graphql.ID
	Input workflowInput
}) (*workflowResolver, error) {
	def := args.Input.definition()
	def, err := m.c.sys.Workflows.NewVersion(ctx, caller(ctx), string(args.ID), def)
	if err != nil {
		return nil, wrap(m.c.log, "input", err)
	}
	m.c.waitLatest(ctx)
	view, _ := m.c.views.Workflow(caller(ctx).Tenant, def.ID)
	return &workflowResolver{def: def, view: view}, nil
}

func (w *workflowResolver) ID() graphql.ID       { return graphql.ID(w.def.ID) }
func (w *workflowResolver) Name() string         { return w.def.Name }
func (w *workflowResolver) Description() *string { return strp(w.def.Description) }
func (w *workflowResolver) Version() int32       { return int32(w.def.Version) }
func (w *workflowResolver) States() []string     { return w.def.States }
func (w *workflowResolver) InitialState() string { return w.def.InitialState }
func (w *workflowResolver) TerminalStates() []string {
	if w.def.TerminalStates == nil {
		return []string{}
	}
	return w.def.TerminalStates
}
func (w *workflowResolver) CreatedAt() *graphql.Time { return gtime(w.view.CreatedAt) }
func (w *workflowResolver) UpdatedAt() *graphql.Time { return gtime(w.view.UpdatedAt) }

func (w *workflowResolver) Versions() []int32 {
	if len(w.view.Versions) == 0 {
		return []int32{int32(w.def.Version)}
	}
	out := make([]int32, len(w.view.Versions))
	for i, v := range w.view.Versions {
		out[i] = int32(v)
	}
	return out
}

type stateCount struct {
	state string
	count int
}

func (s stateCount) State() string { return s.state }
func (s stateCount) Count() int32  { return int32(s.count) }

// ResourceCounts counts the workflow's resources (of every version) by
// state, in the order of the states.
func (w *workflowResolver) ResourceCounts() []stateCount {
	out := []stateCount{}
	for _, s := range w.def.States {
		if n := w.view.Counts[s]; n > 0 {
			out = append(out, stateCount{s, n})
		}
	}
	var other []string
	for s, n := range w.view.Counts {
		if n > 0 && !slices.Contains(w.def.States, s) {
			other = append(other, s)
		}
	}
	slices.Sort(other)
	for _, s := range other {
		out = append(out, stateCount{s, w.view.Counts[s]})
	}
	return out
}

func (w *workflowResolver) Activities() []*activityResolver {
	out := make([]*activityResolver, len(w.def.Activities))
	for i := range w.def.Activities {
		out[i] = &activityResolver{w.def.Activities[i]}
	}
	return out
}

type activityResolver struct{ a workflow.Activity }

func (a *activityResolver) ID() graphql.ID       { return graphql.ID(a.a.ID) }
func (a *activityResolver) Name() *string        { return strp(a.a.Name) }
func (a *activityResolver) Description() *string { return strp(a.a.Description) }
func (a *activityResolver) FromStates() []string { return a.a.FromStates }
func (a *activityResolver) ToState() string      { return a.a.ToState }
func (a *activityResolver) Conditions() *JSON {
	if len(a.a.Conditions) == 0 {
		return nil
	}
	return &JSON{V: a.a.Conditions}
}
func (a *activityResolver) AgentConfig() *agentConfigResolver {
	if a.a.AgentConfig == nil {
		return nil
	}
	return &agentConfigResolver{*a.a.AgentConfig}
}

type agentConfigResolver struct{ a workflow.AgentConfig }

func (a *agentConfigResolver) AgentID() *string      { return strp(a.a.AgentID) }
func (a *agentConfigResolver) LlmProvider() *string  { return strp(a.a.LLMProvider) }
func (a *agentConfigResolver) Model() *string        { return strp(a.a.Model) }
func (a *agentConfigResolver) SystemPrompt() *string { return strp(a.a.SystemPrompt) }
func (a *agentConfigResolver) Temperature() *float64 { return a.a.Temperature }
func (a *agentConfigResolver) MaxTokens() *int32 {
	if a.a.MaxTokens == nil {
		return nil
	}
	n := int32(*a.a.MaxTokens)
	return &n
}
func (a *agentConfigResolver) Auto() bool         { return a.a.Auto }
func (a *agentConfigResolver) OutputKey() *string { return strp(a.a.OutputKey) }
