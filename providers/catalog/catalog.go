package catalog

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

//go:embed models-dev.json
var modelsDev []byte

// License is the text of models.dev's MIT licence, which covers the
// embedded data.
//
//go:embed models-dev.LICENSE
var License string

// Catalog is a parsed provider and model catalogue. It is immutable and safe
// for concurrent use; the *Provider and *Model values it hands out are
// shared and must not be modified.
type Catalog struct {
	// Commit is the models.dev commit the data was taken from.
	Commit string
	// Source names where the data comes from.
	Source    string
	providers map[string]*Provider
	ids       []string
}

// Provider is one API provider.
type Provider struct {
	ID   string
	Name string
	// Env lists the environment variables the provider's key and settings
	// are read from, as models.dev names them.
	Env []string
	// BaseURL is the API root without a trailing slash; it may hold ${VAR}
	// placeholders (see [Provider.ResolveBaseURL]); empty when unknown.
	BaseURL string
	// Format is the wire format ("openai", "anthropic", "gemini",
	// "bedrock", "cohere", "azure", "ollama"); empty when unsupported.
	Format string
	// NPM is the npm package models.dev uses for the provider.
	NPM string
	// Doc is the provider's documentation address.
	Doc string
	// SelfHosted marks the built-in local servers (ollama, vllm, lmstudio,
	// tgi): they need no key, only a reachable base URL.
	SelfHosted bool
	// Models are the provider's models by id; read-only.
	Models map[string]*Model
}

// Model is one model of one provider.
type Model struct {
	ID   string
	Name string
	// Context, Input and Output are the token limits; 0 when unknown.
	Context int
	Input   int
	Output  int
	// ToolCall and Reasoning say whether the model calls tools and
	// reasons ("thinks").
	ToolCall  bool
	Reasoning bool
	// InputModalities and OutputModalities list "text", "image", "audio",
	// "pdf", "video".
	InputModalities  []string
	OutputModalities []string
	// Price is the model's price; Price.Known is 0 when unpriced.
	Price Price
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default is the embedded catalogue, parsed on first use. It panics if the
// embedded data does not parse, which this package's tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = Parse(modelsDev) })
	if defaultErr != nil {
		panic("catalog: embedded models-dev.json: " + defaultErr.Error())
	}
	return defaultCat
}

// Provider returns the provider with the id.
func (c *Catalog) Provider(id string) (*Provider, bool) {
	p, ok := c.providers[id]
	return p, ok
}

// Providers lists every provider, sorted by id.
func (c *Catalog) Providers() []*Provider {
	out := make([]*Provider, len(c.ids))
	for i, id := range c.ids {
		out[i] = c.providers[id]
	}
	return out
}

// Model returns a provider's model.
func (c *Catalog) Model(provider, model string) (*Model, bool) {
	p, ok := c.providers[provider]
	if !ok {
		return nil, false
	}
	m, ok := p.Models[model]
	return m, ok
}

// Price returns a provider's price for a model; false when the model is
// unknown or has no known price.
func (c *Catalog) Price(provider, model string) (Price, bool) {
	m, ok := c.Model(provider, model)
	if !ok || m.Price.Known == 0 {
		return Price{}, false
	}
	return m.Price, true
}

