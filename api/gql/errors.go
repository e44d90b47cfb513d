package gql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	qerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// CodeComplexityLimitExceeded is the code of a query rejected by the
// complexity limit before it ran. The other codes are package apierr's.
const CodeComplexityLimitExceeded = "COMPLEXITY_LIMIT_EXCEEDED"

// Problem is one thing wrong with an input; Path names the offending field,
// e.g. "input.activities[1].toState".
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

// Error is the error resolvers return: graphql-go puts Extensions into the
// GraphQL error's "extensions" (code, and problems when there are some).
type Error struct {
	Code     string
	Msg      string
	Problems []Problem
	// Details holds extra data, e.g. the rules trace of failed conditions.
	Details map[string]any
	Err     error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Extensions implements graphql-go's ResolverError.
func (e *Error) Extensions() map[string]any {
	ext := map[string]any{"code": e.Code}
	if len(e.Problems) > 0 {
		ext["problems"] = e.Problems
	}
	for k, v := range e.Details {
		ext[k] = v
	}
	return ext
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// RequestError lists the GraphQL errors that stopped a request before it
// ran (syntax, validation, limits). Subscribe and Validate return it; the
// transports send Errors as the protocol's error payload.
type RequestError struct {
	Errors []*qerrors.QueryError
}

func (e *RequestError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, qe := range e.Errors {
		msgs[i] = qe.Message
	}
	return strings.Join(msgs, "; ")
}

// wrap turns a core error into an *Error with a stable code; prefix names
// the argument the input came from (e.g. "input"), so problem paths name
// the offending field. Internal errors are logged and not shown.
func wrap(log *slog.Logger, prefix string, err error) error {
	if err == nil {
		return nil
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	_, code, known := apierr.Classify(err)
	e := &Error{Code: code, Msg: err.Error(), Err: err}
	var ve *workflow.ValidationError
	var re rules.Errors
	var cf *workflow.ConditionsFailedError
	var ae *agent.ValidationError
	switch {
	case errors.As(err, &ve):
		e.Msg = fmt.Sprintf("invalid workflow definition: %s", ve.Error())
		for _, p := range ve.Problems {
			e.Problems = append(e.Problems, Problem{Path: join(prefix, p.Path), Msg: p.Msg})
		}
	case errors.As(err, &re):
		e.Msg = fmt.Sprintf("invalid rule: %s", re.Error())
		for _, p := range re {
			e.Problems = append(e.Problems, Problem{Path: join(prefix, p.Path), Msg: p.Msg})
		}
	case errors.As(err, &cf):
		e.Details = map[string]any{"trace": cf.Trace}
	case errors.As(err, &ae):
		e.Msg = ae.Error()
		for _, p := range ae.Problems {
			e.Problems = append(e.Problems, Problem{Path: join(prefix, p.Path), Msg: p.Msg})
		}
	}
	if !known {
		log.Error("graphql resolver failed", "err", err)
		e.Msg = "internal error"
	}
	return e
}

func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}

// annotate gives every error of a response that has no code one: errors
// found before execution are VALIDATION (BAD_REQUEST for syntax errors),
// others INTERNAL.
func annotate(errs []*qerrors.QueryError) {
	for _, qe := range errs {
		if _, ok := qe.Extensions["code"]; ok {
			continue
		}
		// graphql-go's subscription path drops a resolver error's
		// extensions; take them from the error itself.
		var ext interface{ Extensions() map[string]any }
		if qe.ResolverError != nil && errors.As(qe.ResolverError, &ext) {
			qe.Extensions, qe.Message = ext.Extensions(), qe.ResolverError.Error()
			continue
		}
		if qe.Extensions == nil {
			qe.Extensions = map[string]any{}
		}
		switch {
		case qe.ResolverError != nil:
			qe.Extensions["code"] = apierr.CodeInternal
		case strings.HasPrefix(qe.Message, "syntax error"):
			qe.Extensions["code"] = apierr.CodeBadRequest
		case qe.Message == context.DeadlineExceeded.Error() || qe.Message == context.Canceled.Error():
			qe.Extensions["code"] = apierr.CodeUnavailable
		default:
			qe.Extensions["code"] = apierr.CodeValidation
		}
	}
}

// preExecution reports whether errs stopped a request before it ran: no
// error comes from a resolver.
func preExecution(errs []*qerrors.QueryError) bool {
	for _, qe := range errs {
		if qe.ResolverError != nil {
			return false
		}
	}
	return len(errs) > 0
}
