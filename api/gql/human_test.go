package gql_test

import (
	"context"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
)

// runAutomation runs the automation of e's system until the test ends.
func runAutomation(t *testing.T, e *env) {
	t.Helper()
	a := actors.NewAutomation(e.sys, actors.AutomationOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("automation: %v", err)
		}
	})
}

// poll runs query until check accepts its data, failing after a generous
// deadline.
func (e *env) poll(t *testing.T, query string, check func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := e.ok(t, "acme", query, nil)
		if check(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v", query, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const reviewWorkflow = `mutation { createWorkflow(input: {
  id: "review", name: "Review", states: ["draft", "review", "decided", "approved", "rejected", "escalated"],
  activities: [
    { id: "submit", fromStates: ["draft"], toState: "review" }
    { id: "decide", fromStates: ["review"], toState: "decided", auto: true,
      waitForHuman: { prompt: "Approve?", timeoutSeconds: 3600, timeoutActivity: "escalate" } }
    { id: "escalate", fromStates: ["review"], toState: "escalated" }
    { id: "approve", fromStates: ["decided"], toState: "approved", auto: true,
      conditions: [{ field: "decide.approved", operator: "equals", value: true }] }
    { id: "reject", fromStates: ["decided"], toState: "rejected", auto: true }
  ] }) { activities { id auto waitForHuman { prompt timeoutSeconds timeoutActivity } } } }`

func TestResumeResource(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	runAutomation(t, e)
	wf := e.ok(t, "acme", reviewWorkflow, nil)
	if dig(wf, "createWorkflow", "activities", 1, "auto") != true ||
		dig(wf, "createWorkflow", "activities", 1, "waitForHuman", "timeoutActivity") != "escalate" ||
		dig(wf, "createWorkflow", "activities", 0, "waitForHuman") != nil {
		t.Fatalf("workflow = %v", wf)
	}
	e.ok(t, "acme", `mutation { createResource(workflowId: "review", resourceId: "doc") { id } }`, nil)
	fired := e.ok(t, "acme", `mutation { executeActivity(resourceId: "doc", activityId: "submit") { toState waitId agentRunId } }`, nil)
	if dig(fired, "executeActivity", "toState") != "review" || dig(fired, "executeActivity", "waitId") != nil {
		t.Fatalf("submit = %v", fired)
	}
	p := e.poll(t, `{ parkedResources { resourceId wait { id activity prompt deadline agentRunId } resource { state } } }`,
		func(d map[string]any) bool { return dig(d, "parkedResources", 0) != nil })
	if dig(p, "parkedResources", 0, "resourceId") != "doc" || dig(p, "parkedResources", 0, "wait", "prompt") != "Approve?" ||
		dig(p, "parkedResources", 0, "wait", "deadline") == nil || dig(p, "parkedResources", 0, "resource", "state") != "review" {
		t.Fatalf("parked = %v", p)
	}
	waitID := dig(p, "parkedResources", 0, "wait", "id")
	if r := e.ok(t, "acme", `{ resource(id: "doc") { parked { id activity } agentRuns { runId } } }`, nil); dig(r, "resource", "parked", "id") != waitID {
		t.Fatalf("resource = %v", r)
	}
	if r := e.ok(t, "other", `{ parkedResources { resourceId } }`, nil); len(r["parkedResources"].([]any)) != 0 {
		t.Fatalf("another tenant sees %v", r)
	}
	r := e.gql(t, "acme", `mutation { executeActivity(resourceId: "doc", activityId: "escalate") { toState } }`, nil)
	if r.code(0) != "FAILED_PRECONDITION" {
		t.Fatalf("fire while parked: %+v", r.Errors)
	}
	r = e.gql(t, "acme", `mutation { resumeResource(resourceId: "doc", answer: "x", waitId: "nope") { toState } }`, nil)
	if r.code(0) != "FAILED_PRECONDITION" {
		t.Fatalf("resume of another wait: %+v", r.Errors)
	}
	r = e.gql(t, "other", `mutation { resumeResource(resourceId: "doc", answer: "x") { toState } }`, nil)
	if r.code(0) != "NOT_FOUND" {
		t.Fatalf("another tenant's resume: %+v", r.Errors)
	}

	res := e.ok(t, "acme", `mutation($w: ID) { resumeResource(resourceId: "doc", answer: {approved: true}, waitId: $w) {
	  fromState toState waitId replayed resource { data } } }`, map[string]any{"w": waitID})
	if dig(res, "resumeResource", "toState") != "decided" || dig(res, "resumeResource", "waitId") != waitID ||
		dig(res, "resumeResource", "resource", "data", "decide", "approved") != true {
		t.Fatalf("resume = %v", res)
	}
	e.poll(t, `{ resource(id: "doc") { state parked { id } } parkedResources { resourceId } }`, func(d map[string]any) bool {
		return dig(d, "resource", "state") == "approved" && dig(d, "resource", "parked") == nil && len(d["parkedResources"].([]any)) == 0
	})
	r = e.gql(t, "acme", `mutation { resumeResource(resourceId: "doc", answer: "again") { toState } }`, nil)
	if r.code(0) != "FAILED_PRECONDITION" {
		t.Fatalf("resume when not parked: %+v", r.Errors)
	}
}

func TestAgentTransitionsInput(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	wf := e.ok(t, "acme", `mutation { createWorkflow(input: {
	  name: "Pipeline", states: ["topic", "researched", "written"],
	  agentTransitions: [
	    { from: "topic", to: "researched", agentId: "researcher" }
	    { id: "write", from: "researched", to: "written", agentId: "writer", outputKey: "draft" }
	  ] }) { activities { id fromStates toState agentConfig { agentId auto outputKey } } } }`, nil)
	if dig(wf, "createWorkflow", "activities", 0, "id") != "topic_to_researched" ||
		dig(wf, "createWorkflow", "activities", 0, "agentConfig", "auto") != true ||
		dig(wf, "createWorkflow", "activities", 1, "agentConfig", "outputKey") != "draft" {
		t.Fatalf("workflow = %v", wf)
	}
	r := e.gql(t, "acme", `mutation { createWorkflow(input: {name: "Bad", states: ["a", "b"],
	  agentTransitions: [{ from: "a", to: "c", agentId: "" }] }) { id } }`, nil)
	if r.code(0) != "VALIDATION" {
		t.Fatalf("bad transition: %+v", r.Errors)
	}
	probs, _ := r.Errors[0].Extensions["problems"].([]any)
	if len(probs) != 2 || dig(probs, 0, "path") != "input.agentTransitions[0].to" || dig(probs, 1, "path") != "input.agentTransitions[0].agentId" {
		t.Fatalf("problems = %v", probs)
	}
}

func TestAgentActivityResult(t *testing.T) {
	// No LLM: the run starts, then fails at its first model call, and the
	// failure is recorded on the resource, which stays where it is.
	e := newEnv(t, gql.Limits{})
	runAutomation(t, e)
	e.ok(t, "acme", `mutation { createAgent(input: {name: "Classifier", model: "gpt-4o"}) { id } }`, nil)
	e.ok(t, "acme", `mutation { createWorkflow(input: {id: "triage", name: "Triage", states: ["new", "done"],
	  activities: [{ id: "classify", fromStates: ["new"], toState: "done", agentConfig: { agentId: "classifier" } }] }) { id } }`, nil)
	e.ok(t, "acme", `mutation { createResource(workflowId: "triage", resourceId: "t1") { id } }`, nil)
	out := e.ok(t, "acme", `mutation { executeActivity(resourceId: "t1", activityId: "classify") { fromState toState agentRunId waitId } }`, nil)
	run, _ := dig(out, "executeActivity", "agentRunId").(string)
	if run == "" || dig(out, "executeActivity", "toState") != "new" || dig(out, "executeActivity", "waitId") != nil {
		t.Fatalf("executeActivity = %v", out)
	}
	if r := e.ok(t, "acme", `query($id: ID!) { agentRun(id: $id) { id } }`, map[string]any{"id": run}); dig(r, "agentRun", "id") != run {
		t.Fatalf("agentRun = %v", r)
	}
	e.poll(t, `{ resource(id: "t1") { state agentRuns { runId } } events(stream: "resource-t1") { type } }`, func(d map[string]any) bool {
		evs, _ := d["events"].([]any)
		return len(evs) == 3 && dig(evs, 2, "type") == "ResourceActivityFailed" &&
			dig(d, "resource", "state") == "new" && len(dig(d, "resource", "agentRuns").([]any)) == 0
	})
}
