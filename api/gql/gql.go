package gql

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	qerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

//go:embed schema.graphql
var sdl string

// SDL returns the schema in GraphQL's schema definition language.
func SDL() string { return sdl }

// Feed is where subscriptions read events from: every event with position
// ≥ from, catch-up then live. events.Store implements it; a fan-out hub may
// replace it.
type Feed interface {
	Subscribe(ctx context.Context, from uint64) (events.Subscription, error)
}

var _ Feed = events.Store(nil)

// Deps are what the schema serves from.
type Deps struct {
	// System executes commands and answers strongly consistent reads.
	System *actors.System
	// Runner feeds the projections that queries read.
	Runner *projections.Runner
	// Store is read by the events query.
	Store events.Store
	// Feed delivers subscriptions' events; nil means Store.
	Feed Feed
	// Rules stores rules; nil means actors.NewRules(Store).
	Rules *actors.Rules
	// Keys manages API keys; nil disables the API key operations.
	Keys *auth.Keys
	// LLM routes the LLM operations; nil disables them.
	LLM LLM
	// Logger receives internal errors; nil means slog.Default().
	Logger *slog.Logger
	// Limits bounds requests; zero fields take DefaultLimits' values.
	Limits Limits
}

// Limits bound what one request may cost.
type Limits struct {
	// MaxBodyBytes caps a POST body (413 beyond it).
	MaxBodyBytes int64
	// MaxQueryLength caps the query text in bytes.
	MaxQueryLength int
	// MaxDepth caps selection nesting.
	MaxDepth int
	// MaxComplexity caps the cost computed before execution (see the
	// package documentation).
	MaxComplexity int
	// DefaultListSize is the assumed length of a list field without a
	// first or limit argument or default.
	DefaultListSize int
	// MaxParallelism caps resolvers running at once per request.
	MaxParallelism int
	// Timeout bounds one query or mutation (not subscriptions).
	Timeout time.Duration
	// ReadYourWrites bounds how long a mutation waits for the projections
	// to include its events, so a following query sees them.
	ReadYourWrites time.Duration
}

// DefaultLimits are the limits used for zero fields of Deps.Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:    1 << 20,
		MaxQueryLength:  64 << 10,
		MaxDepth:        15,
		MaxComplexity:   10_000,
		DefaultListSize: 100,
		MaxParallelism:  10,
		Timeout:         30 * time.Second,
		ReadYourWrites:  2 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	set(&l.MaxQueryLength, d.MaxQueryLength)
	set(&l.MaxDepth, d.MaxDepth)
	set(&l.MaxComplexity, d.MaxComplexity)
	set(&l.DefaultListSize, d.DefaultListSize)
	set(&l.MaxParallelism, d.MaxParallelism)
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.ReadYourWrites <= 0 {
		l.ReadYourWrites = d.ReadYourWrites
	}
	return l
}

// Schema is the executable GraphQL schema. It is safe for concurrent use
// and starts no goroutines of its own beyond those of running subscriptions,
// which end with their ctx.
type Schema struct {
	gs     *graphql.Schema
	limits Limits
	cost   *costModel
	log    *slog.Logger
	store  events.Store // where live subscriptions start: the end of the log
	mux    *mux         // shares identical live subscriptions
}

