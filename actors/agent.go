package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// LLM makes agents' model calls; *router.Router implements it. The
// returned *router.Call is complete once the stream has ended.
type LLM interface {
	Stream(ctx context.Context, req *llm.Request, who router.Caller) (llm.Stream, *router.Call, error)
}

var _ LLM = (*router.Router)(nil)

// ErrNotWaiting is returned by Answer for a run that is not waiting for a
// human.
var ErrNotWaiting = errors.New("agent run is not waiting for an answer")

// DefaultMaxToolConcurrency bounds the concurrent tool calls of one run
// when Options.MaxToolConcurrency is 0.
const DefaultMaxToolConcurrency = 8

// Agents stores versioned agent definitions and runs agents. Each run is a
// virtual actor keyed by its tenant-scoped id; see the file agent_actor.go
// for how a run executes and journals its steps. Agents is safe for
// concurrent use.
//
// Definitions: an agent's stream (events.AgentStream) holds one
// AgentDefined per version; saving an unchanged definition stores nothing.
// A run snapshots the definition it starts with, so a later version never
// changes a run under way.
//
// Memory: a run's actor holds the run's conversation while it runs, one
// goroutine while a model or tool call is in flight (one per tool call, at
// most MaxToolConcurrency), and nothing once the run waits for a human or
// has ended: its actor stops at once, and a later command reactivates it
// from its stream.
type Agents struct {
	sys      *System
	store    events.Store
	llm      LLM
	tools    *tools.Registry // the caller's kinds and built-ins
	builtins *tools.Registry // ours, served by this Agents
	log      *slog.Logger
	props    *actor.Props
	maxTools int

	mu      sync.Mutex
	stopped bool
	gen     uint64
	active  map[string]*runActivation // tenant-scoped run id → its activation
	// dones holds the done channel of every run actor by actor name,
	// closed and removed when the actor stops.
	dones map[string]chan struct{}
	// gens numbers batches of side effects across all run actors, so that
	// a restarted actor never mistakes an old result for a new one.
	gens  atomic.Uint64
	ended []func(RunView)

	hubMu sync.RWMutex
	hubs  map[string]*hub // tenant-scoped run id → its watchers

	quit chan struct{} // closed by stop
	wg   sync.WaitGroup
}

func newAgents(s *System) *Agents {
	a := &Agents{
		sys: s, store: s.store, llm: s.opts.LLM, tools: s.opts.Tools, log: s.log,
		maxTools: s.opts.MaxToolConcurrency,
		active:   make(map[string]*runActivation), dones: make(map[string]chan struct{}),
		hubs: make(map[string]*hub), quit: make(chan struct{}),
	}
	if a.tools == nil {
		a.tools = tools.New(tools.Options{})
	}
	if a.maxTools <= 0 {
		a.maxTools = DefaultMaxToolConcurrency
	}
	if s.opts.OnRunEnded != nil {
		a.ended = append(a.ended, s.opts.OnRunEnded)
	}
	a.builtins = tools.New(tools.Options{})
	if err := a.builtins.RegisterBuiltins(builtinRuns{a}); err != nil {
		panic(err) // a fresh registry: cannot happen
	}
	a.props = actor.PropsFromProducer(func() actor.Actor { return &runActor{ag: a} },
		actor.WithMailbox(actor.UnboundedLockfree()))
	return a
}

// OnEnded adds f to the functions called with a run's view when it ends
// (completes, fails or is cancelled) on this node. f is called from the
// run's actor and must not block.
func (a *Agents) OnEnded(f func(RunView)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = append(a.ended, f)
}

func (a *Agents) notifyEnded(v RunView) {
	a.mu.Lock()
	fs := a.ended
	a.mu.Unlock()
	for _, f := range fs {
		f(v)
	}
}

// Save validates d and stores it: as version 1 of a new agent (its id is
// the slug of its name when empty), or as the next version of agent d.ID.
// A definition equal to the latest version stores nothing and returns it.
func (a *Agents) Save(ctx context.Context, c Caller, d agent.Definition) (agent.Definition, error) {
	d = agent.Normalize(d)
	if d.ID == "" {
		d.ID = agent.Slug(d.Name)
	}
	return a.put(ctx, c, d, false)
}

// Create is Save for a new agent: it fails with ErrAlreadyExists when
// agent d.ID exists. When d.ID is empty the id is the slug of the name,
// with "-2", "-3", … appended while that is taken.
func (a *Agents) Create(ctx context.Context, c Caller, d agent.Definition) (agent.Definition, error) {
	d = agent.Normalize(d)
	if d.ID != "" {
		return a.put(ctx, c, d, true)
	}
	base := agent.Slug(d.Name)
	for i := 1; i <= 100; i++ {
		d.ID = base
		if i > 1 {
			d.ID = base + "-" + strconv.Itoa(i)
		}
		out, err := a.put(ctx, c, d, true)
		if !errors.Is(err, ErrAlreadyExists) {
			return out, err
		}
	}
	return agent.Definition{}, fmt.Errorf("agent %q: %w", base, ErrAlreadyExists)
}

