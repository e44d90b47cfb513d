package gql

import (
	"context"
	"fmt"
	"sync"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// This file serves agent runs: agentRun, agentRuns, executeAgent,
// cancelAgentRun, answerAgentRun and the agentRunEvents subscription. A
// run read by id comes from the Agents service (its actor or stream); the
// list comes from the projections, and a listed run's input and output,
// which the projections do not keep, are read from the service when asked
// for.

func (q *query) AgentRun(ctx context.Context, args struct{ ID graphql.ID }) (*agentRunResolver, error) {
	ag, err := q.c.agents()
	if err != nil {
		return nil, err
	}
	v, err := ag.Run(ctx, caller(ctx), string(args.ID))
	if err != nil {
		return nil, wrap(q.c.log, "id", err)
	}
	return fullRun(q.c, v), nil
}

func (q *query) AgentRuns(ctx context.Context, args struct {
	AgentID *graphql.ID
	Status  *string
	First   int32
}) ([]*agentRunResolver, error) {
	if args.First < 0 || args.First > maxPage {
		return nil, &Error{Code: apierr.CodeValidation, Msg: fmt.Sprintf("first must be between 0 and %d", maxPage),
			Problems: []Problem{{Path: "first", Msg: fmt.Sprintf("must be between 0 and %d", maxPage)}}}
	}
	f := projections.AgentRunFilter{Status: deref(args.Status), Limit: int(args.First)}
	if args.AgentID != nil {
		f.AgentID = string(*args.AgentID)
	}
	out := []*agentRunResolver{}
	if f.Limit == 0 {
		return out, nil
	}
	for _, v := range q.c.views.AgentRuns(caller(ctx).Tenant, f) {
		out = append(out, listedRun(q.c, v))
	}
	return out, nil
}

func (m *mutation) ExecuteAgent(ctx context.Context, args struct {
	AgentID        graphql.ID
	Input          *string
	Data           *JSON
	IdempotencyKey *string
}) (*agentRunResolver, error) {
	ag, err := m.c.agents()
	if err != nil {
		return nil, err
	}
	data, err := args.Data.object("data")
	if err != nil {
		return nil, err
	}
	v, err := ag.Start(ctx, caller(ctx), actors.StartRun{AgentID: string(args.AgentID), Input: deref(args.Input),
		Data: data, IdempotencyKey: deref(args.IdempotencyKey)})
	if err != nil {
		return nil, wrap(m.c.log, "", err)
	}
	m.c.waitLatest(ctx)
	return fullRun(m.c, v), nil
}

func (m *mutation) CancelAgentRun(ctx context.Context, args struct{ ID graphql.ID }) (*agentRunResolver, error) {
	return m.runCommand(ctx, func(ag *actors.Agents, c actors.Caller) (actors.RunView, error) {
		return ag.Cancel(ctx, c, string(args.ID))
	})
}

func (m *mutation) AnswerAgentRun(ctx context.Context, args struct {
	ID     graphql.ID
	Answer string
}) (*agentRunResolver, error) {
	return m.runCommand(ctx, func(ag *actors.Agents, c actors.Caller) (actors.RunView, error) {
		return ag.Answer(ctx, c, string(args.ID), args.Answer)
	})
}

// runCommand sends a command to the caller's run. A run of another
// tenant, or none, is NOT_FOUND.
func (m *mutation) runCommand(ctx context.Context, cmd func(*actors.Agents, actors.Caller) (actors.RunView, error)) (*agentRunResolver, error) {
	ag, err := m.c.agents()
	if err != nil {
		return nil, err
	}
	v, err := cmd(ag, caller(ctx))
	if err != nil {
		return nil, wrap(m.c.log, "id", err)
	}
	m.c.waitLatest(ctx)
	return fullRun(m.c, v), nil
}

// AgentRunEvents follows one run with a Watch of its own: it is never
// shared with other subscribers (the field is not one of feedFields).
func (s *subscription) AgentRunEvents(ctx context.Context, args struct{ RunID graphql.ID }) (<-chan *agentRunEventResolver, error) {
	ag, err := s.c.agents()
	if err != nil {
		return nil, err
	}
	runID := string(args.RunID)
	src, err := ag.Watch(ctx, caller(ctx), runID)
	if err != nil {
		return nil, wrap(s.c.log, "runId", err)
	}
	out := make(chan *agentRunEventResolver)
	// Owned: ends when Watch closes src (after the run's last event, or
	// once ctx ends) or when ctx ends.
	go func() {
		defer close(out)
		for ev := range src {
			select {
			case out <- &agentRunEventResolver{c: s.c, runID: runID, e: ev}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// agentRunResolver is a run: complete (read by id), or a listed run whose
// input and output are read on demand. Field resolvers run concurrently:
// v and full never change; the on-demand read fills loaded, once.
type agentRunResolver struct {
	c      *core
	v      actors.RunView
	full   bool // v holds every field
	once   sync.Once
	loaded actors.RunView
	err    error // of the on-demand read
}

func fullRun(c *core, v actors.RunView) *agentRunResolver {
	return &agentRunResolver{c: c, v: v, full: true}
}

func listedRun(c *core, v projections.AgentRunView) *agentRunResolver {
	return &agentRunResolver{c: c, v: actors.RunView{
		ID: v.ID, AgentID: v.AgentID, AgentVersion: v.AgentVersion, Tenant: v.Tenant, Status: v.Status,
		Steps: v.Steps, Usage: agent.Usage(v.Usage), CostUSD: v.CostUSD, Priced: v.Priced, Error: v.Error,
		ResourceID: v.ResourceID, Activity: v.Activity, StartedAt: v.StartedAt, UpdatedAt: v.UpdatedAt,
	}}
}

// load returns the complete run, reading a listed run from the Agents
// service the first time.
func (r *agentRunResolver) load(ctx context.Context) (*actors.RunView, error) {
	if r.full {
		return &r.v, nil
	}
	r.once.Do(func() {
		ag, err := r.c.agents()
		if err != nil {
			r.err = err
			return
		}
		if r.loaded, err = ag.Run(ctx, caller(ctx), r.v.ID); err != nil {
			r.err = wrap(r.c.log, "", err)
		}
	})
	if r.err != nil {
		return nil, r.err
	}
	return &r.loaded, nil
}

func (r *agentRunResolver) ID() graphql.ID           { return graphql.ID(r.v.ID) }
func (r *agentRunResolver) AgentID() *graphql.ID     { return idp(r.v.AgentID) }
func (r *agentRunResolver) AgentVersion() *int32     { return intp(r.v.AgentVersion) }
func (r *agentRunResolver) Status() string           { return r.v.Status }
func (r *agentRunResolver) Steps() int32             { return int32(r.v.Steps) }
func (r *agentRunResolver) Usage() *llmUsage         { return &llmUsage{r.v.Usage} }
func (r *agentRunResolver) Error() *string           { return strp(r.v.Error) }
func (r *agentRunResolver) ResourceID() *graphql.ID  { return idp(r.v.ResourceID) }
func (r *agentRunResolver) Activity() *string        { return strp(r.v.Activity) }
func (r *agentRunResolver) StartedAt() *graphql.Time { return gtime(r.v.StartedAt) }
func (r *agentRunResolver) UpdatedAt() *graphql.Time { return gtime(r.v.UpdatedAt) }
func (r *agentRunResolver) CostUsd() *float64 {
	if !r.v.Priced {
		return nil
	}
	c := r.v.CostUSD
	return &c
}

func (r *agentRunResolver) Input(ctx context.Context) (*string, error) {
	v, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	return strp(v.Input), nil
}

func (r *agentRunResolver) Output(ctx context.Context) (*string, error) {
	v, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	return strp(v.Output), nil
}

func (r *agentRunResolver) OutputJson(ctx context.Context) (*JSON, error) {
	v, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	return rawJSON(v.OutputJSON), nil
}

func (r *agentRunResolver) ErrorKind(ctx context.Context) (*string, error) {
	v, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	return strp(v.ErrorKind), nil
}

func (r *agentRunResolver) Question(ctx context.Context) (*string, error) {
	v, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	return strp(v.Question), nil
}

type agentRunEventResolver struct {
	c     *core
	runID string
	e     actors.RunEvent
}

func (e *agentRunEventResolver) Type() string        { return e.e.Type }
func (e *agentRunEventResolver) RunID() graphql.ID   { return graphql.ID(e.runID) }
func (e *agentRunEventResolver) Step() *int32        { return intp(e.e.Step) }
func (e *agentRunEventResolver) Text() *string       { return strp(e.e.Text) }
func (e *agentRunEventResolver) ToolCallID() *string { return strp(e.e.ToolCallID) }
func (e *agentRunEventResolver) ToolName() *string   { return strp(e.e.ToolName) }
func (e *agentRunEventResolver) Arguments() *string  { return strp(e.e.Arguments) }
func (e *agentRunEventResolver) Result() *string     { return strp(e.e.Result) }
func (e *agentRunEventResolver) IsError() *bool {
	if e.e.Type != actors.RunEventToolResult {
		return nil
	}
	b := e.e.IsError
	return &b
}
func (e *agentRunEventResolver) Run() *agentRunResolver {
	if e.e.Run == nil {
		return nil
	}
	return fullRun(e.c, *e.e.Run)
}
func (e *agentRunEventResolver) Position() *int32 { return intp(int(e.e.Position)) }
