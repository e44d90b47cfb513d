// Command agentload measures concurrent agent runs on one running server
// (issue 5's benchmark), through GraphQL on 127.0.0.1:
//
//  1. Setup (not measured): it serves an HTTP tool on 127.0.0.1, and for
//     each of the -n runs scripts a model of its own on the provider
//     simulator (POST /_sim/script: a tool call, a tool call, a final
//     answer) and creates an agent using that model on the server's "sim"
//     deployment (createAgent, llmProvider "sim") with the HTTP tool. A
//     model per run keeps the three steps of every run in order however
//     the runs interleave (the simulator consumes a model's script in
//     order); the agent per run follows from it (executeAgent takes an
//     agent id).
//  2. Start: -c workers send executeAgent for every agent as fast as they
//     are answered (each answer comes once the run's AgentRunStarted is
//     fsynced and the projections have it).
//  3. Wait: it polls agentRuns(status: running / waiting) until no run is
//     left, then reads every run (agentRun, 100 per request) and checks it
//     completed with 3 steps.
//  4. It pages through the events appended since the start (events query)
//     and counts them by type.
//
// While the runs are under way it samples the server process every
// -sample: VmRSS, threads and open descriptors from /proc, and, with
// -metrics, every -metrics-every (n/5000 s by default), go_goroutines and the heap
// (go_memstats_heap_inuse_bytes plus stack_inuse) from GET /metrics. The
// metrics page has a few series per model, and every run has a model of
// its own here, so scraping it is not free: at 10,000 models one scrape
// costs the server ≈ 40 ms of CPU. It also counts the CPU time used by
// processes other than the server, the simulator and itself (other
// builds on the machine) and the load average.
//
// It prints one line starting with RESULT (key=value fields) on stdout and
// a readable summary on stderr. It is a benchmark driver, not a test: see
// bench/agents.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "agentload:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	addr, sim      string
	n, c           int
	pid, simPID    int
	metrics        bool
	sample         time.Duration
	metricsEvery   time.Duration
	prefix         string
	timeout        time.Duration
	label          string
	skipEventCount bool
	pprof          string
	pprofOut       string
	pprofSeconds   int
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("agentload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4000", "server `host:port`")
	fs.StringVar(&c.sim, "sim", "127.0.0.1:4010", "simulator `host:port` (its control API scripts the models)")
	fs.IntVar(&c.n, "n", 1000, "agent runs started at once")
	fs.IntVar(&c.c, "c", 64, "concurrent executeAgent callers (and setup workers)")
	fs.IntVar(&c.pid, "pid", 0, "server `pid`, for RSS, threads and descriptors (0: not sampled)")
	fs.IntVar(&c.simPID, "sim-pid", 0, "simulator `pid` (left out of the other processes' CPU)")
	fs.BoolVar(&c.metrics, "metrics", true, "sample go_goroutines and the heap from the server's GET /metrics")
	fs.DurationVar(&c.sample, "sample", 250*time.Millisecond, "sampling interval of /proc")
	fs.DurationVar(&c.metricsEvery, "metrics-every", 0, "sampling interval of GET /metrics, a page that grows with the number of models (one per run here); 0: n/5000 seconds, at least -sample")
	fs.StringVar(&c.prefix, "prefix", "", "prefix of agent ids and model names (default: derived from the time)")
	fs.DurationVar(&c.timeout, "timeout", 15*time.Minute, "bound on the whole measurement")
	fs.StringVar(&c.label, "label", "", "extra key=value fields for the RESULT line")
	fs.BoolVar(&c.skipEventCount, "skip-event-count", false, "do not page through the events afterwards")
	fs.StringVar(&c.pprof, "pprof", "", "`host:port` of the server's net/http/pprof (a diagnostic build): a CPU profile from the first start, heap and goroutine profiles when half the runs are started, a heap profile after the runs")
	fs.StringVar(&c.pprofOut, "pprof-out", "agentload", "path prefix of the profiles (.cpu, .heap, .goroutine, .end-heap)")
	fs.IntVar(&c.pprofSeconds, "pprof-seconds", 10, "length of the CPU profile")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.n < 1 || c.n > 100000:
		return c, fmt.Errorf("-n must be between 1 and 100000, got %d", c.n)
	case c.c < 1 || c.c > 4096:
		return c, fmt.Errorf("-c must be between 1 and 4096, got %d", c.c)
	case c.sample <= 0 || c.metricsEvery < 0:
		return c, errors.New("-sample must be positive and -metrics-every not negative")
	}
	if c.metricsEvery == 0 {
		c.metricsEvery = max(c.sample, time.Duration(c.n)*time.Second/5000)
	}
	if c.prefix == "" {
		c.prefix = "b" + strconv.FormatInt(time.Now().Unix()%1e6, 36)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "agentload: "+format+"\n", a...) }

	tool, err := startTool()
	if err != nil {
		return err
	}
	defer tool.close()
	cl := newClient(cfg.addr, cfg.c+16)

	// 1. Setup.
	t := time.Now()
	ids := make([]string, cfg.n)
	err = each(ctx, cfg.n, cfg.c, func(i int) error {
		ids[i] = fmt.Sprintf("%s-%d", cfg.prefix, i)
		model := "m-" + ids[i]
		if err := cl.script(ctx, cfg.sim, model); err != nil {
			return err
		}
		return cl.createAgent(ctx, ids[i], model, tool.url)
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	logf("setup: %d agents and scripts in %.1fs", cfg.n, time.Since(t).Seconds())
	head0, err := cl.head(ctx)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // let the setup's garbage settle
	base := sampleOnce(ctx, cl, cfg, true)

	// 2. Start, sampling from now on.
	smp := newSampler(cl, cfg)
	sctx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	sampling.Go(func() { smp.run(sctx) })
	runIDs := make([]string, cfg.n)
	acked := make([]time.Time, cfg.n)
	var startErrs atomic.Int64
	var firstErr atomic.Value
	var profiles sync.WaitGroup
	defer profiles.Wait()
	if cfg.pprof != "" {
		profiles.Go(func() {
			cl.profile(ctx, cfg, fmt.Sprintf("profile?seconds=%d", cfg.pprofSeconds), ".cpu")
		})
	}
	t0 := time.Now()
	err = each(ctx, cfg.n, cfg.c, func(i int) error {
		if i == cfg.n/2 && cfg.pprof != "" {
			profiles.Go(func() {
				cl.profile(ctx, cfg, "heap", ".heap")
				cl.profile(ctx, cfg, "goroutine", ".goroutine")
			})
		}
		id, err := cl.execute(ctx, ids[i])
		acked[i] = time.Now()
		if err != nil {
			startErrs.Add(1)
			firstErr.CompareAndSwap(nil, err)
			return nil
		}
		runIDs[i] = id
		return nil
	})
	startedIn := slices.MaxFunc(acked, func(a, b time.Time) int { return a.Compare(b) }).Sub(t0)
	if err != nil {
		stopSampling()
		return err
	}
	if n := startErrs.Load(); n > 0 {
		logf("%d of %d executeAgent calls failed; the first: %v", n, cfg.n, firstErr.Load())
	}
	logf("started %d runs in %.2fs (%.0f/s)", cfg.n-int(startErrs.Load()), startedIn.Seconds(), float64(cfg.n)/startedIn.Seconds())

	// 3. Wait for every run to end.
	for {
		left, err := cl.unfinished(ctx)
		if err != nil {
			stopSampling()
			return err
		}
		if !left {
			break
		}
		select {
		case <-ctx.Done():
			stopSampling()
			return fmt.Errorf("runs not finished: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	detected := time.Since(t0)
	stopSampling()
	sampling.Wait()
	runs, err := cl.runs(ctx, runIDs, cfg.c)
	if err != nil {
		return err
	}
	// The journal appends the router's LlmCallCompleted events off the
	// response path: wait until the log stops growing.
	head1, err := cl.settledHead(ctx)
	if err != nil {
		return err
	}
	end := sampleOnce(ctx, cl, cfg, true) // what the ended runs left
	if cfg.pprof != "" {
		cl.profile(ctx, cfg, "heap?gc=1", ".end-heap")
	}

	// 4. Figures.
	r := summarize(cfg, t0, startedIn, detected, runs, int(startErrs.Load()))
	r.tools = tool.calls.Load()
	r.base, r.peak, r.end = base, smp.peak(), end
	r.events = head1 - head0
	if !cfg.skipEventCount {
		if r.byType, err = cl.countEvents(ctx, head0+1, head1); err != nil {
			return err
		}
	}
	r.foreignPct, r.serverPct, r.load0, r.load1 = smp.foreign()
	r.serverCPU = smp.serverCPU()
	r.print(stdout, stderr)
	return nil
}

// each calls fn(i) for i in [0, n) on workers goroutines; it stops at the
// first error and returns it.
func each(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil && first.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return ctx.Err()
}

// toolServer is the HTTP tool of every agent: it answers at once.
type toolServer struct {
	url   string
	srv   *http.Server
	calls atomic.Int64
}

func startTool() (*toolServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tool server: %w", err)
	}
	ts := &toolServer{url: "http://" + ln.Addr().String() + "/lookup"}
	ts.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		ts.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"temp":21,"unit":"C"}`))
	})}
	go func() { _ = ts.srv.Serve(ln) }()
	return ts, nil
}

func (ts *toolServer) close() { _ = ts.srv.Close() }

// percentile is the nearest-rank q-quantile of sorted values.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// kv formats fields for the RESULT line.
func kv(fields ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", fields[i], fields[i+1])
	}
	return b.String()
}
