package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/circuit-breaker/circuit-breaker/agent/tools"
	"github.com/circuit-breaker/circuit-breaker/events"
)

// Options configures a System.
type Options struct {
	// PassivateAfter is how long an actor may stay idle before it is
	// stopped (default 2 minutes).
	PassivateAfter time.Duration
	// SnapshotEvery is how many events a resource appends between
	// snapshots (default 100; negative disables snapshots).
	SnapshotEvery int
	// RequestTimeout bounds a command when its ctx has no deadline
	// (default 30 seconds).
	RequestTimeout time.Duration
	Logger         *slog.Logger

	// LLM makes agent runs' model calls (a *router.Router); nil fails
	// every run at its first model call.
	LLM LLM
	// Tools serves agents' tools by kind; nil serves HTTP tools and the
	// built-ins. Built-ins it does not serve are served by the System's
	// Agents.
	Tools *tools.Registry
	// MaxToolConcurrency bounds the concurrent tool calls of one agent
	// run (default DefaultMaxToolConcurrency).
	MaxToolConcurrency int
	// OnRunEnded, when set, is called with the view of every agent run
	// that ends on this node, from the run's actor: it must not block.
	OnRunEnded func(RunView)
}

func (o *Options) defaults() {
	if o.PassivateAfter <= 0 {
		o.PassivateAfter = 2 * time.Minute
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = 100
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// System hosts the actors of one node.
//
// Lifecycle: New → commands (safe for concurrent use) → Stop.
type System struct {
	store     events.Store
	snapshots events.Snapshots // nil when the store keeps none
	opts      Options
	log       *slog.Logger
	as        *actor.ActorSystem

	// Workflows holds the workflow definitions.
	Workflows *Workflows
	// Agents holds the agent definitions and runs the agents.
	Agents *Agents

	automation atomic.Pointer[Automation] // set by NewAutomation

	props *actor.Props

	mu      sync.Mutex
	stopped bool
	gen     uint64                 // activation counter: unique actor names
	active  map[string]*activation // resource id → its activation
	quit    chan struct{}          // stops the passivation sweeper

	snapMu     sync.RWMutex
	snapClosed bool
	snapq      chan events.Snapshot
	wg         sync.WaitGroup
}

// New starts a System on store. If store also implements events.Snapshots,
// resources are snapshotted.
func New(store events.Store, o Options) *System {
	o.defaults()
	s := &System{
		store:     store,
		opts:      o,
		log:       o.Logger,
		as:        actor.NewActorSystem(actor.WithLoggerFactory(quietLogger)),
		Workflows: newWorkflows(store),
		active:    make(map[string]*activation),
		quit:      make(chan struct{}),
		snapq:     make(chan events.Snapshot, 1024),
	}
	s.snapshots, _ = store.(events.Snapshots)
	s.Agents = newAgents(s)
	// One Props for every resource actor (the actor learns its id from
	// its name) and a lock-free mailbox: both keep idle actors small.
	s.props = actor.PropsFromProducer(func() actor.Actor { return &resourceActor{sys: s} },
		actor.WithMailbox(actor.UnboundedLockfree()))
	s.wg.Add(2)
	go s.snapshotWriter()
	go s.sweep()
	return s
}

// Stop stops the automation (if any), passivates every actor and waits for
// pending snapshots.
func (s *System) Stop(ctx context.Context) error {
	if a := s.automation.Load(); a != nil {
		if err := a.halt(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.quit)
	pids := make([]*actor.PID, 0, len(s.active))
	for _, a := range s.active {
		pids = append(pids, a.pid)
	}
	clear(s.active)
	s.mu.Unlock()
	for _, pid := range pids {
		_ = s.as.Root.StopFuture(pid).Wait()
	}
	if err := s.Agents.stop(ctx); err != nil {
		return err
	}
	s.snapMu.Lock()
	s.snapClosed = true
	close(s.snapq)
	s.snapMu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.as.Shutdown()
	return nil
}

// Active reports how many resource actors are resident.
func (s *System) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active)
}

// CreateResource starts a resource in its workflow's initial state.
func (s *System) CreateResource(ctx context.Context, cmd CreateResource) (Resource, error) {
	r, err := s.request(ctx, cmd.Tenant, cmd.ResourceID, &createMsg{cmd: cmd})
	return r.res, err
}

// Fire fires an activity on a resource and returns once the transition is
// durable.
func (s *System) Fire(ctx context.Context, cmd FireActivity) (Transition, error) {
	r, err := s.request(ctx, cmd.Tenant, cmd.ResourceID, &fireMsg{cmd: cmd})
	return r.trans, err
}

// Resource returns a resource's current state.
func (s *System) Resource(ctx context.Context, c Caller, id string) (Resource, error) {
	r, err := s.request(ctx, c.Tenant, id, &getMsg{caller: c})
	return r.res, err
}

// request sends msg to the activation of the tenant's resource id,
// activating it when needed. A request that reaches an actor just as it
// passivates is retried on a new activation.
func (s *System) request(ctx context.Context, tenant, rid string, msg any) (reply, error) {
	if err := events.ValidateStream(events.ResourceStream(tenant, rid)); err != nil {
		return reply{}, fmt.Errorf("resource id: %w", err)
	}
	id := events.Scoped(tenant, rid) // activations are per tenant
	timeout := s.opts.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	for attempt := 0; attempt < 5; attempt++ {
		a, err := s.activate(id)
		if err != nil {
			return reply{}, err
		}
		res, err := s.as.Root.RequestFuture(a.pid, msg, timeout).Result()
		if errors.Is(err, actor.ErrDeadLetter) {
			s.deactivate(id, a.pid)
			continue
		}
		if errors.Is(err, actor.ErrTimeout) {
			if ctx.Err() != nil {
				return reply{}, ctx.Err()
			}
			return reply{}, fmt.Errorf("resource %s: %w", id, context.DeadlineExceeded)
		}
		if err != nil {
			return reply{}, err
		}
		r := res.(reply)
		return r, r.err
	}
	return reply{}, fmt.Errorf("resource %s: activation kept stopping: %w", id, ErrBusy)
}

// activation is a resident resource actor and when it was last used.
type activation struct {
	pid  *actor.PID
	last atomic.Int64 // unix nanoseconds of the last request
}

// nameSep separates a resource id from the activation counter in an
// actor's name; stream names never contain it.
const nameSep = "#"

func (s *System) activate(id string) (*activation, error) {
	now := time.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrStopped
	}
	if a, ok := s.active[id]; ok {
		a.last.Store(now)
		return a, nil
	}
	s.gen++
	pid, err := s.as.Root.SpawnNamed(s.props, id+nameSep+strconv.FormatUint(s.gen, 36))
	if err != nil {
		return nil, fmt.Errorf("activate resource %s: %w", id, err)
	}
	a := &activation{pid: pid}
	a.last.Store(now)
	s.active[id] = a
	return a, nil
}

