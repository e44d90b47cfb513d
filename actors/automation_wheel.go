package actors

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// wheel is the timer wheel of human waits: a min-heap of deadlines and one
// goroutine (Run) that sleeps until the earliest and then sends the keys
// that are due on C. Add and Remove are safe for concurrent use; a key has
// at most one deadline (Add replaces it), and entries replaced or removed
// stay in the heap until they surface, when they are dropped (lazy
// deletion; the heap is rebuilt when most of it is dead), so both are
// O(log n) amortised. The wheel holds no goroutine per timer:
// a million parked resources cost a million small heap entries.
type wheel struct {
	mu   sync.Mutex
	h    timerHeap
	due  map[string]time.Time // the live deadline of each key
	wake chan struct{}        // capacity 1: a new earliest deadline
	c    chan string
}

type timer struct {
	key string
	at  time.Time
}

func newWheel() *wheel {
	return &wheel{due: make(map[string]time.Time), wake: make(chan struct{}, 1), c: make(chan string)}
}

// C delivers the keys whose deadline passed, once each.
func (w *wheel) C() <-chan string { return w.c }

// Len is how many keys have a deadline.
func (w *wheel) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.due)
}

// Add sets key's deadline to at, replacing any earlier one.
func (w *wheel) Add(key string, at time.Time) {
	w.mu.Lock()
	w.due[key] = at
	heap.Push(&w.h, timer{key: key, at: at})
	first := w.h[0].key == key && w.h[0].at.Equal(at)
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Remove forgets key's deadline.
func (w *wheel) Remove(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.due[key]; !ok {
		return
	}
	delete(w.due, key)
	if len(w.h) > 64 && len(w.h) > 2*len(w.due) {
		// Mostly dead entries (waits answered long before their
		// deadline): rebuild rather than keep them until they surface.
		w.h = w.h[:0]
		for k, at := range w.due {
			w.h = append(w.h, timer{key: k, at: at})
		}
		heap.Init(&w.h)
	}
}

// Run sends due keys on C until ctx ends.
func (w *wheel) Run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		key, wait := w.next(time.Now())
		if key != "" {
			select {
			case w.c <- key:
			case <-ctx.Done():
				return
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-t.C:
		}
	}
}

// next pops the first due key, or returns how long to sleep.
func (w *wheel) next(now time.Time) (string, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.h) > 0 {
		top := w.h[0]
		if at, ok := w.due[top.key]; !ok || !at.Equal(top.at) {
			heap.Pop(&w.h) // removed or replaced
			continue
		}
		if d := top.at.Sub(now); d > 0 {
			return "", d
		}
		heap.Pop(&w.h)
		delete(w.due, top.key)
		return top.key, 0
	}
	return "", time.Hour
}

// timerHeap orders timers by deadline.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}
