package gql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

type env struct {
	schema *gql.Schema
	srv    *httptest.Server
	sys    *actors.System
	store  *natsjs.Store
	views  *projections.Views
}

// newEnv starts a real embedded store, the actors, the projections and the
// schema behind an HTTP server on a free port. The server puts the tenant
// named by the X-Test-Tenant header into the request's context, as the
// auth middleware will.
func newEnv(t *testing.T, limits gql.Limits) *env {
	t.Helper()
	return newEnvWith(t, gql.Deps{Limits: limits})
}

// newEnvWith is newEnv with more dependencies (System, Runner and Store are
// filled in).
func newEnvWith(t *testing.T, deps gql.Deps) *env {
	t.Helper()
	store := natsjstest.Open(t, "")
	sys := actors.New(store, actors.Options{})
	runner := projections.NewRunner(store, nil, projections.NewViews(), projections.RunnerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	deps.System, deps.Runner, deps.Store = sys, runner, store
	schema, err := gql.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tenant := r.Header.Get("X-Test-Tenant"); tenant != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Tenant: tenant, Subject: "test", Method: "apikey"}))
		}
		schema.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
		_ = sys.Stop(context.Background())
	})
	return &env{schema: schema, srv: hs, sys: sys, store: store, views: runner.Views()}
}

type gqlResp struct {
	Status int
	Header http.Header
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r *gqlResp) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	c, _ := r.Errors[i].Extensions["code"].(string)
	return c
}

// post sends a raw body; tenant may be empty (anonymous).
func (e *env) post(t *testing.T, tenant, contentType string, body []byte, accept string) *gqlResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if tenant != "" {
		req.Header.Set("X-Test-Tenant", tenant)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) *gqlResp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &gqlResp{Status: res.StatusCode, Header: res.Header}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", res.StatusCode, err, b)
	}
	return out
}

// gql runs a query with variables as tenant.
func (e *env) gql(t *testing.T, tenant, query string, vars map[string]any) *gqlResp {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return e.post(t, tenant, "application/json", b, "")
}

// ok runs a query that must succeed and returns its data.
func (e *env) ok(t *testing.T, tenant, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := e.gql(t, tenant, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	return r.Data
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dig walks data by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
