package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

var acme = actors.Caller{Tenant: "acme", Actor: "test"}

// runRunner starts r and returns a stop function that waits for it.
func runRunner(t *testing.T, r *projections.Runner) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("runner: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// drive creates a workflow and moves resources around; it returns the
// position of the last event.
func drive(t *testing.T, sys *actors.System) uint64 {
	ctx := context.Background()
	def, err := sys.Workflows.Create(ctx, acme, workflow.Definition{
		Name:   "Ping Pong",
		States: []string{"ping", "pong", "done"},
		Activities: []workflow.Activity{
			{ID: "hit", FromStates: []string{"ping"}, ToState: "pong"},
			{ID: "back", FromStates: []string{"pong"}, ToState: "ping"},
			{ID: "finish", FromStates: []string{"pong"}, ToState: "done"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("r-%d", i)
		if _, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: id, WorkflowID: def.ID, Data: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
		for j, act := range []string{"hit", "back", "hit", "finish"}[:i%5] {
			tr, err := sys.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: id, ActivityID: act, Input: map[string]any{"step": j}})
			if err != nil {
				t.Fatal(err)
			}
			last = tr.Position
		}
	}
	def.Description = "second version"
	if _, err := sys.Workflows.NewVersion(ctx, acme, def.ID, def); err != nil {
		t.Fatal(err)
	}
	return last
}

func TestReplayEqualsLive(t *testing.T) {
	store := natsjstest.Open(t, t.TempDir())
	sys := actors.New(store, actors.Options{})
	defer sys.Stop(context.Background())
	live := projections.NewViews()
	r := projections.NewRunner(store, nil, live, projections.RunnerOptions{})
	stop := runRunner(t, r)
	drive(t, sys)
	last, _ := store.LastPosition(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	stop()

	rebuilt := projections.NewViews()
	var calls int
	st, err := projections.Rebuild(context.Background(), store, nil, rebuilt, func(done, total uint64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != last || calls == 0 {
		t.Fatalf("rebuild applied %d events (%d progress calls), log has %d", st.Events, calls, last)
	}
	a, _ := live.MarshalJSON()
	b, _ := rebuilt.MarshalJSON()
	if !bytes.Equal(a, b) {
		t.Fatalf("rebuilt views differ from live ones:\nlive:    %s\nrebuilt: %s", a, b)
	}
	// The views answer what the actors know.
	h, ok, err := projections.History(context.Background(), store, "acme", "r-4")
	if err != nil || !ok || len(h) != 5 || h[4].To != "done" || h[4].From != "pong" || h[0].Type != events.TypeResourceCreated {
		t.Fatalf("history of r-4 = %+v, %v, %v", h, ok, err)
	}
	if _, ok, _ := projections.History(context.Background(), store, "other", "r-4"); ok {
		t.Fatal("history visible to another tenant")
	}
	if _, ok, _ := projections.History(context.Background(), store, "acme", "nope"); ok {
		t.Fatal("history of a missing resource")
	}
	done := live.Resources("acme", projections.ResourceFilter{State: "done"})
	if len(done) != 2 {
		t.Fatalf("%d resources done, want 2 (r-4, r-9)", len(done))
	}
	wfs := live.Workflows("acme")
	if len(wfs) != 1 || wfs[0].Version != 2 || wfs[0].Counts["done"] != 2 {
		t.Fatalf("workflows = %+v", wfs)
	}
}

func TestCheckpointResume(t *testing.T) {
	store := natsjstest.Open(t, t.TempDir())
	sys := actors.New(store, actors.Options{})
	defer sys.Stop(context.Background())
	views := projections.NewViews()
	r := projections.NewRunner(store, store, views, projections.RunnerOptions{CheckpointEvery: time.Hour})
	stop := runRunner(t, r)
	drive(t, sys)
	last, _ := store.LastPosition(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	stop() // saves the final checkpoint

	// More events after the checkpoint.
	if _, err := sys.Fire(context.Background(), actors.FireActivity{Caller: acme, ResourceID: "r-1", ActivityID: "back"}); err != nil {
		t.Fatal(err)
	}
	resumed := projections.NewViews()
	r2 := projections.NewRunner(store, store, resumed, projections.RunnerOptions{})
	runRunner(t, r2)
	last2, _ := store.LastPosition(context.Background())
	if err := r2.WaitFor(ctx, last2); err != nil {
		t.Fatal(err)
	}
	if !r2.CaughtUp() {
		t.Fatal("runner not caught up")
	}
	got, ok := resumed.Resource("acme", "r-1")
	if !ok || got.State != "ping" || got.Revision != 3 {
		t.Fatalf("r-1 after resume = %+v", got)
	}
	fresh := projections.NewViews()
	if _, err := projections.Rebuild(context.Background(), store, nil, fresh, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := resumed.MarshalJSON()
	b, _ := fresh.MarshalJSON()
	if !bytes.Equal(a, b) {
		t.Fatal("views resumed from a checkpoint differ from a full replay")
	}
	_ = events.Any
}
