package router

import (
	"context"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// Embed routes an embeddings call to the model's deployments whose client
// is a [providers.Embedder], with the retries, fallbacks and circuits of
// Chat. The call is recorded like a chat call, its input tokens billed at
// the input price. Embeddings do not feed the latency estimates.
func (r *Router) Embed(ctx context.Context, req *llm.EmbedRequest, who Caller) (*llm.EmbedResponse, *Call, error) {
	start := r.now()
	if req == nil {
		req = &llm.EmbedRequest{}
	}
	call := &Call{ID: newID(start), Caller: who, RequestedModel: req.Model, StartedAt: start, Route: make([]Attempt, 0, 2)}
	all, lerr := r.plan(r.tab.Load(), who.Tenant, &llm.Request{Model: req.Model})
	if lerr != nil {
		return nil, call, r.end(call, lerr, start, 0, nil)
	}
	cands := make([]candidate, 0, len(all))
	for _, c := range all {
		if _, ok := c.dep.Client.(providers.Embedder); ok {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, call, r.end(call, llm.Errorf(llm.KindNotFound, "model %q has no deployment that serves embeddings", req.Model), start, 0, nil)
	}
	var (
		resp *llm.EmbedResponse
		t1   time.Time
	)
	c, upstream, err := r.try(ctx, call, req.Model, cands, start, func(ctx context.Context, c *candidate) (time.Duration, error) {
		ereq := req
		if req.Model != c.upstream {
			cp := *req
			cp.Model = c.upstream
			ereq = &cp
		}
		t0 := r.now()
		var err error
		resp, err = c.dep.Client.(providers.Embedder).Embed(ctx, ereq)
		if err == nil && resp == nil {
			err = &llm.Error{Kind: llm.KindInternal, Status: 500, Message: "the adapter returned neither embeddings nor an error", Provider: c.dep.Name}
		}
		t1 = r.now()
		return t1.Sub(t0), err
	})
	if err != nil {
		return nil, call, err
	}
	r.bill(call, c, resp.Usage)
	call.Outcome = OutcomeOK
	call.Latency = t1.Sub(start)
	call.AddedTime = max(0, call.Latency-upstream)
	r.record(call)
	return resp, call, nil
}
