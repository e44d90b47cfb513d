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

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "server `host:port`")
	n := flag.Int("n", 10000, "subscribers (one connection each)")
	batch := flag.Int("batch", 250, "connections dialled at once")
	rate := flag.Float64("rate", 20, "events appended per second")
	dur := flag.Duration("duration", 20*time.Second, "how long events are appended")
	resources := flag.Int("resources", 0, "resources the mutations rotate over (0: one per event, at most 1000)")
	sub := flag.String("sub", "events", "subscription: events or workflowEvents")
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

// client is one subscriber connection.
type client struct {
	c       *websocket.Conn
	samples []sample
	closed  atomic.Int64 // close code seen by the reader, 0 while open
	done    chan struct{}
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
	clients := make([]*client, 0, n)
	t0 := time.Now()
	var failed int
	var firstErr error
	for len(clients)+failed < n && ctx.Err() == nil {
		k := min(batch, n-len(clients)-failed)
		got := make([]*client, k)
		errs := make([]error, k)
		var wg sync.WaitGroup
		for i := range k {
			wg.Go(func() { got[i], errs[i] = r.connect(ctx, query) })
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
	defer closeAll(clients)
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
			if c.lastPos() < lastPos.Load() && c.closed.Load() == 0 {
				all = false
				break
			}
		}
		if all {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	for _, c := range clients {
		if c.closed.Load() != 0 {
			disconnected++
		}
		for _, s := range c.snapshot() {
			if s.pos < lo || !measured[s.pos] {
				continue
			}
			evtLat = append(evtLat, time.Duration(s.recv-s.evt))
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
	p := func(d []time.Duration, q float64) string { return fmtDur(pct(d, q)) }
	fmt.Printf("latency event→recv: p50 %s p90 %s p99 %s max %s\n", p(evtLat, .50), p(evtLat, .90), p(evtLat, .99), p(evtLat, 1))
	fmt.Printf("latency ack→recv:   p50 %s p90 %s p99 %s max %s\n", p(ackLat, .50), p(ackLat, .90), p(ackLat, .99), p(ackLat, 1))
	fmt.Printf("RESULT subscribers=%d rate=%g events=%d delivered_pct=%.2f p50_ms=%.2f p99_ms=%.2f ack_p50_ms=%.2f ack_p99_ms=%.2f rss_idle_mb=%s rss_load_mb=%s rss_peak_mb=%s\n",
		len(clients), rate, len(measured), 100*float64(len(evtLat))/float64(max(expected, 1)),
		ms(pct(evtLat, .5)), ms(pct(evtLat, .99)), ms(pct(ackLat, .5)), ms(pct(ackLat, .99)),
		mb(rssIdle), mb(rssLoad), mb(peak))
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

// connect opens one graphql-transport-ws connection, initialises it,
// subscribes and starts its reader.
func (r *run) connect(ctx context.Context, query string) (*client, error) {
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, Subprotocols: []string{"graphql-transport-ws"},
		ReadBufferSize: 1024, WriteBufferSize: 1024}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, _, err := d.DialContext(cctx, "ws://"+r.addr+"/graphql", nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*client, error) { c.Close(); return nil, err }
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return fail(err)
	}
	_, m, err := c.ReadMessage()
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(m, []byte(`"connection_ack"`)) {
		return fail(fmt.Errorf("expected connection_ack, got %s", m))
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
		return fail(err)
	}
	_ = c.SetReadDeadline(time.Time{})
	_ = c.SetWriteDeadline(time.Time{})
	cl := &client{c: c, done: make(chan struct{}), samples: make([]sample, 0, 512)}
	go cl.read()
	return cl, nil
}

var (
	keyPos  = []byte(`"position":`)
	keyTime = []byte(`"time":"`)
	keyNext = []byte(`"type":"next"`)
	keyPing = []byte(`"type":"ping"`)
)

// read receives until the connection ends, answering pings and recording
// every "next".
func (cl *client) read() {
	defer close(cl.done)
	for {
		_, m, err := cl.c.ReadMessage()
		now := time.Now().UnixNano()
		if err != nil {
			code := int64(-1)
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = int64(ce.Code)
			}
			cl.closed.Store(code)
			return
		}
		switch {
		case bytes.Contains(m, keyNext):
			pos, evt, ok := parseNext(m)
			if !ok {
				if nextErrors.Add(1) <= 3 {
					fmt.Fprintf(os.Stderr, "next without an event: %s\n", m)
				}
				continue
			}
			cl.add(sample{pos: pos, recv: now, evt: evt})
		case bytes.Contains(m, keyPing):
			_ = cl.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
		}
	}
}

// nextErrors counts "next" messages that carry errors instead of an event.
var nextErrors atomic.Int64

var sampleMu sync.Mutex // guards every client's samples (cheap: one append per event)

func (cl *client) add(s sample) {
	sampleMu.Lock()
	cl.samples = append(cl.samples, s)
	sampleMu.Unlock()
}

func (cl *client) lastPos() int64 {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	if len(cl.samples) == 0 {
		return 0
	}
	return cl.samples[len(cl.samples)-1].pos
}

func (cl *client) snapshot() []sample {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	return slices.Clone(cl.samples)
}

// parseNext extracts position and time from a "next" message without a
// full JSON decode (the client shares the 2 cores with the server).
func parseNext(m []byte) (pos, evt int64, ok bool) {
	i := bytes.Index(m, keyPos)
	j := bytes.Index(m, keyTime)
	if i < 0 || j < 0 {
		return 0, 0, false
	}
	rest := m[i+len(keyPos):]
	k := bytes.IndexAny(rest, ",}")
	if k < 0 {
		return 0, 0, false
	}
	p, err := strconv.ParseInt(string(bytes.TrimSpace(rest[:k])), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	rest = m[j+len(keyTime):]
	k = bytes.IndexByte(rest, '"')
	if k < 0 {
		return 0, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:k]))
	if err != nil {
		return 0, 0, false
	}
	return p, t.UnixNano(), true
}

// closeAll sends "complete" and a close frame on every connection, then
// closes them, bounded in time.
func closeAll(clients []*client) {
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	for _, cl := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bench done")
			_ = cl.c.WriteControl(websocket.CloseMessage, msg, deadline)
			select {
			case <-cl.done:
			case <-time.After(time.Until(deadline)):
			}
			_ = cl.c.Close()
		})
	}
	wg.Wait()
	for _, cl := range clients {
		<-cl.done // the reader ends once the conn is closed
	}
	fmt.Printf("closed %d connections\n", len(clients))
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
