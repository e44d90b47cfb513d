package gql

import (
	"context"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// The human-in-the-loop and workflow automation operations: the
// resumeResource mutation, the parkedResources query, and the fields they
// add to Resource, ActivityResult, Activity and the workflow inputs (the
// "Human in the loop" block of schema.graphql).

func (m *mutation) ResumeResource(ctx context.Context, args struct {
	ResourceID graphql.ID
	Answer     JSON
	WaitID     *graphql.ID
}) (*activityResult, error) {
	cl := caller(ctx)
	cmd := actors.ResumeResource{Caller: cl, ResourceID: string(args.ResourceID), Answer: args.Answer.V}
	if args.WaitID != nil {
		cmd.WaitID = string(*args.WaitID)
	}
	tr, err := m.c.sys.ResumeResource(ctx, cmd)
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

func (q *query) ParkedResources(ctx context.Context, args struct{ First int32 }) ([]*parkedResolver, error) {
	first := int(args.First)
	if first < 0 || first > maxPage {
		return nil, &Error{Code: apierr.CodeValidation, Msg: "first must be between 0 and 1000",
			Problems: []Problem{{Path: "first", Msg: "must be between 0 and 1000"}}}
	}
	out := []*parkedResolver{}
	for _, p := range q.c.sys.Parked(caller(ctx).Tenant) {
		if len(out) == first {
			break
		}
		out = append(out, &parkedResolver{c: q.c, p: p})
	}
	return out, nil
}

type parkedResolver struct {
	c *core
	p actors.ParkedResource
}

func (p *parkedResolver) ResourceID() graphql.ID { return graphql.ID(p.p.ResourceID) }
func (p *parkedResolver) Wait() *waitResolver    { return &waitResolver{p.p.Wait} }
func (p *parkedResolver) Resource(ctx context.Context) (*resourceResolver, error) {
	return p.c.resource(ctx, p.p.ResourceID)
}

type waitResolver struct{ w actors.Wait }

func (w *waitResolver) ID() graphql.ID            { return graphql.ID(w.w.ID) }
func (w *waitResolver) Activity() string          { return w.w.Activity }
func (w *waitResolver) AgentRunID() *graphql.ID   { return idp(w.w.RunID) }
func (w *waitResolver) Prompt() *string           { return strp(w.w.Prompt) }
func (w *waitResolver) ParkedAt() graphql.Time    { return graphql.Time{Time: w.w.ParkedAt} }
func (w *waitResolver) Deadline() *graphql.Time   { return gtime(w.w.Deadline) }
func (w *waitResolver) TimeoutActivity() *string  { return strp(w.w.TimeoutActivity) }
func (a *activityResult) AgentRunID() *graphql.ID { return idp(a.tr.AgentRunID) }
func (a *activityResult) WaitID() *graphql.ID     { return idp(a.tr.WaitID) }

// Parked is the wait the resource is parked on, as automation last saw it.
func (r *resourceResolver) Parked(ctx context.Context) *waitResolver {
	w, ok := r.c.sys.ParkedOn(caller(ctx).Tenant, r.r.ID)
	if !ok {
		return nil
	}
	return &waitResolver{w}
}

// AgentRuns asks the resource's actor which agent runs work for it.
func (r *resourceResolver) AgentRuns(ctx context.Context) ([]*agentRunLinkResolver, error) {
	res, err := r.c.sys.Resource(ctx, caller(ctx), r.r.ID)
	if err != nil {
		return nil, wrap(r.c.log, "", err)
	}
	out := make([]*agentRunLinkResolver, len(res.AgentRuns))
	for i, l := range res.AgentRuns {
		out[i] = &agentRunLinkResolver{l}
	}
	return out, nil
}

type agentRunLinkResolver struct{ l actors.AgentRunLink }

func (l *agentRunLinkResolver) RunID() graphql.ID { return graphql.ID(l.l.RunID) }
func (l *agentRunLinkResolver) Activity() string  { return l.l.Activity }

func (a *activityResolver) Auto() bool { return a.a.Auto }
func (a *activityResolver) WaitForHuman() *humanWaitResolver {
	if a.a.WaitForHuman == nil {
		return nil
	}
	return &humanWaitResolver{*a.a.WaitForHuman}
}

type humanWaitResolver struct{ h workflow.HumanWait }

func (h *humanWaitResolver) Prompt() *string          { return strp(h.h.Prompt) }
func (h *humanWaitResolver) TimeoutSeconds() int32    { return int32(h.h.TimeoutSeconds) }
func (h *humanWaitResolver) TimeoutActivity() *string { return strp(h.h.TimeoutActivity) }

// Inputs of the block.

type humanWaitInput struct {
	Prompt          *string
	TimeoutSeconds  *int32
	TimeoutActivity *string
}

type agentTransitionInput struct {
	ID        *graphql.ID
	From      string
	To        string
	AgentID   string
	OutputKey *string
}

// automation sets a's automation fields from in.
func (in activityInput) automation(a *workflow.Activity) {
	if in.Auto != nil {
		a.Auto = *in.Auto
	}
	if h := in.WaitForHuman; h != nil {
		a.WaitForHuman = &workflow.HumanWait{Prompt: deref(h.Prompt), TimeoutActivity: deref(h.TimeoutActivity)}
		if h.TimeoutSeconds != nil {
			a.WaitForHuman.TimeoutSeconds = int(*h.TimeoutSeconds)
		}
	}
}

// agentTransitions converts the workflow input's agent transitions.
func (in workflowInput) agentTransitions() []workflow.AgentTransition {
	if in.AgentTransitions == nil {
		return nil
	}
	out := make([]workflow.AgentTransition, len(*in.AgentTransitions))
	for i, t := range *in.AgentTransitions {
		out[i] = workflow.AgentTransition{From: t.From, To: t.To, AgentID: t.AgentID, OutputKey: deref(t.OutputKey)}
		if t.ID != nil {
			out[i].ID = string(*t.ID)
		}
	}
	return out
}

func idp(s string) *graphql.ID {
	if s == "" {
		return nil
	}
	id := graphql.ID(s)
	return &id
}
