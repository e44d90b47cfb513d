package router

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// clock is a fake clock; Sleep records the wait and advances it.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// step scripts one call to a fake provider.
type step struct {
	// took advances the clock during the call (per event for streams).
	took time.Duration
	// err fails Chat, or Stream before any event.
	err error
	// resp answers Chat; nil answers with okResponse.
	resp *llm.Response
	// events are streamed, then streamErr (nil: io.EOF), or if block is
	// set, the stream waits for its context.
	events    []llm.Event
	streamErr error
	block     bool
}

// fake is a scripted provider: each call takes the next step; after the
// last it repeats def.
type fake struct {
	name  string
	clk   *clock
	mu    sync.Mutex
	steps []step
	def   step
	calls int
	// models are the upstream models asked for, in order.
	models  []string
	streams []*fakeStream
}

func (f *fake) next(model string) step {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.models = append(f.models, model)
	if len(f.steps) > 0 {
		s := f.steps[0]
		f.steps = f.steps[1:]
		return s
	}
	return f.def
}

func (f *fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// script replaces the remaining steps.
func (f *fake) script(def step, steps ...step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.def, f.steps = def, steps
}

func okResponse(model string) *llm.Response {
	return &llm.Response{ID: "r1", Model: model, Parts: []llm.Part{llm.TextPart("hi")}, StopReason: llm.StopEnd,
		Usage: llm.Usage{Input: 10, Output: 2}}
}

func (f *fake) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	s := f.next(req.Model)
	if f.clk != nil {
		f.clk.Advance(s.took)
	}
	if err := ctx.Err(); err != nil {
		return nil, llm.FromTransport(ctx, f.name, err)
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.resp != nil {
		return s.resp, nil
	}
	return okResponse(req.Model), nil
}

func (f *fake) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	s := f.next(req.Model)
	if s.err != nil {
		if f.clk != nil {
			f.clk.Advance(s.took)
		}
		return nil, s.err
	}
	fs := &fakeStream{ctx: ctx, step: s, clk: f.clk, name: f.name}
	f.mu.Lock()
	f.streams = append(f.streams, fs)
	f.mu.Unlock()
	return fs, nil
}

type fakeStream struct {
	ctx    context.Context
	step   step
	clk    *clock
	name   string
	i      int
	mu     sync.Mutex
	closed int
}

func (s *fakeStream) Recv() (llm.Event, error) {
	if s.clk != nil {
		s.clk.Advance(s.step.took)
	}
	if s.i < len(s.step.events) {
		ev := s.step.events[s.i]
		s.i++
		return ev, nil
	}
	if s.step.streamErr != nil {
		return llm.Event{}, s.step.streamErr
	}
	if s.step.block {
		<-s.ctx.Done()
		return llm.Event{}, llm.FromTransport(s.ctx, s.name, s.ctx.Err())
	}
	return llm.Event{}, io.EOF
}

func (s *fakeStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	return nil
}

func (s *fakeStream) Closed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// streamEvents is a whole stream of text with usage.
func streamEvents(text string, u *llm.Usage) []llm.Event {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "s1", Model: "m"},
		{Type: llm.EventText, Index: 0, Text: text},
		{Type: llm.EventStop, StopReason: llm.StopEnd},
	}
	if u != nil {
		evs = append(evs, llm.Event{Type: llm.EventUsage, Usage: u})
	}
	return evs
}

// recorder keeps every call.
type recorder struct {
	mu    sync.Mutex
	calls []Call
}

func (r *recorder) Record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// setup builds a router over fakes named after the deployments; each
// deployment serves "m" unless it names models.
type setup struct {
	r     *Router
	clk   *clock
	rec   *recorder
	fakes map[string]*fake
}

func newSetup(t testing.TB, cfg Config) *setup {
	t.Helper()
	s := &setup{clk: newClock(), rec: &recorder{}, fakes: map[string]*fake{}}
	for i := range cfg.Deployments {
		d := &cfg.Deployments[i]
		if d.Client == nil {
			f := &fake{name: d.Name, clk: s.clk}
			s.fakes[d.Name] = f
			d.Client = f
		}
		if d.Models == nil && d.Provider == "" {
			d.Models = []string{"m"}
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = s.clk.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = s.clk.Sleep
	}
	if cfg.Rand == nil {
		cfg.Rand = func() float64 { return 0.5 }
	}
	if cfg.Recorder == nil {
		cfg.Recorder = s.rec
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.r = r
	return s
}

func userRequest(model, text string) *llm.Request {
	return &llm.Request{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}}}
}

// routeOf summarises a call's route as "deployment:outcome[:kind]".
func routeOf(c *Call) []string {
	out := make([]string, 0, len(c.Route))
	for _, a := range c.Route {
		s := a.Deployment + ":" + a.Outcome
		if a.ErrorKind != "" {
			s += ":" + string(a.ErrorKind)
		}
		out = append(out, s)
	}
	return out
}
