package natsjs

import (
	"context"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// TestRetryAfterUnknownOutcome replays the committer's retry of an append
// whose first publish landed but whose answer was lost: the retry must
// answer success with the first positions and write nothing.
func TestRetryAfterUnknownOutcome(t *testing.T) {
	srv, err := StartEmbedded(EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s, err := Open(context.Background(), nc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	evs := []events.Event{{ID: "01A", Type: "X"}, {ID: "01B", Type: "Y"}}
	first, err := s.Append(ctx, "u-1", events.NoStream, evs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, expected := range []events.Revision{events.NoStream, events.Any} {
		r := &appendReq{stream: "u-1", expected: expected, evs: evs, now: time.Now(), done: make(chan appendRes, 1), published: true}
		s.commit([]*appendReq{r})
		res := <-r.done
		if res.err != nil || res.out != first {
			t.Fatalf("retry with %s = %+v, %v; want %+v", expected, res.out, res.err, first)
		}
	}
	got, _ := s.ReadStream(ctx, "u-1", 0, 0)
	if len(got) != 2 {
		t.Fatalf("stream has %d events, want 2", len(got))
	}
	// A request never published with the same IDs is a real conflict.
	r := &appendReq{stream: "u-1", expected: events.NoStream, evs: evs, now: time.Now(), done: make(chan appendRes, 1)}
	s.commit([]*appendReq{r})
	if res := <-r.done; res.err == nil {
		t.Fatal("unpublished duplicate accepted")
	}
}
