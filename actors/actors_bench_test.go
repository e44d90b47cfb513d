package actors_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
)

// Benchmarks of the actor layer on an embedded store with fsync on every
// write (see bench/run.sh and STYLE.md point 19).

// benchTimeout bounds every benchmark's commands.
const benchTimeout = 5 * time.Minute

// benchWorkflow stores the approval workflow (a two-state cycle
// start_review ⇄ send_back) on sys and returns its id.
func benchWorkflow(b *testing.B, ctx context.Context, sys *actors.System) string {
	b.Helper()
	def, err := sys.Workflows.Create(ctx, acme, approval())
	if err != nil {
		b.Fatal(err)
	}
	return def.ID
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	err, _ := firstErr.Load().(error)
	return err
}

// BenchmarkFire: acknowledged (durable) activity firings per second through
// System.Fire, callers concurrent callers over a fixed set of resources.
// Each caller owns resources {c, c+callers, c+2·callers, …} and fires them
// round robin, alternating start_review and send_back per resource, so no
// firing is rejected and every op is one StateChanged append.
func BenchmarkFire(b *testing.B) {
	const resources = 1024
	for _, callers := range []int{64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
			defer cancel()
			store := natsjstest.Open(b, "")
			sys := newSystem(b, store, actors.Options{})
			wf := benchWorkflow(b, ctx, sys)
			ids := make([]string, resources)
			if err := parallel(resources, 64, func(i int) error {
				ids[i] = fmt.Sprintf("bench-%d", i)
				_, err := sys.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: ids[i], WorkflowID: wf})
				return err
			}); err != nil {
				b.Fatal(err)
			}
			// Per resource: how many times it was fired (its parity picks
			// the activity). Only its owning caller touches it.
			fired := make([]int, resources)
			lat := make([][]time.Duration, callers)
			var next atomic.Int64
			var firstErr atomic.Value
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := lat[c][:0]
					for k := 0; next.Add(1) <= int64(b.N); k++ {
						r := c + (k*callers)%resources
						if r >= resources {
							r = c
						}
						act := [2]string{"start_review", "send_back"}[fired[r]%2]
						start := time.Now()
						_, err := sys.Fire(ctx, actors.FireActivity{
							Caller: acme, ResourceID: ids[r], ActivityID: act,
							IdempotencyKey: fmt.Sprintf("%d-%d", r, fired[r]),
						})
						mine = append(mine, time.Since(start))
						if err != nil {
							firstErr.CompareAndSwap(nil, err)
							break
						}
						fired[r]++
					}
					lat[c] = mine
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err, _ := firstErr.Load().(error); err != nil {
				b.Fatal(err)
			}
			if s := b.Elapsed().Seconds(); s > 0 {
				b.ReportMetric(float64(b.N)/s, "transitions/s")
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(pct(all, 0.50), "p50-ms")
			b.ReportMetric(pct(all, 0.99), "p99-ms")
		})
	}
}

// pct is the q-quantile of sorted durations, in milliseconds.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}

