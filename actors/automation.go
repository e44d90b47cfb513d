package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// AutomationCheckpoint is the snapshot key of the automation checkpoint.
const AutomationCheckpoint = "automation-checkpoint"

// automationCheckpointVersion is the schema version of the checkpoint.
const automationCheckpointVersion = 1

// AutomationOptions configures an Automation.
type AutomationOptions struct {
	// CheckpointEvery is how often the checkpoint is saved when it has
	// changed (default 5 seconds).
	CheckpointEvery time.Duration
	Logger          *slog.Logger
}

// Automation is the process manager of workflows: it follows the event log
// and drives resources on their own.
//
//   - A resource that enters a state (ResourceCreated, StateChanged) fires
//     the first automatic activity whose conditions hold
//     (workflow.Machine.NextAuto): a plain one moves it at once, an agent
//     one starts its run, a waitForHuman one parks it.
//   - The completion of an agent run working for a resource fires the
//     run's activity with the output merged under the activity's
//     OutputKey (idempotency key: the run id); its failure or cancellation
//     is recorded as ResourceActivityFailed. A run that escalates to a
//     human parks the resource; its answer (ResumeResource or the Agents
//     service) resumes it.
//   - A wait with a timeout fires its TimeoutActivity at the deadline
//     (idempotency key "timeout:<waitId>"), from one timer wheel.
//
// Every decision is made by the resource's actor from the resource's own
// state, so automation only tells actors what happened: messages are
// idempotent and delivered at least once. Its position, the parked
// resources, the runs' links and which workflows are automatic are saved
// as a checkpoint (a snapshot, every CheckpointEvery and at the end); at
// start-up it loads the checkpoint, replays the log after it (catch-up),
// then deduplicates what catch-up asked for (one look per resource, runs
// whose start is not in the log) and only then arms the timers, so that a
// restart neither loses nor repeats a step. Without a Snapshots store it
// replays the whole log.
//
// Lifecycle: NewAutomation → Run(ctx) (blocks until ctx ends; saves a last
// checkpoint). One Automation per System.
type Automation struct {
	sys   *System
	store events.Store
	snaps events.Snapshots
	opts  AutomationOptions
	log   *slog.Logger
	wheel *wheel

	mu       sync.RWMutex // guards idx for Parked; Run's goroutine writes
	idx      index
	caughtUp bool

	runMu  sync.Mutex
	halted bool
	cancel context.CancelFunc // ends the running Run
	done   chan struct{}      // closed when the running Run returns
}

// NewAutomation returns the automation of sys over sys's store, and
// registers it on sys (System.Parked reads it).
func NewAutomation(sys *System, o AutomationOptions) *Automation {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = sys.log
	}
	a := &Automation{sys: sys, store: sys.store, snaps: sys.snapshots, opts: o, log: o.Logger,
		wheel: newWheel(), idx: newIndex()}
	sys.automation.Store(a)
	return a
}

// Parked lists the tenant's resources parked on a human wait, oldest
// first, as of the log position automation has reached; nil when no
// Automation runs on the system.
func (s *System) Parked(tenant string) []ParkedResource {
	a := s.automation.Load()
	if a == nil {
		return nil
	}
	return a.Parked(tenant)
}

// ParkedOn returns the wait the tenant's resource id is parked on, as of
// the log position automation has reached.
func (s *System) ParkedOn(tenant, id string) (Wait, bool) {
	a := s.automation.Load()
	if a == nil {
		return Wait{}, false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.idx.Parked[events.ResourceStream(tenant, id)]
	return p.Wait, ok
}

// Parked lists the tenant's parked resources, oldest first.
func (a *Automation) Parked(tenant string) []ParkedResource {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.idx.parked(tenant)
}

// CaughtUp reports whether automation has replayed the log as it was at
// start-up and drives resources live.
func (a *Automation) CaughtUp() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.caughtUp
}

// Position is the position of the last event automation handled.
func (a *Automation) Position() uint64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.idx.Position
}

