package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/catalog"
)

// Strategies of a virtual model.
const (
	// StrategyFallback tries the targets in order.
	StrategyFallback = "fallback"
	// StrategyWeighted picks the first target at random by weight, then
	// tries the rest in order.
	StrategyWeighted = "weighted"
	// StrategyCheapest tries the targets by estimated cost, unpriced last.
	StrategyCheapest = "cheapest"
	// StrategyFastest tries the targets by expected latency.
	StrategyFastest = "fastest"
)

// Defaults for the zero values of [Retry] and [Breaker].
const (
	DefaultMaxAttempts = 2
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
	DefaultFailures    = 5
	DefaultOpenFor     = 30 * time.Second
)

// Deployment is one provider account the router may call.
type Deployment struct {
	// Name identifies the deployment in routes ("name/model"), metrics and
	// events. It must be unique and must not contain "/".
	Name string
	// Provider is the catalogue provider id, for prices and model lists;
	// empty for a server the catalogue does not know.
	Provider string
	// Client makes the calls.
	Client providers.Provider
	// Models are the public model names the deployment serves; empty means
	// every catalogue model of Provider, and any model when pinned with
	// "name/model".
	Models []string
	// ModelMap maps public model names to the upstream ids sent to the
	// provider (an Azure deployment name); its keys are served too.
	ModelMap map[string]string
	// Weight is the default weight of virtual-model targets pinned to this
	// deployment; 0 means 1.
	Weight int
}

// VirtualModel is a model name that routes to other models.
type VirtualModel struct {
	Name string `json:"name"`
	// Strategy is one of the Strategy constants; empty means fallback.
	Strategy string   `json:"strategy"`
	Targets  []Target `json:"targets"`
}

// Target is one model a virtual model routes to: "model" (every deployment
// serving it, in configuration order) or "deployment/model". Targets never
// name other virtual models.
type Target struct {
	Model string `json:"model"`
	// Weight is the target's share under the weighted strategy; 0 means
	// the pinned deployment's weight, or 1.
	Weight int `json:"weight,omitempty"`
}

// Retry configures retries of one deployment.
type Retry struct {
	// MaxAttempts is the number of calls to one deployment before falling
	// over to the next; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay is the first backoff; it doubles per attempt up to
	// MaxDelay, with jitter. A provider's Retry-After longer than MaxDelay
	// sends the call to the next deployment instead of waiting.
	BaseDelay, MaxDelay time.Duration
}

// Breaker configures the circuit breaker of every deployment.
type Breaker struct {
	// Failures is the number of consecutive provider faults that open the
	// circuit; 0 means DefaultFailures.
	Failures int
	// OpenFor is how long an open circuit refuses calls before one probe
	// is let through; 0 means DefaultOpenFor.
	OpenFor time.Duration
}

// Config configures a [Router].
type Config struct {
	Deployments []Deployment
	Virtual     []VirtualModel
	// Prices prices calls and estimates; nil uses the default catalogue
	// without overrides.
	Prices   *catalog.Table
	Retry    Retry
	Breaker  Breaker
	Recorder Recorder
	// Clock, Sleep and Rand are time, waiting and randomness (jitter and
	// weighted picks, values in [0, 1)); nil uses the real ones. Rand must
	// be safe for concurrent use.
	Clock  func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Rand   func() float64
	Logger *slog.Logger
	// Tenants holds the tenants' own virtual models, which a tenant's
	// requests resolve before the configured ones; nil for none.
	Tenants TenantModels
}

// TenantModels looks up a tenant's virtual models (a read model of their
// events). Version changes whenever the definition does.
type TenantModels interface {
	VirtualModel(tenant, name string) (v VirtualModel, version int, ok bool)
}

// Router routes chat calls to deployments. It is safe for concurrent use;
// it holds no goroutines and needs no cleanup.
type Router struct {
	cfg    Config
	prices *catalog.Table
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	rand   func() float64
	log    *slog.Logger

	tab atomic.Pointer[table]
	mu  sync.Mutex // serialises table updates
	// tenantVMs caches compiled tenant virtual models by tenant and name.
	tenantVMs sync.Map // string → *tenantVirtual
}

