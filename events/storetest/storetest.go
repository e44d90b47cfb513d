// Package storetest is the contract test suite every events.Store backend
// must pass. A backend's tests call Run with a function that opens a fresh,
// empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// Opener returns a new, empty store; the test cleans it up with t.Cleanup.
type Opener func(t *testing.T) events.Store

// Run runs the whole contract against stores made by open.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s events.Store)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"ExpectedRevision", testExpectedRevision},
		{"InvalidInput", testInvalidInput},
		{"ReadAllOrder", testReadAllOrder},
		{"ConcurrentStreams", testConcurrentStreams},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"SubscribeCatchUpThenLive", testSubscribeSeam},
		{"SubscribeFromPosition", testSubscribeFrom},
		{"Snapshots", testSnapshots},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ev(typ string, v any) events.Event {
	e, err := events.NewEvent(typ, 1, v)
	if err != nil {
		panic(err)
	}
	return e
}

func testAppendAndReadStream(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	got, err := s.Append(ctx, "order-1", events.NoStream, ev("Placed", map[string]int{"n": 1}), ev("Paid", map[string]int{"n": 2}))
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if got.FirstRevision != 1 || got.LastRevision != 2 || got.LastPosition != got.FirstPosition+1 {
		t.Fatalf("appended = %+v, want revisions 1..2 on consecutive positions", got)
	}
	if _, err := s.Append(ctx, "order-1", events.Exact(2), events.Event{Type: "Shipped", Tenant: "acme", Actor: "bob", CorrelationID: "c1", CausationID: "k1"}); err != nil {
		t.Fatalf("append exact: %v", err)
	}
	all, err := s.ReadStream(ctx, "order-1", 0, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(all) != 3 {
		t.Fatalf("read %d events, want 3", len(all))
	}
	for i, e := range all {
		if e.Revision != uint64(i+1) || e.Stream != "order-1" || e.ID == "" || e.Time.IsZero() {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if all[0].Type != "Placed" || string(all[0].Data) != `{"n":1}` || all[0].Version != 1 {
		t.Errorf("first event = %+v", all[0])
	}
	if e := all[2]; e.Tenant != "acme" || e.Actor != "bob" || e.CorrelationID != "c1" || e.CausationID != "k1" || string(e.Data) != "null" {
		t.Errorf("metadata lost: %+v", e)
	}
	tail, err := s.ReadStream(ctx, "order-1", 2, 1)
	if err != nil || len(tail) != 1 || tail[0].Revision != 2 {
		t.Fatalf("ReadStream(from 2, limit 1) = %+v, %v", tail, err)
	}
	none, err := s.ReadStream(ctx, "order-404", 0, 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("missing stream read = %+v, %v; want empty", none, err)
	}
}

func testExpectedRevision(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	if _, err := s.Append(ctx, "acct-1", events.Exact(3), ev("X", 1)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("exact 3 on empty stream: err = %v, want conflict", err)
	}
	if _, err := s.Append(ctx, "acct-1", events.Any, ev("X", 1)); err != nil {
		t.Fatalf("any: %v", err)
	}
	_, err := s.Append(ctx, "acct-1", events.NoStream, ev("X", 2))
	var ce *events.ConflictError
	if !errors.As(err, &ce) || ce.Actual != 1 || ce.Stream != "acct-1" {
		t.Fatalf("no stream on existing stream: err = %v, want *ConflictError at revision 1", err)
	}
	want := "append to acct-1: expected no stream, stream is at revision 1"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
	if _, err := s.Append(ctx, "acct-1", events.Exact(1), ev("X", 3)); err != nil {
		t.Fatalf("exact 1: %v", err)
	}
	if _, err := s.Append(ctx, "acct-1", events.Exact(1), ev("X", 4)); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale exact 1: err = %v, want conflict", err)
	}
	got, _ := s.ReadStream(ctx, "acct-1", 0, 0)
	if len(got) != 2 {
		t.Fatalf("stream has %d events, want 2 (failed appends write nothing)", len(got))
	}
}

func testInvalidInput(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	cases := []struct {
		name   string
		stream string
		evs    []events.Event
	}{
		{"empty stream name", "", []events.Event{ev("X", 1)}},
		{"dot in stream name", "a.b", []events.Event{ev("X", 1)}},
		{"wildcard in stream name", "a*", []events.Event{ev("X", 1)}},
		{"no events", "ok-1", nil},
		{"no type", "ok-1", []events.Event{{Data: json.RawMessage(`1`)}}},
		{"bad json", "ok-1", []events.Event{{Type: "X", Data: json.RawMessage(`{`)}}},
	}
	for _, c := range cases {
		if _, err := s.Append(ctx, c.stream, events.Any, c.evs...); !errors.Is(err, events.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", c.name, err)
		}
	}
	if got, _ := s.ReadStream(ctx, "ok-1", 0, 0); len(got) != 0 {
		t.Errorf("invalid appends wrote %d events", len(got))
	}
}

func testReadAllOrder(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	for i := 0; i < 30; i++ {
		if _, err := s.Append(ctx, fmt.Sprintf("s-%d", i%3), events.Any, ev("N", i)); err != nil {
			t.Fatal(err)
		}
	}
	var all []events.Envelope
	for from := uint64(0); ; {
		page, err := s.ReadAll(ctx, from, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		from = page[len(page)-1].Position + 1
	}
	if len(all) != 30 {
		t.Fatalf("ReadAll returned %d events, want 30", len(all))
	}
	for i, e := range all {
		var n int
		if err := e.Decode(&n); err != nil || n != i {
			t.Fatalf("event %d has data %s, want %d", i, e.Data, i)
		}
		if i > 0 && e.Position <= all[i-1].Position {
			t.Fatalf("positions not increasing at %d", i)
		}
		if want := uint64(i/3 + 1); e.Revision != want {
			t.Fatalf("event %d revision %d, want %d", i, e.Revision, want)
		}
	}
	last, err := s.LastPosition(ctx)
	if err != nil || last != all[29].Position {
		t.Fatalf("LastPosition = %d, %v; want %d", last, err, all[29].Position)
	}
}

// testConcurrentStreams appends from many goroutines (group commit) and
// checks that every acknowledged event is stored where the ack said.
func testConcurrentStreams(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	const writers, each = 32, 20
	acks := make([][]events.Appended, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("w-%d", w)
			for i := 0; i < each; i++ {
				a, err := s.Append(ctx, stream, events.Exact(uint64(2*i)), ev("N", i), ev("M", i))
				if err != nil {
					t.Errorf("%s append %d: %v", stream, i, err)
					return
				}
				acks[w] = append(acks[w], a)
			}
		}()
	}
	wg.Wait()
	for w := 0; w < writers; w++ {
		got, err := s.ReadStream(ctx, fmt.Sprintf("w-%d", w), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2*each {
			t.Fatalf("w-%d has %d events, want %d", w, len(got), 2*each)
		}
		for i, a := range acks[w] {
			if got[2*i].Position != a.FirstPosition || got[2*i+1].Position != a.LastPosition || got[2*i].Revision != a.FirstRevision {
				t.Fatalf("w-%d append %d acked %+v, stored at %d/%d", w, i, a, got[2*i].Position, got[2*i+1].Position)
			}
		}
	}
}

// testOptimisticConcurrency races writers on one stream: every revision is
// won by exactly one of them.
func testOptimisticConcurrency(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	const writers, target = 16, 40
	var mu sync.Mutex
	won := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ReadStream(ctx, "hot-1", 0, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) >= target {
					return
				}
				id := fmt.Sprintf("%d-%d", w, len(got))
				_, err = s.Append(ctx, "hot-1", events.Exact(uint64(len(got))), ev("Inc", id))
				switch {
				case err == nil:
					mu.Lock()
					won[id]++
					mu.Unlock()
				case errors.Is(err, events.ErrConflict):
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, _ := s.ReadStream(ctx, "hot-1", 0, 0)
	if len(got) != len(won) {
		t.Fatalf("stream has %d events, %d appends were acknowledged", len(got), len(won))
	}
	for i, e := range got {
		var id string
		_ = e.Decode(&id)
		if won[id] != 1 || e.Revision != uint64(i+1) {
			t.Fatalf("event %d (%s) revision %d acknowledged %d times", i, id, e.Revision, won[id])
		}
	}
}

func testSubscribeSeam(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	for i := 0; i < 50; i++ {
		if _, err := s.Append(ctx, "sub-a", events.Any, ev("N", i)); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := s.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	done := make(chan error, 1)
	go func() { // live appends race the catch-up
		for i := 50; i < 150; i++ {
			if _, err := s.Append(ctx, fmt.Sprintf("sub-%d", i%2), events.Any, ev("N", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 150; i++ {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("next %d: %v", i, err)
		}
		var n int
		if err := e.Decode(&n); err != nil || n != i {
			t.Fatalf("event %d: got %s (position %d)", i, e.Data, e.Position)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if e, err := sub.Next(short); err == nil {
		t.Fatalf("extra event after the last append: %+v", e)
	}
}

func testSubscribeFrom(t *testing.T, s events.Store) {
	ctx := ctxT(t)
	var positions []uint64
	for i := 0; i < 10; i++ {
		a, err := s.Append(ctx, "from-1", events.Any, ev("N", i))
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, a.FirstPosition)
	}
	sub, err := s.Subscribe(ctx, positions[6])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := 6; i < 10; i++ {
		e, err := sub.Next(ctx)
		if err != nil || e.Position != positions[i] {
			t.Fatalf("next = %+v, %v; want position %d", e, err, positions[i])
		}
	}
}

func testSnapshots(t *testing.T, s events.Store) {
	snaps, ok := s.(events.Snapshots)
	if !ok {
		t.Skip("store keeps no snapshots")
	}
	ctx := ctxT(t)
	if _, found, err := snaps.LoadSnapshot(ctx, "snap-1"); err != nil || found {
		t.Fatalf("load missing = %v, %v", found, err)
	}
	for rev := uint64(1); rev <= 2; rev++ {
		err := snaps.SaveSnapshot(ctx, events.Snapshot{Stream: "snap-1", Revision: rev * 100, Position: rev * 1000, Version: 1, State: json.RawMessage(fmt.Sprintf(`{"n":%d}`, rev))})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := snaps.LoadSnapshot(ctx, "snap-1")
	if err != nil || !found || got.Revision != 200 || got.Position != 2000 || string(got.State) != `{"n":2}` {
		t.Fatalf("load = %+v, %v, %v", got, found, err)
	}
	// Large states (projection checkpoints) are kept too, larger than a
	// NATS message; and a small one replaces a large one.
	big := `{"pad":"` + strings.Repeat("x", 3<<20) + `"}`
	for _, state := range []string{big, `{"n":3}`, big} {
		if err := snaps.SaveSnapshot(ctx, events.Snapshot{Stream: "snap-2", Revision: 1, Version: 1, State: json.RawMessage(state)}); err != nil {
			t.Fatalf("save %d bytes: %v", len(state), err)
		}
		got, found, err := snaps.LoadSnapshot(ctx, "snap-2")
		if err != nil || !found || string(got.State) != state {
			t.Fatalf("load after saving %d bytes: %d bytes, %v, %v", len(state), len(got.State), found, err)
		}
	}
}
