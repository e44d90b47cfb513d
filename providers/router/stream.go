package router

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// emptyStream is the message of a stream that ends before its first event.
const emptyStream = "the stream ended before its first event"

// Stream routes a streamed call. It falls over to the next attempt or
// deployment only while nothing has been received: when the provider's
// Stream fails or the stream's first Recv does. Once the first event is in,
// the returned stream replays it and passes every later event and error on
// unchanged; errors after the first event are never retried.
//
// The returned *Call is complete when the stream ends (io.EOF, an error, or
// Close); read it after that, from the goroutine that reads the stream.
// Before then only its routing fields (ID, Deployment, Provider, Model,
// Route, AddedTime) are set. Closing the stream before io.EOF cancels the
// upstream call and records the call as cancelled, billed for what was
// streamed.
func (r *Router) Stream(ctx context.Context, req *llm.Request, who Caller) (llm.Stream, *Call, error) {
	start := r.now()
	if req == nil {
		req = &llm.Request{}
	}
	call := r.newCall(req, who, start, true)
	cands, lerr := r.plan(r.tab.Load(), who.Tenant, req)
	if lerr != nil {
		return nil, call, r.end(call, lerr, start, 0, nil)
	}
	var (
		up     *llm.Request
		s      llm.Stream
		first  llm.Event
		cancel context.CancelFunc
		t0, t1 time.Time
	)
	c, upstream, err := r.try(ctx, call, req.Model, cands, start, func(ctx context.Context, c *candidate) (time.Duration, error) {
		var sctx context.Context
		sctx, cancel = context.WithCancel(ctx)
		t0 = r.now()
		var err error
		s, err = c.dep.Client.Stream(sctx, upstreamRequest(req, c, &up))
		if err == nil && s == nil {
			err = &llm.Error{Kind: llm.KindInternal, Status: 500, Message: "the adapter returned neither a stream nor an error", Provider: c.dep.Name}
		}
		if err == nil {
			if first, err = s.Recv(); err != nil {
				s.Close()
				if errors.Is(err, io.EOF) {
					err = &llm.Error{Kind: llm.KindServer, Status: http.StatusBadGateway, Message: emptyStream, Provider: c.dep.Name}
				}
			}
		}
		t1 = r.now()
		if err != nil {
			cancel()
		}
		return t1.Sub(t0), err
	})
	if err != nil {
		return nil, call, err
	}
	call.AddedTime = max(0, t1.Sub(start)-upstream)
	w := &stream{r: r, up: s, cancel: cancel, ctx: ctx, call: call, cand: *c, req: req,
		start: start, t0: t0, first: first, hasFirst: true}
	w.observe(first, t1)
	return w, call, nil
}