// ModelIDs lists the provider's model ids, sorted.
func (p *Provider) ModelIDs() []string {
	out := make([]string, 0, len(p.Models))
	for id := range p.Models {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// The JSON shapes of models.dev's data. Unknown keys are ignored.
type (
	rawCatalog struct {
		Commit    string                  `json:"commit"`
		PriceUnit string                  `json:"price_unit"`
		Source    string                  `json:"source"`
		Providers map[string]*rawProvider `json:"providers"`
	}
	rawProvider struct {
		Name   string               `json:"name"`
		Env    []string             `json:"env"`
		API    string               `json:"api"`
		NPM    string               `json:"npm"`
		Doc    string               `json:"doc"`
		Models map[string]*rawModel `json:"models"`
	}
	rawModel struct {
		Name       string `json:"name"`
		ToolCall   bool   `json:"tool_call"`
		Reasoning  bool   `json:"reasoning"`
		Cost       *rawCost
		Limit      struct{ Context, Input, Output int }
		Modalities struct{ Input, Output []string }
	}
	rawCost struct {
		Input       *float64 `json:"input"`
		Output      *float64 `json:"output"`
		CacheRead   *float64 `json:"cache_read"`
		CacheWrite  *float64 `json:"cache_write"`
		CachedInput *float64 `json:"cached_input"`
		CacheInput  *float64 `json:"cache_input"`
		CachedWrite *float64 `json:"cached_write"`
		Reasoning   *float64 `json:"reasoning"`
	}
)

// priceUnit is the only unit Parse accepts.
const priceUnit = "USD per 1M tokens"

// Parse reads a catalogue in models.dev's JSON shape and adds the built-in
// self-hosted providers and base URLs.
func Parse(data []byte) (*Catalog, error) {
	var raw rawCatalog
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if raw.PriceUnit != "" && raw.PriceUnit != priceUnit {
		return nil, fmt.Errorf("catalog: price_unit is %q, want %q", raw.PriceUnit, priceUnit)
	}
	if raw.Providers == nil {
		return nil, errors.New("catalog: no providers object")
	}
	c := &Catalog{Commit: raw.Commit, Source: raw.Source, providers: make(map[string]*Provider, len(raw.Providers)+len(selfHosted))}
	for id, rp := range raw.Providers {
		if rp == nil {
			return nil, fmt.Errorf("catalog: provider %q is null", id)
		}
		if id == "" {
			return nil, errors.New("catalog: provider with an empty id")
		}
		c.providers[id] = newProvider(id, rp)
	}
	for _, p := range selfHosted {
		if dp, ok := c.providers[p.ID]; ok {
			// The data's entry wins; it is still a local server.
			dp.SelfHosted = true
			if !slices.Contains(dp.Env, p.Env[0]) {
				dp.Env = append(slices.Clip(dp.Env), p.Env[0])
			}
			continue
		}
		cp := p
		cp.Models = map[string]*Model{}
		c.providers[p.ID] = &cp
	}
	c.ids = make([]string, 0, len(c.providers))
	for id := range c.providers {
		c.ids = append(c.ids, id)
	}
	sort.Strings(c.ids)
	return c, nil
}

func newProvider(id string, rp *rawProvider) *Provider {
	p := &Provider{ID: id, Name: rp.Name, Env: rp.Env, NPM: rp.NPM, Doc: rp.Doc,
		Format: formatOf(id, rp.NPM), Models: make(map[string]*Model, len(rp.Models))}
	p.BaseURL = strings.TrimRight(rp.API, "/")
	if p.BaseURL == "" {
		p.BaseURL = baseURLs[id]
	}
	switch p.Format {
	case "anthropic":
		p.BaseURL = strings.TrimSuffix(p.BaseURL, "/v1")
	case "openai":
		p.BaseURL = strings.TrimSuffix(p.BaseURL, "/chat/completions")
	}
	for mid, rm := range rp.Models {
		if rm == nil {
			continue
		}
		m := &Model{ID: mid, Name: rm.Name, ToolCall: rm.ToolCall, Reasoning: rm.Reasoning,
			Context: max(rm.Limit.Context, 0), Input: max(rm.Limit.Input, 0), Output: max(rm.Limit.Output, 0),
			InputModalities: rm.Modalities.Input, OutputModalities: rm.Modalities.Output}
		if rm.Cost != nil {
			m.Price = rm.Cost.price()
		}
		p.Models[mid] = m
	}
	return p
}

// price converts the data's cost object, mapping key variants and dropping
// negative values.
func (rc *rawCost) price() Price {
	var p Price
	set := func(dst *float64, f Fields, vals ...*float64) {
		for _, v := range vals {
			if v != nil && *v >= 0 {
				*dst = *v
				p.Known |= f
				return
			}
		}
	}
	set(&p.Input, FieldInput, rc.Input)
	set(&p.Output, FieldOutput, rc.Output)
	set(&p.CacheRead, FieldCacheRead, rc.CacheRead, rc.CachedInput, rc.CacheInput)
	set(&p.CacheWrite, FieldCacheWrite, rc.CacheWrite, rc.CachedWrite)
	set(&p.Reasoning, FieldReasoning, rc.Reasoning)
	return p
}
