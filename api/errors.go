package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// Stable error codes of the API (see package apierr). Clients switch on
// these, never on messages.
const (
	CodeValidation         = apierr.CodeValidation
	CodeNotFound           = apierr.CodeNotFound
	CodeConflict           = apierr.CodeConflict
	CodeFailedPrecondition = apierr.CodeFailedPrecondition
	CodeBadRequest         = apierr.CodeBadRequest
	CodeUnavailable        = apierr.CodeUnavailable
	CodeInternal           = apierr.CodeInternal
)

// Problem is one thing wrong with a request; Path names the offending field
// in the request's JSON shape (empty for the request as a whole).
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error: a stable code, a human message, the
// problems of a rejected request and, for failed conditions, the rules trace.
type ErrorDetail struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
	Details  any       `json:"details,omitempty"`
}

// requestError is an error found in the request itself (bad JSON, a missing
// field, a bad query parameter). Its status comes from the table like any
// other error's.
type requestError struct {
	code     string // CodeBadRequest or CodeValidation
	msg      string
	problems []Problem
}

func (e *requestError) Error() string { return e.msg }

func badRequest(msg string, problems ...Problem) error {
	return &requestError{code: CodeBadRequest, msg: msg, problems: problems}
}

func invalid(problems ...Problem) error {
	return &requestError{code: CodeValidation, msg: "invalid request", problems: problems}
}

func reqCode(code string) func(error) bool {
	return func(err error) bool {
		var re *requestError
		return errors.As(err, &re) && re.code == code
	}
}

// requestErrors maps the errors found in requests themselves; everything
// else goes through the shared table in package apierr.
var requestErrors = []apierr.Rule{
	{Match: reqCode(CodeValidation), Status: http.StatusUnprocessableEntity, Code: CodeValidation},
	{Match: reqCode(CodeBadRequest), Status: http.StatusBadRequest, Code: CodeBadRequest},
}

// classify returns the status and code of err; anything unmatched is
// INTERNAL.
func classify(err error) (int, string) {
	for _, r := range requestErrors {
		if r.Match(err) {
			return r.Status, r.Code
		}
	}
	status, code, _ := apierr.Classify(err)
	return status, code
}

// writeError answers err as an ErrorBody. Internal errors are logged and
// their message is not shown to the client.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := classify(err)
	d := ErrorDetail{Code: code, Message: err.Error()}
	var re *requestError
	var ve *workflow.ValidationError
	var cf *workflow.ConditionsFailedError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &re):
		d.Problems = re.problems
	case errors.As(err, &ve):
		d.Message = fmt.Sprintf("invalid workflow definition (%d problems)", len(ve.Problems))
		for _, p := range ve.Problems {
			d.Problems = append(d.Problems, Problem{Path: p.Path, Msg: p.Msg})
		}
	case errors.As(err, &cf):
		d.Details = map[string]any{"trace": cf.Trace}
	case errors.As(err, &mb):
		d.Message = "request body larger than 1 MiB"
	}
	switch status {
	case http.StatusInternalServerError:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		d.Message = "internal error"
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, ErrorBody{Error: d})
}
