package router

import (
	"slices"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/catalog"
)

// defaultOutputEstimate caps the output tokens a cost estimate assumes when
// the request sets no MaxTokens.
const defaultOutputEstimate = 4096

// maxLatencyTargetMs bounds a latency target (a day) so that it cannot
// overflow a time.Duration.
const maxLatencyTargetMs = 24 * 60 * 60 * 1000

// concrete resolves a model name that is not virtual: "deployment/model"
// when the prefix names a deployment that serves the model, else a model
// served by deployments, else "deployment/model" passed through to an open
// deployment.
func (t *table) concrete(name string) ([]candidate, *llm.Error) {
	var pinned *deployment
	var model string
	if i := strings.IndexByte(name, '/'); i > 0 {
		if d, ok := t.byName[name[:i]]; ok {
			pinned, model = d, name[i+1:]
			if up, ok := d.served[model]; ok {
				return []candidate{{dep: d, public: model, upstream: up, weight: max(d.Weight, 1)}}, nil
			}
		}
	}
	if cs, ok := t.bare[name]; ok {
		return cs, nil
	}
	if pinned != nil {
		if pinned.open && model != "" {
			return []candidate{{dep: pinned, public: model, upstream: model, weight: max(pinned.Weight, 1)}}, nil
		}
		return nil, llm.Errorf(llm.KindNotFound, "deployment %q does not serve model %q", pinned.Name, model)
	}
	return nil, llm.Errorf(llm.KindNotFound, "model %q is not served: it is not a virtual model, a model of a configured deployment, or deployment/model", name)
}

// resolve lists the candidates for a requested model in the order its
// virtual model's strategy gives. The result may be shared: callers must not
// modify it.
func (r *Router) resolve(t *table, tenant, name string, req *llm.Request, est *estimator) ([]candidate, *llm.Error) {
	if name == "" {
		return nil, llm.Errorf(llm.KindInvalidRequest, "model is required")
	}
	v, ok := r.tenantVirtual(t, tenant, name)
	if !ok {
		v, ok = t.virtual[name]
	}
	if !ok {
		return t.concrete(name)
	}
	switch v.Strategy {
	case StrategyWeighted:
		return r.weighted(v), nil
	case StrategyCheapest:
		cs := slices.Clone(v.flat)
		est.byCost(cs)
		return cs, nil
	case StrategyFastest:
		cs := slices.Clone(v.flat)
		est.byLatency(cs)
		return cs, nil
	}
	return v.flat, nil
}

// weighted picks the first target at random by weight; the others follow
// in order.
func (r *Router) weighted(v *virtual) []candidate {
	if len(v.targets) == 1 {
		return v.flat
	}
	var total int
	for _, w := range v.weights {
		total += w
	}
	x := int(r.rand() * float64(total))
	pick := len(v.weights) - 1
	for i, w := range v.weights {
		if x < w {
			pick = i
			break
		}
		x -= w
	}
	out := make([]candidate, 0, len(v.flat))
	out = appendNew(out, v.targets[pick]...)
	for i, cs := range v.targets {
		if i != pick {
			out = appendNew(out, cs...)
		}
	}
	return out
}

// plan lists the candidates for a request: the model's, then the caller's
// fallback models, filtered and ordered by the caller's route options.
func (r *Router) plan(t *table, tenant string, req *llm.Request) ([]candidate, *llm.Error) {
	est := &estimator{r: r, req: req, promptTokens: -1}
	base, err := r.resolve(t, tenant, req.Model, req, est)
	if err != nil {
		return nil, err
	}
	o := req.Route
	if o == nil || (len(o.FallbackModels) == 0 && !o.CostOptimization && !o.LatencyPriority && o.CostThreshold <= 0 && o.LatencyTarget <= 0) {
		return base, nil
	}
	cs := make([]candidate, len(base), len(base)+len(o.FallbackModels))
	copy(cs, base)
	for _, fm := range o.FallbackModels {
		more, err := r.resolve(t, tenant, fm, req, est)
		if err != nil {
			return nil, llm.Errorf(err.Kind, "fallback model: %s", err.Message)
		}
		cs = appendNew(cs, more...)
	}
	if o.CostThreshold > 0 {
		est.costs(cs)
		kept := cs[:0:0]
		var cheapest *candidate
		for i := range cs {
			c := &cs[i]
			if c.priced && (cheapest == nil || c.cost < cheapest.cost) {
				cheapest = c
			}
			if c.priced && c.cost <= o.CostThreshold {
				kept = append(kept, *c)
			}
		}
		if len(kept) == 0 {
			if cheapest == nil {
				return nil, llm.Errorf(llm.KindPolicy, "no route for model %q fits the cost threshold of $%g: no candidate has a known price", req.Model, o.CostThreshold)
			}
			return nil, llm.Errorf(llm.KindPolicy, "no route for model %q fits the cost threshold of $%g: the cheapest estimate is $%.6f (%s/%s)",
				req.Model, o.CostThreshold, cheapest.cost, cheapest.dep.Name, cheapest.public)
		}
		cs = kept
	}
	switch {
	case o.CostOptimization:
		est.byCost(cs)
	case o.LatencyPriority:
		est.byLatency(cs)
	}
	if o.LatencyTarget > 0 {
		target := time.Duration(min(o.LatencyTarget, maxLatencyTargetMs)) * time.Millisecond
		est.latencies(cs)
		fast := make([]candidate, 0, len(cs))
		var slow []candidate
		for _, c := range cs {
			if c.latency <= target {
				fast = append(fast, c)
			} else {
				slow = append(slow, c)
			}
		}
		cs = append(fast, slow...)
	}
	return cs, nil
}

