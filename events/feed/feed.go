// Package feed fans the event log out to many in-process subscribers (the
// GraphQL subscriptions, SSE streams and event tails of one node) over a
// single store subscription.
//
// Semantics. Subscribe(from) yields every event with position ≥ from, in
// order, with no gap and no duplicate — the same contract as
// events.Store.Subscribe. The hub keeps the most recent events in a ring
// buffer shared by all subscribers; a subscriber reads the ring at its own
// pace. A subscriber that asks for older events, or falls so far behind that
// the ring has moved past it, reads them from the store in pages and then
// rejoins the ring. There is no per-subscriber buffer, so a subscriber that
// stops reading costs nothing but its cursor: backpressure is the
// subscriber's own business (a transport bounds its send queue).
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// Options configures a Hub.
type Options struct {
	// Ring is how many recent events are kept in memory (default 4096).
	Ring int
	// Page is how many events a lagging subscriber reads from the store at
	// once (default 256).
	Page   int
	Logger *slog.Logger
}

// Hub is the fan-out. Lifecycle: New → Run(ctx) (blocks; subscribers may
// be created before or while it runs) → ctx ends.
type Hub struct {
	store events.Store
	opts  Options

	mu      sync.RWMutex
	started bool
	start   uint64 // first position the ring has seen (live tail start)
	ring    []events.Envelope
	head    int // index of the oldest event in ring
	n       int // events in ring
	notify  chan struct{}
	stopped bool
}

// New returns a hub over store.
func New(store events.Store, o Options) *Hub {
	if o.Ring <= 0 {
		o.Ring = 4096
	}
	if o.Page <= 0 {
		o.Page = 256
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Hub{store: store, opts: o, ring: make([]events.Envelope, o.Ring), notify: make(chan struct{})}
}

// Run follows the end of the log until ctx ends, retrying the store
// subscription with backoff when it fails.
func (h *Hub) Run(ctx context.Context) error {
	defer h.stop()
	last, err := h.store.LastPosition(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("feed: %w", err)
	}
	h.mu.Lock()
	h.started, h.start = true, last+1
	h.wake()
	h.mu.Unlock()
	next := last + 1
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		sub, err := h.store.Subscribe(ctx, next)
		if err == nil {
			next, err = h.follow(ctx, sub, next)
			sub.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		h.opts.Logger.Warn("event feed interrupted; resubscribing", "from", next, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return nil
}

func (h *Hub) follow(ctx context.Context, sub events.Subscription, next uint64) (uint64, error) {
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			return next, err
		}
		if e.Position < next {
			continue
		}
		h.mu.Lock()
		h.push(e)
		h.wake()
		h.mu.Unlock()
		next = e.Position + 1
	}
}

// push appends e to the ring, dropping the oldest event when full.
func (h *Hub) push(e events.Envelope) {
	if h.n < len(h.ring) {
		h.ring[(h.head+h.n)%len(h.ring)] = e
		h.n++
		return
	}
	h.ring[h.head] = e
	h.head = (h.head + 1) % len(h.ring)
}

// wake releases every waiting subscriber. Callers hold mu.
func (h *Hub) wake() {
	close(h.notify)
	h.notify = make(chan struct{})
}

func (h *Hub) stop() {
	h.mu.Lock()
	h.stopped = true
	h.wake()
	h.mu.Unlock()
}

func (h *Hub) at(i int) events.Envelope { return h.ring[(h.head+i)%len(h.ring)] }

type lookup int

const (
	found lookup = iota
	fromStore
	wait
)

// lookup finds the first ring event with position ≥ pos.
func (h *Hub) lookup(pos uint64) (events.Envelope, lookup, <-chan struct{}, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !h.started {
		return events.Envelope{}, wait, h.notify, h.stopped
	}
	if pos < h.start || (h.n > 0 && pos < h.at(0).Position && h.at(0).Position > h.start) {
		return events.Envelope{}, fromStore, nil, false
	}
	if h.n == 0 || pos > h.at(h.n-1).Position {
		return events.Envelope{}, wait, h.notify, h.stopped
	}
	i := sort.Search(h.n, func(i int) bool { return h.at(i).Position >= pos })
	return h.at(i), found, nil, false
}

// ErrStopped is returned by Next once the hub has stopped.
var ErrStopped = errors.New("event feed stopped")

// Subscribe implements the events.Store subscription contract on the hub.
func (h *Hub) Subscribe(_ context.Context, from uint64) (events.Subscription, error) {
	return &subscription{h: h, next: max(from, 1), done: make(chan struct{})}, nil
}

// subscription is a cursor into the log. Next is not safe for concurrent
// use; Close may be called from any goroutine.
type subscription struct {
	h    *Hub
	next uint64
	page []events.Envelope
	done chan struct{}
	once sync.Once
}

func (s *subscription) Next(ctx context.Context) (events.Envelope, error) {
	for {
		select {
		case <-s.done:
			return events.Envelope{}, events.ErrClosed
		default:
		}
		if len(s.page) > 0 {
			e := s.page[0]
			s.page = s.page[1:]
			if e.Position < s.next {
				continue
			}
			s.next = e.Position + 1
			return e, nil
		}
		e, where, notify, stopped := s.h.lookup(s.next)
		switch where {
		case found:
			s.next = e.Position + 1
			return e, nil
		case fromStore:
			page, err := s.h.store.ReadAll(ctx, s.next, s.h.opts.Page)
			if err != nil {
				return events.Envelope{}, err
			}
			if len(page) > 0 {
				s.page = page
				continue
			}
			// Nothing stored at or after next yet: wait for news.
			s.h.mu.RLock()
			notify = s.h.notify
			s.h.mu.RUnlock()
			if err := s.await(ctx, notify, 100*time.Millisecond); err != nil {
				return events.Envelope{}, err
			}
		case wait:
			if stopped {
				return events.Envelope{}, ErrStopped
			}
			if err := s.await(ctx, notify, 0); err != nil {
				return events.Envelope{}, err
			}
		}
	}
}

// await blocks until notify fires, the subscription closes, ctx ends or
// (when d > 0) d passes.
func (s *subscription) await(ctx context.Context, notify <-chan struct{}, d time.Duration) error {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-notify:
	case <-timeout:
	case <-s.done:
		return events.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (s *subscription) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
