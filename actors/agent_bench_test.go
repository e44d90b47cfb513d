package actors_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// BenchmarkAgentRuns runs batches of concurrent agent runs of three steps
// each (tool call, tool call, answer) against the simulator answering
// every model call after 200 ms, on an embedded store with fsync on every
// write. The simulator is served over unencrypted HTTP/2, so that 10,000
// streams in flight share a few connections (over HTTP/1.1 each would hold
// two file descriptors in this process). The tool is an in-process
// function, so the figures are the engine's: actors, journaling, routing,
// streaming.
//
// Reported: runs/s (batch size over the time from the first start to the
// last completion), peak-heap-MB and peak-goroutines while the batch
// runs, and B/run, the peak heap and stacks above the idle baseline per
// run — the simulator's side of every stream included.
//
//	go test -run '^$' -bench AgentRuns -benchtime 1x ./actors/
func BenchmarkAgentRuns(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("concurrent="+strconv.Itoa(n), func(b *testing.B) { benchAgentRuns(b, n) })
	}
}

func benchAgentRuns(b *testing.B, n int) {
	ctx := context.Background()
	s := sim.New(sim.Config{Latency: 200 * time.Millisecond, LogLimit: -1})
	up := httptest.NewUnstartedServer(s)
	up.Config.Protocols = new(http.Protocols)
	up.Config.Protocols.SetHTTP1(true)
	up.Config.Protocols.SetUnencryptedHTTP2(true)
	up.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1000}
	up.Start()
	b.Cleanup(up.Close)
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protos, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	client, err := providers.New(providers.Config{Name: "sim", Format: "openai", BaseURL: up.URL + "/v1",
		APIKey: "sk-bench", Client: &http.Client{Transport: transport}})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := router.New(router.Config{Deployments: []router.Deployment{{Name: "sim", Client: client}}})
	if err != nil {
		b.Fatal(err)
	}
	reg := tools.New(tools.Options{})
	if err := reg.RegisterKind(agent.KindFunction, func(agent.Tool) (tools.Tool, error) {
		return tools.Func(func(context.Context, tools.Call) (tools.Result, error) {
			return tools.Result{Content: `{"ok":true}`}, nil
		}), nil
	}); err != nil {
		b.Fatal(err)
	}
	store := natsjstest.Open(b, "")
	sys := actors.New(store, actors.Options{LLM: rt, Tools: reg, RequestTimeout: benchTimeout})
	b.Cleanup(func() { _ = sys.Stop(context.Background()) })

	var ended sync.WaitGroup
	var failed atomic.Int64
	sys.Agents.OnEnded(func(v actors.RunView) {
		if v.Status != "completed" {
			failed.Add(1)
		}
		ended.Done()
	})
	step := func(id string) sim.Step {
		return sim.Step{ToolCalls: []llm.ToolCall{{ID: id, Name: "lookup", Arguments: `{"q":"x"}`}}}
	}
	var peakHeap, peakGoroutines, baseline uint64
	var runsPerSec float64
	b.ResetTimer()
	for iter := range b.N {
		b.StopTimer()
		// Every run has a model of its own, so that its script is its own.
		for i := range n {
			s.Script(fmt.Sprintf("m%d-%d", iter, i), step("a"), step("b"), sim.Step{Text: "done"})
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		baseline = ms.HeapInuse + ms.StackInuse
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peakHeap = max(peakHeap, ms.HeapInuse+ms.StackInuse)
					peakGoroutines = max(peakGoroutines, uint64(runtime.NumGoroutine()))
				}
			}
		}()
		ended.Add(n)
		b.StartTimer()
		began := time.Now()
		err := parallel(n, 64, func(i int) error {
			_, err := sys.Agents.Start(ctx, acme, actors.StartRun{Input: "go",
				Agent: &agent.Definition{Name: "bench", Model: fmt.Sprintf("sim/m%d-%d", iter, i),
					Tools: []agent.Tool{{Name: "lookup", Kind: agent.KindFunction}}}})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ended.Wait()
		elapsed := time.Since(began)
		b.StopTimer()
		close(stop)
		<-sampled
		runsPerSec = float64(n) / elapsed.Seconds()
		if f := failed.Load(); f > 0 {
			b.Fatalf("%d of %d runs did not complete", f, n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(runsPerSec, "runs/s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakGoroutines), "peak-goroutines")
	if peakHeap > baseline {
		b.ReportMetric(float64(peakHeap-baseline)/float64(n), "B/run")
	}
}
