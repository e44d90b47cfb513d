package actors_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/journal"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// BenchmarkAgentRunsStack is issue 5's agent benchmark on the stack as
// `serve` wires it, in one process: N stored agents started at once (64
// starters calling Agents.Start, each answered once AgentRunStarted is
// fsynced), three steps per run (model → HTTP tool, model → HTTP tool,
// model → answer), the simulator answering every model call after 200 ms
// over HTTP/1.1 through the router's shared client
// (providers.DefaultClient), the HTTP tool on an httptest server, every
// call journaled as LlmCallCompleted by providers/journal, the embedded
// store fsyncing every write. Every run has an agent and a model of its
// own, so that the simulator's per-model script keeps each run's steps in
// order however the runs interleave. Agents and scripts are created
// before the timer starts.
//
// One op is one batch of N runs; run it with -benchtime 1x (and -count).
// Reported, per batch:
//
//   - start/s: N over the time until the last Start returned;
//   - runs/s: N over the time from the first Start to the last run's end;
//   - finish-s: that time;
//   - p50-ms, p99-ms: run duration, AgentRunStarted to the terminal event
//     (RunView.StartedAt to the OnEnded hook);
//   - peak-inflight: the most runs started and not ended at once;
//   - peak-heap-MB: heap in use plus goroutine stacks, sampled every 20 ms
//     (in-use spans: garbage not yet collected included); peak-stack-MB:
//     the stacks alone; peak-B/run: the rise of heap and stacks over the
//     idle baseline, per run of the batch;
//   - retained-B/run: heap and stacks left after the batch, per run, once
//     the clients' idle connections are closed and a GC ran (what ended
//     runs keep);
//   - alloc-B/run, allocs/run: allocated during the batch, per run;
//   - peak-goroutines;
//   - events/run: events appended during the batch (10 expected: 7 of the
//     run, 3 LlmCallCompleted);
//   - cpu-ms/run: CPU time of this process during the batch, per run
//     (simulator and tool server included);
//   - foreign-cpu-%: the machine's CPU (all cores) used by other processes
//     and kernel threads meanwhile: other builds on a shared machine make
//     a batch slow; compare batches with little of it.
//
// The simulator and the tool server run in this process: their goroutines
// and buffers are in the heap and goroutine figures. Set
// CB_BENCH_PROFILE=prefix to write prefix-N.heap and prefix-N.goroutine
// when half the runs have been started, after a GC (heap profiles sample
// every 4 KiB; the log says how many runs were resident),
// prefix-N.base-heap … before the batch and prefix-N.retained-heap … after
// it; compare them with go tool pprof -diff_base.
//
//	go test -run '^$' -bench AgentRunsStack -benchtime 1x -count 3 ./actors/
func BenchmarkAgentRunsStack(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("runs="+strconv.Itoa(n), func(b *testing.B) { benchRunsStack(b, n) })
	}
}

// stackEnv is the stack of BenchmarkAgentRunsStack.
type stackEnv struct {
	sim   *sim.Server
	store events.Store
	sys   *actors.System
	tool  string
	// toolClient sends the HTTP tool calls.
	toolClient *http.Client
	ended      sync.Map // run id → time.Time its OnEnded came
	wg         sync.WaitGroup
	bad        atomic.Int64 // runs that ended without completing in 3 steps
}