// deactivate forgets pid as the activation of id (if it still is).
func (s *System) deactivate(id string, pid *actor.PID) {
	s.mu.Lock()
	if cur, ok := s.active[id]; ok && cur.pid.Equal(pid) {
		delete(s.active, id)
	}
	s.mu.Unlock()
}

// passivate forgets the activation pid of id if it is still idle; the
// actor stops itself when it returns true. A request racing the stop
// finds a dead letter and is retried on a new activation.
func (s *System) passivate(id string, pid *actor.PID) bool {
	idle := time.Now().Add(-s.opts.PassivateAfter).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.active[id]
	if !ok || !cur.pid.Equal(pid) {
		return true // already replaced: this activation is orphaned
	}
	if cur.last.Load() > idle {
		return false
	}
	delete(s.active, id)
	return true
}

// sweep asks idle actors to passivate. One sweeper for the whole system
// costs far less memory than a receive timer per actor.
func (s *System) sweep() {
	defer s.wg.Done()
	every := max(s.opts.PassivateAfter/4, 5*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var idle []*actor.PID
	for {
		select {
		case <-s.quit:
			return
		case now := <-t.C:
			cutoff := now.Add(-s.opts.PassivateAfter).UnixNano()
			idle = idle[:0]
			s.mu.Lock()
			for _, a := range s.active {
				if a.last.Load() <= cutoff {
					idle = append(idle, a.pid)
				}
			}
			s.mu.Unlock()
			for _, pid := range idle {
				s.as.Root.Send(pid, passivateMsg{})
			}
		}
	}
}

// snapshotWriter saves snapshots off the command path.
func (s *System) snapshotWriter() {
	defer s.wg.Done()
	for snap := range s.snapq {
		if s.snapshots == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.snapshots.SaveSnapshot(ctx, snap); err != nil {
			s.log.Warn("snapshot not saved", "stream", snap.Stream, "err", err)
		}
		cancel()
	}
}

func (s *System) offerSnapshot(snap events.Snapshot) {
	s.snapMu.RLock()
	defer s.snapMu.RUnlock()
	if s.snapClosed || s.snapshots == nil {
		return
	}
	select {
	case s.snapq <- snap:
	default: // a snapshot is an optimisation: drop it when the writer lags
	}
}

// quietLogger keeps protoactor's own logging at warnings and above.
func quietLogger(*actor.ActorSystem) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