// stream wraps a deployment's stream: it replays the first event, tracks
// what was streamed, and records the call when the stream ends.
type stream struct {
	r      *Router
	up     llm.Stream
	cancel context.CancelFunc
	ctx    context.Context // the caller's
	call   *Call
	cand   candidate
	req    *llm.Request
	start  time.Time // of the call
	t0     time.Time // of the attempt

	mu       sync.Mutex
	first    llm.Event
	hasFirst bool
	done     bool
	endErr   error
	usage    llm.Usage
	gotUsage bool
	// outBytes and thinkBytes count streamed text, tool calls and
	// thinking, to estimate usage the provider did not report.
	outBytes, thinkBytes int
	firstTok             time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ llm.Stream = (*stream)(nil)

// Recv returns the next event.
func (s *stream) Recv() (llm.Event, error) {
	s.mu.Lock()
	if s.hasFirst {
		s.hasFirst = false
		ev := s.first
		s.mu.Unlock()
		return ev, nil
	}
	if s.done {
		err := s.endErr
		s.mu.Unlock()
		return llm.Event{}, err
	}
	s.mu.Unlock()

	ev, err := s.up.Recv()
	now := s.r.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done { // closed meanwhile
		return llm.Event{}, s.endErr
	}
	switch {
	case errors.Is(err, io.EOF):
		s.finish(now, OutcomeOK, nil)
		s.endErr = io.EOF
		return llm.Event{}, io.EOF
	case err != nil:
		e := s.r.classify(s.ctx, &s.cand, err)
		outcome := OutcomeError
		if e.Kind == llm.KindCancelled {
			outcome = OutcomeCancelled
		}
		s.finish(now, outcome, e)
		s.endErr = e
		return llm.Event{}, e
	}
	s.observe(ev, now)
	return ev, nil
}

// Close ends the stream; before io.EOF it cancels the upstream call.
func (s *stream) Close() error {
	s.mu.Lock()
	s.hasFirst = false
	if !s.done {
		e := &llm.Error{Kind: llm.KindCancelled, Status: 499, Message: "the stream was closed before its end", Provider: s.cand.dep.Name}
		s.finish(s.r.now(), OutcomeCancelled, e)
		s.endErr = e
	}
	s.mu.Unlock()
	s.closeOnce.Do(s.closeUpstream)
	return s.closeErr
}

func (s *stream) closeUpstream() {
	s.cancel()
	s.closeErr = s.up.Close()
}

// observe tracks an event received at now. Called with mu held, or before
// the stream is shared.
func (s *stream) observe(ev llm.Event, now time.Time) {
	switch ev.Type {
	case llm.EventText:
		s.outBytes += len(ev.Text)
	case llm.EventThinking:
		s.thinkBytes += len(ev.Text)
	case llm.EventToolCall, llm.EventToolArgs:
		if ev.ToolCall != nil {
			s.outBytes += len(ev.ToolCall.Name) + len(ev.ToolCall.Arguments)
		}
	case llm.EventUsage:
		if ev.Usage != nil {
			s.usage, s.gotUsage = *ev.Usage, true
		}
		return
	default:
		return
	}
	if s.firstTok.IsZero() {
		s.firstTok = now
	}
}

// finish completes and records the call. Called with mu held.
func (s *stream) finish(now time.Time, outcome string, e *llm.Error) {
	s.done = true
	c, d := s.call, s.cand.dep
	c.Latency = now.Sub(s.start)
	if !s.firstTok.IsZero() {
		c.TTFT = s.firstTok.Sub(s.start)
	}
	u := s.usage
	if !s.gotUsage {
		// Estimated: the prompt and the streamed output at four bytes a
		// token.
		u = llm.Usage{Input: promptTokens(s.req), Output: (s.outBytes + 3) / 4, Reasoning: (s.thinkBytes + 3) / 4}
		c.UsageEstimated = true
	}
	s.r.bill(c, &s.cand, u)

	a := &c.Route[len(c.Route)-1]
	a.Outcome, a.LatencyMs = outcome, ms(now.Sub(s.t0))
	if e != nil {
		a.ErrorKind, a.Status = e.Kind, e.UpstreamStatus
		if a.Status == 0 {
			a.Status = e.Status
		}
	}
	ttft := now.Sub(s.t0)
	if !s.firstTok.IsZero() {
		ttft = s.firstTok.Sub(s.t0)
	}
	switch outcome {
	case OutcomeOK:
		c.Outcome = OutcomeOK
		var gen time.Duration
		if !s.firstTok.IsZero() {
			gen = now.Sub(s.firstTok)
		}
		d.lat.stream(s.cand.upstream, ttft, gen, u.Completion(), true)
	case OutcomeCancelled:
		c.fail(e)
		if !s.firstTok.IsZero() {
			d.lat.stream(s.cand.upstream, ttft, 0, 0, false)
		}
	default:
		c.fail(e)
		if e.Fault() == llm.FaultProvider && d.br.failure(now, s.r.cfg.Breaker.Failures, s.r.cfg.Breaker.OpenFor) {
			s.r.log.Warn("router: circuit opened", "deployment", d.Name, "kind", string(e.Kind), "open_for", s.r.cfg.Breaker.OpenFor)
		}
	}
	// The stream is over: release the upstream call's context even if the
	// caller never closes the stream.
	s.cancel()
	s.r.record(c)
}