// Run follows the log until ctx ends or the System stops (System.Stop
// stops the automation before the actors).
func (a *Automation) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.runMu.Lock()
	if a.halted || a.done != nil {
		a.runMu.Unlock()
		return nil // stopped, or running already
	}
	done := make(chan struct{})
	a.cancel, a.done = cancel, done
	a.runMu.Unlock()
	defer close(done)
	if err := a.loadCheckpoint(ctx); err != nil {
		a.log.Warn("automation checkpoint not used; replaying the log", "err", err)
	}
	for _, p := range a.idx.Parked { // only Run's goroutine writes idx
		if !p.Wait.Deadline.IsZero() {
			a.wheel.Add(events.ResourceStream(p.Tenant, p.ResourceID), p.Wait.Deadline)
		}
	}
	last, err := a.store.LastPosition(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("automation: %w", err)
	}
	sub, err := a.store.Subscribe(ctx, a.idx.Position+1)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("automation: %w", err)
	}
	defer sub.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // before wg.Wait: ends the goroutines
	wg.Go(func() { a.wheel.Run(ctx) })
	evs := make(chan events.Envelope, 256)
	errc := make(chan error, 1)
	wg.Go(func() { // ends when sub.Next fails, which it does once ctx ends
		defer close(evs)
		for {
			e, err := sub.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case evs <- e:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	})

	c := catchUp{enter: map[string]action{}}
	if a.idx.Position >= last {
		a.live(ctx, &c)
	}
	saved := a.idx.Position
	tick := time.NewTicker(a.opts.CheckpointEvery)
	defer tick.Stop()
	var timers <-chan string // armed once caught up
	for {
		if timers == nil && a.CaughtUp() {
			timers = a.wheel.C()
		}
		select {
		case e, ok := <-evs:
			if !ok {
				err := <-errc
				if a.CaughtUp() {
					a.checkpoint(saved)
				}
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("automation: subscription ended: %w", err)
			}
			a.handle(ctx, e, &c)
			if !a.CaughtUp() && e.Position >= last {
				a.live(ctx, &c)
			}
		case key := <-timers:
			a.timeout(ctx, key)
		case <-tick.C:
			if !a.CaughtUp() {
				continue // what catch-up deferred is not sent yet
			}
			a.ensureRuns(ctx, time.Now().Add(-startGrace))
			if pos := a.Position(); pos > saved && a.checkpoint(saved) {
				saved = pos
			}
		case <-ctx.Done():
			if a.CaughtUp() {
				a.checkpoint(saved)
			}
			return nil
		}
	}
}

