package gql_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
)

func TestBadInput(t *testing.T) {
	e := newEnv(t, gql.Limits{MaxComplexity: 500})
	deep := `{ __type(name: \"Workflow\") {` + strings.Repeat(" ofType {", 16) + " name" + strings.Repeat(" }", 17) + " }"
	tests := []struct {
		name        string
		body        string
		contentType string
		accept      string
		status      int
		code        string
		msg         string
	}{
		{"malformed JSON", `{"query": "{ workflows { id } }"`, "application/json", "", 400, "BAD_REQUEST", "malformed JSON"},
		{"syntax error in JSON", `{"query": }`, "application/json", "", 400, "BAD_REQUEST", "line 1, column 12"},
		{"unknown top-level field", `{"query": "{ workflows { id } }", "qurey": 1}`, "application/json", "", 400, "BAD_REQUEST", `unknown request field "qurey"`},
		{"query not a string", `{"query": 5}`, "application/json", "", 400, "BAD_REQUEST", "query: must not be number"},
		{"not an object", `[1]`, "application/json", "", 400, "BAD_REQUEST", "must be a JSON object"},
		{"empty body", ``, "application/json", "", 400, "BAD_REQUEST", "empty"},
		{"trailing data", `{"query": "{ workflows { id } }"} {}`, "application/json", "", 400, "BAD_REQUEST", "unexpected data"},
		{"wrong content type", `query`, "text/plain", "", 415, "BAD_REQUEST", "Content-Type"},
		{"no query", `{"variables": {}}`, "application/json", "", 400, "BAD_REQUEST", "query: is required"},
		{"GraphQL syntax error", `{"query": "{ workflows { id }"}`, "application/json", "", 200, "BAD_REQUEST", "syntax error"},
		{"GraphQL syntax error, graphql-response", `{"query": "{ workflows { id }"}`, "application/json", "application/graphql-response+json", 400, "BAD_REQUEST", "syntax error"},
		{"unknown field", `{"query": "{ workflows { idd } }"}`, "application/json", "", 200, "VALIDATION", `Cannot query field "idd"`},
		{"unknown input field", `{"query": "mutation { createWorkflow(input: {name: \"x\", states: [\"a\"], statse: []}) { id } }"}`, "application/json", "", 200, "VALIDATION", "statse"},
		{"wrong variable type", `{"query": "query($v: Int) { workflow(id: \"x\", version: $v) { id } }", "variables": {"v": "two"}}`, "application/json", "", 200, "VALIDATION", "variable $v: must be Int, got string"},
		{"wrong argument type", `{"query": "{ workflow(id: \"x\", version: \"two\") { id } }"}`, "application/json", "", 200, "VALIDATION", "Int cannot represent"},
		{"too deep", `{"query": "` + deep + `"}`, "application/json", "", 200, "VALIDATION", "depth"},
		{"too complex", `{"query": "{ resources(first: 1000) { id history { type } } }"}`, "application/json", "", 200, "COMPLEXITY_LIMIT_EXCEEDED", "complexity"},
		{"too complex via variable", `{"query": "query($n: Int) { resources(first: $n) { id state } }", "variables": {"n": 900}}`, "application/json", "", 200, "COMPLEXITY_LIMIT_EXCEEDED", "exceeds the limit of 500"},
		{"subscription over POST", `{"query": "subscription { events { position } }"}`, "application/json", "", 200, "BAD_REQUEST", "streaming transport"},
		{"oversized", `{"query": "{ workflows { id } }", "variables": {"pad": "` + strings.Repeat("x", 1<<20) + `"}}`, "application/json", "", 413, "BAD_REQUEST", "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, "", tc.contentType, []byte(tc.body), tc.accept)
			if r.Status != tc.status || r.code(0) != tc.code || !strings.Contains(r.Errors[0].Message, tc.msg) {
				t.Fatalf("got %d %s %+v; want %d %s %q", r.Status, r.code(0), r.Errors, tc.status, tc.code, tc.msg)
			}
		})
	}
	// The server is unaffected.
	e.ok(t, "", "{ workflows { id } }", nil)
}

func TestGET(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	get := func(q url.Values) *gqlResp {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/graphql?"+q.Encode(), nil)
		return do(t, req)
	}
	if r := get(url.Values{"query": {"{ workflows { id } }"}}); r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("query: %d %+v", r.Status, r.Errors)
	}
	r := get(url.Values{"query": {`mutation { deleteRule(id: "x") { id } }`}})
	if r.Status != http.StatusMethodNotAllowed || r.code(0) != "BAD_REQUEST" {
		t.Fatalf("mutation over GET: %d %+v", r.Status, r.Errors)
	}
	if r := get(url.Values{"query": {"{ workflows { id } }"}, "foo": {"1"}}); r.Status != 400 {
		t.Fatalf("unknown parameter: %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/graphql", bytes.NewReader(nil))
	if r := do(t, req); r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", r.Status)
	}
}
