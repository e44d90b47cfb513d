package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api"
	"github.com/circuit-breaker/circuit-breaker/events"
)

func TestResourceLifecycle(t *testing.T) {
	ts := server(t)
	mustStatus(t, do(t, ts, "POST", "/api/v1/workflows", approvalJSON), 201)

	r := do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"doc-1","data":{"title":"x"}}`)
	mustStatus(t, r, 201)
	if r.body["state"] != "submitted" || r.body["revision"] != 1.0 {
		t.Fatalf("created %s", r.raw)
	}
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"doc-1"}`), 409)
	// Retrying a create with its idempotency key answers the first result.
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"doc-2","idempotencyKey":"k"}`), 201)
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"doc-2"}`, "Idempotency-Key: k"), 201)

	r = do(t, ts, "POST", "/api/v1/resources/doc-1/activities/start_review", ``, "Idempotency-Key: fire-1")
	mustStatus(t, r, 200)
	if r.body["to"] != "under_review" || r.body["revision"] != 2.0 {
		t.Fatalf("fired %s", r.raw)
	}
	r = do(t, ts, "POST", "/api/v1/resources/doc-1/activities/start_review", `{"idempotencyKey":"fire-1"}`)
	mustStatus(t, r, 200)
	if r.body["replayed"] != true {
		t.Fatalf("retry not replayed: %s", r.raw)
	}

	// The history reads its own writes.
	r = do(t, ts, "GET", "/api/v1/resources/doc-1/history", "")
	mustStatus(t, r, 200)
	if h := r.body["history"].([]any); len(h) != 2 || h[1].(map[string]any)["to"] != "under_review" {
		t.Fatalf("history %s", r.raw)
	}

	r = do(t, ts, "POST", "/api/v1/resources/doc-1/activities/approve_document", `{"data":{"score":9}}`)
	mustStatus(t, r, 200)
	r = do(t, ts, "GET", "/api/v1/resources/doc-1", "")
	mustStatus(t, r, 200)
	if r.body["state"] != "approved" || r.body["data"].(map[string]any)["score"] != 9.0 {
		t.Fatalf("resource %s", r.raw)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		r = do(t, ts, "GET", "/api/v1/resources?workflowId=approval&state=approved", "")
		mustStatus(t, r, 200)
		if list := r.body["resources"].([]any); len(list) == 1 && list[0].(map[string]any)["id"] == "doc-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list %s", r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestResourceErrors(t *testing.T) {
	ts := server(t)
	mustStatus(t, do(t, ts, "POST", "/api/v1/workflows", approvalJSON), 201)
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"d"}`), 201)
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
		problem                  string
	}{
		{"malformed json", "POST", "/api/v1/resources", `{"workflowId":`, nil, 400, api.CodeBadRequest, ""},
		{"syntax error", "POST", "/api/v1/resources", "{\n\"workflowId\" \"x\"}", nil, 400, api.CodeBadRequest, ""},
		{"unknown field", "POST", "/api/v1/resources", `{"workflowId":"approval","colour":1}`, nil, 400, api.CodeBadRequest, "colour"},
		{"wrong type", "POST", "/api/v1/resources", `{"workflowId":7}`, nil, 400, api.CodeBadRequest, "workflowId"},
		{"trailing data", "POST", "/api/v1/resources", `{"workflowId":"approval"} {}`, nil, 400, api.CodeBadRequest, ""},
		{"empty body", "POST", "/api/v1/resources", ``, nil, 400, api.CodeBadRequest, ""},
		{"missing workflow id", "POST", "/api/v1/resources", `{"data":{}}`, nil, 422, api.CodeValidation, "workflowId"},
		{"unknown workflow", "POST", "/api/v1/resources", `{"workflowId":"nope"}`, nil, 404, api.CodeNotFound, ""},
		{"bad resource id", "POST", "/api/v1/resources", `{"workflowId":"approval","id":"a b"}`, nil, 400, api.CodeBadRequest, ""},
		{"keys disagree", "POST", "/api/v1/resources/d/activities/start_review", `{"idempotencyKey":"a"}`, []string{"Idempotency-Key: b"}, 422, api.CodeValidation, "idempotencyKey"},
		{"unknown resource", "GET", "/api/v1/resources/nope", ``, nil, 404, api.CodeNotFound, ""},
		{"other tenant", "GET", "/api/v1/resources/d", ``, []string{"X-Tenant: other"}, 404, api.CodeNotFound, ""},
		{"unknown activity", "POST", "/api/v1/resources/d/activities/fly", ``, nil, 404, api.CodeNotFound, ""},
		{"wrong state", "POST", "/api/v1/resources/d/activities/send_back", ``, nil, 409, api.CodeFailedPrecondition, ""},
		{"bad from", "GET", "/api/v1/events?from=-1", ``, nil, 400, api.CodeBadRequest, "from"},
		{"bad stream", "GET", "/api/v1/events?stream=a%20b", ``, nil, 400, api.CodeBadRequest, "stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts, tt.method, tt.path, tt.body, tt.headers...)
			mustStatus(t, r, tt.status)
			if r.errCode() != tt.code {
				t.Fatalf("code %q, want %q: %s", r.errCode(), tt.code, r.raw)
			}
			if tt.problem == "" {
				return
			}
			for _, p := range r.problems() {
				if p.(map[string]any)["path"] == tt.problem {
					return
				}
			}
			t.Fatalf("no problem at %q: %s", tt.problem, r.raw)
		})
	}
	t.Run("conditions fail", func(t *testing.T) {
		mustStatus(t, do(t, ts, "POST", "/api/v1/resources/d/activities/start_review", ``), 200)
		r := do(t, ts, "POST", "/api/v1/resources/d/activities/approve_document", `{"data":{"score":3}}`)
		mustStatus(t, r, 409)
		if r.errCode() != api.CodeFailedPrecondition || !strings.Contains(r.raw, "trace") {
			t.Fatalf("conditions: %s", r.raw)
		}
	})
}

func readEvents(t *testing.T, res *http.Response, n int) []events.Envelope {
	t.Helper()
	sc := bufio.NewScanner(res.Body)
	var out []events.Envelope
	for len(out) < n && sc.Scan() {
		var e events.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestEventFeed(t *testing.T) {
	ts := server(t)
	mustStatus(t, do(t, ts, "POST", "/api/v1/workflows", approvalJSON), 201)
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"d"}`), 201)
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources", `{"workflowId":"approval","id":"x"}`, "X-Tenant: other"), 404)

	r := do(t, ts, "GET", "/api/v1/events", "")
	mustStatus(t, r, 200)
	lines := strings.Split(strings.TrimSpace(r.raw), "\n")
	if len(lines) != 2 || r.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("feed %q", r.raw)
	}
	r = do(t, ts, "GET", "/api/v1/events?stream=resource-d", "")
	if lines := strings.Split(strings.TrimSpace(r.raw), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"ResourceCreated"`) {
		t.Fatalf("stream feed %q", r.raw)
	}
	if r := do(t, ts, "GET", "/api/v1/events", "", "X-Tenant: other"); r.raw != "" {
		t.Fatalf("other tenant sees %q", r.raw)
	}

	// Following: the history, then a live event.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/events?from=2&follow=1", nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := readEvents(t, res, 1)
	if len(first) != 1 || first[0].Position != 2 {
		t.Fatalf("follow history %+v", first)
	}
	mustStatus(t, do(t, ts, "POST", "/api/v1/resources/d/activities/start_review", ``), 200)
	live := readEvents(t, res, 1)
	if len(live) != 1 || live[0].Type != events.TypeStateChanged || live[0].Position != 3 {
		t.Fatalf("follow live %+v", live)
	}
}
