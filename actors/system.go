package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

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

	mu      sync.Mutex
	stopped bool
	active  map[string]*actor.PID // resource id → its activation

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
		active:    make(map[string]*actor.PID),
		snapq:     make(chan events.Snapshot, 1024),
	}
	s.snapshots, _ = store.(events.Snapshots)
	s.wg.Add(1)
	go s.snapshotWriter()
	return s
}

// Stop passivates every actor and waits for pending snapshots.
func (s *System) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	pids := make([]*actor.PID, 0, len(s.active))
	for _, pid := range s.active {
		pids = append(pids, pid)
	}
	clear(s.active)
	s.mu.Unlock()
	for _, pid := range pids {
		_ = s.as.Root.StopFuture(pid).Wait()
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
	r, err := s.request(ctx, cmd.ResourceID, &createMsg{cmd: cmd})
	return r.res, err
}

// Fire fires an activity on a resource and returns once the transition is
// durable.
func (s *System) Fire(ctx context.Context, cmd FireActivity) (Transition, error) {
	r, err := s.request(ctx, cmd.ResourceID, &fireMsg{cmd: cmd})
	return r.trans, err
}

// Resource returns a resource's current state.
func (s *System) Resource(ctx context.Context, c Caller, id string) (Resource, error) {
	r, err := s.request(ctx, id, &getMsg{caller: c})
	return r.res, err
}

// request sends msg to the activation of resource id, activating it when
// needed. A request that reaches an actor just as it passivates is retried
// on a new activation.
func (s *System) request(ctx context.Context, id string, msg any) (reply, error) {
	if err := events.ValidateStream(events.ResourceStream(id)); err != nil {
		return reply{}, fmt.Errorf("resource id: %w", err)
	}
	timeout := s.opts.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	for attempt := 0; attempt < 5; attempt++ {
		pid, err := s.activate(id)
		if err != nil {
			return reply{}, err
		}
		res, err := s.as.Root.RequestFuture(pid, msg, timeout).Result()
		if errors.Is(err, actor.ErrDeadLetter) {
			s.deactivate(id, pid)
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

func (s *System) activate(id string) (*actor.PID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrStopped
	}
	if pid, ok := s.active[id]; ok {
		return pid, nil
	}
	p := actor.PropsFromProducer(func() actor.Actor { return &resourceActor{sys: s, id: id} })
	pid := s.as.Root.Spawn(p)
	s.active[id] = pid
	return pid, nil
}

// deactivate forgets pid as the activation of id (if it still is).
func (s *System) deactivate(id string, pid *actor.PID) {
	s.mu.Lock()
	if cur, ok := s.active[id]; ok && cur.Equal(pid) {
		delete(s.active, id)
	}
	s.mu.Unlock()
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
