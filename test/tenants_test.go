package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// secretData is in tenant acme's resource: no answer to another tenant may
// contain it.
const secretData = "acme-confidential-7f3a"

// refused checks that r is a GraphQL error with one of codes and no data,
// and that nothing of acme's leaks into it.
func refused(t *testing.T, r gqlResp, codes ...string) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) == 0 || r.hasData() {
		t.Fatalf("want an error and no data, got %d %s", r.Status, r.Body)
	}
	for _, e := range r.Errors {
		if !slices.Contains(codes, e.code()) {
			t.Fatalf("error code %q, want one of %v: %s", e.code(), codes, r.Body)
		}
	}
	noLeak(t, string(r.Body))
}

// noLeak checks that s holds nothing of acme's objects (an error may echo
// the tenant name the caller itself sent).
func noLeak(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, secretData) || strings.Contains(s, "acme rule") {
		t.Fatalf("answer to globex mentions acme's data: %s", s)
	}
}

// unauthenticated checks an HTTP 401 with code UNAUTHENTICATED.
func unauthenticated(t *testing.T, r gqlResp) {
	t.Helper()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if r.Status != http.StatusUnauthorized || json.Unmarshal(r.Body, &body) != nil || body.Error.Code != "UNAUTHENTICATED" {
		t.Fatalf("want 401 UNAUTHENTICATED, got %d %s", r.Status, r.Body)
	}
}

// closedWith runs a graphql-ws (or SSE) subscription that the server must
// refuse at connection level, and returns how it ended.
func closedWith(t *testing.T, o subscribeOpts) (code, status int) {
	t.Helper()
	c := runNode(t, o)
	l := c.next(t)
	if l.Closed == nil {
		t.Fatalf("node %s: want the connection refused, got %s", c.name, l.raw)
	}
	c.wait(t)
	return l.Closed.Code, l.Closed.Status
}

