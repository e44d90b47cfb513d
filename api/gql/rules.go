package gql

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/rules"
)

type ruleResolver struct {
	id, name, typ, description, status string
	definition                         any
	version                            int
	createdAt, updatedAt               time.Time
}

func ruleFromActor(r actors.Rule) *ruleResolver {
	return &ruleResolver{r.ID, r.Name, r.Type, r.Description, r.Status, r.Definition, r.Version, r.CreatedAt, r.UpdatedAt}
}

func (q *query) Rule(ctx context.Context, args struct{ ID graphql.ID }) (*ruleResolver, error) {
	cl := caller(ctx)
	if v, ok := q.c.views.Rule(cl.Tenant, string(args.ID)); ok {
		return &ruleResolver{v.ID, v.Name, v.Type, v.Description, v.Status, json.RawMessage(v.Definition), v.Version, v.CreatedAt, v.UpdatedAt}, nil
	}
	r, err := q.c.rules.Get(ctx, cl, string(args.ID))
	if err != nil {
		return nil, wrap(q.c.log, "id", err)
	}
	return ruleFromActor(r), nil
}

func (q *query) Rules(ctx context.Context) []*ruleResolver {
	out := []*ruleResolver{}
	for _, v := range q.c.views.Rules(caller(ctx).Tenant) {
		out = append(out, &ruleResolver{v.ID, v.Name, v.Type, v.Description, v.Status, json.RawMessage(v.Definition), v.Version, v.CreatedAt, v.UpdatedAt})
	}
	return out
}

func (in ruleInput) spec() (actors.RuleSpec, string, error) {
	def, prefix, err := in.definition()
	if err != nil {
		return actors.RuleSpec{}, "", err
	}
	s := actors.RuleSpec{Name: in.Name, Type: deref(in.Type), Description: deref(in.Description), Definition: def}
	if in.ID != nil {
		s.ID = string(*in.ID)
	}
	return s, prefix, nil
}

// ruleErr names the offending input field of a rejected rule: actors.Rules
// reports definition paths as "definition.…", which for the top-level
// shape are "input.…".
func (c *core) ruleErr(prefix string, err error) error {
	e := wrap(c.log, "input", err)
	var ge *Error
	if prefix == "input" && errors.As(e, &ge) {
		for i, p := range ge.Problems {
			ge.Problems[i].Path = strings.Replace(p.Path, "input.definition.", "input.", 1)
		}
	}
	return e
}

func (m *mutation) CreateRule(ctx context.Context, args struct{ Input ruleInput }) (*ruleResolver, error) {
	spec, prefix, err := args.Input.spec()
	if err != nil {
		return nil, err
	}
	r, err := m.c.rules.Create(ctx, caller(ctx), spec)
	if err != nil {
		return nil, m.c.ruleErr(prefix, err)
	}
	m.c.waitFor(ctx, r.Position)
	return ruleFromActor(r), nil
}

func (m *mutation) UpdateRule(ctx context.Context, args struct {
	ID    graphql.ID
	Input ruleInput
}) (*ruleResolver, error) {
	spec, prefix, err := args.Input.spec()
	if err != nil {
		return nil, err
	}
	r, err := m.c.rules.Update(ctx, caller(ctx), string(args.ID), spec)
	if err != nil {
		return nil, m.c.ruleErr(prefix, err)
	}
	m.c.waitFor(ctx, r.Position)
	return ruleFromActor(r), nil
}

func (m *mutation) DeleteRule(ctx context.Context, args struct{ ID graphql.ID }) (*ruleResolver, error) {
	r, err := m.c.rules.Delete(ctx, caller(ctx), string(args.ID))
	if err != nil {
		return nil, wrap(m.c.log, "id", err)
	}
	m.c.waitLatest(ctx)
	r.Status = "deleted"
	return ruleFromActor(r), nil
}

func (q *query) EvaluateRule(ctx context.Context, args struct {
	ID         *graphql.ID
	Definition *ruleDefinitionInput
	Data       JSON
}) (*evaluation, error) {
	data, err := args.Data.object("data")
	if err != nil {
		return nil, err
	}
	var rule *rules.Rule
	switch {
	case (args.ID == nil) == (args.Definition == nil):
		return nil, &Error{Code: apierr.CodeValidation, Msg: "give exactly one of id and definition",
			Problems: []Problem{{Path: "id", Msg: "give exactly one of id and definition"}}}
	case args.ID != nil:
		if _, rule, err = q.c.rules.Compiled(ctx, caller(ctx), string(*args.ID)); err != nil {
			return nil, wrap(q.c.log, "id", err)
		}
	default:
		if rule, err = rules.Compile(args.Definition.definition()); err != nil {
			return nil, wrap(q.c.log, "definition", err)
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	return &evaluation{rule.Evaluate(data)}, nil
}

func (r *ruleResolver) ID() graphql.ID           { return graphql.ID(r.id) }
func (r *ruleResolver) Name() string             { return r.name }
func (r *ruleResolver) Type() *string            { return strp(r.typ) }
func (r *ruleResolver) Description() *string     { return strp(r.description) }
func (r *ruleResolver) Status() string           { return r.status }
func (r *ruleResolver) Definition() JSON         { return JSON{V: r.definition} }
func (r *ruleResolver) Version() int32           { return int32(r.version) }
func (r *ruleResolver) CreatedAt() *graphql.Time { return gtime(r.createdAt) }
func (r *ruleResolver) UpdatedAt() *graphql.Time { return gtime(r.updatedAt) }

type evaluation struct{ r rules.Result }

func (e *evaluation) Matched() bool { return e.r.Matched }

func (e *evaluation) Actions() []*ruleAction {
	out := make([]*ruleAction, len(e.r.Actions))
	for i := range e.r.Actions {
		out[i] = &ruleAction{e.r.Actions[i]}
	}
	return out
}

func (e *evaluation) Trace() []*traceEntry {
	out := make([]*traceEntry, len(e.r.Trace))
	for i := range e.r.Trace {
		out[i] = &traceEntry{e.r.Trace[i]}
	}
	return out
}

type ruleAction struct{ a rules.Action }

func (a *ruleAction) Type() string { return a.a.Type }
func (a *ruleAction) Config() *JSON {
	if a.a.Config == nil {
		return nil
	}
	return &JSON{V: a.a.Config}
}

type traceEntry struct{ t rules.TraceEntry }

func (t *traceEntry) Path() string     { return t.t.Path }
func (t *traceEntry) Group() *string   { return strp(t.t.Group) }
func (t *traceEntry) Field() *string   { return strp(t.t.Field) }
func (t *traceEntry) Operator() string { return t.t.Operator }
func (t *traceEntry) Expected() *JSON  { return jsonOf(t.t.Expected) }
func (t *traceEntry) Actual() *JSON    { return jsonOf(t.t.Actual) }
func (t *traceEntry) Found() bool      { return t.t.Found }
func (t *traceEntry) Result() bool     { return t.t.Result }
