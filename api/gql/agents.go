package gql

import (
	"context"
	"encoding/json"
	"slices"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// This file serves agent definitions: agent, agents, createAgent,
// updateAgent and deleteAgent. Reads of one agent go to the Agents service
// (its stream); the list reads the projections.

// agents returns the Agents service, or UNAVAILABLE when the system runs
// without it.
func (c *core) agents() (*actors.Agents, error) {
	if c.sys.Agents == nil {
		return nil, newError(apierr.CodeUnavailable, "agents are not enabled on this server")
	}
	return c.sys.Agents, nil
}

func (q *query) Agent(ctx context.Context, args struct {
	ID      graphql.ID
	Version *int32
}) (*agentResolver, error) {
	ag, err := q.c.agents()
	if err != nil {
		return nil, err
	}
	d, err := ag.Get(ctx, caller(ctx), string(args.ID), int(deref32(args.Version)))
	if err != nil {
		return nil, wrap(q.c.log, "id", err)
	}
	return &agentResolver{d}, nil
}

func (q *query) Agents(ctx context.Context) ([]*agentResolver, error) {
	out := []*agentResolver{}
	for _, v := range q.c.views.Agents(caller(ctx).Tenant) {
		d, err := agentOf(v)
		if err != nil {
			return nil, wrap(q.c.log, "", err)
		}
		out = append(out, &agentResolver{d})
	}
	return out, nil
}

// agentOf decodes the definition an agents view holds.
func agentOf(v projections.AgentView) (agent.Definition, error) {
	var d agent.Definition
	if err := json.Unmarshal(v.Definition, &d); err != nil {
		return d, err
	}
	d = agent.Normalize(d)
	d.ID, d.Version, d.CreatedAt, d.UpdatedAt = v.ID, v.Version, v.CreatedAt, v.UpdatedAt
	return d, nil
}

func (m *mutation) CreateAgent(ctx context.Context, args struct{ Input agentInput }) (*agentResolver, error) {
	ag, err := m.c.agents()
	if err != nil {
		return nil, err
	}
	d, err := args.Input.definition()
	if err != nil {
		return nil, err
	}
	d, err = ag.Create(ctx, caller(ctx), d)
	if err != nil {
		return nil, agentErr(m.c, &args.Input, err)
	}
	m.c.waitLatest(ctx)
	return &agentResolver{d}, nil
}

func (m *mutation) UpdateAgent(ctx context.Context, args struct {
	ID    graphql.ID
	Input agentInput
}) (*agentResolver, error) {
	ag, err := m.c.agents()
	if err != nil {
		return nil, err
	}
	if args.Input.ID != nil && *args.Input.ID != args.ID {
		return nil, &Error{Code: apierr.CodeValidation, Msg: "input.id: must be absent or equal the id argument",
			Problems: []Problem{{Path: "input.id", Msg: "must be absent or equal the id argument"}}}
	}
	d, err := args.Input.definition()
	if err != nil {
		return nil, err
	}
	cl := caller(ctx)
	if _, err := ag.Get(ctx, cl, string(args.ID), 0); err != nil {
		return nil, wrap(m.c.log, "id", err)
	}
	d.ID = string(args.ID)
	if d, err = ag.Save(ctx, cl, d); err != nil {
		return nil, agentErr(m.c, &args.Input, err)
	}
	m.c.waitLatest(ctx)
	return &agentResolver{d}, nil
}

func (m *mutation) DeleteAgent(ctx context.Context, args struct{ ID graphql.ID }) (*agentResolver, error) {
	ag, err := m.c.agents()
	if err != nil {
		return nil, err
	}
	cl := caller(ctx)
	d, err := ag.Get(ctx, cl, string(args.ID), 0)
	if err != nil {
		return nil, wrap(m.c.log, "id", err)
	}
	if err := ag.Delete(ctx, cl, string(args.ID)); err != nil {
		return nil, wrap(m.c.log, "id", err)
	}
	m.c.waitLatest(ctx)
	return &agentResolver{d}, nil
}

// agentErr reports a rejected definition with problem paths that name the
// input's fields (agent.Validate names the definition's).
func agentErr(c *core, in *agentInput, err error) error {
	werr := wrap(c.log, "", err)
	if e, ok := werr.(*Error); ok {
		for i, p := range e.Problems {
			e.Problems[i].Path = agentPath(in, p.Path)
		}
	}
	return werr
}

func deref32(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

type agentResolver struct{ d agent.Definition }

func (a *agentResolver) ID() graphql.ID           { return graphql.ID(a.d.ID) }
func (a *agentResolver) Name() string             { return a.d.Name }
func (a *agentResolver) Description() *string     { return strp(a.d.Description) }
func (a *agentResolver) Role() *string            { return strp(a.d.Role) }
func (a *agentResolver) Type() *string            { return strp(a.d.Type) }
func (a *agentResolver) LlmProvider() *string     { return strp(a.d.Provider) }
func (a *agentResolver) Provider() *string        { return strp(a.d.Provider) }
func (a *agentResolver) Model() string            { return a.d.Model }
func (a *agentResolver) SystemPrompt() *string    { return strp(a.d.SystemPrompt) }
func (a *agentResolver) Temperature() *float64    { return a.d.Temperature }
func (a *agentResolver) MaxTokens() *int32        { return intp(a.d.MaxTokens) }
func (a *agentResolver) OutputSchema() *JSON      { return rawJSON(a.d.OutputSchema) }
func (a *agentResolver) MaxSteps() int32          { return int32(a.d.MaxSteps) }
func (a *agentResolver) TimeoutSeconds() int32    { return int32(a.d.TimeoutSeconds) }
func (a *agentResolver) Version() int32           { return int32(a.d.Version) }
func (a *agentResolver) CreatedAt() *graphql.Time { return gtime(a.d.CreatedAt) }
func (a *agentResolver) UpdatedAt() *graphql.Time { return gtime(a.d.UpdatedAt) }
func (a *agentResolver) Tools() []*agentToolResolver {
	out := make([]*agentToolResolver, len(a.d.Tools))
	for i := range a.d.Tools {
		out[i] = &agentToolResolver{a.d.Tools[i]}
	}
	return out
}

type agentToolResolver struct{ t agent.Tool }

func (t *agentToolResolver) Name() string         { return t.t.Name }
func (t *agentToolResolver) Description() *string { return strp(t.t.Description) }
func (t *agentToolResolver) Type() string         { return t.t.Kind }
func (t *agentToolResolver) Parameters() *JSON    { return rawJSON(t.t.Parameters) }
func (t *agentToolResolver) URL() *string {
	if t.t.HTTP == nil {
		return nil
	}
	return strp(t.t.HTTP.URL)
}
func (t *agentToolResolver) Method() *string {
	if t.t.HTTP == nil {
		return nil
	}
	return strp(t.t.HTTP.Method)
}

// Headers lists the names of an HTTP tool's headers, never their values
// (often credentials).
func (t *agentToolResolver) Headers() []string {
	out := []string{}
	if t.t.HTTP != nil {
		for k := range t.t.HTTP.Headers {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
func (t *agentToolResolver) TimeoutSeconds() *int32 {
	if t.t.HTTP == nil {
		return nil
	}
	return intp(t.t.HTTP.TimeoutSeconds)
}

// intp is n as an optional Int: nil for 0.
func intp(n int) *int32 {
	if n == 0 {
		return nil
	}
	v := int32(n)
	return &v
}
