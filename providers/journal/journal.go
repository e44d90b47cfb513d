// Package journal appends one LlmCallCompleted event per routed LLM call,
// off the response's hot path.
//
// Semantics: Record hands the event to a bounded in-memory queue and returns
// at once while the queue has room; when it is full, Record blocks until a
// worker frees a slot (backpressure rather than loss: a call's cost is never
// dropped to keep latency). A worker takes what is queued, waiting up to
// Linger for more after the first call, groups it by tenant stream and
// appends the groups concurrently, one store call each, so many calls share
// one fsync. The wait matters: each multi-event append is a JetStream atomic
// batch, which the server stages in an on-disk store of its own (created,
// fsynced and removed per batch: about 1–2 ms of CPU and I/O), so the
// number of appends per second, not the number of calls, sets the cost.
// Order within a tenant's stream follows the order of Record calls taken by
// one worker; concurrent workers may interleave. An append that fails is
// retried with backoff until Close's context ends; what is still queued
// then is reported as lost in the log. A call is therefore durable up to
// Linger plus an append's time after its response, not before: a process
// crash in that window loses the calls not yet appended (they were already
// answered).
//
// Lifecycle: New, then Run in a goroutine the caller owns; Close stops
// intake, drains the queue and waits for Run's workers.
package journal

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

var _ router.Recorder = (*Journal)(nil)

// Options tune a Journal.
type Options struct {
	// Buffer is the queue length (default 65,536 calls).
	Buffer int
	// Workers append concurrently (default 1; a worker appends the
	// streams of one batch concurrently).
	Workers int
	// MaxBatch bounds the calls a worker takes at once (default 256).
	MaxBatch int
	// Linger is how long a worker waits for more calls after the first
	// before it appends (default 20ms; negative: append at once).
	Linger time.Duration
	Logger *slog.Logger
}

// Journal queues call events and appends them in batches.
type Journal struct {
	store events.Store
	opts  Options
	log   *slog.Logger

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
	queue  chan events.LlmCallCompleted
	done   chan struct{}
	// giveUp ends retries of failing appends when Close's context ends.
	giveUp    context.Context
	stopRetry context.CancelFunc

	recorded, appended, lost atomic.Uint64
}

// New returns a Journal appending to store.
func New(store events.Store, o Options) *Journal {
	if o.Buffer <= 0 {
		o.Buffer = 1 << 16
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Linger == 0 {
		o.Linger = 20 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	giveUp, stop := context.WithCancel(context.Background())
	return &Journal{store: store, opts: o, log: o.Logger, queue: make(chan events.LlmCallCompleted, o.Buffer),
		done: make(chan struct{}), giveUp: giveUp, stopRetry: stop}
}

// Record queues the event of a routed call (router.Recorder).
func (j *Journal) Record(c router.Call) { j.Add(Event(c)) }

// Add queues the event of one call. It blocks only while the queue is
// full. After Close it logs the call as lost.
func (j *Journal) Add(c events.LlmCallCompleted) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		j.lost.Add(1)
		j.log.Error("llm call not journaled: journal closed", "call", c.CallID, "tenant", c.Tenant)
		return
	}
	j.recorded.Add(1)
	j.queue <- c
}

// Stats are the journal's counters.
type Stats struct {
	Recorded, Appended, Lost uint64
	Pending                  int
}

// Stats returns the counters.
func (j *Journal) Stats() Stats {
	return Stats{Recorded: j.recorded.Load(), Appended: j.appended.Load(), Lost: j.lost.Load(), Pending: len(j.queue)}
}

// Run appends queued events until Close has drained the queue. It returns
// nil then; ctx only bounds retries of failing appends (Close's context
// does too).
func (j *Journal) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(j.giveUp, cancel)()
	var wg sync.WaitGroup
	for range j.opts.Workers {
		wg.Go(func() { j.work(ctx) })
	}
	wg.Wait()
	close(j.done)
	return nil
}

// Close stops intake and waits until the queue is appended or ctx ends,
// whichever comes first; what remains is counted lost. Run must be running.
func (j *Journal) Close(ctx context.Context) error {
	j.mu.Lock()
	if !j.closed {
		j.closed = true
		close(j.queue)
	}
	j.mu.Unlock()
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		j.stopRetry()
		<-j.done
		return ctx.Err()
	}
}

func (j *Journal) work(ctx context.Context) {
	batch := make([]events.LlmCallCompleted, 0, j.opts.MaxBatch)
	for {
		c, ok := <-j.queue
		if !ok {
			return
		}
		batch = append(batch[:0], c)
		batch = j.fill(batch)
		j.appendBatch(ctx, batch)
	}
}

// fill adds queued calls to batch until it holds MaxBatch, the queue is
// closed, or Linger has passed since fill began (with a negative Linger:
// until the queue is empty).
func (j *Journal) fill(batch []events.LlmCallCompleted) []events.LlmCallCompleted {
	var linger <-chan time.Time // nil when Linger is negative: no wait
	if j.opts.Linger > 0 {
		t := time.NewTimer(j.opts.Linger)
		defer t.Stop()
		linger = t.C
	}
	for len(batch) < j.opts.MaxBatch {
		select {
		case c, ok := <-j.queue:
			if !ok {
				return batch
			}
			batch = append(batch, c)
			continue
		default:
		}
		if linger == nil {
			return batch
		}
		select {
		case c, ok := <-j.queue:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		case <-linger:
			return batch
		}
	}
	return batch
}

// appendBatch appends the batch, one store call per tenant stream, the
// streams concurrently (the store commits appends to distinct streams
// together).
func (j *Journal) appendBatch(ctx context.Context, batch []events.LlmCallCompleted) {
	byStream := map[string][]events.Event{}
	var order []string
	for _, c := range batch {
		ev, err := events.NewEvent(events.TypeLlmCallCompleted, events.LlmCallCompletedVersion, c)
		if err != nil {
			j.lost.Add(1)
			j.log.Error("llm call not journaled", "call", c.CallID, "err", err)
			continue
		}
		ev.ID, ev.Tenant, ev.Time, ev.Actor = c.CallID, c.Tenant, c.StartedAt, c.KeyID
		s := events.LLMCallStream(c.Tenant)
		if _, ok := byStream[s]; !ok {
			order = append(order, s)
		}
		byStream[s] = append(byStream[s], ev)
	}
	var wg sync.WaitGroup
	for _, s := range order {
		evs := byStream[s]
		wg.Go(func() {
			if err := j.appendRetry(ctx, s, evs); err != nil {
				j.lost.Add(uint64(len(evs)))
				j.log.Error("llm calls not journaled", "stream", s, "calls", len(evs), "err", err)
				return
			}
			j.appended.Add(uint64(len(evs)))
		})
	}
	wg.Wait()
}

func (j *Journal) appendRetry(ctx context.Context, stream string, evs []events.Event) error {
	delay := 50 * time.Millisecond
	for {
		_, err := j.store.Append(ctx, stream, events.Any, evs...)
		if err == nil || errors.Is(err, events.ErrInvalid) || errors.Is(err, events.ErrClosed) {
			return err
		}
		j.log.Warn("journal append failed; retrying", "stream", stream, "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
