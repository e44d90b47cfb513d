package gqlws

import (
	"context"
	"errors"
	"net/http"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// Request is one GraphQL operation as a client sends it: the payload of a
// graphql-transport-ws "subscribe", a legacy "start", or a GraphQL over
// HTTP/SSE request.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// Executor runs GraphQL operations for a transport. The GraphQL schema
// package implements it (or wraps a *graphql.Schema with [FromSchema]); the
// transports in this package and in gqlsse depend on nothing else.
type Executor interface {
	// Subscribe starts req and returns its results in order.
	//
	// An operation rejected before execution (it does not parse, fails
	// validation, or its variables do not fit) is reported as a
	// *RequestError and a nil channel: the transport answers with the
	// protocol's "error" message and no "complete". Any other error is an
	// internal failure.
	//
	// A query or mutation yields one result; a subscription yields one per
	// event. Execution errors travel inside the results. The channel is
	// closed when the stream ends, and soon after ctx is done: the executor
	// stops its resolvers then and must never block forever on a send once
	// ctx is done. The transport keeps reading (and discarding) until the
	// channel is closed.
	//
	// ctx carries the operation's [Sink]: an executor that fans one result
	// out to many operations may push results there instead of sending
	// them on the channel.
	Subscribe(ctx context.Context, req Request) (<-chan *graphql.Response, error)
}

// RequestError is an operation rejected before execution. Its Errors are
// sent to the client as they are.
type RequestError struct {
	Errors []*gqlerrors.QueryError
}

func (e *RequestError) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, qe := range e.Errors {
		msgs = append(msgs, qe.Message)
	}
	return "invalid operation: " + strings.Join(msgs, "; ")
}

// InitFunc authorizes a connection and returns the context its operations
// run in (ctx or a context derived from it, e.g. carrying the principal).
// The WebSocket transport calls it with the connection_init payload (an empty
// map when the client sent none); the SSE transport calls it once per
// request with a nil payload. An error refuses the connection: WebSocket
// close 4401 (or SSE 401) when it wraps [ErrUnauthenticated], 4403 (or 403)
// otherwise.
type InitFunc func(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, error)

// ErrUnauthenticated is wrapped by an [InitFunc] error when credentials are
// missing or invalid, as opposed to valid credentials lacking permission.
var ErrUnauthenticated = errors.New("unauthenticated")

// FromSchema adapts a graph-gophers schema to an [Executor]. Operations are
// validated first (ValidateWithVariables), so parse and validation errors
// become a *RequestError; queries and mutations run through Subscribe (or
// Exec when the schema has no subscription type) and yield one result.
func FromSchema(s *graphql.Schema) Executor {
	_, hasSub := s.AST().RootOperationTypes["subscription"]
	return &schemaExecutor{schema: s, hasSubscriptions: hasSub}
}

type schemaExecutor struct {
	schema           *graphql.Schema
	hasSubscriptions bool
}

func (e *schemaExecutor) Subscribe(ctx context.Context, req Request) (<-chan *graphql.Response, error) {
	if errs := e.schema.ValidateWithVariables(req.Query, req.Variables); len(errs) > 0 {
		return nil, &RequestError{Errors: errs}
	}
	out := make(chan *graphql.Response, 1)
	if !e.hasSubscriptions {
		out <- e.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
		close(out)
		return out, nil
	}
	in, err := e.schema.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(out)
		defer func() {
			for range in { // the library closes in once ctx is done
			}
		}()
		for v := range in {
			resp, ok := v.(*graphql.Response)
			if !ok {
				continue
			}
			select {
			case out <- resp:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
