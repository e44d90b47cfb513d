package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// CheckpointStream is the snapshot key under which the views' checkpoint
// is saved.
const CheckpointStream = "projection-views"

// checkpointVersion is the schema version of the checkpoint.
const checkpointVersion = 1

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// CheckpointEvery is how often the checkpoint is saved when the views
	// have changed (default 5 seconds).
	CheckpointEvery time.Duration
	Logger          *slog.Logger
}

// Runner keeps Views up to date with the store.
//
// Lifecycle: NewRunner → Run(ctx) (blocks until ctx ends; saves a final
// checkpoint) → done.
type Runner struct {
	store events.Store
	snaps events.Snapshots // nil: no checkpoint
	views *Views
	opts  RunnerOptions

	mu       sync.Mutex
	target   uint64 // the store's last position when Run started
	caughtUp bool
	waiters  []waiter
}

type waiter struct {
	pos uint64
	ch  chan struct{}
}

// NewRunner returns a runner that feeds views from store. If snaps is not
// nil, the views are checkpointed there.
func NewRunner(store events.Store, snaps events.Snapshots, views *Views, o RunnerOptions) *Runner {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Runner{store: store, snaps: snaps, views: views, opts: o}
}

// Views returns the views the runner feeds.
func (r *Runner) Views() *Views { return r.views }

// CaughtUp reports whether the views have reached the end of the log as it
// was when Run started (the readiness condition).
func (r *Runner) CaughtUp() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.caughtUp
}

// WaitFor blocks until the views include the event at position pos (read
// your writes after a command) or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, pos uint64) error {
	r.mu.Lock()
	if r.views.Position() >= pos {
		r.mu.Unlock()
		return nil
	}
	w := waiter{pos: pos, ch: make(chan struct{})}
	r.waiters = append(r.waiters, w)
	r.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run loads the checkpoint, then applies every later event until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.loadCheckpoint(ctx); err != nil {
		r.opts.Logger.Warn("projection checkpoint not used; replaying from the start", "err", err)
	}
	last, err := r.store.LastPosition(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("projections: %w", err)
	}
	r.mu.Lock()
	r.target = last
	r.caughtUp = r.views.Position() >= last
	r.mu.Unlock()
	sub, err := r.store.Subscribe(ctx, r.views.Position()+1)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("projections: %w", err)
	}
	defer sub.Close()

	saved := r.views.Position()
	tick := time.NewTicker(r.opts.CheckpointEvery)
	defer tick.Stop()
	evs := make(chan events.Envelope, 256)
	errc := make(chan error, 1)
	go func() { // owned: ends when sub.Next fails, which it does once ctx ends
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
	}()
	for {
		select {
		case e, ok := <-evs:
			if !ok {
				err := <-errc
				r.checkpoint(saved)
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("projections: subscription ended: %w", err)
			}
			if err := r.views.Apply(e); err != nil {
				return err
			}
			r.advanced(e.Position)
		case <-tick.C:
			if pos := r.views.Position(); pos > saved {
				if r.checkpoint(saved) {
					saved = pos
				}
			}
		}
	}
}

func (r *Runner) advanced(pos uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.caughtUp && pos >= r.target {
		r.caughtUp = true
	}
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if pos >= w.pos {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	r.waiters = kept
}

func (r *Runner) loadCheckpoint(ctx context.Context) error {
	if r.snaps == nil {
		return nil
	}
	snap, ok, err := r.snaps.LoadSnapshot(ctx, CheckpointStream)
	if err != nil || !ok {
		return err
	}
	if snap.Version != checkpointVersion {
		return fmt.Errorf("checkpoint version %d, want %d", snap.Version, checkpointVersion)
	}
	return json.Unmarshal(snap.State, r.views)
}

// checkpoint saves the views; it reports whether it did.
func (r *Runner) checkpoint(saved uint64) bool {
	if r.snaps == nil || r.views.Position() <= saved {
		return false
	}
	b, err := json.Marshal(r.views)
	if err != nil {
		r.opts.Logger.Warn("projection checkpoint not saved", "err", err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = r.snaps.SaveSnapshot(ctx, events.Snapshot{Stream: CheckpointStream, Version: checkpointVersion, Time: time.Now().UTC(), State: b})
	if err != nil {
		r.opts.Logger.Warn("projection checkpoint not saved", "err", err)
		return false
	}
	return true
}

// Stats reports a rebuild.
type Stats struct {
	Events   uint64
	Position uint64
	Elapsed  time.Duration
}

// PerSecond is the rebuild's speed in events per second.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Events) / s.Elapsed.Seconds()
}

// Rebuild replays the whole log from position 0 into views (which should
// be empty) and calls progress after every page. If snaps is not nil the
// rebuilt views replace the checkpoint.
func Rebuild(ctx context.Context, store events.Store, snaps events.Snapshots, views *Views, progress func(done, last uint64)) (Stats, error) {
	start := time.Now()
	last, err := store.LastPosition(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("projections: %w", err)
	}
	var n uint64
	for from := uint64(1); from <= last; {
		page, err := store.ReadAll(ctx, from, 512)
		if err != nil {
			return Stats{}, fmt.Errorf("projections: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if err := views.Apply(e); err != nil {
				return Stats{}, err
			}
			n++
		}
		from = page[len(page)-1].Position + 1
		if progress != nil {
			progress(page[len(page)-1].Position, last)
		}
	}
	st := Stats{Events: n, Position: views.Position(), Elapsed: time.Since(start)}
	if snaps != nil {
		b, err := json.Marshal(views)
		if err != nil {
			return st, err
		}
		if err := snaps.SaveSnapshot(ctx, events.Snapshot{Stream: CheckpointStream, Version: checkpointVersion, Time: time.Now().UTC(), State: b}); err != nil {
			return st, fmt.Errorf("projections: save checkpoint: %w", err)
		}
	}
	return st, nil
}