// TestCrossTenant checks tenant isolation through the real server with API
// keys of two tenants: globex reading, mutating or subscribing to acme's
// workflow, resource and rule gets NOT_FOUND or FORBIDDEN and never data;
// requests without a valid key are UNAUTHENTICATED (HTTP 401, WebSocket
// close 4401); a revoked key stops working at once.
func TestCrossTenant(t *testing.T) {
	requireNode(t)
	p := startAuth(t)
	acme, globex := p.createKey(t, "acme"), p.createKey(t, "globex")

	// acme's objects: a workflow, a resource (moved once) and a rule.
	p.gqlOK(t, acme.Secret, `mutation($in: WorkflowInput!) { createWorkflow(input: $in) { id } }`,
		map[string]any{"in": pingPongInput("flow-a")}, nil)
	p.gqlOK(t, acme.Secret, `mutation($d: JSON) { executeWorkflow(workflowId: "flow-a", resourceId: "doc-a", input: $d) { id } }`,
		map[string]any{"d": map[string]any{"secret": secretData}}, nil)
	p.fire(t, acme.Secret, "doc-a", "ping")
	var rule struct {
		CreateRule struct {
			ID string `json:"id"`
		} `json:"createRule"`
	}
	p.gqlOK(t, acme.Secret, `mutation { createRule(input: {name: "acme rule", conditions: [{field: "x", operator: "equals", value: 1}]}) { id } }`, nil, &rule)
	ruleID := rule.CreateRule.ID
	// globex's own workflow.
	p.createPingPong(t, globex.Secret, "flow-g", "doc-g")

	notYours := []string{"NOT_FOUND", "FORBIDDEN"}
	t.Run("globex is refused", func(t *testing.T) {
		tests := []struct {
			name  string
			query string
			vars  map[string]any
			codes []string
		}{
			{"workflow", `{ workflow(id: "flow-a") { id name states } }`, nil, notYours},
			{"workflow version", `{ workflow(id: "flow-a", version: 1) { id name } }`, nil, notYours},
			{"resource", `{ resource(id: "doc-a") { id state data } }`, nil, notYours},
			{"resourceHistory", `{ resourceHistory(id: "doc-a") { revision toState data } }`, nil, notYours},
			{"rule", `query($id: ID!) { rule(id: $id) { id name definition } }`, map[string]any{"id": ruleID}, notYours},
			{"evaluateRule", `query($id: ID!) { evaluateRule(id: $id, data: {x: 1}) { matched } }`, map[string]any{"id": ruleID}, notYours},
			{"executeActivity", `mutation { executeActivity(resourceId: "doc-a", activityId: "return") { toState } }`, nil, notYours},
			{"updateWorkflow", `mutation($in: WorkflowInput!) { updateWorkflow(id: "flow-a", input: $in) { id version } }`,
				map[string]any{"in": pingPongInput("flow-a")}, notYours},
			{"createResource", `mutation { createResource(workflowId: "flow-a", resourceId: "doc-x") { id } }`, nil, notYours},
			{"executeWorkflow", `mutation { executeWorkflow(workflowId: "flow-a") { id } }`, nil, notYours},
			{"updateRule", `mutation($id: ID!) { updateRule(id: $id, input: {name: "mine", conditions: [{field: "x", operator: "equals", value: 2}]}) { id } }`,
				map[string]any{"id": ruleID}, notYours},
			{"deleteRule", `mutation($id: ID!) { deleteRule(id: $id) { id } }`, map[string]any{"id": ruleID}, notYours},
			{"apiKeys", `{ apiKeys(tenant: "acme") { id } }`, nil, notYours},
			{"createApiKey", `mutation { createApiKey(tenant: "acme", name: "steal") { secret } }`, nil, notYours},
			{"revokeApiKey", `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": acme.ID}, notYours},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				refused(t, p.gqlDo(t, globex.Secret, tt.query, tt.vars), tt.codes...)
			})
		}
	})

	t.Run("globex lists none of acme's objects", func(t *testing.T) {
		var out struct {
			Workflows []struct {
				ID string `json:"id"`
			} `json:"workflows"`
			ByWorkflow []json.RawMessage `json:"byWorkflow"`
			Resources  []struct {
				ID string `json:"id"`
			} `json:"resources"`
			Rules []struct {
				ID string `json:"id"`
			} `json:"rules"`
			Stream []json.RawMessage `json:"stream"`
		}
		q := `{ workflows { id } byWorkflow: resources(workflowId: "flow-a") { id } resources { id } rules { id }
		        stream: events(stream: "resource-doc-a") { id } }`
		r := p.gqlDo(t, globex.Secret, q, nil)
		noLeak(t, string(r.Body))
		p.gqlOK(t, globex.Secret, q, nil, &out)
		if len(out.Workflows) != 1 || out.Workflows[0].ID != "flow-g" || len(out.ByWorkflow) != 0 ||
			len(out.Resources) != 1 || out.Resources[0].ID != "doc-g" || len(out.Rules) != 0 || len(out.Stream) != 0 {
			t.Fatalf("globex sees %s", r.Body)
		}
	})

	// The audit log globex sees, by HTTP, and then by subscription.
	var log struct {
		Events []struct {
			Position int    `json:"position"`
			Stream   string `json:"stream"`
		} `json:"events"`
	}
	r := p.gqlDo(t, globex.Secret, `{ events(from: 1, limit: 1000) { position stream data } }`, nil)
	noLeak(t, string(r.Body))
	p.gqlOK(t, globex.Secret, `{ events(from: 1, limit: 1000) { position stream } }`, nil, &log)
	for _, e := range log.Events {
		if strings.HasSuffix(e.Stream, "-a") || strings.Contains(e.Stream, ruleID) {
			t.Fatalf("globex's events include acme's stream %s", e.Stream)
		}
	}
	if len(log.Events) == 0 {
		t.Fatal("globex sees no events of its own")
	}

	t.Run("globex subscriptions", func(t *testing.T) {
		for _, tt := range []struct{ name, query string }{
			{"workflowEvents", `subscription { workflowEvents(workflowId: "flow-a", from: 1) { type resourceId data position } }`},
			{"resourceUpdates", `subscription { resourceUpdates(resourceId: "doc-a", from: 1) { type resourceId data position } }`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := runNode(t, subscribeOpts{Transport: "ws", URL: p.wsURL(), Token: globex.Secret, Query: tt.query, Count: 1})
				l := c.next(t)
				t.Logf("globex got %s", l.raw)
				noLeak(t, l.raw)
				errs := l.Error
				if l.Next != nil {
					errs = l.Next.Errors
					if r := (gqlResp{Data: l.Next.Data}); r.hasData() {
						t.Fatalf("globex got acme's data: %s", l.raw)
					}
				}
				if len(errs) == 0 {
					t.Fatalf("want NOT_FOUND or FORBIDDEN, got %s", l.raw)
				}
				for _, e := range errs {
					if !slices.Contains(notYours, e.code()) {
						t.Fatalf("error code %q, want one of %v: %s", e.code(), notYours, l.raw)
					}
				}
				if l.Next != nil { // an error result may be followed by complete
					if l := c.next(t); !l.Complete && !l.Done {
						t.Fatalf("want complete, got %s", l.raw)
					}
				}
				c.wait(t)
			})
		}

		t.Run("events", func(t *testing.T) {
			// From position 1, globex's subscription yields its own events
			// only: exactly those of its audit log, in order.
			c := runNode(t, subscribeOpts{Transport: "ws", URL: p.wsURL(), Token: globex.Secret,
				Query: `subscription { events(from: 1) { position stream data } }`, Count: len(log.Events)})
			for i, want := range log.Events {
				l := c.next(t)
				noLeak(t, l.raw)
				var got struct {
					Events struct {
						Position int    `json:"position"`
						Stream   string `json:"stream"`
					} `json:"events"`
				}
				if l.Next == nil || len(l.Next.Errors) > 0 || json.Unmarshal(l.Next.Data, &got) != nil ||
					got.Events.Position != want.Position || got.Events.Stream != want.Stream {
					t.Fatalf("event %d: got %s, want %+v", i, l.raw, want)
				}
			}
			c.done(t)
		})

		t.Run("acme itself is served", func(t *testing.T) {
			c := runNode(t, subscribeOpts{Transport: "ws", URL: p.wsURL(), Token: acme.Secret,
				Query: `subscription { resourceUpdates(resourceId: "doc-a", from: 1) { type resourceId data position } }`, Count: 2})
			if l := c.next(t); l.Next == nil || !strings.Contains(l.raw, secretData) {
				t.Fatalf("acme: want its creation event, got %s", l.raw)
			}
			if l := c.next(t); l.Next == nil || !strings.Contains(l.raw, "STATE_CHANGED") {
				t.Fatalf("acme: want its state change, got %s", l.raw)
			}
			c.done(t)
		})
	})

	// Ids are per tenant: globex may use acme's ids for objects of its own,
	// and learns nothing of acme's by doing so.
	t.Run("globex uses the same ids for its own objects", func(t *testing.T) {
		var got struct {
			CreateWorkflow struct {
				ID    string   `json:"id"`
				State []string `json:"states"`
			} `json:"createWorkflow"`
		}
		p.gqlOK(t, globex.Secret, `mutation($in: WorkflowInput!) { createWorkflow(input: $in) { id states } }`,
			map[string]any{"in": pingPongInput("flow-a")}, &got)
		if got.CreateWorkflow.ID != "flow-a" {
			t.Fatalf("globex's flow-a = %+v", got)
		}
		var res struct {
			CreateResource struct {
				ID    string         `json:"id"`
				State string         `json:"state"`
				Data  map[string]any `json:"data"`
			} `json:"createResource"`
		}
		p.gqlOK(t, globex.Secret, `mutation { createResource(workflowId: "flow-g", resourceId: "doc-a", input: {mine: true}) { id state data } }`, nil, &res)
		if res.CreateResource.ID != "doc-a" || res.CreateResource.Data["mine"] != true {
			t.Fatalf("globex's doc-a = %+v", res)
		}
	})

	// Nothing globex did changed acme's objects.
	var state struct {
		Workflow struct {
			Version int `json:"version"`
		} `json:"workflow"`
		Resource struct {
			State    string `json:"state"`
			Revision int    `json:"revision"`
		} `json:"resource"`
		Rule struct {
			Name    string `json:"name"`
			Version int    `json:"version"`
		} `json:"rule"`
		Resources []json.RawMessage `json:"resources"`
	}
	p.gqlOK(t, acme.Secret, `query($r: ID!) { workflow(id: "flow-a") { version } resource(id: "doc-a") { state revision }
	    rule(id: $r) { name version } resources(workflowId: "flow-a") { id } }`, map[string]any{"r": ruleID}, &state)
	if state.Workflow.Version != 1 || state.Resource.State != "pong" || state.Resource.Revision != 2 ||
		state.Rule.Name != "acme rule" || state.Rule.Version != 1 || len(state.Resources) != 1 {
		t.Fatalf("acme's objects changed: %+v", state)
	}

	bogus := "cb_" + strings.Repeat("A", 43)
	t.Run("no key", func(t *testing.T) {
		unauthenticated(t, p.gqlDo(t, "", `{ workflows { id } }`, nil))
		unauthenticated(t, p.gqlDo(t, bogus, `{ workflows { id } }`, nil))
		sub := `subscription { workflowEvents(workflowId: "flow-a", from: 1) { position } }`
		for _, tok := range []string{"", bogus} {
			if code, _ := closedWith(t, subscribeOpts{Transport: "ws", URL: p.wsURL(), Token: tok, Query: sub}); code != 4401 {
				t.Errorf("graphql-ws with token %q: closed %d, want 4401", tok, code)
			}
			if _, status := closedWith(t, subscribeOpts{Transport: "sse", URL: p.base + "/graphql", Token: tok, Query: sub}); status != http.StatusUnauthorized {
				t.Errorf("SSE with token %q: HTTP %d, want 401", tok, status)
			}
		}
	})

	t.Run("revoked key", func(t *testing.T) {
		k := p.createKey(t, "acme")
		p.gqlOK(t, k.Secret, `{ resource(id: "doc-a") { id } }`, nil, nil)
		var out struct {
			RevokeApiKey struct {
				Revoked bool `json:"revoked"`
			} `json:"revokeApiKey"`
		}
		p.gqlOK(t, adminKey, `mutation($id: ID!) { revokeApiKey(id: $id) { revoked } }`, map[string]any{"id": k.ID}, &out)
		if !out.RevokeApiKey.Revoked {
			t.Fatal("revokeApiKey: not revoked")
		}
		unauthenticated(t, p.gqlDo(t, k.Secret, `{ resource(id: "doc-a") { id } }`, nil))
		sub := `subscription { resourceUpdates(resourceId: "doc-a", from: 1) { position } }`
		if code, _ := closedWith(t, subscribeOpts{Transport: "ws", URL: p.wsURL(), Token: k.Secret, Query: sub}); code != 4401 {
			t.Errorf("graphql-ws with a revoked key: closed %d, want 4401", code)
		}
		// The other keys still work.
		p.gqlOK(t, acme.Secret, `{ resource(id: "doc-a") { id } }`, nil, nil)
	})
}
