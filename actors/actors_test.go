package actors_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

var acme = actors.Caller{Tenant: "acme", Actor: "test"}

func newSystem(t testing.TB, store events.Store, o actors.Options) *actors.System {
	t.Helper()
	sys := actors.New(store, o)
	t.Cleanup(func() { _ = sys.Stop(context.Background()) })
	return sys
}

// approval is the seed's Document Approval workflow plus a way back, so
// that activities can fire forever.
func approval() workflow.Definition {
	return workflow.Definition{
		Name:   "Document Approval",
		States: []string{"submitted", "under_review", "approved"},
		Activities: []workflow.Activity{
			{ID: "start_review", FromStates: []string{"submitted"}, ToState: "under_review"},
			{ID: "send_back", FromStates: []string{"under_review"}, ToState: "submitted"},
			{ID: "approve_document", FromStates: []string{"under_review"}, ToState: "approved",
				Conditions: []rules.Condition{{Field: "score", Operator: "greater_than", Value: 8}}},
		},
	}
}

func setup(t *testing.T, o actors.Options) (*actors.System, events.Store, string) {
	store := natsjstest.Open(t, "")
	sys := newSystem(t, store, o)
	def, err := sys.Workflows.Create(context.Background(), acme, approval())
	if err != nil {
		t.Fatal(err)
	}
	return sys, store, def.ID
}

func TestResourceLifecycle(t *testing.T) {
	sys, _, wf := setup(t, actors.Options{})
	ctx := context.Background()
	r, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "doc-1", WorkflowID: wf, Data: map[string]any{"title": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "submitted" || r.Revision != 1 || r.WorkflowVersion != 1 {
		t.Fatalf("created %+v", r)
	}
	if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "doc-1", WorkflowID: wf}); !errors.Is(err, actors.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	tr, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "start_review"})
	if err != nil || tr.From != "submitted" || tr.To != "under_review" || tr.Revision != 2 {
		t.Fatalf("fire = %+v, %v", tr, err)
	}
	_, err = sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "approve_document", Input: map[string]any{"score": 5}})
	var cf *workflow.ConditionsFailedError
	if !errors.As(err, &cf) {
		t.Fatalf("approve with score 5: %v, want conditions failed", err)
	}
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "start_review"}); err == nil {
		t.Fatal("start_review from under_review accepted")
	}
	tr, err = sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-1", ActivityID: "approve_document", Input: map[string]any{"score": 9}})
	if err != nil || tr.To != "approved" {
		t.Fatalf("approve = %+v, %v", tr, err)
	}
	r, err = sys.Resource(ctx, acme, "doc-1")
	if err != nil || r.State != "approved" || r.Data["score"] != float64(9) && r.Data["score"] != 9 || r.Data["title"] != "x" {
		t.Fatalf("resource = %+v, %v", r, err)
	}
	if _, err := sys.Resource(ctx, actors.Caller{Tenant: "other"}, "doc-1"); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("other tenant read: %v, want not found", err)
	}
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: actors.Caller{Tenant: "other"}, ResourceID: "doc-1", ActivityID: "send_back"}); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("other tenant fire: %v, want not found", err)
	}
	if _, err := sys.Resource(ctx, acme, "nope"); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("missing resource: %v", err)
	}
}

func TestIdempotentFire(t *testing.T) {
	sys, store, wf := setup(t, actors.Options{})
	ctx := context.Background()
	if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "doc-2", WorkflowID: wf, IdempotencyKey: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "doc-2", WorkflowID: wf, IdempotencyKey: "c1"}); err != nil {
		t.Fatalf("retried create: %v", err)
	}
	first, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-2", ActivityID: "start_review", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-2", ActivityID: "start_review", IdempotencyKey: "k1"})
	if err != nil || !again.Replayed || again.Revision != first.Revision {
		t.Fatalf("retry = %+v, %v; want first result %+v", again, err, first)
	}
	evs, _ := store.ReadStream(ctx, events.ResourceStream("acme", "doc-2"), 0, 0)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2 (created + one transition)", len(evs))
	}
}

func TestPassivationAndSnapshots(t *testing.T) {
	sys, _, wf := setup(t, actors.Options{PassivateAfter: 50 * time.Millisecond, SnapshotEvery: 3})
	ctx := context.Background()
	if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "doc-3", WorkflowID: wf}); err != nil {
		t.Fatal(err)
	}
	acts := []string{"start_review", "send_back"}
	for i := 0; i < 10; i++ {
		if _, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "doc-3", ActivityID: acts[i%2], Input: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for sys.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("resource actor never passivated")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := sys.Resource(ctx, acme, "doc-3")
	if err != nil || r.Revision != 11 || r.State != "submitted" || r.Data["i"] != float64(9) {
		t.Fatalf("reactivated = %+v, %v", r, err)
	}
}

// TestConcurrentFiringOneResource fires from 100 goroutines at one resource
// and checks the history: every acknowledged transition is there once, and
// each starts where the previous one ended.
func TestConcurrentFiringOneResource(t *testing.T) {
	sys, store, wf := setup(t, actors.Options{})
	testConcurrentFiring(t, []*actors.System{sys}, store, wf)
}

