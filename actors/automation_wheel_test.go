package actors

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWheel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWheel()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		start := time.Now()
		w.Add("c", start.Add(3*time.Second))
		w.Add("a", start.Add(1*time.Second))
		w.Add("b", start.Add(2*time.Second))
		w.Add("gone", start.Add(time.Second))
		w.Remove("gone")
		w.Add("moved", start.Add(time.Second))
		w.Add("moved", start.Add(4*time.Second)) // replaces the earlier deadline
		w.Add("past", start.Add(-time.Minute))

		type fired struct {
			key   string
			after time.Duration
		}
		var got []fired
		for range 5 {
			k := <-w.C()
			got = append(got, fired{k, time.Since(start)})
		}
		want := []fired{{"past", 0}, {"a", time.Second}, {"b", 2 * time.Second}, {"c", 3 * time.Second}, {"moved", 4 * time.Second}}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(fired{})); diff != "" {
			t.Errorf("fired (-want +got):\n%s", diff)
		}
		// A deadline earlier than the one the wheel sleeps on wakes it.
		w.Add("late", time.Now().Add(time.Hour))
		synctest.Wait()
		w.Add("soon", time.Now().Add(time.Second))
		if k := <-w.C(); k != "soon" {
			t.Errorf("fired %q, want soon", k)
		}
		if w.Len() != 1 {
			t.Errorf("Len = %d, want 1 (late)", w.Len())
		}
		cancel()
		<-done
	})
}

func TestWheelCompacts(t *testing.T) {
	w := newWheel()
	now := time.Now()
	for i := range 1000 {
		w.Add(string(rune('a'+i%26))+time.Duration(i).String(), now.Add(time.Hour))
	}
	for k := range w.due {
		w.Remove(k)
	}
	if len(w.h) > 64 {
		t.Errorf("heap keeps %d dead timers", len(w.h))
	}
}
