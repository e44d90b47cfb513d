package router

import (
	"context"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Chat routes a non-streamed call. It returns the response, or the last
// error, together with the record of the call, which the Recorder has
// received before Chat returns. The request is not modified.
func (r *Router) Chat(ctx context.Context, req *llm.Request, who Caller) (*llm.Response, *Call, error) {
	start := r.now()
	if req == nil {
		req = &llm.Request{}
	}
	call := r.newCall(req, who, start, false)
	cands, lerr := r.plan(r.tab.Load(), who.Tenant, req)
	if lerr != nil {
		return nil, call, r.end(call, lerr, start, 0, nil)
	}
	var (
		up   *llm.Request
		resp *llm.Response
		t1   time.Time
		took time.Duration
	)
	c, upstream, err := r.try(ctx, call, req.Model, cands, start, func(ctx context.Context, c *candidate) (time.Duration, error) {
		t0 := r.now()
		var err error
		resp, err = c.dep.Client.Chat(ctx, upstreamRequest(req, c, &up))
		if err == nil && resp == nil {
			err = &llm.Error{Kind: llm.KindInternal, Status: 500, Message: "the adapter returned neither a response nor an error", Provider: c.dep.Name}
		}
		t1 = r.now()
		took = t1.Sub(t0)
		return took, err
	})
	if err != nil {
		return nil, call, err
	}
	c.dep.lat.chat(c.upstream, took, resp.Usage.Completion())
	r.bill(call, c, resp.Usage)
	call.Outcome = OutcomeOK
	call.Latency = t1.Sub(start)
	call.AddedTime = max(0, call.Latency-upstream)
	r.record(call)
	return resp, call, nil
}

// try calls the candidates in order through do, retrying and falling over
// as the package doc describes, until one succeeds. It records every
// attempt in the call. On success it returns the candidate that answered
// and the time spent upstream; on failure it finishes and records the call
// and returns its error.
func (r *Router) try(ctx context.Context, call *Call, model string, cands []candidate, start time.Time,
	do func(ctx context.Context, c *candidate) (time.Duration, error)) (*candidate, time.Duration, error) {
	var (
		upstream time.Duration
		last     *llm.Error
		lastCand *candidate
	)
	for i := range cands {
		c := &cands[i]
		ok, probe := c.dep.br.allow(r.now)
		if !ok {
			call.attempt(c, OutcomeSkipped, nil, 0)
			continue
		}
		lastCand = c
		for n := 1; ; n++ {
			took, err := do(ctx, c)
			upstream += took
			if err == nil {
				if c.dep.br.success() {
					r.log.Info("router: circuit closed", "deployment", c.dep.Name)
				}
				call.attempt(c, OutcomeOK, nil, took)
				return c, upstream, nil
			}
			e := r.classify(ctx, c, err)
			last = e
			outcome := OutcomeError
			if e.Kind == llm.KindCancelled {
				outcome = OutcomeCancelled
			}
			call.attempt(c, outcome, e, took)
			act, delay := r.decide(ctx, c, e, n, probe, took)
			if act == actStop {
				return nil, upstream, r.end(call, e, start, upstream, c)
			}
			if act == actNext {
				break
			}
			if err := r.sleep(ctx, delay); err != nil {
				ce := llm.FromTransport(ctx, c.dep.Name, err)
				return nil, upstream, r.end(call, ce, start, upstream, c)
			}
			probe = false
		}
	}
	if lastCand == nil {
		last = noHealthy(model)
	}
	return nil, upstream, r.end(call, last, start, upstream, lastCand)
}

func noHealthy(model string) *llm.Error {
	return llm.Errorf(llm.KindOverloaded, "no healthy deployment for model %q: every circuit is open", model)
}

// upstreamRequest is the request to send to a candidate: req itself when it
// already names the upstream model and has no route options, else a copy,
// made in *buf on first need.
func upstreamRequest(req *llm.Request, c *candidate, buf **llm.Request) *llm.Request {
	if req.Model == c.upstream && req.Route == nil {
		return req
	}
	if *buf == nil {
		*buf = new(llm.Request)
	}
	**buf = *req
	(*buf).Model, (*buf).Route = c.upstream, nil
	return *buf
}

// end finishes a failed call, records it and returns its error. last is
// the last candidate called, nil when none was; the call bills no tokens
// but says whether its model is priced.
func (r *Router) end(call *Call, e *llm.Error, start time.Time, upstream time.Duration, last *candidate) error {
	call.fail(e)
	call.Latency = r.now().Sub(start)
	call.AddedTime = max(0, call.Latency-upstream)
	if last != nil {
		r.bill(call, last, llm.Usage{})
	}
	r.record(call)
	return e
}

// classify turns a provider's error into an *llm.Error, as cancelled when
// the caller went away.
func (r *Router) classify(ctx context.Context, c *candidate, err error) *llm.Error {
	if ctx.Err() != nil {
		e := llm.AsError(err)
		if e.Kind != llm.KindCancelled && e.Kind != llm.KindTimeout {
			return llm.FromTransport(ctx, c.dep.Name, ctx.Err())
		}
		return e
	}
	return llm.AsError(err)
}

type action uint8

const (
	actStop  action = iota // return the error to the caller
	actRetry               // wait, then call the same deployment again
	actNext                // try the next candidate
)

// decide what follows a failed attempt, and records it with the breaker
// and the latency estimate.
func (r *Router) decide(ctx context.Context, c *candidate, e *llm.Error, attempt int, probe bool, took time.Duration) (action, time.Duration) {
	if ctx.Err() != nil || e.Fault() != llm.FaultProvider {
		// The caller's mistake, the operator's policy, a cancelled call or
		// a bug: another deployment would fare no better.
		c.dep.br.release(probe)
		return actStop, 0
	}
	if c.dep.br.failure(r.now(), r.cfg.Breaker.Failures, r.cfg.Breaker.OpenFor) {
		r.log.Warn("router: circuit opened", "deployment", c.dep.Name, "kind", string(e.Kind), "open_for", r.cfg.Breaker.OpenFor)
	}
	if e.Kind == llm.KindTimeout {
		c.dep.lat.timeout(c.upstream, took)
	}
	if !e.Kind.Retryable() || attempt >= r.cfg.Retry.MaxAttempts || probe {
		return actNext, 0
	}
	if !c.dep.br.closed() {
		// This failure opened the circuit.
		return actNext, 0
	}
	if e.RetryAfter > 0 {
		if e.RetryAfter > r.cfg.Retry.MaxDelay {
			return actNext, 0
		}
		return actRetry, e.RetryAfter
	}
	return actRetry, r.backoff(attempt)
}

// backoff is the wait before retry number attempt: BaseDelay doubled per
// attempt, capped at MaxDelay, with "equal jitter" (half fixed, half
// random).
func (r *Router) backoff(attempt int) time.Duration {
	d := r.cfg.Retry.BaseDelay
	for i := 1; i < attempt && d < r.cfg.Retry.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.cfg.Retry.MaxDelay)
	return d/2 + time.Duration(r.rand()*float64(d/2))
}
