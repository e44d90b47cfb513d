package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Fault is the domain an error falls in. It decides retries and fallbacks
// and labels metrics; the set is closed.
type Fault uint8

// Fault domains.
const (
	// FaultCaller: the request is wrong (bad body, unknown model, context
	// too long). Retrying or falling back would fail the same way.
	FaultCaller Fault = iota + 1
	// FaultPolicy: the request is refused by the operator's policy (budget,
	// cost threshold, rate limit, no allowed route).
	FaultPolicy
	// FaultProvider: the upstream failed (5xx, 429, timeout, connection,
	// rejected key). Another attempt or another deployment may succeed.
	FaultProvider
	// FaultOurs: a bug or failure of the router itself.
	FaultOurs
)

func (f Fault) String() string {
	switch f {
	case FaultCaller:
		return "caller"
	case FaultPolicy:
		return "policy"
	case FaultProvider:
		return "provider"
	case FaultOurs:
		return "ours"
	}
	return "unknown"
}

// ErrorKind classifies an error; each kind has one fault domain.
type ErrorKind string

// Error kinds.
const (
	KindInvalidRequest ErrorKind = "invalid_request" // caller: malformed or rejected by the provider (400)
	KindNotFound       ErrorKind = "not_found"       // caller: unknown model or route (404)
	KindAuthentication ErrorKind = "authentication"  // caller: no or bad key to the router (401)
	KindPermission     ErrorKind = "permission"      // caller: key may not do this (403)
	KindTooLarge       ErrorKind = "too_large"       // caller: body too large (413)
	KindPolicy         ErrorKind = "policy"          // policy: budget, cost or latency limit (402/403)
	KindRateLimit      ErrorKind = "rate_limit"      // provider: 429 upstream
	KindOverloaded     ErrorKind = "overloaded"      // provider: 529 / 503 upstream
	KindServer         ErrorKind = "server"          // provider: other 5xx upstream
	KindTimeout        ErrorKind = "timeout"         // provider: no answer in time
	KindConnection     ErrorKind = "connection"      // provider: could not connect, reset
	KindUpstreamAuth   ErrorKind = "upstream_auth"   // provider: upstream refused our key (401/403)
	KindUpstreamModel  ErrorKind = "upstream_model"  // provider: upstream does not know the model (404)
	KindCancelled      ErrorKind = "cancelled"       // caller went away
	KindInternal       ErrorKind = "internal"        // ours
)

// Fault is the domain of the kind.
func (k ErrorKind) Fault() Fault {
	switch k {
	case KindInvalidRequest, KindNotFound, KindAuthentication, KindPermission, KindTooLarge, KindCancelled:
		return FaultCaller
	case KindPolicy:
		return FaultPolicy
	case KindRateLimit, KindOverloaded, KindServer, KindTimeout, KindConnection, KindUpstreamAuth, KindUpstreamModel:
		return FaultProvider
	}
	return FaultOurs
}

// Retryable reports whether the same deployment may succeed if asked again.
func (k ErrorKind) Retryable() bool {
	switch k {
	case KindRateLimit, KindOverloaded, KindServer, KindTimeout, KindConnection:
		return true
	}
	return false
}

// Error is a failed call, in the router's terms. Adapters return it for
// every upstream failure; served APIs render it in the caller's format.
type Error struct {
	Kind ErrorKind
	// Status is the HTTP status to give the caller.
	Status int
	// Message is for people; it names the field or the reason.
	Message string
	// Provider is the deployment that failed, empty when none was called.
	Provider string
	// UpstreamStatus and UpstreamType are what the provider said.
	UpstreamStatus int
	UpstreamType   string
	// RetryAfter is the provider's Retry-After hint; 0 when absent.
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Provider != "" {
		return fmt.Sprintf("%s: %s: %s", e.Provider, e.Kind, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Fault is the domain of the error.
func (e *Error) Fault() Fault { return e.Kind.Fault() }

// Errorf makes an Error of the kind with the kind's default status.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: kind.status(), Message: fmt.Sprintf(format, args...)}
}

func (k ErrorKind) status() int {
	switch k {
	case KindInvalidRequest:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindAuthentication:
		return http.StatusUnauthorized
	case KindPermission, KindPolicy:
		return http.StatusForbidden
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindRateLimit:
		return http.StatusTooManyRequests
	case KindOverloaded:
		return http.StatusServiceUnavailable
	case KindTimeout:
		return http.StatusGatewayTimeout
	case KindServer, KindConnection, KindUpstreamAuth, KindUpstreamModel:
		return http.StatusBadGateway
	case KindCancelled:
		return 499
	}
	return http.StatusInternalServerError
}

// FromStatus classifies an upstream HTTP failure. provider names the
// deployment, message is the provider's own text.
func FromStatus(provider string, status int, upstreamType, message string, retryAfter time.Duration) *Error {
	var k ErrorKind
	switch {
	case status == http.StatusTooManyRequests:
		k = KindRateLimit
	case status == 529 || status == http.StatusServiceUnavailable:
		k = KindOverloaded
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		k = KindTimeout
	case status >= 500:
		k = KindServer
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		k = KindUpstreamAuth
	case status == http.StatusNotFound:
		k = KindUpstreamModel
	case status == http.StatusRequestEntityTooLarge:
		k = KindTooLarge
	default:
		k = KindInvalidRequest
	}
	e := &Error{Kind: k, Status: k.status(), Message: message, Provider: provider,
		UpstreamStatus: status, UpstreamType: upstreamType, RetryAfter: retryAfter}
	if k == KindInvalidRequest || k == KindTooLarge {
		e.Status = status // the caller's mistake: pass the provider's status on
	}
	return e
}

// FromTransport classifies an error from the HTTP client (no response):
// cancellation by the caller, deadline, or connection failure.
func FromTransport(ctx context.Context, provider string, err error) *Error {
	var le *Error
	if errors.As(err, &le) {
		return le
	}
	switch {
	case ctx.Err() == context.Canceled || errors.Is(err, context.Canceled):
		return &Error{Kind: KindCancelled, Status: 499, Message: "the request was cancelled", Provider: provider, Err: err}
	case ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &Error{Kind: KindTimeout, Status: http.StatusGatewayTimeout, Message: "the provider did not answer in time", Provider: provider, Err: err}
	}
	return &Error{Kind: KindConnection, Status: http.StatusBadGateway, Message: "could not reach the provider: " + err.Error(), Provider: provider, Err: err}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// AsError returns err as an *Error, classifying anything else as internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Status: http.StatusInternalServerError, Message: err.Error(), Err: err}
}
