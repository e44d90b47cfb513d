package feed_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/feed"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
)

func appendN(t *testing.T, s events.Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		e, _ := events.NewEvent("N", 1, i)
		if _, err := s.Append(context.Background(), fmt.Sprintf("s-%d", i%3), events.Any, e); err != nil {
			t.Error(err)
			return
		}
	}
}

// runHub runs h until the test ends.
func runHub(t *testing.T, h *feed.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// expect reads want events from sub and checks their data is from..from+want-1.
func expect(t *testing.T, sub events.Subscription, from, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := from; i < from+want; i++ {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var n int
		if err := e.Decode(&n); err != nil || n != i {
			t.Fatalf("got %s at position %d, want %d", e.Data, e.Position, i)
		}
	}
}

func TestHistoryThenLive(t *testing.T) {
	s := natsjstest.Open(t, "")
	appendN(t, s, 0, 50)
	h := feed.New(s, feed.Options{Ring: 16, Page: 7})
	sub, _ := h.Subscribe(context.Background(), 1) // before Run: waits for it
	defer sub.Close()
	runHub(t, h)
	go appendN(t, s, 50, 120)
	expect(t, sub, 0, 120)
}

// TestSlowSubscriber lets the ring overrun a subscriber that does not read;
// it then reads everything, in order, from the store and the ring.
func TestSlowSubscriber(t *testing.T) {
	s := natsjstest.Open(t, "")
	h := feed.New(s, feed.Options{Ring: 8})
	runHub(t, h)
	fast, _ := h.Subscribe(context.Background(), 1)
	slow, _ := h.Subscribe(context.Background(), 1)
	defer fast.Close()
	defer slow.Close()
	appendN(t, s, 0, 100)
	expect(t, fast, 0, 100)
	expect(t, slow, 0, 100)
}

func TestManySubscribers(t *testing.T) {
	s := natsjstest.Open(t, "")
	h := feed.New(s, feed.Options{})
	runHub(t, h)
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		sub, _ := h.Subscribe(context.Background(), 1)
		wg.Go(func() {
			defer sub.Close()
			expect(t, sub, 0, 30)
		})
	}
	appendN(t, s, 0, 30)
	wg.Wait()
}

func TestCloseAndStop(t *testing.T) {
	s := natsjstest.Open(t, "")
	h := feed.New(s, feed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	sub, _ := h.Subscribe(context.Background(), 1)
	errc := make(chan error, 1)
	go func() { _, err := sub.Next(context.Background()); errc <- err }()
	sub.Close()
	if err := <-errc; err != events.ErrClosed {
		t.Fatalf("Next after Close: %v", err)
	}
	other, _ := h.Subscribe(context.Background(), 1)
	go func() { _, err := other.Next(context.Background()); errc <- err }()
	cancel()
	<-done
	if err := <-errc; err != feed.ErrStopped {
		t.Fatalf("Next after stop: %v", err)
	}
}
