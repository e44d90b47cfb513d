package gql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON     = "application/json"
	mediaResponse = "application/graphql-response+json"
)

// ServeHTTP answers GraphQL over HTTP: POST with a JSON body {query,
// variables, operationName, extensions} runs any operation but a
// subscription; GET with ?query= (and variables, operationName) runs
// queries only. A request that cannot be read (bad JSON, unknown fields,
// too large) is answered 400 (413 for size) with a GraphQL error body.
// Errors found before execution are answered 200 with application/json and
// 400 when the client accepts application/graphql-response+json, as the
// GraphQL-over-HTTP spec says. The principal is the one ctx carries
// (auth.FromContext), anonymous when none.
func (s *Schema) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	media := responseMedia(r)
	var req Request
	switch r.Method {
	case http.MethodPost:
		if err := s.decodeBody(w, r, &req); err != nil {
			s.fail(w, media, err)
			return
		}
	case http.MethodGet:
		if err := decodeQuery(r, &req); err != nil {
			s.fail(w, media, err)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		s.fail(w, media, &httpError{http.StatusMethodNotAllowed, apierr.CodeBadRequest, "use POST (or GET for queries)"})
		return
	}
	if req.Query == "" {
		s.fail(w, media, badRequest("query: is required"))
		return
	}
	if r.Method == http.MethodGet {
		if typ, re := s.check(req.Query, req.OperationName, req.Variables); re == nil && typ != "query" {
			w.Header().Set("Allow", "POST")
			s.fail(w, media, &httpError{http.StatusMethodNotAllowed, apierr.CodeBadRequest, "GET runs queries only; use POST for " + strings.TrimSuffix(typ, "/private") + "s"})
			return
		}
	}
	resp := s.Exec(r.Context(), req)
	status := http.StatusOK
	if media == mediaResponse && len(resp.Data) == 0 && preExecution(resp.Errors) {
		status = http.StatusBadRequest
	}
	writeResponse(w, media, status, resp)
}

// responseMedia picks the response media type: the GraphQL one when the
// client asks for it, else application/json.
func responseMedia(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == mediaResponse {
			return mediaResponse
		}
	}
	return mediaJSON
}

// httpError is a request rejected before GraphQL sees it.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, apierr.CodeBadRequest, fmt.Sprintf(format, args...)}
}

func (s *Schema) fail(w http.ResponseWriter, media string, err *httpError) {
	writeResponse(w, media, err.status, &graphql.Response{Errors: reqErr(err.code, "%s", err.msg).Errors})
}

func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing to do
}

// decodeBody reads a POST body strictly: JSON only, one object, known
// fields only, within the size limit.
func (s *Schema) decodeBody(w http.ResponseWriter, r *http.Request, req *Request) *httpError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != mediaJSON && mt != "application/graphql+json") {
			return &httpError{http.StatusUnsupportedMediaType, apierr.CodeBadRequest,
				fmt.Sprintf("Content-Type %q not supported; send application/json", ct)}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &httpError{http.StatusRequestEntityTooLarge, apierr.CodeBadRequest,
				fmt.Sprintf("request body larger than %d bytes", s.limits.MaxBodyBytes)}
		}
		return badRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("request body is empty; expected a JSON object with a query")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return jsonError(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("malformed JSON: unexpected data after the request object")
	}
	return nil
}

// jsonError names what is wrong with a request body.
func jsonError(body []byte, err error) *httpError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(body, se.Offset)
		return badRequest("malformed JSON at line %d, column %d: %v", line, col, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: unexpected end of input")
	case errors.As(err, &te):
		if te.Field == "" {
			return badRequest("request body must be a JSON object, got %s", te.Value)
		}
		return badRequest("%s: must not be %s", te.Field, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown request field %s; expected query, variables, operationName, extensions",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("malformed JSON: %v", err)
}

func lineCol(b []byte, off int64) (int, int) {
	off = min(off, int64(len(b)))
	pre := b[:off]
	return bytes.Count(pre, []byte("\n")) + 1, int(off) - bytes.LastIndexByte(pre, '\n')
}

// decodeQuery reads a GET request's parameters.
func decodeQuery(r *http.Request, req *Request) *httpError {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "query", "variables", "operationName", "extensions":
		default:
			return badRequest("unknown parameter %q; expected query, variables, operationName, extensions", k)
		}
	}
	req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
	if v := q.Get("variables"); v != "" {
		if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
			return badRequest("variables: must be a JSON object: %v", err)
		}
	}
	return nil
}
