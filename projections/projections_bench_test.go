package projections_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// BenchmarkRebuild measures `circuit-breaker replay`: rebuilding the views
// from a log of 50,000 events (5,000 resources, 10 events each).
func BenchmarkRebuild(b *testing.B) {
	const resources, perResource = 5000, 10
	srvDir := b.TempDir()
	store := natsjstest.Open(b, srvDir)
	ctx := context.Background()
	wf, _ := events.NewEvent(events.TypeWorkflowDefined, 1, events.WorkflowDefined{WorkflowID: "wf", Version: 1, Definition: []byte(`{"id":"wf","name":"x","version":1,"states":["a","b"]}`)})
	wf.Tenant = "acme"
	if _, err := store.Append(ctx, events.WorkflowStream("acme", "wf"), events.NoStream, wf); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 64; w++ {
		wg.Go(func() {
			for i := range work {
				id := fmt.Sprintf("r-%d", i)
				evs := make([]events.Event, 0, perResource)
				e, _ := events.NewEvent(events.TypeResourceCreated, 1, events.ResourceCreated{ResourceID: id, WorkflowID: "wf", WorkflowVersion: 1, State: "a", Data: map[string]any{"n": i}})
				evs = append(evs, e)
				for j := 1; j < perResource; j++ {
					from, to := "a", "b"
					if j%2 == 0 {
						from, to = "b", "a"
					}
					e, _ := events.NewEvent(events.TypeStateChanged, 1, events.StateChanged{ResourceID: id, WorkflowID: "wf", Activity: "go", From: from, To: to, Input: map[string]any{"step": j}})
					evs = append(evs, e)
				}
				for k := range evs {
					evs[k].Tenant = "acme"
				}
				if _, err := store.Append(ctx, events.ResourceStream("acme", id), events.NoStream, evs...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for i := 0; i < resources; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.ResetTimer()
	var total uint64
	for i := 0; i < b.N; i++ {
		st, err := projections.Rebuild(ctx, store, nil, projections.NewViews(), nil)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Events
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}