// TestConcurrentFiringTwoNodes runs two actor systems on one store, as two
// nodes would during a membership change: both activate the resource, and
// the store's expected revision keeps the history linear.
func TestConcurrentFiringTwoNodes(t *testing.T) {
	sys, store, wf := setup(t, actors.Options{})
	other := newSystem(t, store, actors.Options{})
	testConcurrentFiring(t, []*actors.System{sys, other}, store, wf)
}

func testConcurrentFiring(t *testing.T, nodes []*actors.System, store events.Store, wf string) {
	ctx := context.Background()
	if _, err := nodes[0].CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "hot", WorkflowID: wf}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[uint64]actors.Transition{}
	var wg sync.WaitGroup
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sys := nodes[g%len(nodes)]
			for i := 0; i < 5; i++ {
				act := []string{"start_review", "send_back"}[(g+i)%2]
				tr, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "hot", ActivityID: act, IdempotencyKey: fmt.Sprintf("%d-%d", g, i)})
				var ws *workflow.WrongStateError
				switch {
				case err == nil:
					mu.Lock()
					if _, dup := acked[tr.Revision]; dup {
						t.Errorf("revision %d acknowledged twice", tr.Revision)
					}
					acked[tr.Revision] = tr
					mu.Unlock()
				case errors.As(err, &ws), errors.Is(err, actors.ErrBusy):
				default:
					t.Errorf("fire: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	evs, err := store.ReadStream(ctx, events.ResourceStream("acme", "hot"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs)-1 != len(acked) {
		t.Fatalf("history has %d transitions, %d were acknowledged", len(evs)-1, len(acked))
	}
	state := "submitted"
	for _, e := range evs[1:] {
		var sc events.StateChanged
		if err := e.Decode(&sc); err != nil {
			t.Fatal(err)
		}
		if sc.From != state {
			t.Fatalf("revision %d moves from %s, resource was in %s", e.Revision, sc.From, state)
		}
		if a := acked[e.Revision]; a.To != sc.To || a.Position != e.Position {
			t.Fatalf("revision %d: stored %+v, acknowledged %+v", e.Revision, sc, a)
		}
		state = sc.To
	}
	if len(acked) == 0 {
		t.Fatal("no transition acknowledged")
	}
}

func TestWorkflowVersions(t *testing.T) {
	sys, _, wf := setup(t, actors.Options{})
	ctx := context.Background()
	if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "v1-doc", WorkflowID: wf}); err != nil {
		t.Fatal(err)
	}
	same, err := sys.Workflows.NewVersion(ctx, acme, wf, approval())
	if err != nil || same.Version != 1 {
		t.Fatalf("unchanged definition stored as version %d, %v; want version 1 kept", same.Version, err)
	}
	changed := approval()
	changed.Activities = changed.Activities[:2] // drop approve_document
	v2, err := sys.Workflows.NewVersion(ctx, acme, wf, changed)
	if err != nil || v2.Version != 2 {
		t.Fatalf("new version = %d, %v", v2.Version, err)
	}
	if _, err := sys.Workflows.NewVersion(ctx, actors.Caller{Tenant: "other"}, wf, changed); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("other tenant's new version: %v, want not found", err)
	}
	// The old resource stays on version 1, which still has approve_document.
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "v1-doc", ActivityID: "start_review"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "v1-doc", ActivityID: "approve_document", Input: map[string]any{"score": 10}}); err != nil {
		t.Fatalf("v1 resource lost its version's activity: %v", err)
	}
	r, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: "v2-doc", WorkflowID: wf})
	if err != nil || r.WorkflowVersion != 2 {
		t.Fatalf("new resource on version %d, %v; want 2", r.WorkflowVersion, err)
	}
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: "v2-doc", ActivityID: "approve_document"}); !errors.Is(err, workflow.ErrUnknownActivity) {
		t.Fatalf("approve_document on v2: %v, want unknown activity", err)
	}
}

// TestIDsPerTenant: two tenants use the same ids without meeting: neither
// learns that the other's exists.
func TestIDsPerTenant(t *testing.T) {
	sys, _, _ := setup(t, actors.Options{})
	ctx := context.Background()
	for _, tenant := range []string{"t1", "t2"} {
		c := actors.Caller{Tenant: tenant, Actor: "test"}
		def := approval()
		def.ID = "shared-wf"
		if _, err := sys.Workflows.Create(ctx, c, def); err != nil {
			t.Fatalf("%s: create workflow: %v", tenant, err)
		}
		if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: c, ResourceID: "shared-doc", WorkflowID: "shared-wf", Data: map[string]any{"owner": tenant}}); err != nil {
			t.Fatalf("%s: create resource: %v", tenant, err)
		}
	}
	if _, err := sys.Fire(ctx, actors.FireActivity{Caller: actors.Caller{Tenant: "t1"}, ResourceID: "shared-doc", ActivityID: "start_review"}); err != nil {
		t.Fatal(err)
	}
	for tenant, state := range map[string]string{"t1": "under_review", "t2": "submitted"} {
		r, err := sys.Resource(ctx, actors.Caller{Tenant: tenant}, "shared-doc")
		if err != nil || r.State != state || r.Data["owner"] != tenant || r.ID != "shared-doc" {
			t.Fatalf("%s sees %+v, %v", tenant, r, err)
		}
	}
}
