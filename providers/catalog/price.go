package catalog

import (
	"errors"
	"fmt"
	"math"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Fields is a set of price components.
type Fields uint8

// Price components.
const (
	FieldInput Fields = 1 << iota
	FieldOutput
	FieldCacheRead
	FieldCacheWrite
	FieldReasoning
)

// Price is what a model costs, in USD per 1M tokens. Known says which
// components are known; an unknown component is not $0.
type Price struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cacheRead"`
	CacheWrite float64 `json:"cacheWrite"`
	Reasoning  float64 `json:"reasoning"`
	Known      Fields  `json:"known"`
}

// Has reports whether every component in f is known.
func (p Price) Has(f Fields) bool { return p.Known&f == f }

// perToken is USD per token per (USD per 1M tokens).
const perToken = 1e-6

// Cost is what the usage costs in USD. priced is false when a bucket with
// tokens has no known price (see the package doc for the fallbacks), and
// for a price with no known component at all; the cost is then 0 and must
// be recorded as unpriced, not as free.
func (p Price) Cost(u llm.Usage) (usd float64, priced bool) {
	if p.Known == 0 {
		return 0, false
	}
	var sum float64 // USD × 1e6
	add := func(tokens int, price float64, have bool, fallback float64, haveFallback bool) bool {
		if tokens == 0 {
			return true
		}
		switch {
		case have:
			sum += float64(tokens) * price
		case haveFallback:
			sum += float64(tokens) * fallback
		default:
			return false
		}
		return true
	}
	in, out := p.Has(FieldInput), p.Has(FieldOutput)
	ok := add(u.Input, p.Input, in, 0, false) &&
		add(u.Output, p.Output, out, 0, false) &&
		add(u.CacheRead, p.CacheRead, p.Has(FieldCacheRead), p.Input, in) &&
		add(u.CacheWrite, p.CacheWrite, p.Has(FieldCacheWrite), p.Input, in) &&
		add(u.Reasoning, p.Reasoning, p.Has(FieldReasoning), p.Output, out)
	if !ok {
		return 0, false
	}
	return sum * perToken, true
}

// over returns p with o's known components laid over it.
func (p Price) over(o Price) Price {
	if o.Has(FieldInput) {
		p.Input = o.Input
	}
	if o.Has(FieldOutput) {
		p.Output = o.Output
	}
	if o.Has(FieldCacheRead) {
		p.CacheRead = o.CacheRead
	}
	if o.Has(FieldCacheWrite) {
		p.CacheWrite = o.CacheWrite
	}
	if o.Has(FieldReasoning) {
		p.Reasoning = o.Reasoning
	}
	p.Known |= o.Known
	return p
}

// Override sets prices for one deployment, from configuration. Nil
// components keep the catalogue's price; a deployment that costs nothing
// (a self-hosted server) sets Input and Output to 0 explicitly.
type Override struct {
	// Deployment is the deployment's name.
	Deployment string
	// Model is the model id the deployment is asked for; empty applies to
	// every model of the deployment (a model's own override wins).
	Model                                           string
	Input, Output, CacheRead, CacheWrite, Reasoning *float64
}

// Price is the override as a partial price.
func (o Override) Price() Price {
	var p Price
	set := func(dst *float64, f Fields, v *float64) {
		if v != nil {
			*dst = *v
			p.Known |= f
		}
	}
	set(&p.Input, FieldInput, o.Input)
	set(&p.Output, FieldOutput, o.Output)
	set(&p.CacheRead, FieldCacheRead, o.CacheRead)
	set(&p.CacheWrite, FieldCacheWrite, o.CacheWrite)
	set(&p.Reasoning, FieldReasoning, o.Reasoning)
	return p
}

// Table prices calls: the catalogue's prices with per-deployment overrides
// laid over them. It is immutable and safe for concurrent use.
type Table struct {
	cat       *Catalog
	overrides map[overrideKey]Price
	deps      map[string]bool
}

type overrideKey struct{ deployment, model string }

// NewTable builds a price table over the catalogue (nil for [Default]). It
// reports every bad override at once: no deployment, a negative or
// non-finite price, or two overrides of the same deployment and model.
func NewTable(c *Catalog, overrides ...Override) (*Table, error) {
	if c == nil {
		c = Default()
	}
	t := &Table{cat: c, overrides: make(map[overrideKey]Price, len(overrides)), deps: map[string]bool{}}
	var errs []error
	for i, o := range overrides {
		if o.Deployment == "" {
			errs = append(errs, fmt.Errorf("catalog: price override %d: no deployment", i))
			continue
		}
		k := overrideKey{o.Deployment, o.Model}
		if _, dup := t.overrides[k]; dup {
			errs = append(errs, fmt.Errorf("catalog: price override for deployment %q model %q given twice", o.Deployment, o.Model))
			continue
		}
		bad := false
		for _, v := range []*float64{o.Input, o.Output, o.CacheRead, o.CacheWrite, o.Reasoning} {
			if v != nil && (*v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0)) {
				bad = true
			}
		}
		if bad {
			errs = append(errs, fmt.Errorf("catalog: price override for deployment %q model %q: prices must be finite and not negative", o.Deployment, o.Model))
			continue
		}
		t.overrides[k] = o.Price()
		t.deps[o.Deployment] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Catalog is the catalogue under the table.
func (t *Table) Catalog() *Catalog { return t.cat }

// Lookup is the price of a model served by a deployment of a catalogue
// provider: the catalogue's price, then the deployment-wide override, then
// the deployment's override for the model, each laid over the last. False
// when no component is known.
func (t *Table) Lookup(deployment, provider, model string) (Price, bool) {
	p, _ := t.cat.Price(provider, model)
	if t.deps[deployment] {
		if o, ok := t.overrides[overrideKey{deployment, ""}]; ok {
			p = p.over(o)
		}
		if o, ok := t.overrides[overrideKey{deployment, model}]; ok && model != "" {
			p = p.over(o)
		}
	}
	return p, p.Known != 0
}
