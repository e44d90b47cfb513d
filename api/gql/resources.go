package gql

import (
	"context"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// maxPage caps resources' first.
const maxPage = 1000

type resourceResolver struct {
	c *core
	r projections.ResourceView
}

func fromActor(c *core, r actors.Resource) *resourceResolver {
	return &resourceResolver{c, projections.ResourceView{
		ID: r.ID, Tenant: r.Tenant, WorkflowID: r.WorkflowID, WorkflowVersion: r.WorkflowVersion, State: r.State,
		Data: r.Data, Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}}
}

// resource returns a tenant's resource from the projections, or from its
// actor when the projections do not have it yet.
func (c *core) resource(ctx context.Context, id string) (*resourceResolver, error) {
	cl := caller(ctx)
	if v, ok := c.views.Resource(cl.Tenant, id); ok {
		return &resourceResolver{c, v}, nil
	}
	r, err := c.sys.Resource(ctx, cl, id)
	if err != nil {
		return nil, wrap(c.log, "id", err)
	}
	return fromActor(c, r), nil
}

func (q *query) Resource(ctx context.Context, args struct{ ID graphql.ID }) (*resourceResolver, error) {
	return q.c.resource(ctx, string(args.ID))
}

func (q *query) Resources(ctx context.Context, args struct {
	WorkflowID *graphql.ID
	State      *string
	First      int32
	After      *graphql.ID
}) ([]*resourceResolver, error) {
	first := int(args.First)
	if first < 0 || first > maxPage {
		return nil, &Error{Code: apierr.CodeValidation, Msg: "first must be between 0 and 1000",
			Problems: []Problem{{Path: "first", Msg: "must be between 0 and 1000"}}}
	}
	f := projections.ResourceFilter{State: deref(args.State)}
	if args.WorkflowID != nil {
		f.WorkflowID = string(*args.WorkflowID)
	}
	out := []*resourceResolver{}
	for _, r := range q.c.views.Resources(caller(ctx).Tenant, f) {
		if len(out) == first {
			break
		}
		if args.After != nil && r.ID <= string(*args.After) {
			continue
		}
		out = append(out, &resourceResolver{q.c, r})
	}
	return out, nil
}

func (q *query) ResourceHistory(ctx context.Context, args struct{ ID graphql.ID }) ([]*historyResolver, error) {
	r, err := q.c.resource(ctx, string(args.ID))
	if err != nil {
		return nil, err
	}
	return r.History(ctx)
}

type resourceArgs struct {
	WorkflowID      graphql.ID
	Input           *JSON
	ResourceID      *graphql.ID
	WorkflowVersion *int32
	IdempotencyKey  *string
}

func (m *mutation) ExecuteWorkflow(ctx context.Context, args resourceArgs) (*resourceResolver, error) {
	return m.createResource(ctx, args)
}

func (m *mutation) CreateResource(ctx context.Context, args resourceArgs) (*resourceResolver, error) {
	return m.createResource(ctx, args)
}

func (m *mutation) createResource(ctx context.Context, args resourceArgs) (*resourceResolver, error) {
	data, err := args.Input.object("input")
	if err != nil {
		return nil, err
	}
	cmd := actors.CreateResource{Caller: caller(ctx), WorkflowID: string(args.WorkflowID), Data: data,
		IdempotencyKey: deref(args.IdempotencyKey)}
	if args.ResourceID != nil {
		cmd.ResourceID = string(*args.ResourceID)
	}
	if args.WorkflowVersion != nil {
		cmd.WorkflowVersion = int(*args.WorkflowVersion)
	}
	r, err := m.c.sys.CreateResource(ctx, cmd)
	if err != nil {
		return nil, wrap(m.c.log, "", err)
	}
	m.c.waitFor(ctx, r.Position)
	return fromActor(m.c, r), nil
}

func (m *mutation) ExecuteActivity(ctx context.Context, args struct {
	ResourceID     graphql.ID
	ActivityID     graphql.ID
	Data           *JSON
	IdempotencyKey *string
}) (*activityResult, error) {
	data, err := args.Data.object("data")
	if err != nil {
		return nil, err
	}
	cl := caller(ctx)
	tr, err := m.c.sys.Fire(ctx, actors.FireActivity{Caller: cl, ResourceID: string(args.ResourceID),
		ActivityID: string(args.ActivityID), Input: data, IdempotencyKey: deref(args.IdempotencyKey)})
	if err != nil {
		return nil, wrap(m.c.log, "", err)
	}
	m.c.waitFor(ctx, tr.Position)
	r, err := m.c.sys.Resource(ctx, cl, tr.ResourceID)
	if err != nil {
		return nil, wrap(m.c.log, "", err)
	}
	return &activityResult{tr: tr, res: fromActor(m.c, r)}, nil
}

type activityResult struct {
	tr  actors.Transition
	res *resourceResolver
}

func (a *activityResult) ResourceID() graphql.ID      { return graphql.ID(a.tr.ResourceID) }
func (a *activityResult) Activity() string            { return a.tr.Activity }
func (a *activityResult) FromState() string           { return a.tr.From }
func (a *activityResult) ToState() string             { return a.tr.To }
func (a *activityResult) Revision() int32             { return int32(a.tr.Revision) }
func (a *activityResult) Position() int32             { return int32(a.tr.Position) }
func (a *activityResult) Replayed() bool              { return a.tr.Replayed }
func (a *activityResult) Resource() *resourceResolver { return a.res }
func (r *resourceResolver) ID() graphql.ID            { return graphql.ID(r.r.ID) }
func (r *resourceResolver) WorkflowID() graphql.ID    { return graphql.ID(r.r.WorkflowID) }
func (r *resourceResolver) WorkflowVersion() int32    { return int32(r.r.WorkflowVersion) }
func (r *resourceResolver) State() string             { return r.r.State }
func (r *resourceResolver) Revision() int32           { return int32(r.r.Revision) }
func (r *resourceResolver) CreatedAt() *graphql.Time  { return gtime(r.r.CreatedAt) }
func (r *resourceResolver) UpdatedAt() *graphql.Time  { return gtime(r.r.UpdatedAt) }
func (r *resourceResolver) Data() JSON {
	if r.r.Data == nil {
		return JSON{V: map[string]any{}}
	}
	return JSON{V: r.r.Data}
}

// History reads the resource's audit trail from its event stream.
func (r *resourceResolver) History(ctx context.Context) ([]*historyResolver, error) {
	h, ok, err := projections.History(ctx, r.c.store, caller(ctx).Tenant, r.r.ID)
	if err != nil {
		return nil, wrap(r.c.log, "", err)
	}
	if !ok {
		return []*historyResolver{}, nil
	}
	out := make([]*historyResolver, len(h))
	for i := range h {
		out[i] = &historyResolver{h[i]}
	}
	return out, nil
}

type historyResolver struct{ h projections.HistoryEntry }

func (h *historyResolver) Revision() int32         { return int32(h.h.Revision) }
func (h *historyResolver) Position() int32         { return int32(h.h.Position) }
func (h *historyResolver) Type() string            { return h.h.Type }
func (h *historyResolver) Activity() *string       { return strp(h.h.Activity) }
func (h *historyResolver) FromState() *string      { return strp(h.h.From) }
func (h *historyResolver) ToState() string         { return h.h.To }
func (h *historyResolver) Data() *JSON             { return jsonOf(mapOrNil(h.h.Input)) }
func (h *historyResolver) Actor() *string          { return strp(h.h.Actor) }
func (h *historyResolver) IdempotencyKey() *string { return strp(h.h.IdempotencyKey) }
func (h *historyResolver) Timestamp() graphql.Time { return graphql.Time{Time: h.h.Time} }

func mapOrNil(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}