// New builds the schema on d.
func New(d Deps) (*Schema, error) {
	if d.System == nil || d.Runner == nil || d.Store == nil {
		return nil, errors.New("gql: Deps needs System, Runner and Store")
	}
	if d.Feed == nil {
		d.Feed = d.Store
	}
	if d.Rules == nil {
		d.Rules = actors.NewRules(d.Store)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	l := d.Limits.withDefaults()
	c := &core{sys: d.System, runner: d.Runner, views: d.Runner.Views(), store: d.Store, feed: d.Feed,
		rules: d.Rules, keys: d.Keys, llm: d.LLM, log: d.Logger, ryw: l.ReadYourWrites}
	gs, err := graphql.ParseSchema(sdl, &root{c},
		graphql.MaxDepth(l.MaxDepth),
		graphql.MaxQueryLength(l.MaxQueryLength),
		graphql.MaxParallelism(l.MaxParallelism),
		graphql.UseStringDescriptions(),
		// graphql-go drops a subscription event that the consumer has not
		// taken within this time (default 1 s), silently. Events must
		// never be lost: a consumer that falls behind is disconnected by
		// its transport instead, which ends the subscription's ctx.
		graphql.SubscribeResolverTimeout(subscriptionEventTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("gql: %w", err)
	}
	sc := &Schema{gs: gs, limits: l, cost: newCostModel(gs.AST(), int64(l.DefaultListSize)), log: d.Logger, store: d.Store}
	sc.mux = &mux{s: sc, groups: map[string]*group{}}
	return sc, nil
}

// subscriptionEventTimeout bounds the resolution and hand-over of one
// subscription event (see New).
const subscriptionEventTimeout = 24 * time.Hour

// Request is one GraphQL request.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// check runs the checks made before execution that graphql-go does not:
// the query must parse and its complexity stay within the limit. It returns
// the operation's type ("query", "mutation" or "subscription").
func (s *Schema) check(q, opName string, vars map[string]any) (string, *RequestError) {
	if len(q) > s.limits.MaxQueryLength {
		return "", reqErr(apierr.CodeBadRequest, "query is %d bytes, more than the limit of %d", len(q), s.limits.MaxQueryLength)
	}
	d, err := parseDocument(q)
	if err != nil {
		// Let graphql-go name the problem; if it finds none the query is
		// beyond this analyzer, and is refused rather than run unchecked.
		if errs := s.gs.ValidateWithVariables(q, vars); len(errs) > 0 {
			annotate(errs)
			return "", &RequestError{Errors: errs}
		}
		return "", reqErr(apierr.CodeBadRequest, "query could not be analysed: %v", err)
	}
	cost, err := s.cost.cost(d, opName, vars)
	if err != nil {
		return "", reqErr(CodeComplexityLimitExceeded, "%v", err)
	}
	if cost > int64(s.limits.MaxComplexity) {
		re := reqErr(CodeComplexityLimitExceeded, "query complexity %d exceeds the limit of %d", cost, s.limits.MaxComplexity)
		re.Errors[0].Extensions["complexity"] = cost
		re.Errors[0].Extensions["limit"] = s.limits.MaxComplexity
		return "", re
	}
	typ := ""
	for _, op := range d.ops {
		if opName == "" || op.name == opName {
			if re := checkVars(op, vars); re != nil {
				return "", re
			}
			typ = op.typ
			if typ == "subscription" && !feedOnly(op) {
				typ = privateSubscription
			}
			break
		}
	}
	return typ, nil
}

// privateSubscription is the operation type check reports for a
// subscription that does work of its own per subscriber (an LLM stream):
// it is never shared with identical operations.
const privateSubscription = "subscription/private"

// feedFields are the subscriptions that only follow the event feed, so
// that identical operations may share one execution.
var feedFields = map[string]bool{"workflowEvents": true, "resourceUpdates": true, "events": true, "__typename": true}

// feedOnly reports whether every root field of op follows the feed.
func feedOnly(op *operation) bool {
	for _, sel := range op.sel {
		if sel.name == "" || !feedFields[sel.name] {
			return false
		}
	}
	return true
}

func reqErr(code, format string, args ...any) *RequestError {
	return &RequestError{Errors: []*qerrors.QueryError{{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code},
	}}}
}

// Validate checks a request without running it: syntax, the schema's
// validation rules (with the variables), depth, length and complexity. The
// error, if any, is a *RequestError. Transports call it before subscribing,
// to answer with the protocol's error message instead of a stream.
func (s *Schema) Validate(q, opName string, vars map[string]any) error {
	_, err := s.validate(q, opName, vars)
	return err
}

func (s *Schema) validate(q, opName string, vars map[string]any) (string, error) {
	typ, re := s.check(q, opName, vars)
	if re != nil {
		return "", re
	}
	if errs := s.gs.ValidateWithVariables(q, vars); len(errs) > 0 {
		annotate(errs)
		return "", &RequestError{Errors: errs}
	}
	return typ, nil
}

// Exec runs a query or mutation with the principal ctx carries (anonymous
// when none) under the request timeout.
func (s *Schema) Exec(ctx context.Context, req Request) *graphql.Response {
	typ, re := s.check(req.Query, req.OperationName, req.Variables)
	if re != nil {
		return &graphql.Response{Errors: re.Errors}
	}
	if typ == "subscription" || typ == privateSubscription {
		return &graphql.Response{Errors: reqErr(apierr.CodeBadRequest,
			"subscriptions need a streaming transport (WebSocket or SSE)").Errors}
	}
	ctx, cancel := context.WithTimeout(ctx, s.limits.Timeout)
	defer cancel()
	resp := s.gs.Exec(ctx, req.Query, req.OperationName, req.Variables)
	annotate(resp.Errors)
	return resp
}

// Subscribe starts an operation for a streaming transport. A request that
// fails validation returns a *RequestError and no channel. Otherwise the
// channel yields one response per event of a subscription (one in all for
// a query or mutation, which runs under the request timeout) and is closed
// when the operation ends or ctx is cancelled; the caller must keep
// receiving until then or cancel ctx.
func (s *Schema) Subscribe(ctx context.Context, q, opName string, vars map[string]any) (<-chan *graphql.Response, error) {
	typ, err := s.validate(q, opName, vars)
	if err != nil {
		return nil, err
	}
	if typ == "subscription" && shareable(q, vars) {
		p := principal(ctx)
		if key, ok := muxKey(p.Tenant, q, opName, vars); ok {
			last, err := s.store.LastPosition(ctx)
			if err != nil {
				return nil, err
			}
			return s.mux.join(ctx, key, last+1, p, q, opName, vars)
		}
	}
	var cancel context.CancelFunc = func() {}
	if typ != "subscription" && typ != privateSubscription {
		ctx, cancel = context.WithTimeout(ctx, s.limits.Timeout)
	}
	src, err := s.gs.Subscribe(ctx, q, opName, vars)
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan *graphql.Response)
	go func() {
		defer close(out)
		defer cancel()
		for v := range src {
			resp, ok := v.(*graphql.Response)
			if !ok {
				continue
			}
			annotate(resp.Errors)
			select {
			case out <- resp:
			case <-ctx.Done():
				for range src { // let graphql-go's goroutine finish
				}
				return
			}
		}
	}()
	return out, nil
}

// caller returns who a request acts as: the principal in ctx, else the
// anonymous principal of the default tenant.
func caller(ctx context.Context) actors.Caller {
	p := principal(ctx)
	return actors.Caller{Tenant: p.Tenant, Actor: p.Subject}
}
