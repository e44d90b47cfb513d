// Command wsfanout measures GraphQL subscription fan-out over WebSocket
// (graphql-transport-ws): it connects many subscribers to one server, then
// appends events at a fixed rate through executeActivity mutations and
// measures, for every event every subscriber receives, the latency from
// the event's append to its delivery.
//
// Two latencies are reported per delivery, both on the loopback clock:
//
//   - event→recv: receipt time minus the event's "time" field, which the
//     server stamps just before the append (so it includes the fsync);
//   - ack→recv: receipt time minus the moment the mutation that appended
//     the event was acknowledged to the driver (can be negative when a
//     subscriber hears of the event before the mutation's answer is read).
//
// The server's RSS (/proc/<pid>/status) is read with every subscriber
// connected before the load and again after it. Every connection is closed
// at the end and the program exits within -timeout. It is a benchmark
// driver, not a test: see bench/graphql.sh.
//
// The driver shares the machine with the server, so its own cost per
// delivery inflates the latency it measures. Two receivers (-reader):
//
//   - epoll (default on Linux): after the handshake, init and subscribe,
//     each socket is read by one of a few goroutines (-loops) that wait on
//     their own epoll set and read every ready socket in turn; no goroutine
//     per connection wakes up per message. A round of reads that found
//     fewer sockets ready than it could take is followed by a pause of
//     -round (1 ms) rather than a wait in epoll_wait, so that the server's
//     writes do not each have to wake the reader (a cross-CPU wake-up that
//     the kernel charges to the writing server); this adds at most -round
//     to a delivery's latency;
//   - gorilla: one gorilla/websocket reader goroutine per connection, as a
//     browser-like client library would (the method of the first results).
//
// Either way a delivery's receipt time is taken right after its bytes are
// read from the socket, before it is parsed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "server `host:port`")
	n := flag.Int("n", 10000, "subscribers (one connection each)")
	batch := flag.Int("batch", 250, "connections dialled at once")
	rate := flag.Float64("rate", 20, "events appended per second")
	dur := flag.Duration("duration", 20*time.Second, "how long events are appended")
	resources := flag.Int("resources", 0, "resources the mutations rotate over (0: one per event, at most 1000)")
	sub := flag.String("sub", "events", "subscription: events or workflowEvents")
	reader := flag.String("reader", defaultReader, "how subscribers are read: epoll (Linux) or gorilla")
	loops := flag.Int("loops", 1, "epoll reader goroutines")
	round := flag.Duration("round", time.Millisecond, "epoll reader: pause after a round of reads that did not fill its batch (0: none)")
	pid := flag.Int("pid", 0, "server `pid` whose RSS is reported (0: none)")
	timeout := flag.Duration("timeout", 4*time.Minute, "bound on the whole run")
	flag.Parse()
	if *resources <= 0 {
		*resources = min(1000, int(*rate*dur.Seconds())+10)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r := &run{addr: *addr, pid: *pid, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var err error
	if r.rd, err = newReaders(*reader, *loops, *round); err != nil {
		fmt.Fprintln(os.Stderr, "wsfanout:", err)
		os.Exit(2)
	}
	if err := r.main(ctx, *n, *batch, *rate, *dur, *resources, *sub); err != nil {
		fmt.Fprintln(os.Stderr, "wsfanout:", err)
		os.Exit(1)
	}
}

type run struct {
	addr string
	pid  int
	http *http.Client
	wf   string
	rd   readers

	mu    sync.Mutex
	acks  map[int64]time.Time // position → acknowledgement of its mutation
	fired []atomic.Int64      // activities fired per resource
}

// sample is one delivery of one event to one subscriber.
type sample struct {
	pos  int64
	recv int64 // unix ns
	evt  int64 // the event's time, unix ns
}

// subscriber is one subscriber connection as the measurement sees it.
type subscriber interface {
	lastPos() int64     // position of the last event received, 0 before any
	closedCode() int64  // close code seen by the reader (-1: no close frame), 0 while open
	snapshot() []sample // the deliveries so far
}

// readers connects subscribers and receives their messages.
type readers interface {
	// connect opens one graphql-transport-ws connection, initialises it
	// and subscribes with query.
	connect(ctx context.Context, addr, query string) (subscriber, error)
	// closeAll closes every connection (a close frame each), bounded in time.
	closeAll()
}

func newReaders(kind string, loops int, round time.Duration) (readers, error) {
	switch kind {
	case "gorilla":
		return &gorillaReaders{}, nil
	case "epoll":
		return newEpollReaders(max(loops, 1), round)
	}
	return nil, fmt.Errorf("unknown -reader %q", kind)
}

func (r *run) main(ctx context.Context, n, batch int, rate float64, dur time.Duration, nres int, sub string) error {
	r.acks = map[int64]time.Time{}
	r.fired = make([]atomic.Int64, nres)
	r.wf = fmt.Sprintf("fan-%d", time.Now().UnixNano())
	if err := r.setup(ctx, nres); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	query := `subscription { events { position time } }`
	if sub == "workflowEvents" {
		query = fmt.Sprintf(`subscription { workflowEvents(workflowId: %q) { position time: timestamp } }`, r.wf)
	}

	// Connect in batches.
	clients := make([]subscriber, 0, n)
	t0 := time.Now()
	var failed int
	var firstErr error
	for len(clients)+failed < n && ctx.Err() == nil {
		k := min(batch, n-len(clients)-failed)
		got := make([]subscriber, k)
		errs := make([]error, k)
		var wg sync.WaitGroup
		for i := range k {
			wg.Go(func() { got[i], errs[i] = r.rd.connect(ctx, r.addr, query) })
		}
		wg.Wait()
		for i := range k {
			if errs[i] != nil {
				failed++
				firstErr = cmp(firstErr, errs[i])
				continue
			}
			clients = append(clients, got[i])
		}
		if failed > n/100+10 {
			break
		}
	}
	connectTime := time.Since(t0)
	fmt.Printf("connected %d/%d subscribers in %.1fs (%d failed%s)\n", len(clients), n, connectTime.Seconds(), failed, errSuffix(firstErr))
	defer r.rd.closeAll()
	if len(clients) == 0 {
		return errors.New("no subscriber connected")
	}

	// Subscriptions start asynchronously: append probe events until every
	// subscriber has received one, so the measurement covers all of them.
	probeEnd := time.Now().Add(60 * time.Second)
	var probePos int64
	for ready := 0; ready < len(clients) && time.Now().Before(probeEnd) && ctx.Err() == nil; {
		pos, err := r.mutate(ctx, int(probePos)%nres)
		if err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		probePos = pos
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			ready = 0
			for _, c := range clients {
				if c.lastPos() >= pos {
					ready++
				}
			}
			if ready == len(clients) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Printf("probe position %d reached %d/%d subscribers\n", pos, ready, len(clients))
	}
	time.Sleep(500 * time.Millisecond)
	rssIdle := rss(r.pid)
	cpu0 := cpuNow(r.pid)
	fmt.Printf("server RSS with %d subscribers connected, idle: %s\n", len(clients), rssIdle)

	// Append events at a fixed rate (open loop), each on its own goroutine.
	var wg sync.WaitGroup
	var mutErrs atomic.Int64
	var firstPos atomic.Int64
	firstPos.Store(-1)
	interval := time.Duration(float64(time.Second) / rate)
	total := int(rate * dur.Seconds())
	var lastPos atomic.Int64
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		// Open loop on a fixed schedule: a late tick fires at once.
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Go(func() {
			pos, err := r.mutate(ctx, i%nres)
			if err != nil {
				if mutErrs.Add(1) == 1 {
					fmt.Fprintln(os.Stderr, "mutation:", err)
				}
				return
			}
			firstPos.CompareAndSwap(-1, pos)
			for {
				l := lastPos.Load()
				if pos <= l || lastPos.CompareAndSwap(l, pos) {
					break
				}
			}
		})
	}
	wg.Wait()
	appendTime := time.Since(start)
	// Let the last events arrive (bounded).
	drainEnd := time.Now().Add(10 * time.Second)
	for time.Now().Before(drainEnd) {
		all := true
		for _, c := range clients {
			if c.lastPos() < lastPos.Load() && c.closedCode() == 0 {
				all = false
				break
			}
		}
		if all {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cpu := cpuNow(r.pid).sub(cpu0)
	rssLoad := rss(r.pid)
	peak := hwm(r.pid)

	// Latencies of the measured events (after the probes).
	lo := probePos + 1
	var evtLat, ackLat []time.Duration
	r.mu.Lock()
	acks := r.acks
	r.mu.Unlock()
	var disconnected int
	measured := map[int64]bool{}
	for p := range acks {
		if p >= lo {
			measured[p] = true
		}
	}
	perEvent := map[int64][]time.Duration{}
	for _, c := range clients {
		if c.closedCode() != 0 {
			disconnected++
		}
		for _, s := range c.snapshot() {
			if s.pos < lo || !measured[s.pos] {
				continue
			}
			evtLat = append(evtLat, time.Duration(s.recv-s.evt))
			perEvent[s.pos] = append(perEvent[s.pos], time.Duration(s.recv-s.evt))
			if a, ok := acks[s.pos]; ok {
				ackLat = append(ackLat, time.Duration(s.recv-a.UnixNano()))
			}
		}
	}
	expected := len(measured) * len(clients)
	fmt.Printf("appended %d events in %.1fs (%.1f/s, %d mutation errors); deliveries %d/%d (%.2f%%); "+
		"\"next\" messages with errors: %d; subscribers disconnected by the server: %d\n",
		len(measured), appendTime.Seconds(), float64(len(measured))/appendTime.Seconds(), mutErrs.Load(),
		len(evtLat), expected, 100*float64(len(evtLat))/float64(max(expected, 1)), nextErrors.Load(), disconnected)
	fmt.Printf("server RSS after the load: %s (peak VmHWM %s)\n", rssLoad, peak)
	// CPU time from the first append to the end of the drain: the server's
	// and the driver's per delivery, and what the rest of the machine used
	// meanwhile (other processes share these cores: a noisy run shows here).
	perDelivery := func(s float64) float64 { return s * 1e6 / float64(max(len(evtLat), 1)) }
	other := max(cpu.machine-cpu.server-cpu.driver, 0)
	fmt.Printf("CPU during the load: server %.1fs (%.1f µs/delivery), driver %.1fs (%.1f µs/delivery), other processes %.1fs\n",
		cpu.server, perDelivery(cpu.server), cpu.driver, perDelivery(cpu.driver), other)
	p := func(d []time.Duration, q float64) string { return fmtDur(pct(d, q)) }
	fmt.Printf("latency event→recv: p50 %s p90 %s p99 %s max %s\n", p(evtLat, .50), p(evtLat, .90), p(evtLat, .99), p(evtLat, 1))
	fmt.Printf("latency ack→recv:   p50 %s p90 %s p99 %s max %s\n", p(ackLat, .50), p(ackLat, .90), p(ackLat, .99), p(ackLat, 1))
	// Each event is a burst of deliveries: its first delivery shows the
	// fixed part (append, fsync, resolution), its last one the burst's
	// length. Medians and maxima over the events:
	var first, last []time.Duration
	for _, d := range perEvent {
		slices.Sort(d)
		first, last = append(first, d[0]), append(last, d[len(d)-1])
	}
	fmt.Printf("per event: first delivery p50 %s max %s; last delivery p50 %s max %s\n",
		p(first, .5), p(first, 1), p(last, .5), p(last, 1))
	fmt.Printf("RESULT subscribers=%d rate=%g events=%d delivered_pct=%.2f p50_ms=%.2f p99_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f rss_idle_mb=%s rss_load_mb=%s rss_peak_mb=%s server_us=%.1f driver_us=%.1f other_cpu_s=%.1f\n",
		len(clients), rate, len(measured), 100*float64(len(evtLat))/float64(max(expected, 1)),
		ms(pct(evtLat, .5)), ms(pct(evtLat, .99)), ms(pct(ackLat, .5)), ms(pct(ackLat, .99)),
		mb(rssIdle), mb(rssLoad), mb(peak), perDelivery(cpu.server), perDelivery(cpu.driver), other)
	return nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ", first error: " + err.Error()
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// setup creates a workflow with a two-activity cycle and nres resources.
func (r *run) setup(ctx context.Context, nres int) error {
	_, err := r.gql(ctx, fmt.Sprintf(`mutation { createWorkflow(input: {id: %q, name: "Fan-out bench",
		states: ["draft", "review"], activities: [
		{id: "submit", fromStates: ["draft"], toState: "review"},
		{id: "reject", fromStates: ["review"], toState: "draft"}]}) { id } }`, r.wf))
	if err != nil {
		return err
	}
	for i := range nres {
		if _, err := r.gql(ctx, fmt.Sprintf(`mutation { executeWorkflow(workflowId: %q, resourceId: "%s-%d") { id } }`, r.wf, r.wf, i)); err != nil {
			return err
		}
	}
	return nil
}

// mutate fires the next activity of resource i: they alternate, submit
// then reject, so calls on one resource must not overlap; the driver
// rotates over enough resources that they never do at the rates used here.
// It records the acknowledgement time of the event's position.
func (r *run) mutate(ctx context.Context, i int) (int64, error) {
	act := "submit"
	if r.fired[i].Add(1)%2 == 0 {
		act = "reject"
	}
	b, err := r.gql(ctx, fmt.Sprintf(`mutation { executeActivity(resourceId: "%s-%d", activityId: %q) { position } }`, r.wf, i, act))
	ack := time.Now()
	if err != nil {
		return 0, err
	}
	var out struct {
		ExecuteActivity struct{ Position int64 } `json:"executeActivity"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, err
	}
	pos := out.ExecuteActivity.Position
	r.mu.Lock()
	r.acks[pos] = ack
	r.mu.Unlock()
	return pos, nil
}

// gql posts a GraphQL operation and returns its data, or its errors.
func (r *run) gql(ctx context.Context, q string) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("GraphQL errors: %s", out.Errors[0])
	}
	return out.Data, nil
}

func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.2fms", ms(d)) }
func ms(d time.Duration) float64    { return float64(d) / 1e6 }

// rss and hwm read VmRSS and VmHWM of pid ("" without a pid).
func rss(pid int) string { return procStatus(pid, "VmRSS:") }
func hwm(pid int) string { return procStatus(pid, "VmHWM:") }

func procStatus(pid int, key string) string {
	if pid == 0 {
		return ""
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mb turns "123456 kB" into MiB.
func mb(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "-"
	}
	kb, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", kb/1024)
}