func newStackEnv(b *testing.B) *stackEnv {
	e := &stackEnv{sim: sim.New(sim.Config{Latency: 200 * time.Millisecond, LogLimit: -1})}
	up := httptest.NewServer(e.sim)
	b.Cleanup(up.Close)
	tool := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"temp":21,"unit":"C"}`))
	}))
	b.Cleanup(tool.Close)
	e.tool = tool.URL + "/lookup"
	client, err := providers.New(providers.Config{Name: "sim", Format: "openai", BaseURL: up.URL + "/v1", APIKey: "sk-bench"})
	if err != nil {
		b.Fatal(err)
	}
	store := natsjstest.Open(b, "")
	e.store = store
	j := journal.New(store, journal.Options{})
	jctx, stopJournal := context.WithCancel(context.Background())
	var jwg sync.WaitGroup
	jwg.Go(func() { _ = j.Run(jctx) })
	rt, err := router.New(router.Config{Recorder: j, Deployments: []router.Deployment{{Name: "sim", Client: client}}})
	if err != nil {
		b.Fatal(err)
	}
	// The tools' client has the transport of the registry's shared one
	// (agent/tools), but its own, so that its idle connections can be
	// closed before the retained memory is measured.
	e.toolClient = &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 1024,
		MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
	e.sys = actors.New(store, actors.Options{LLM: rt, RequestTimeout: benchTimeout,
		Tools: tools.New(tools.Options{HTTPClient: e.toolClient})})
	b.Cleanup(func() {
		_ = e.sys.Stop(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = j.Close(ctx)
		stopJournal()
		jwg.Wait()
	})
	e.sys.Agents.OnEnded(func(v actors.RunView) {
		e.ended.Store(v.ID, time.Now())
		if v.Status != "completed" || v.Steps != 3 {
			e.bad.Add(1)
		}
		e.wg.Done()
	})
	return e
}

// define stores agent id using model (of the "sim" deployment) and
// scripts the model's three steps.
func (e *stackEnv) define(ctx context.Context, id, model string) error {
	call := func(cid string) sim.Step {
		return sim.Step{ToolCalls: []llm.ToolCall{{ID: cid, Name: "lookup", Arguments: `{"city":"Oslo"}`}}}
	}
	e.sim.Script(model, call("call_1"), call("call_2"), sim.Step{Text: "It is 21 °C in Oslo, twice confirmed."})
	_, err := e.sys.Agents.Save(ctx, acme, agent.Definition{ID: id, Name: "Bench " + id, Provider: "sim", Model: model,
		SystemPrompt: "You look things up with the lookup tool, then answer in one sentence.", MaxTokens: 256,
		TimeoutSeconds: 3600, Tools: []agent.Tool{{Name: "lookup", Description: "Looks up the weather of a city.",
			Kind: agent.KindHTTP, HTTP: &agent.HTTPTool{URL: e.tool},
			Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}})
	return err
}

// memNow is the heap in use plus goroutine stacks.
func memNow() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

func benchRunsStack(b *testing.B, n int) {
	if os.Getenv("CB_BENCH_PROFILE") != "" {
		defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
		runtime.MemProfileRate = 4096
	}
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	e := newStackEnv(b)
	var sum struct {
		startRate, runsPerSec, finish, p50, p99, inflight, peak, stack, perRun, retained, alloc, allocs, goroutines, events float64
		cpuPerRun, foreign                                                                                                  float64
	}
	b.ResetTimer()
	for iter := range b.N {
		b.StopTimer()
		ids := make([]string, n)
		if err := parallel(n, 64, func(i int) error {
			ids[i] = fmt.Sprintf("w%d-%d", iter, i)
			return e.define(ctx, ids[i], "m-"+ids[i])
		}); err != nil {
			b.Fatal(err)
		}
		pos0 := e.lastPosition(ctx, b)
		runtime.GC()
		runtime.GC() // sync.Pool victims too
		base := memNow()
		writeStackProfiles(n, "base-")
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var peak, peakG, peakStack atomic.Uint64
		stop := make(chan struct{})
		var sampling sync.WaitGroup
		sampling.Go(func() {
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak.Store(max(peak.Load(), ms.HeapInuse+ms.StackInuse))
				peakStack.Store(max(peakStack.Load(), ms.StackInuse))
				peakG.Store(max(peakG.Load(), uint64(runtime.NumGoroutine())))
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		started := make([]time.Time, n) // AgentRunStarted's time
		runIDs := make([]string, n)
		e.wg.Add(n)
		cpu0 := readCPU()
		b.StartTimer()
		t0 := time.Now()
		var lastAck atomic.Int64
		err := parallel(n, 64, func(i int) error {
			if i == n/2 && os.Getenv("CB_BENCH_PROFILE") != "" {
				runtime.GC() // the heap profile is that of the last GC
				writeStackProfiles(n, "")
				b.Logf("profiles written with %d runs resident", e.sys.Agents.Active())
			}
			v, err := e.sys.Agents.Start(ctx, acme, actors.StartRun{AgentID: ids[i], Input: "What is the weather in Oslo? Check twice."})
			if err != nil {
				return err
			}
			started[i], runIDs[i] = v.StartedAt, v.ID
			if d := int64(time.Since(t0)); d > lastAck.Load() {
				lastAck.Store(d) // racy max: good to a few µs
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() { e.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			b.Fatal("runs did not end")
		}
		b.StopTimer()
		cpu1 := readCPU()
		close(stop)
		sampling.Wait()
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		if bad := e.bad.Swap(0); bad > 0 {
			b.Fatalf("%d of %d runs did not complete in 3 steps", bad, n)
		}
		durs := make([]time.Duration, n)
		var last time.Time
		type edge struct {
			t time.Time
			d int
		}
		edges := make([]edge, 0, 2*n)
		for i, id := range runIDs {
			v, _ := e.ended.LoadAndDelete(id)
			end := v.(time.Time)
			durs[i] = end.Sub(started[i])
			if end.After(last) {
				last = end
			}
			edges = append(edges, edge{started[i], 1}, edge{end, -1})
		}
		slices.SortFunc(edges, func(a, b edge) int {
			if c := a.t.Compare(b.t); c != 0 {
				return c
			}
			return a.d - b.d
		})
		cur, inflight := 0, 0
		for _, ed := range edges {
			cur += ed.d
			inflight = max(inflight, cur)
		}
		slices.Sort(durs)
		finish := last.Sub(t0).Seconds()
		pos1 := e.settledPosition(ctx, b)
		// Idle keep-alive connections (up to 1,024 to the simulator, 256 to
		// the tool) are the clients', not the runs': closed before measuring.
		providers.DefaultClient().CloseIdleConnections()
		e.toolClient.CloseIdleConnections()
		time.Sleep(200 * time.Millisecond) // the servers' connection goroutines end
		runtime.GC()
		runtime.GC()
		after := memNow()
		writeStackProfiles(n, "retained-")
		sum.startRate += float64(n) / time.Duration(lastAck.Load()).Seconds()
		sum.runsPerSec += float64(n) / finish
		sum.finish += finish
		sum.p50 += pct(durs, 0.50)
		sum.p99 += pct(durs, 0.99)
		sum.inflight += float64(inflight)
		sum.peak += float64(peak.Load()) / (1 << 20)
		sum.stack += float64(peakStack.Load()) / (1 << 20)
		sum.perRun += (float64(peak.Load()) - float64(base)) / float64(n)
		sum.retained += (float64(after) - float64(base)) / float64(n)
		sum.alloc += float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(n)
		sum.allocs += float64(ms1.Mallocs-ms0.Mallocs) / float64(n)
		sum.goroutines += float64(peakG.Load())
		sum.events += float64(pos1-pos0) / float64(n)
		sum.cpuPerRun += float64(cpu1.self-cpu0.self) * 10 / float64(n) // ticks of 10 ms
		if t := cpu1.total - cpu0.total; t > 0 {
			sum.foreign += 100 * float64(max(0, (cpu1.busy-cpu0.busy)-(cpu1.self-cpu0.self))) / float64(t)
		}
		b.StartTimer()
	}
	b.StopTimer()
	k := float64(b.N)
	for _, m := range []struct {
		v    float64
		unit string
	}{
		{sum.startRate, "start/s"}, {sum.runsPerSec, "runs/s"}, {sum.finish, "finish-s"},
		{sum.p50, "p50-ms"}, {sum.p99, "p99-ms"}, {sum.inflight, "peak-inflight"},
		{sum.peak, "peak-heap-MB"}, {sum.stack, "peak-stack-MB"}, {sum.perRun, "peak-B/run"}, {sum.retained, "retained-B/run"},
		{sum.alloc, "alloc-B/run"}, {sum.allocs, "allocs/run"}, {sum.goroutines, "peak-goroutines"},
		{sum.events, "events/run"}, {sum.cpuPerRun, "cpu-ms/run"}, {sum.foreign, "foreign-cpu-%"},
	} {
		b.ReportMetric(m.v/k, m.unit)
	}
}

func (e *stackEnv) lastPosition(ctx context.Context, b *testing.B) uint64 {
	p, err := e.store.LastPosition(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// settledPosition waits until the journal's appends have landed: the last
// position has not moved for 100 ms.
func (e *stackEnv) settledPosition(ctx context.Context, b *testing.B) uint64 {
	last := e.lastPosition(ctx, b)
	for {
		time.Sleep(100 * time.Millisecond)
		p := e.lastPosition(ctx, b)
		if p == last {
			return p
		}
		last = p
	}
}

// writeStackProfiles writes heap and goroutine profiles when
// CB_BENCH_PROFILE names a path prefix.
func writeStackProfiles(n int, kind string) {
	prefix := os.Getenv("CB_BENCH_PROFILE")
	if prefix == "" {
		return
	}
	for _, name := range []string{"heap", "goroutine"} {
		f, err := os.Create(fmt.Sprintf("%s-%d.%s%s", prefix, n, kind, name))
		if err != nil {
			continue
		}
		_ = pprof.Lookup(name).WriteTo(f, 0)
		_ = f.Close()
	}
}

// cpuTicks is a reading of the machine's and this process's CPU counters,
// in ticks of 10 ms (Linux's USER_HZ); zero where /proc is missing.
type cpuTicks struct{ busy, total, self int64 }

func readCPU() cpuTicks {
	var c cpuTicks
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal
		for i := 1; i < len(f) && i <= 8; i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			c.total += v
			if i != 4 && i != 5 && i != 8 {
				c.busy += v
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // f[0] is the state
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			c.self = u + k
		}
	}
	return c
}
