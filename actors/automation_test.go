package actors_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// node is a System with its Automation running, as serve runs them.
type autoNode struct {
	sys    *actors.System
	auto   *actors.Automation
	cancel context.CancelFunc
	done   chan error
	down   bool
}

// startNode starts a System and its Automation on store; they are stopped
// when the test ends, unless stop was called first.
func startAutoNode(t *testing.T, store events.Store, o actors.Options) *autoNode {
	t.Helper()
	sys := actors.New(store, o)
	n := &autoNode{sys: sys, auto: actors.NewAutomation(sys, actors.AutomationOptions{CheckpointEvery: 20 * time.Millisecond}),
		done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- n.auto.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop stops the automation, then the actors: a whole node going down.
func (n *autoNode) stop(t *testing.T) {
	t.Helper()
	if n.down {
		return
	}
	n.down = true
	n.cancel()
	if err := <-n.done; err != nil {
		t.Errorf("automation: %v", err)
	}
	if err := n.sys.Stop(context.Background()); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// eventually polls cond until it holds, failing the test after a generous
// deadline (never a wall-clock assertion: only a bound on waiting).
func awaitCond(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inState waits until resource id is in state.
func reachState(t *testing.T, sys *actors.System, id, state string) actors.Resource {
	t.Helper()
	var r actors.Resource
	awaitCond(t, fmt.Sprintf("resource %s to reach %s", id, state), func() (bool, string) {
		var err error
		r, err = sys.Resource(context.Background(), acme, id)
		if err != nil {
			return false, err.Error()
		}
		return r.State == state, fmt.Sprintf("in %s at revision %d", r.State, r.Revision)
	})
	return r
}

// types lists the event types of a resource's stream.
func streamTypes(t *testing.T, store events.Store, id string) []string {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), events.ResourceStream("acme", id), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func mustWorkflow(t *testing.T, sys *actors.System, def workflow.Definition) string {
	t.Helper()
	d, err := sys.Workflows.Create(context.Background(), acme, def)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func mustCreate(t *testing.T, sys *actors.System, wf, id string, data map[string]any) {
	t.Helper()
	if _, err := sys.CreateResource(context.Background(), actors.CreateResource{Caller: acme, ResourceID: id, WorkflowID: wf, Data: data}); err != nil {
		t.Fatal(err)
	}
}

func TestAutoActivitiesFollowRules(t *testing.T) {
	store := natsjstest.Open(t, "")
	n := startAutoNode(t, store, actors.Options{})
	wf := mustWorkflow(t, n.sys, workflow.Definition{
		Name:   "Routing",
		States: []string{"new", "billing", "general", "closed"},
		Activities: []workflow.Activity{
			{ID: "route_billing", FromStates: []string{"new"}, ToState: "billing", Auto: true,
				Conditions: []rules.Condition{{Field: "category", Operator: "equals", Value: "billing"}}},
			{ID: "route_general", FromStates: []string{"new"}, ToState: "general", Auto: true},
			{ID: "close", FromStates: []string{"billing"}, ToState: "closed", Auto: true},
			{ID: "reopen", FromStates: []string{"general"}, ToState: "new"},
		},
	})
	tests := []struct {
		name, id  string
		data      map[string]any
		wantState string
		wantTypes []string
	}{
		{"billing then closed", "t-billing", map[string]any{"category": "billing"}, "closed",
			[]string{"ResourceCreated", "StateChanged", "StateChanged"}},
		{"catch-all", "t-other", map[string]any{"category": "shipping"}, "general",
			[]string{"ResourceCreated", "StateChanged"}},
		{"no data", "t-empty", nil, "general", []string{"ResourceCreated", "StateChanged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustCreate(t, n.sys, wf, tt.id, tt.data)
			reachState(t, n.sys, tt.id, tt.wantState)
			if diff := cmp.Diff(tt.wantTypes, streamTypes(t, store, tt.id)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	evs, _ := store.ReadStream(context.Background(), events.ResourceStream("acme", "t-billing"), 2, 1)
	if len(evs) != 1 || evs[0].Actor != actors.AutomationActor {
		t.Errorf("automatic transition recorded as %+v, want actor %q", evs, actors.AutomationActor)
	}
	// A caller's transition into a state with automatic activities is
	// followed too.
	if _, err := n.sys.Fire(context.Background(), actors.FireActivity{Caller: acme, ResourceID: "t-other", ActivityID: "reopen",
		Input: map[string]any{"category": "billing"}}); err != nil {
		t.Fatal(err)
	}
	reachState(t, n.sys, "t-other", "closed")
}

func TestAutoLoopStops(t *testing.T) {
	store := natsjstest.Open(t, "")
	n := startAutoNode(t, store, actors.Options{})
	wf := mustWorkflow(t, n.sys, workflow.Definition{
		Name:   "Ping-pong",
		States: []string{"ping", "pong"},
		Activities: []workflow.Activity{
			{ID: "to_pong", FromStates: []string{"ping"}, ToState: "pong", Auto: true},
			{ID: "to_ping", FromStates: []string{"pong"}, ToState: "ping", Auto: true},
		},
	})
	mustCreate(t, n.sys, wf, "loop", nil)
	var last events.Envelope
	awaitCond(t, "the loop to stop", func() (bool, string) {
		evs, err := store.ReadStream(context.Background(), events.ResourceStream("acme", "loop"), 0, 0)
		if err != nil || len(evs) == 0 {
			return false, fmt.Sprint(err)
		}
		last = evs[len(evs)-1]
		return last.Type == events.TypeResourceActivityFailed, fmt.Sprintf("%d events", len(evs))
	})
	if last.Revision != 2+actors.MaxAutoChain {
		t.Errorf("stopped at revision %d, want %d", last.Revision, 2+actors.MaxAutoChain)
	}
	var f events.ResourceActivityFailed
	if err := last.Decode(&f); err != nil || f.Kind != events.ActivityFailAutoLimit {
		t.Errorf("failure %+v, %v", f, err)
	}
}

// review is a workflow whose resources wait for a human on entering
// "review"; timeout (seconds) fires "escalate" when positive.
func reviewFlow(timeout int) workflow.Definition {
	wait := &workflow.HumanWait{Prompt: "Approve the document?"}
	if timeout > 0 {
		wait.TimeoutSeconds, wait.TimeoutActivity = timeout, "escalate"
	}
	return workflow.Definition{
		Name:   "Review",
		States: []string{"review", "decided", "approved", "rejected", "escalated"},
		Activities: []workflow.Activity{
			{ID: "decide", FromStates: []string{"review"}, ToState: "decided", Auto: true, WaitForHuman: wait},
			{ID: "escalate", FromStates: []string{"review"}, ToState: "escalated"},
			{ID: "approve", FromStates: []string{"decided"}, ToState: "approved", Auto: true,
				Conditions: []rules.Condition{{Field: "decide.approved", Operator: "equals", Value: true}}},
			{ID: "reject", FromStates: []string{"decided"}, ToState: "rejected", Auto: true},
		},
	}
}

// parked waits until resource id is parked and automation lists it.
func parkedOn(t *testing.T, n *autoNode, id string) actors.Wait {
	t.Helper()
	var w actors.Wait
	awaitCond(t, "resource "+id+" to be parked", func() (bool, string) {
		for _, p := range n.sys.Parked("acme") {
			if p.ResourceID == id {
				w = p.Wait
				return true, ""
			}
		}
		return false, fmt.Sprintf("parked: %+v", n.sys.Parked("acme"))
	})
	r, err := n.sys.Resource(context.Background(), acme, id)
	if err != nil || r.Parked == nil || r.Parked.ID != w.ID {
		t.Fatalf("resource %+v, %v; want parked on %q", r, err, w.ID)
	}
	return w
}

func TestHumanWaitSurvivesRestart(t *testing.T) {
	store := natsjstest.Open(t, "")
	ctx := context.Background()
	n := startAutoNode(t, store, actors.Options{})
	wf := mustWorkflow(t, n.sys, reviewFlow(0))
	mustCreate(t, n.sys, wf, "doc-1", map[string]any{"title": "Q3 report"})
	mustCreate(t, n.sys, wf, "doc-2", nil)
	w := parkedOn(t, n, "doc-1")
	parkedOn(t, n, "doc-2")
	if w.Activity != "decide" || w.Prompt != "Approve the document?" || !w.Deadline.IsZero() || w.ID != "decide@1" {
		t.Errorf("wait %+v", w)
	}
	// Parked: nothing else fires; the waiting activity gives the wait.
	_, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "escalate"})
	if !errors.Is(err, actors.ErrWaiting) {
		t.Errorf("fire while parked: %v, want ErrWaiting", err)
	}
	tr, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "decide"})
	if err != nil || tr.WaitID != w.ID || tr.To != "review" {
		t.Errorf("fire the waiting activity = %+v, %v", tr, err)
	}

	n.stop(t) // the whole node goes down; nothing is held for the waits
	n = startAutoNode(t, store, actors.Options{})
	if w2 := parkedOn(t, n, "doc-1"); w2.ID != w.ID {
		t.Errorf("after restart parked on %q, want %q", w2.ID, w.ID)
	}

	tr, err = n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "doc-1", Answer: map[string]any{"approved": true, "note": "fine"}})
	if err != nil || tr.From != "review" || tr.To != "decided" || tr.WaitID != w.ID {
		t.Fatalf("resume = %+v, %v", tr, err)
	}
	r := reachState(t, n.sys, "doc-1", "approved")
	want := map[string]any{"title": "Q3 report", "decide": map[string]any{"approved": true, "note": "fine"}}
	if diff := cmp.Diff(want, r.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if r.Parked != nil {
		t.Errorf("still parked: %+v", r.Parked)
	}
	// A retry naming the wait gets the first result; a new answer is refused.
	again, err := n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "doc-1", WaitID: w.ID, Answer: "x"})
	if err != nil || !again.Replayed || again.To != "decided" {
		t.Errorf("retried resume = %+v, %v", again, err)
	}
	if _, err := n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "doc-1", Answer: "x"}); !errors.Is(err, actors.ErrNotParked) {
		t.Errorf("resume of a resource not parked: %v, want ErrNotParked", err)
	}
	if _, err := n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: actors.Caller{Tenant: "other"}, ResourceID: "doc-2", Answer: "x"}); !errors.Is(err, actors.ErrNotFound) {
		t.Errorf("another tenant's resume: %v, want ErrNotFound", err)
	}

	// The other answer takes the other branch.
	if _, err := n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "doc-2", WaitID: "decide@1", Answer: map[string]any{"approved": false}}); err != nil {
		t.Fatal(err)
	}
	reachState(t, n.sys, "doc-2", "rejected")
	awaitCond(t, "the parked list to empty", func() (bool, string) {
		p := n.sys.Parked("acme")
		return len(p) == 0, fmt.Sprint(p)
	})
	wantTypes := []string{"ResourceCreated", "ResourceParked", "ResourceResumed", "StateChanged", "StateChanged"}
	if diff := cmp.Diff(wantTypes, streamTypes(t, store, "doc-2")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestHumanWaitTimesOut(t *testing.T) {
	store := natsjstest.Open(t, "")
	n := startAutoNode(t, store, actors.Options{})
	wf := mustWorkflow(t, n.sys, reviewFlow(1))
	mustCreate(t, n.sys, wf, "late", nil)
	w := parkedOn(t, n, "late")
	if w.Deadline.IsZero() || w.TimeoutActivity != "escalate" {
		t.Errorf("wait %+v, want a deadline and escalate", w)
	}
	// The node goes down before the deadline; the new one's timer wheel,
	// rebuilt from the checkpoint and the log, fires it.
	n.stop(t)
	n = startAutoNode(t, store, actors.Options{})
	reachState(t, n.sys, "late", "escalated")
	evs, err := store.ReadStream(context.Background(), events.ResourceStream("acme", "late"), 0, 0)
	if err != nil || len(evs) != 4 {
		t.Fatalf("%d events, %v; want created, parked, resumed, changed", len(evs), err)
	}
	var res events.ResourceResumed
	var sc events.StateChanged
	if err := evs[2].Decode(&res); err != nil || !res.TimedOut || res.WaitID != w.ID {
		t.Errorf("resumed %+v, %v", res, err)
	}
	if err := evs[3].Decode(&sc); err != nil || sc.Activity != "escalate" || sc.IdempotencyKey != "timeout:"+w.ID {
		t.Errorf("transition %+v, %v", sc, err)
	}
	if _, err := n.sys.ResumeResource(context.Background(), actors.ResumeResource{Caller: acme, ResourceID: "late", Answer: "too late"}); !errors.Is(err, actors.ErrNotParked) {
		t.Errorf("resume after the timeout: %v, want ErrNotParked", err)
	}
}

func TestFireWaitForHuman(t *testing.T) {
	store := natsjstest.Open(t, "")
	n := startAutoNode(t, store, actors.Options{})
	def := reviewFlow(0)
	def.Activities[0].Auto = false // fired by a caller
	wf := mustWorkflow(t, n.sys, def)
	mustCreate(t, n.sys, wf, "doc", nil)
	ctx := context.Background()
	tr, err := n.sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc", ActivityID: "decide", Input: map[string]any{"by": "ann"}})
	if err != nil || tr.WaitID != "decide@1" || tr.From != "review" || tr.To != "review" || tr.Revision != 2 {
		t.Fatalf("fire = %+v, %v", tr, err)
	}
	tr, err = n.sys.ResumeResource(ctx, actors.ResumeResource{Caller: acme, ResourceID: "doc", Answer: "yes"})
	if err != nil || tr.To != "decided" {
		t.Fatalf("resume = %+v, %v", tr, err)
	}
	r := reachState(t, n.sys, "doc", "rejected")
	if r.Data["by"] != "ann" || r.Data["decide"] != "yes" {
		t.Errorf("data %+v: want the fire's input and the answer", r.Data)
	}
}
