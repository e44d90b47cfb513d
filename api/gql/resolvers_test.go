package gql_test

import (
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
)

const pingPong = `mutation($id: ID) { createWorkflow(input: {
  id: $id, name: "Ping", states: ["ping", "pong", "done"],
  activities: [
    { id: "hit", fromStates: ["ping"], toState: "pong", conditions: [{ field: "score", operator: "greater_than", value: 8 }] }
    { id: "finish", fromStates: ["pong"], toState: "done" }
  ] }) { id version initialState terminalStates } }`

func TestWorkflowAndResources(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "acme", pingPong, map[string]any{"id": "pp"})

	r := e.gql(t, "acme", pingPong, map[string]any{"id": "pp"})
	if r.code(0) != "CONFLICT" {
		t.Fatalf("duplicate id: %+v", r.Errors)
	}

	r = e.gql(t, "acme", `mutation { createWorkflow(input: {name: "Bad", states: ["a", "b"], activities: [{id: "go", fromStates: ["a"], toState: "x"}]}) { id } }`, nil)
	if r.code(0) != "VALIDATION" {
		t.Fatalf("bad workflow: %+v", r.Errors)
	}
	probs, _ := r.Errors[0].Extensions["problems"].([]any)
	if len(probs) == 0 || dig(probs, 0, "path") != "input.activities[0].toState" {
		t.Fatalf("problems = %v", r.Errors[0].Extensions)
	}

	res := e.ok(t, "acme", `mutation { executeWorkflow(workflowId: "pp", resourceId: "r1", input: {score: 3}) { id state data } }`, nil)
	if dig(res, "executeWorkflow", "state") != "ping" || dig(res, "executeWorkflow", "data", "score") != 3.0 {
		t.Fatalf("resource = %v", res)
	}
	r = e.gql(t, "acme", `mutation { executeActivity(resourceId: "r1", activityId: "hit") { toState } }`, nil)
	if r.code(0) != "FAILED_PRECONDITION" || r.Errors[0].Extensions["trace"] == nil {
		t.Fatalf("conditions failed: %+v", r.Errors)
	}
	r = e.gql(t, "acme", `mutation { executeActivity(resourceId: "r1", activityId: "nope") { toState } }`, nil)
	if r.code(0) != "NOT_FOUND" {
		t.Fatalf("unknown activity: %+v", r.Errors)
	}
	act := `mutation($d: JSON) { executeActivity(resourceId: "r1", activityId: "hit", data: $d, idempotencyKey: "k1") { fromState toState replayed resource { state data } } }`
	out := e.ok(t, "acme", act, map[string]any{"d": map[string]any{"score": 9}})
	if dig(out, "executeActivity", "toState") != "pong" || dig(out, "executeActivity", "resource", "data", "score") != 9.0 {
		t.Fatalf("fire = %v", out)
	}
	if out := e.ok(t, "acme", act, map[string]any{"d": map[string]any{"score": 9}}); dig(out, "executeActivity", "replayed") != true {
		t.Fatalf("retry not replayed: %v", out)
	}
	r = e.gql(t, "acme", `mutation { executeActivity(resourceId: "r1", activityId: "hit", data: [1]) { toState } }`, nil)
	if r.code(0) != "VALIDATION" || !strings.Contains(r.Errors[0].Message, "data") {
		t.Fatalf("array data: %+v", r.Errors)
	}

	q := e.ok(t, "acme", `{ resource(id: "r1") { state history { type fromState toState activity } }
	  resources(workflowId: "pp", state: "pong", first: 10) { id }
	  workflow(id: "pp") { resourceCounts { state count } }
	  events(stream: "resource-r1") { type revision } }`, nil)
	if dig(q, "resource", "state") != "pong" || dig(q, "resource", "history", 1, "activity") != "hit" {
		t.Fatalf("resource = %v", q)
	}
	if dig(q, "resources", 0, "id") != "r1" || dig(q, "workflow", "resourceCounts", 0, "state") != "pong" {
		t.Fatalf("lists = %v", q)
	}
	if dig(q, "events", 1, "type") != "StateChanged" {
		t.Fatalf("events = %v", q["events"])
	}

	up := e.ok(t, "acme", `mutation { updateWorkflow(id: "pp", input: {name: "Ping 2", states: ["ping", "pong", "done"], activities: [{id: "hit", fromStates: ["ping"], toState: "pong"}, {id: "finish", fromStates: ["pong"], toState: "done"}]}) { version } }`, nil)
	if dig(up, "updateWorkflow", "version") != 2.0 {
		t.Fatalf("update = %v", up)
	}
	if v := e.ok(t, "acme", `{ workflow(id: "pp", version: 1) { name } }`, nil); dig(v, "workflow", "name") != "Ping" {
		t.Fatalf("v1 = %v", v)
	}
}