// put stores d as the next version of its agent; with create, only when
// the agent does not exist (or was deleted).
func (a *Agents) put(ctx context.Context, c Caller, d agent.Definition, create bool) (agent.Definition, error) {
	if err := agent.Validate(d); err != nil {
		return agent.Definition{}, err
	}
	stream := events.AgentStream(c.Tenant, d.ID)
	if err := events.ValidateStream(stream); err != nil {
		return agent.Definition{}, fmt.Errorf("id: %w", err)
	}
	h, err := a.history(ctx, c, d.ID)
	if err != nil {
		return agent.Definition{}, err
	}
	if h.exists() {
		if create {
			return agent.Definition{}, fmt.Errorf("agent %q: %w", d.ID, ErrAlreadyExists)
		}
		if agent.Same(h.latest, d) {
			return h.latest, nil
		}
	}
	now := time.Now().UTC()
	d.Version, d.CreatedAt, d.UpdatedAt = h.versions+1, now, now
	if h.versions > 0 && !h.firstAt.IsZero() {
		d.CreatedAt = h.firstAt
	}
	body, err := json.Marshal(d)
	if err != nil {
		return agent.Definition{}, fmt.Errorf("encode agent: %w", err)
	}
	ev, err := events.NewEvent(events.TypeAgentDefined, events.AgentDefinedVersion,
		events.AgentDefined{AgentID: d.ID, Version: d.Version, Definition: body})
	if err != nil {
		return agent.Definition{}, err
	}
	ev.Tenant, ev.Actor, ev.Time = c.Tenant, c.Actor, now
	if _, err := a.store.Append(ctx, stream, events.Exact(h.revision), ev); err != nil {
		if errors.Is(err, events.ErrConflict) {
			if create && h.revision == 0 {
				return agent.Definition{}, fmt.Errorf("agent %q: %w", d.ID, ErrAlreadyExists)
			}
			return agent.Definition{}, fmt.Errorf("agent %q changed concurrently: %w", d.ID, err)
		}
		return agent.Definition{}, err
	}
	return d, nil
}

// agentHistory is an agent's stream folded.
type agentHistory struct {
	revision uint64
	versions int
	deleted  bool
	latest   agent.Definition
	byVer    map[int]agent.Definition
	firstAt  time.Time
}

func (h agentHistory) exists() bool { return h.versions > 0 && !h.deleted }

func (a *Agents) history(ctx context.Context, c Caller, id string) (agentHistory, error) {
	var h agentHistory
	stream := events.AgentStream(c.Tenant, id)
	if !agent.ValidID(id) || events.ValidateStream(stream) != nil {
		return h, nil
	}
	evs, err := a.store.ReadStream(ctx, stream, 1, 0)
	if err != nil {
		return h, fmt.Errorf("read agent %q: %w", id, err)
	}
	for _, e := range evs {
		h.revision = e.Revision
		if e.Tenant != c.Tenant {
			return agentHistory{}, nil // not the caller's: as if absent
		}
		switch e.Type {
		case events.TypeAgentDefined:
			var ad events.AgentDefined
			if err := e.Decode(&ad); err != nil {
				return h, err
			}
			var d agent.Definition
			if err := json.Unmarshal(ad.Definition, &d); err != nil {
				return h, fmt.Errorf("stored agent %q v%d: %w", id, ad.Version, err)
			}
			d = agent.Normalize(d)
			d.ID, d.Version = id, ad.Version
			if h.byVer == nil {
				h.byVer = map[int]agent.Definition{}
			}
			h.byVer[d.Version] = d
			h.latest, h.deleted = d, false
			h.versions = max(h.versions, d.Version)
			if h.firstAt.IsZero() {
				h.firstAt = d.CreatedAt
			}
		case events.TypeAgentDeleted:
			h.deleted = true
		}
	}
	return h, nil
}

// Get returns version of the tenant's agent id (0: the latest).
func (a *Agents) Get(ctx context.Context, c Caller, id string, version int) (agent.Definition, error) {
	h, err := a.history(ctx, c, id)
	if err != nil {
		return agent.Definition{}, err
	}
	if !h.exists() {
		return agent.Definition{}, fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	if version <= 0 {
		return h.latest, nil
	}
	d, ok := h.byVer[version]
	if !ok {
		return agent.Definition{}, fmt.Errorf("agent %q version %d: %w", id, version, ErrNotFound)
	}
	return d, nil
}

// Delete deletes the tenant's agent id. Runs under way go on with the
// definition they started with.
func (a *Agents) Delete(ctx context.Context, c Caller, id string) error {
	h, err := a.history(ctx, c, id)
	if err != nil {
		return err
	}
	if !h.exists() {
		return fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	ev, err := events.NewEvent(events.TypeAgentDeleted, events.AgentDeletedVersion, events.AgentDeleted{AgentID: id})
	if err != nil {
		return err
	}
	ev.Tenant, ev.Actor = c.Tenant, c.Actor
	if _, err := a.store.Append(ctx, events.AgentStream(c.Tenant, id), events.Exact(h.revision), ev); err != nil {
		return fmt.Errorf("delete agent %q: %w", id, err)
	}
	return nil
}