// New validates cfg, reporting every problem at once, and builds a router.
func New(cfg Config) (*Router, error) {
	r := &Router{cfg: cfg, prices: cfg.Prices, now: cfg.Clock, sleep: cfg.Sleep, rand: cfg.Rand, log: cfg.Logger}
	if r.prices == nil {
		t, err := catalog.NewTable(nil)
		if err != nil {
			return nil, fmt.Errorf("router: %w", err)
		}
		r.prices = t
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.sleep == nil {
		r.sleep = sleepCtx
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	c := &r.cfg
	if c.Retry.MaxAttempts < 0 || c.Retry.BaseDelay < 0 || c.Retry.MaxDelay < 0 {
		errs = append(errs, errors.New("router: retry settings must not be negative"))
	}
	if c.Breaker.Failures < 0 || c.Breaker.OpenFor < 0 {
		errs = append(errs, errors.New("router: breaker settings must not be negative"))
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.BaseDelay == 0 {
		c.Retry.BaseDelay = DefaultBaseDelay
	}
	if c.Retry.MaxDelay == 0 {
		c.Retry.MaxDelay = DefaultMaxDelay
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = DefaultFailures
	}
	if c.Breaker.OpenFor == 0 {
		c.Breaker.OpenFor = DefaultOpenFor
	}
	t := &table{byName: make(map[string]*deployment, len(cfg.Deployments)), bare: map[string][]candidate{}}
	for i, d := range cfg.Deployments {
		errs = append(errs, t.addDeployment(i, d, r.prices.Catalog())...)
	}
	t.virtual = make(map[string]*virtual, len(cfg.Virtual))
	seen := make(map[string]bool, len(cfg.Virtual))
	for _, v := range cfg.Virtual {
		if seen[v.Name] {
			errs = append(errs, fmt.Errorf("router: virtual model %q defined twice", v.Name))
			continue
		}
		seen[v.Name] = true
		vm, verrs := t.compile(v)
		errs = append(errs, verrs...)
		if vm != nil {
			t.virtual[v.Name] = vm
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.tab.Store(t)
	return r, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// table is an immutable routing table; updates replace it whole.
type table struct {
	deps    []*deployment
	byName  map[string]*deployment
	bare    map[string][]candidate
	virtual map[string]*virtual
}

// deployment is a configured deployment with its live state, shared by
// every table.
type deployment struct {
	Deployment
	// served maps public model names to upstream ids.
	served map[string]string
	// open deployments (no Models) pass any pinned model through.
	open bool
	br   breaker
	lat  latencies
}

// candidate is one deployment and model to try, with the estimates the
// ordering filled in.
type candidate struct {
	dep              *deployment
	public, upstream string
	weight           int
	cost             float64
	priced           bool
	latency          time.Duration
}

// virtual is a compiled virtual model.
type virtual struct {
	VirtualModel
	// targets are the candidates of each target; flat is all of them in
	// order without repeats.
	targets [][]candidate
	weights []int
	flat    []candidate
}

func (t *table) addDeployment(i int, d Deployment, cat *catalog.Catalog) []error {
	var errs []error
	name := d.Name
	if name == "" {
		name = fmt.Sprintf("#%d", i)
		errs = append(errs, fmt.Errorf("router: deployment %d has no name", i))
	}
	if strings.Contains(d.Name, "/") {
		errs = append(errs, fmt.Errorf("router: deployment %q: the name must not contain \"/\"", d.Name))
	}
	if _, dup := t.byName[d.Name]; dup && d.Name != "" {
		errs = append(errs, fmt.Errorf("router: deployment %q defined twice", d.Name))
	}
	if d.Client == nil {
		errs = append(errs, fmt.Errorf("router: deployment %q has no client", name))
	}
	if d.Weight < 0 {
		errs = append(errs, fmt.Errorf("router: deployment %q: weight must not be negative", name))
	}
	if d.Provider != "" {
		if _, ok := cat.Provider(d.Provider); !ok {
			errs = append(errs, fmt.Errorf("router: deployment %q: provider %q is not in the catalogue", name, d.Provider))
		}
	}
	dep := &deployment{Deployment: d, served: map[string]string{}, open: len(d.Models) == 0}
	if dep.open {
		if p, ok := cat.Provider(d.Provider); ok {
			for id := range p.Models {
				dep.served[id] = id
			}
		}
	}
	for _, m := range d.Models {
		if m == "" {
			errs = append(errs, fmt.Errorf("router: deployment %q lists an empty model", name))
			continue
		}
		dep.served[m] = m
	}
	for pub, up := range d.ModelMap {
		if pub == "" || up == "" {
			errs = append(errs, fmt.Errorf("router: deployment %q: model map entry %q → %q is empty", name, pub, up))
			continue
		}
		dep.served[pub] = up
	}
	if len(errs) > 0 {
		return errs
	}
	t.deps = append(t.deps, dep)
	t.byName[d.Name] = dep
	// Deployments are added in configuration order, so each model's list
	// keeps that order.
	for pub, up := range dep.served {
		t.bare[pub] = append(t.bare[pub], candidate{dep: dep, public: pub, upstream: up})
	}
	return nil
}

// compile checks a virtual model against the table and expands its targets.
func (t *table) compile(v VirtualModel) (*virtual, []error) {
	var errs []error
	if v.Name == "" {
		errs = append(errs, errors.New("router: virtual model with no name"))
	}
	switch v.Strategy {
	case "", StrategyFallback, StrategyWeighted, StrategyCheapest, StrategyFastest:
	default:
		errs = append(errs, fmt.Errorf("router: virtual model %q: unknown strategy %q (want fallback, weighted, cheapest or fastest)", v.Name, v.Strategy))
	}
	if len(v.Targets) == 0 {
		errs = append(errs, fmt.Errorf("router: virtual model %q has no targets", v.Name))
	}
	vm := &virtual{VirtualModel: v}
	if vm.Strategy == "" {
		vm.Strategy = StrategyFallback
	}
	for i, tg := range v.Targets {
		if tg.Weight < 0 {
			errs = append(errs, fmt.Errorf("router: virtual model %q target %d: weight must not be negative", v.Name, i))
		}
		cs, err := t.concrete(tg.Model)
		if err != nil {
			errs = append(errs, fmt.Errorf("router: virtual model %q target %d: %s", v.Name, i, err.Message))
			continue
		}
		w := tg.Weight
		if w == 0 && len(cs) == 1 {
			w = cs[0].dep.Weight
		}
		w = max(w, 1)
		vm.targets = append(vm.targets, cs)
		vm.weights = append(vm.weights, w)
		vm.flat = appendNew(vm.flat, cs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return vm, nil
}

// appendNew appends the candidates not already in dst (same deployment and
// upstream model).
func appendNew(dst []candidate, cs ...candidate) []candidate {
next:
	for _, c := range cs {
		for _, d := range dst {
			if d.dep == c.dep && d.upstream == c.upstream {
				continue next
			}
		}
		dst = append(dst, c)
	}
	return dst
}
