// Package apierr is the one table that maps the core's errors to the stable
// codes and HTTP statuses every API surface (REST, GraphQL, WebSocket, SSE)
// reports. Clients switch on codes, never on messages.
package apierr

import (
	"context"
	"errors"
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// Stable error codes of the APIs.
const (
	CodeValidation         = "VALIDATION"
	CodeNotFound           = "NOT_FOUND"
	CodeConflict           = "CONFLICT"
	CodeFailedPrecondition = "FAILED_PRECONDITION"
	CodeUnauthenticated    = "UNAUTHENTICATED"
	CodeForbidden          = "FORBIDDEN"
	CodeBadRequest         = "BAD_REQUEST"
	CodeUnavailable        = "UNAVAILABLE"
	CodeInternal           = "INTERNAL"
)

// Rule maps the errors Match accepts to a status and a code.
type Rule struct {
	Match  func(error) bool
	Status int
	Code   string
}

// Is returns a matcher for errors.Is(err, target).
func Is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// As returns a matcher for errors that errors.As finds a T in.
func As[T error]() func(error) bool {
	return func(err error) bool { var t T; return errors.As(err, &t) }
}

// Table maps the core's errors; the first matching rule wins.
var Table = []Rule{
	{As[*workflow.ValidationError](), http.StatusUnprocessableEntity, CodeValidation},
	{As[rules.Errors](), http.StatusUnprocessableEntity, CodeValidation},
	{As[*rules.Error](), http.StatusUnprocessableEntity, CodeValidation},
	{As[*agent.ValidationError](), http.StatusUnprocessableEntity, CodeValidation},
	{As[*http.MaxBytesError](), http.StatusRequestEntityTooLarge, CodeBadRequest},
	{Is(events.ErrInvalid), http.StatusBadRequest, CodeBadRequest},
	{Is(actors.ErrNotFound), http.StatusNotFound, CodeNotFound},
	{Is(workflow.ErrUnknownActivity), http.StatusNotFound, CodeNotFound},
	{Is(actors.ErrAlreadyExists), http.StatusConflict, CodeConflict},
	{Is(events.ErrConflict), http.StatusConflict, CodeConflict},
	{Is(workflow.ErrTerminal), http.StatusConflict, CodeFailedPrecondition},
	{As[*workflow.WrongStateError](), http.StatusConflict, CodeFailedPrecondition},
	{As[*workflow.ConditionsFailedError](), http.StatusConflict, CodeFailedPrecondition},
	{Is(actors.ErrWaiting), http.StatusConflict, CodeFailedPrecondition},
	{Is(actors.ErrNotParked), http.StatusConflict, CodeFailedPrecondition},
	{Is(actors.ErrNotWaiting), http.StatusConflict, CodeFailedPrecondition},
	{Is(actors.ErrBusy), http.StatusServiceUnavailable, CodeUnavailable},
	{Is(actors.ErrStopped), http.StatusServiceUnavailable, CodeUnavailable},
	{Is(events.ErrClosed), http.StatusServiceUnavailable, CodeUnavailable},
	{Is(context.DeadlineExceeded), http.StatusServiceUnavailable, CodeUnavailable},
	{Is(auth.ErrUnauthenticated), http.StatusUnauthorized, CodeUnauthenticated},
	{Is(auth.ErrForbidden), http.StatusForbidden, CodeForbidden},
	{Is(auth.ErrNotFound), http.StatusNotFound, CodeNotFound},
	{Is(auth.ErrInvalid), http.StatusUnprocessableEntity, CodeValidation},
	{Is(auth.ErrUnavailable), http.StatusServiceUnavailable, CodeUnavailable},
}

// Classify returns the status and code of err from Table; ok is false when
// no rule matches (the caller then reports INTERNAL).
func Classify(err error) (status int, code string, ok bool) {
	for _, r := range Table {
		if r.Match(err) {
			return r.Status, r.Code, true
		}
	}
	return http.StatusInternalServerError, CodeInternal, false
}