// BenchmarkActivation: time for a fresh System to answer the first
// Resource() call of a resource with 10,000 events, replaying the whole
// stream (snapshot=false) or loading a snapshot at revision 10,000 plus an
// empty tail (snapshot=true).
func BenchmarkActivation(b *testing.B) {
	const total = 10000
	for _, snap := range []bool{false, true} {
		b.Run(fmt.Sprintf("events=%d/snapshot=%t", total, snap), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
			defer cancel()
			store := natsjstest.Open(b, "")
			every := -1
			if snap {
				every = 100
			}
			setup := actors.New(store, actors.Options{SnapshotEvery: every})
			wf := benchWorkflow(b, ctx, setup)
			const id = "big"
			if _, err := setup.CreateResource(ctx, actors.CreateResource{Caller: acme, ResourceID: id, WorkflowID: wf}); err != nil {
				b.Fatal(err)
			}
			// Revisions 2 … total-1 are appended directly in chunks (firing
			// them one by one would take minutes); they are what System.Fire
			// would write, idempotency keys included.
			stream := events.ResourceStream(acme.Tenant, id)
			rev := uint64(1)
			for rev < total-1 {
				chunk := make([]events.Event, 0, natsjs.MaxEventsPerAppend)
				for r := rev; r < total-1 && len(chunk) < cap(chunk); r++ {
					from, to, act := "submitted", "under_review", "start_review"
					if r%2 == 0 { // r+1 is odd: an even number of moves came before
						from, to, act = "under_review", "submitted", "send_back"
					}
					ev, err := events.NewEvent(events.TypeStateChanged, events.StateChangedVersion, events.StateChanged{
						ResourceID: id, WorkflowID: wf, Activity: act, From: from, To: to,
						Input: map[string]any{"n": r}, IdempotencyKey: fmt.Sprintf("k-%d", r+1),
					})
					if err != nil {
						b.Fatal(err)
					}
					ev.Tenant, ev.Actor = acme.Tenant, acme.Actor
					chunk = append(chunk, ev)
				}
				out, err := store.Append(ctx, stream, events.Exact(rev), chunk...)
				if err != nil {
					b.Fatal(err)
				}
				rev = out.LastRevision
			}
			// The last event goes through the actor, which (with
			// SnapshotEvery=100) offers a snapshot at revision total.
			r, err := setup.Resource(ctx, acme, id)
			if err != nil {
				b.Fatal(err)
			}
			act := map[string]string{"submitted": "start_review", "under_review": "send_back"}[r.State]
			if _, err := setup.Fire(ctx, actors.FireActivity{Caller: acme, ResourceID: id, ActivityID: act}); err != nil {
				b.Fatal(err)
			}
			if err := setup.Stop(ctx); err != nil { // waits for the snapshot writer
				b.Fatal(err)
			}
			sn, ok, err := store.LoadSnapshot(ctx, stream)
			switch {
			case err != nil:
				b.Fatal(err)
			case snap && (!ok || sn.Revision != total):
				b.Fatalf("snapshot = %v at revision %d, want one at %d", ok, sn.Revision, total)
			case !snap && ok:
				b.Fatal("a snapshot exists with SnapshotEvery=-1")
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				sys := actors.New(store, actors.Options{SnapshotEvery: every})
				b.StartTimer()
				r, err := sys.Resource(ctx, acme, id)
				b.StopTimer()
				if err != nil || r.Revision != total {
					b.Fatalf("activated at revision %d, %v; want %d", r.Revision, err, total)
				}
				if err := sys.Stop(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkIdleActorMemory activates idle resources (one event each) on a
// fresh System and reports the live heap they add, per actor. Set
// CB_BENCH_HEAPPROFILE=file to write heap profiles (sampling every 4 KiB)
// before (file.base) and while they are resident (file); compare them with
// go tool pprof -diff_base=file.base actors.test file.
// Run it with -benchtime=1x: every op activates all of them.
func BenchmarkIdleActorMemory(b *testing.B) {
	const n = 20000
	if os.Getenv("CB_BENCH_HEAPPROFILE") != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 4096
	}
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	store := natsjstest.Open(b, "")
	setup := actors.New(store, actors.Options{})
	wf := benchWorkflow(b, ctx, setup)
	if err := setup.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	ev, err := events.NewEvent(events.TypeResourceCreated, events.ResourceCreatedVersion, events.ResourceCreated{
		WorkflowID: wf, WorkflowVersion: 1, State: "submitted", Data: map[string]any{"title": "x"},
	})
	if err != nil {
		b.Fatal(err)
	}
	ev.Tenant, ev.Actor = acme.Tenant, acme.Actor
	if err := parallel(n, 128, func(i int) error {
		ids[i] = fmt.Sprintf("idle-%d", i)
		_, err := store.Append(ctx, events.ResourceStream(acme.Tenant, ids[i]), events.NoStream, ev)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var perActor float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sys := actors.New(store, actors.Options{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		writeHeapProfile(".base")
		b.StartTimer()
		if err := parallel(n, 64, func(i int) error {
			_, err := sys.Resource(ctx, acme, ids[i])
			return err
		}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if sys.Active() != n {
			b.Fatalf("%d actors resident, want %d", sys.Active(), n)
		}
		perActor += (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
		writeHeapProfile("")
		if err := sys.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(perActor/float64(b.N), "heap-B/actor")
}

// writeHeapProfile writes a heap profile to $CB_BENCH_HEAPPROFILE+suffix
// when that variable is set.
func writeHeapProfile(suffix string) {
	f := os.Getenv("CB_BENCH_HEAPPROFILE")
	if f == "" {
		return
	}
	runtime.GC()
	if out, err := os.Create(f + suffix); err == nil {
		_ = pprof.WriteHeapProfile(out)
		out.Close()
	}
}