// halt ends Run, if it runs, and waits for it (or ctx); Run does nothing
// afterwards.
func (a *Automation) halt(ctx context.Context) error {
	a.runMu.Lock()
	a.halted = true
	cancel, done := a.cancel, a.done
	a.runMu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// catchUp holds what catch-up asks for until it ends: the last look per
// resource.
type catchUp struct {
	enter map[string]action // by resource stream
}

// handle folds e and sends what it asks for (or defers it during
// catch-up).
func (a *Automation) handle(ctx context.Context, e events.Envelope, c *catchUp) {
	a.mu.Lock()
	acts, err := a.idx.apply(e, a.wheel)
	a.idx.Position = e.Position
	live := a.caughtUp
	a.mu.Unlock()
	if err != nil {
		a.log.Warn("automation skipped an event it cannot read", "stream", e.Stream, "position", e.Position, "err", err)
		return
	}
	for _, act := range acts {
		switch {
		case act.enter && !live:
			c.enter[e.Stream] = act
		default:
			_ = a.send(ctx, act)
		}
	}
}

// live ends catch-up: it starts the recorded runs that have not started,
// sends what catch-up deferred and arms the timers.
func (a *Automation) live(ctx context.Context, c *catchUp) {
	a.ensureRuns(ctx, time.Now())
	for _, act := range c.enter {
		_ = a.send(ctx, act)
	}
	clear(c.enter)
	a.mu.Lock()
	a.caughtUp = true
	a.mu.Unlock()
	a.log.Info("automation is live", "position", a.Position(), "parked", a.wheel.Len())
}

// startGrace is how long a resource's actor has to start a run it recorded
// before automation starts it (the actor starts it right after recording
// it; automation covers a crash in between).
const startGrace = 10 * time.Second

// ensureRuns asks resources to start the runs they recorded before cutoff
// whose start automation has not seen.
func (a *Automation) ensureRuns(ctx context.Context, cutoff time.Time) {
	a.mu.RLock()
	acts := a.idx.unstarted(cutoff)
	a.mu.RUnlock()
	for _, act := range acts {
		if err := a.send(ctx, act); errors.Is(err, errRunNotPending) || errors.Is(err, ErrNotFound) {
			a.mu.Lock()
			delete(a.idx.Links, events.AgentRunStream(act.tenant, act.msg.(*ensureRunMsg).runID))
			a.mu.Unlock()
		}
	}
}

// timeout tells a parked resource its wait's deadline passed.
func (a *Automation) timeout(ctx context.Context, stream string) {
	a.mu.RLock()
	p, ok := a.idx.Parked[stream]
	a.mu.RUnlock()
	if !ok || p.Wait.Deadline.IsZero() {
		return
	}
	err := a.send(ctx, action{tenant: p.Tenant, resourceID: p.ResourceID,
		msg: &timeoutMsg{c: Caller{Tenant: p.Tenant, Actor: AutomationActor}, waitID: p.Wait.ID}})
	if err != nil && ctx.Err() == nil && transient(err) {
		a.wheel.Add(stream, time.Now().Add(timeoutRetry)) // try again later
	}
}

// timeoutRetry is how long a timeout that could not be delivered waits
// before it is tried again.
const timeoutRetry = 30 * time.Second

// send delivers act's message to its resource, retrying transient
// failures with backoff for a while. A refusal of the resource (it does
// not exist, an activity cannot fire) is final: the actor records what
// matters as events. It returns the last error.
func (a *Automation) send(ctx context.Context, act action) error {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := a.sys.request(ctx, act.tenant, act.resourceID, act.msg)
		if err == nil || ctx.Err() != nil || errors.Is(err, ErrStopped) || errors.Is(err, errRunNotPending) {
			return err
		}
		if !transient(err) || attempt == 8 {
			a.log.Warn("automation could not drive a resource", "tenant", act.tenant, "resource", act.resourceID,
				"message", fmt.Sprintf("%T", act.msg), "err", err)
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// transient reports whether a request may succeed if retried.
func transient(err error) bool {
	var ve *workflow.ValidationError
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrWaiting), errors.Is(err, ErrNotParked),
		errors.Is(err, events.ErrInvalid), errors.As(err, &ve), errors.Is(err, errNoAgents):
		return false
	}
	return true
}

func (a *Automation) loadCheckpoint(ctx context.Context) error {
	if a.snaps == nil {
		return nil
	}
	snap, ok, err := a.snaps.LoadSnapshot(ctx, AutomationCheckpoint)
	if err != nil || !ok {
		return err
	}
	if snap.Version != automationCheckpointVersion {
		return fmt.Errorf("checkpoint version %d, want %d", snap.Version, automationCheckpointVersion)
	}
	x := newIndex()
	if err := json.Unmarshal(snap.State, &x); err != nil {
		return err
	}
	if x.Parked == nil || x.Links == nil || x.Auto == nil {
		return errors.New("checkpoint incomplete")
	}
	a.mu.Lock()
	a.idx = x
	a.mu.Unlock()
	return nil
}

// checkpoint saves the index if it moved past saved; it reports whether
// it did.
func (a *Automation) checkpoint(saved uint64) bool {
	a.mu.RLock()
	if a.snaps == nil || a.idx.Position <= saved {
		a.mu.RUnlock()
		return false
	}
	b, err := json.Marshal(&a.idx)
	pos := a.idx.Position
	a.mu.RUnlock()
	if err != nil {
		a.log.Warn("automation checkpoint not saved", "err", err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = a.snaps.SaveSnapshot(ctx, events.Snapshot{Stream: AutomationCheckpoint, Position: pos,
		Version: automationCheckpointVersion, Time: time.Now().UTC(), State: b})
	if err != nil {
		a.log.Warn("automation checkpoint not saved", "err", err)
		return false
	}
	return true
}
