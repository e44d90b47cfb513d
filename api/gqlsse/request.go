package gqlsse

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
)

// httpError is a request refused before the event stream starts.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf(format, args...)}
}

// acceptsEventStream reports whether the client asked for text/event-stream.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				return true
			}
		}
	}
	return false
}

// parseRequest reads a GraphQL over HTTP request: a JSON body (POST) or the
// query, operationName, variables and extensions parameters (GET).
func parseRequest(w http.ResponseWriter, r *http.Request, maxBody int64) (gqlws.Request, *httpError) {
	var req gqlws.Request
	switch r.Method {
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return req, &httpError{http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"}
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		if err := dec.Decode(&req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return req, &httpError{http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", fmt.Sprintf("request body larger than %d bytes", maxBody)}
			}
			return req, badRequest("malformed JSON body: %v", err)
		}
	case http.MethodGet:
		q := r.URL.Query()
		req.Query = q.Get("query")
		req.OperationName = q.Get("operationName")
		for name, dst := range map[string]*map[string]any{"variables": &req.Variables, "extensions": &req.Extensions} {
			if v := q.Get(name); v != "" {
				if err := json.Unmarshal([]byte(v), dst); err != nil {
					return req, badRequest("parameter %s is not a JSON object: %v", name, err)
				}
			}
		}
		if isMutation(req.Query, req.OperationName) {
			return req, &httpError{http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations must use POST"}
		}
	default:
		return req, &httpError{http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "use GET or POST"}
	}
	if req.Query == "" {
		return req, badRequest("query is required")
	}
	return req, nil
}

// isMutation reports whether the operation selected by name (or the only
// one) in doc is a mutation. It scans top-level tokens only, skipping
// comments, strings, arguments and selection sets; an unparsable document is left to
// the executor's validation.
func isMutation(doc, name string) bool {
	type op struct{ kind, name string }
	var ops []op
	depth := 0
	for i := 0; i < len(doc); {
		ch := doc[i]
		switch {
		case ch == '#':
			for i < len(doc) && doc[i] != '\n' {
				i++
			}
		case ch == '"':
			i = skipString(doc, i)
		case ch == '{':
			if depth == 0 && (len(ops) == 0 || ops[len(ops)-1].kind == "") {
				ops = append(ops, op{kind: "query"}) // shorthand query
			}
			depth++
			i++
		case ch == '}' || ch == ')':
			depth--
			i++
		case ch == '(':
			depth++
			i++
		case depth == 0 && isNameStart(ch):
			j := i
			for j < len(doc) && isNameChar(doc[j]) {
				j++
			}
			word := doc[i:j]
			switch {
			case word == "query" || word == "mutation" || word == "subscription":
				ops = append(ops, op{kind: word})
			case word == "fragment":
				ops = append(ops, op{kind: "fragment"})
			case len(ops) > 0 && ops[len(ops)-1].name == "" && ops[len(ops)-1].kind != "":
				ops[len(ops)-1].name = word
			}
			i = j
		default:
			i++
		}
	}
	var selected []op
	for _, o := range ops {
		if o.kind != "fragment" && (name == "" || o.name == name) {
			selected = append(selected, o)
		}
	}
	return len(selected) == 1 && selected[0].kind == "mutation"
}

func skipString(s string, i int) int {
	if strings.HasPrefix(s[i:], `"""`) {
		if end := strings.Index(s[i+3:], `"""`); end >= 0 {
			return i + 3 + end + 3
		}
		return len(s)
	}
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"', '\n':
			return i + 1
		}
	}
	return i
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }
