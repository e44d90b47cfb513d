package conformance

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	_ "github.com/circuit-breaker/circuit-breaker/providers/all"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// scenario is one behaviour every format must show.
type scenario struct {
	name string
	run  func(t *testing.T, e *env)
}

// scenarios is the shared list, run for every format.
var scenarios = []scenario{
	{"plain", testPlain},
	{"request", testRequest},
	{"image", testImage},
	{"stream", testStream},
	{"tool_call", testToolCall},
	{"stream_tool_call", testStreamToolCall},
	{"text_and_tools", testTextAndTools},
	{"thinking", testThinking},
	{"stop_length", testStopLength},
	{"concurrent", testConcurrent},
	{"errors", testErrors},
	{"stream_error", testStreamError},
	{"retry_429", testRetry429},
	{"timeout", testTimeout},
	{"close", testClose},
	{"router_cancel", testRouterCancel},
	{"embeddings", testEmbeddings},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newEnv(t, f))
				})
			}
		})
	}
}

// TestFormatTable checks the table itself: every registered format is in
// it once, and every expected usage keeps the scripted total.
func TestFormatTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range formats {
		if seen[f.name] {
			t.Errorf("format %q listed twice", f.name)
		}
		seen[f.name] = true
		if got, want := f.usage.Total(), scriptedUsage.Total(); got != want {
			t.Errorf("%s: expected usage totals %d tokens, scripted %d", f.name, got, want)
		}
	}
	for _, name := range providers.Formats() {
		if !seen[name] {
			t.Errorf("registered format %q has no row in the conformance table", name)
		}
	}
	if len(seen) != len(providers.Formats()) {
		t.Errorf("table has %d formats, %d are registered", len(seen), len(providers.Formats()))
	}
}

// env is one scenario's fixture: a fresh simulator on a local HTTP server
// and a deployment of the format pointed at it.
type env struct {
	f     format
	sim   *sim.Server
	srv   *httptest.Server
	watch *watcher
	cfg   providers.Config
	p     providers.Provider
}

func newEnv(t *testing.T, f format) *env {
	t.Helper()
	s := sim.New(simConfig())
	w := &watcher{h: s.Handler()}
	srv := httptest.NewServer(w)
	t.Cleanup(func() {
		srv.CloseClientConnections() // a hung handler must not hold Close up
		srv.Close()
	})
	e := &env{f: f, sim: s, srv: srv, watch: w}
	e.cfg = f.config(srv.URL)
	e.cfg.Client = srv.Client()
	e.p = e.provider(t, e.cfg)
	return e
}

// provider builds a deployment of cfg.
func (e *env) provider(t *testing.T, cfg providers.Config) providers.Provider {
	t.Helper()
	p, err := providers.New(cfg)
	if err != nil {
		t.Fatalf("providers.New: %v", err)
	}
	return p
}

// watcher wraps the simulator's handler to see its handlers end: gone
// counts those that ended because the client went away.
type watcher struct {
	h      http.Handler
	mu     sync.Mutex
	active int
	gone   int
}

func (w *watcher) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.active++
	w.mu.Unlock()
	w.h.ServeHTTP(rw, r)
	w.mu.Lock()
	w.active--
	if r.Context().Err() != nil {
		w.gone++
	}
	w.mu.Unlock()
}

// counts returns the handlers running and those that saw the client go.
func (w *watcher) counts() (active, gone int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.active, w.gone
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (which only bounds a hang; nothing is timed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitForRequests waits until the simulator has logged n requests.
func (e *env) waitForRequests(t *testing.T, n int) {
	t.Helper()
	waitFor(t, "the simulator to receive the request", func() bool { return len(e.sim.Requests()) >= n })
}

// deadlineCtx is a context whose deadline the test passes by hand: until
// expire it is live; after, it is done with context.DeadlineExceeded, as a
// context.WithDeadline whose time came.
type deadlineCtx struct {
	context.Context
	at   time.Time
	done chan struct{}
	once sync.Once
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), at: time.Now().Add(time.Hour), done: make(chan struct{})}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.at, true }
func (c *deadlineCtx) Done() <-chan struct{}       { return c.done }
func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *deadlineCtx) expire() { c.once.Do(func() { close(c.done) }) }

// refereed wraps a stream and checks its events as they pass: the order
// llm.Accumulator enforces, and at most one usage event, after the stop and
// last. It counts text deltas.
type refereed struct {
	llm.Stream
	acc    llm.Accumulator
	texts  int
	usages int
	err    error // the first order violation
}

func (r *refereed) Recv() (llm.Event, error) {
	ev, err := r.Stream.Recv()
	if err != nil {
		return ev, err
	}
	if r.err == nil {
		switch {
		case r.usages > 0:
			r.err = errors.New("event after the usage event")
		case ev.Type == llm.EventUsage && !r.acc.Stopped():
			r.err = errors.New("usage event before the stop event")
		}
		if ev.Type == llm.EventUsage {
			r.usages++
		}
		if ev.Type == llm.EventText {
			r.texts++
		}
		if r.err == nil {
			if aerr := r.acc.Add(ev); aerr != nil {
				r.err = aerr
			}
		}
	}
	return ev, nil
}

// collect reads s through the referee with llm.Collect.
func collect(t *testing.T, s llm.Stream) (*llm.Response, *refereed, error) {
	t.Helper()
	r := &refereed{Stream: s}
	resp, err := llm.Collect(r)
	if r.err != nil {
		t.Errorf("invalid event order: %v", r.err)
	}
	return resp, r, err
}

// asError returns err as an *llm.Error, failing the test when it is not one.
func asError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var le *llm.Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return le
}

// recvText reads events until at least one text delta came, and returns
// the text read.
func recvText(t *testing.T, s llm.Stream) string {
	t.Helper()
	var text string
	for text == "" {
		ev, err := s.Recv()
		if err == io.EOF || err != nil {
			t.Fatalf("stream ended before any text: %v", err)
		}
		if ev.Type == llm.EventText {
			text += ev.Text
		}
	}
	return text
}

// userAsk is a one-turn request for the format's model.
func (e *env) userAsk(text string) *llm.Request {
	return &llm.Request{Model: e.f.model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}}}
}