// estimator estimates the cost and latency of candidates for one request.
type estimator struct {
	r            *Router
	req          *llm.Request
	promptTokens int // -1 until computed
}

// costs fills in each candidate's estimated cost: the prompt at about four
// bytes a token at the input price, plus MaxTokens (or the model's output
// limit, at most 4,096) at the output price.
func (e *estimator) costs(cs []candidate) {
	if e.promptTokens < 0 {
		e.promptTokens = promptTokens(e.req)
	}
	cat := e.r.prices.Catalog()
	for i := range cs {
		c := &cs[i]
		out := e.req.MaxTokens
		if out <= 0 {
			out = defaultOutputEstimate
			if m, ok := cat.Model(c.dep.Provider, c.upstream); ok && m.Output > 0 {
				out = min(m.Output, out)
			} else if m, ok := cat.Model(c.dep.Provider, c.public); ok && m.Output > 0 {
				out = min(m.Output, out)
			}
		}
		p, ok := e.r.price(c.dep, c.public, c.upstream)
		if !ok {
			c.cost, c.priced = 0, false
			continue
		}
		c.cost, c.priced = p.Cost(llm.Usage{Input: e.promptTokens, Output: out})
	}
}

// byCost orders candidates by estimated cost, unpriced ones last, keeping
// the given order among equals.
func (e *estimator) byCost(cs []candidate) {
	e.costs(cs)
	e.latencies(cs)
	slices.SortStableFunc(cs, func(a, b candidate) int {
		switch {
		case a.priced != b.priced:
			if a.priced {
				return -1
			}
			return 1
		case a.cost < b.cost:
			return -1
		case a.cost > b.cost:
			return 1
		}
		if e.req.Route != nil && e.req.Route.LatencyPriority {
			return cmpDuration(a.latency, b.latency)
		}
		return 0
	})
}

// latencies fills in each candidate's expected latency.
func (e *estimator) latencies(cs []candidate) {
	for i := range cs {
		cs[i].latency = cs[i].dep.lat.expected(cs[i].upstream, e.req.MaxTokens)
	}
}

// byLatency orders candidates by expected latency, keeping the given order
// among equals.
func (e *estimator) byLatency(cs []candidate) {
	e.latencies(cs)
	slices.SortStableFunc(cs, func(a, b candidate) int { return cmpDuration(a.latency, b.latency) })
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// promptTokens estimates a request's prompt tokens at four bytes a token:
// system prompt, message text, tool calls and results, and tool
// definitions. Images are not counted.
func promptTokens(req *llm.Request) int {
	n := partsBytes(req.System)
	for _, m := range req.Messages {
		n += partsBytes(m.Parts)
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return (n + 3) / 4
}

func partsBytes(ps []llm.Part) int {
	var n int
	for _, p := range ps {
		n += len(p.Text)
		if p.ToolCall != nil {
			n += len(p.ToolCall.Name) + len(p.ToolCall.Arguments)
		}
		if p.ToolResult != nil {
			n += partsBytes(p.ToolResult.Content)
		}
	}
	return n
}

// price is what a deployment charges for a model: by its upstream id, else
// by its public name (an Azure deployment name is not a catalogue id).
func (r *Router) price(d *deployment, public, upstream string) (p catalog.Price, ok bool) {
	p, ok = r.prices.Lookup(d.Name, d.Provider, upstream)
	if !ok && public != upstream {
		p, ok = r.prices.Lookup(d.Name, d.Provider, public)
	}
	return p, ok
}