func TestRules(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	r := e.gql(t, "", `mutation { createRule(input: {name: "x", conditions: [{field: "a", operator: "greter_than", value: 1}]}) { id } }`, nil)
	if r.code(0) != "VALIDATION" || dig(r.Errors[0].Extensions["problems"], 0, "path") != "input.conditions[0].operator" {
		t.Fatalf("bad operator: %+v", r.Errors)
	}
	r = e.gql(t, "", `mutation { createRule(input: {name: "x", definition: {conditions: [{field: "a", operator: "matches", value: "("}]}}) { id } }`, nil)
	if r.code(0) != "VALIDATION" || dig(r.Errors[0].Extensions["problems"], 0, "path") != "input.definition.conditions[0].value" {
		t.Fatalf("bad regexp: %+v", r.Errors)
	}
	e.ok(t, "", `mutation { createRule(input: {id: "big", name: "Big", type: "simple", conditions: [{field: "total", operator: "greater_than", value: 100}], actions: [{type: "flag"}]}) { id } }`, nil)
	ev := e.ok(t, "", `{ evaluateRule(id: "big", data: {total: 50}) { matched trace { field actual result } } }`, nil)
	if dig(ev, "evaluateRule", "matched") != false || dig(ev, "evaluateRule", "trace", 1, "actual") != 50.0 {
		t.Fatalf("evaluate = %v", ev)
	}
	up := e.ok(t, "", `mutation { updateRule(id: "big", input: {name: "Big", conditions: [{field: "total", operator: "greater_than", value: 10}]}) { version } }`, nil)
	if dig(up, "updateRule", "version") != 2.0 {
		t.Fatalf("update = %v", up)
	}
	if ev := e.ok(t, "", `{ evaluateRule(id: "big", data: {total: 50}) { matched } }`, nil); dig(ev, "evaluateRule", "matched") != true {
		t.Fatalf("evaluate v2 = %v", ev)
	}
	inline := e.ok(t, "", `{ evaluateRule(definition: {conditions: [{field: "x", operator: "in", value: [1, 2]}]}, data: {x: 2}) { matched } }`, nil)
	if dig(inline, "evaluateRule", "matched") != true {
		t.Fatalf("inline = %v", inline)
	}
	e.ok(t, "", `mutation { deleteRule(id: "big") { id status } }`, nil)
	if r := e.gql(t, "", `{ rule(id: "big") { id } }`, nil); r.code(0) != "NOT_FOUND" {
		t.Fatalf("deleted rule: %+v %v", r.Errors, r.Data)
	}
	if l := e.ok(t, "", `{ rules { id } }`, nil); len(l["rules"].([]any)) != 0 {
		t.Fatalf("rules = %v", l)
	}
}

// TestTenancy checks that tenant B sees none of tenant A's objects.
func TestTenancy(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	e.ok(t, "a", `mutation { createResource(workflowId: "wa", resourceId: "ra", input: {score: 9}) { id } }`, nil)
	e.ok(t, "a", `mutation { createRule(input: {id: "rule-a", name: "A", conditions: [{field: "x", operator: "exists"}]}) { id } }`, nil)

	for _, q := range []string{
		`{ workflow(id: "wa") { id } }`,
		`{ resource(id: "ra") { id } }`,
		`{ resourceHistory(id: "ra") { type } }`,
		`{ rule(id: "rule-a") { id } }`,
		`{ evaluateRule(id: "rule-a", data: {}) { matched } }`,
		`mutation { executeActivity(resourceId: "ra", activityId: "hit") { toState } }`,
		`mutation { createResource(workflowId: "wa") { id } }`,
		`mutation { updateWorkflow(id: "wa", input: {name: "x", states: ["a"]}) { id } }`,
		`mutation { updateRule(id: "rule-a", input: {name: "x", conditions: []}) { id } }`,
		`mutation { deleteRule(id: "rule-a") { id } }`,
	} {
		r := e.gql(t, "b", q, nil)
		if r.code(0) != "NOT_FOUND" || strings.Contains(strings.ToLower(r.Errors[0].Message), "tenant") {
			t.Errorf("%s as b: %+v", q, r.Errors)
		}
		for _, v := range r.Data {
			if v != nil {
				t.Errorf("%s as b leaked %v", q, r.Data)
			}
		}
	}
	lists := e.ok(t, "b", `{ workflows { id } rules { id } resources { id } events(limit: 1000) { id } }`, nil)
	for k, v := range lists {
		if len(v.([]any)) != 0 {
			t.Errorf("b's %s = %v", k, v)
		}
	}
	if l := e.ok(t, "a", `{ workflows { id } events { id } }`, nil); len(l["workflows"].([]any)) != 1 || len(l["events"].([]any)) != 3 {
		t.Errorf("a's lists = %v", l)
	}
	// The resource is still where tenant a left it.
	if r := e.ok(t, "a", `{ resource(id: "ra") { state } }`, nil); dig(r, "resource", "state") != "ping" {
		t.Errorf("a's resource = %v", r)
	}
}
