package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// server starts the API on a real embedded store with a running projection
// runner, and stops everything when the test ends.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	store := natsjstest.Open(t, "")
	sys := actors.New(store, actors.Options{})
	runner := projections.NewRunner(store, store, projections.NewViews(), projections.RunnerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		// Run may report ctx's end as an error when it ends during start-up.
		if err := runner.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("runner: %v", err)
		}
	})
	ts := httptest.NewServer(api.New(api.Deps{System: sys, Runner: runner, Store: store}))
	t.Cleanup(func() {
		ts.Close()
		_ = sys.Stop(context.Background())
		cancel()
		wg.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for !runner.CaughtUp() {
		if time.Now().After(deadline) {
			t.Fatal("runner did not catch up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ts
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) problems() []any {
	e, _ := r.body["error"].(map[string]any)
	p, _ := e["problems"].([]any)
	return p
}

// do sends a request; headers come as "Name: value" strings.
func do(t *testing.T, ts *httptest.Server, method, path, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func mustStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
}

const approvalJSON = `{
  "id": "approval",
  "name": "Document Approval",
  "states": ["submitted", "under_review", "approved"],
  "activities": [
    {"id": "start_review", "fromStates": ["submitted"], "toState": "under_review"},
    {"id": "send_back", "fromStates": ["under_review"], "toState": "submitted"},
    {"id": "approve_document", "fromStates": ["under_review"], "toState": "approved",
     "conditions": [{"field": "score", "operator": "greater_than", "value": 8}]}
  ]
}`

const approvalYAML = `
name: Document Approval
states: [submitted, under_review, approved]
activities:
  - id: start_review
    fromStates: [submitted]
    toState: under_review
`

func TestHealthAndReady(t *testing.T) {
	ts := server(t)
	r := do(t, ts, "GET", "/health", "")
	mustStatus(t, r, 200)
	if r.body["status"] != "ok" {
		t.Fatalf("health body %s", r.raw)
	}
	mustStatus(t, do(t, ts, "GET", "/ready", ""), 200)
	r = do(t, ts, "GET", "/nope", "")
	mustStatus(t, r, 404)
	if r.errCode() != api.CodeNotFound {
		t.Fatalf("unknown route: %s", r.raw)
	}
}

func TestWorkflows(t *testing.T) {
	ts := server(t)
	r := do(t, ts, "POST", "/api/v1/workflows", approvalJSON)
	mustStatus(t, r, 201)
	if r.body["id"] != "approval" || r.body["version"] != 1.0 || r.header.Get("Location") != "/api/v1/workflows/approval" {
		t.Fatalf("created %v %v", r.body, r.header)
	}
	mustStatus(t, do(t, ts, "POST", "/api/v1/workflows", approvalJSON), 409)

	r = do(t, ts, "POST", "/api/v1/workflows", approvalYAML, "Content-Type: application/yaml")
	mustStatus(t, r, 201)
	yamlID := r.body["id"].(string)
	if yamlID == "" || r.body["initialState"] != "submitted" {
		t.Fatalf("yaml workflow %s", r.raw)
	}

	r = do(t, ts, "PUT", "/api/v1/workflows/approval", approvalYAML)
	mustStatus(t, r, 200)
	if r.body["version"] != 2.0 || r.body["id"] != "approval" {
		t.Fatalf("new version %s", r.raw)
	}
	r = do(t, ts, "GET", "/api/v1/workflows/approval", "")
	mustStatus(t, r, 200)
	if r.body["version"] != 2.0 {
		t.Fatalf("latest %s", r.raw)
	}
	r = do(t, ts, "GET", "/api/v1/workflows/approval?version=1", "")
	mustStatus(t, r, 200)
	if len(r.body["activities"].([]any)) != 3 {
		t.Fatalf("v1 %s", r.raw)
	}
	mustStatus(t, do(t, ts, "GET", "/api/v1/workflows/approval?version=9", ""), 404)
	mustStatus(t, do(t, ts, "GET", "/api/v1/workflows/approval?version=x", ""), 400)
	mustStatus(t, do(t, ts, "GET", "/api/v1/workflows/approval", "", "X-Tenant: other"), 404)
	mustStatus(t, do(t, ts, "PUT", "/api/v1/workflows/missing", approvalYAML), 404)

	deadline := time.Now().Add(5 * time.Second)
	for {
		r = do(t, ts, "GET", "/api/v1/workflows", "")
		mustStatus(t, r, 200)
		if n := len(r.body["workflows"].([]any)); n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list %s", r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r = do(t, ts, "GET", "/api/v1/workflows", "", "X-Tenant: other")
	if n := len(r.body["workflows"].([]any)); n != 0 {
		t.Fatalf("other tenant sees %s", r.raw)
	}
}

func TestWorkflowErrors(t *testing.T) {
	ts := server(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		problem                  string // a path among the problems
	}{
		{"invalid definition", "POST", "/api/v1/workflows",
			`{"name":"x","states":["a"],"activities":[{"id":"go","fromStates":["a"],"toState":"nowhere"}]}`,
			422, api.CodeValidation, "activities[0].toState"},
		{"unknown field", "POST", "/api/v1/workflows", `{"name":"x","states":["a"],"bogus":1}`,
			422, api.CodeValidation, "bogus"},
		{"version given", "POST", "/api/v1/workflows", `{"name":"x","states":["a"],"version":3}`,
			422, api.CodeValidation, "version"},
		{"id mismatch", "PUT", "/api/v1/workflows/a", `{"id":"b","name":"x","states":["a"]}`,
			422, api.CodeValidation, "id"},
		{"bad tenant", "GET", "/api/v1/workflows", ``, 400, api.CodeBadRequest, api.TenantHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.name == "bad tenant" {
				hdr = append(hdr, "X-Tenant: no/slashes")
			}
			r := do(t, ts, tt.method, tt.path, tt.body, hdr...)
			mustStatus(t, r, tt.status)
			if r.errCode() != tt.code {
				t.Fatalf("code %q, want %q: %s", r.errCode(), tt.code, r.raw)
			}
			found := false
			for _, p := range r.problems() {
				if p.(map[string]any)["path"] == tt.problem {
					found = true
				}
			}
			if !found {
				t.Fatalf("no problem at %q: %s", tt.problem, r.raw)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	ts := server(t)
	big := `{"workflowId":"x","data":{"blob":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}}`
	r := do(t, ts, "POST", "/api/v1/resources", big)
	mustStatus(t, r, 413)
	if r.errCode() != api.CodeBadRequest {
		t.Fatalf("body limit: %s", r.raw)
	}
}
