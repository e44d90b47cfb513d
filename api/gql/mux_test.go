package gql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/events"
)

// position decodes the position of an `events` subscription response.
func position(t *testing.T, r *graphql.Response) (int, string) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %v", r.Errors)
	}
	var d struct {
		Events struct {
			Position int    `json:"position"`
			Stream   string `json:"stream"`
		} `json:"events"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Events.Position, d.Events.Stream
}

func recv(t *testing.T, ch <-chan *graphql.Response) *graphql.Response {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("subscription ended")
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no response within 10s")
	}
	return nil
}

// TestSharedSubscriptions: identical live subscriptions share one
// execution; each still gets exactly the events from its own start, in
// order, only of its tenant; a member that stops reading is dropped
// without holding up the others.
func TestSharedSubscriptions(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	e.ok(t, "b", pingPong, map[string]any{"id": "wb"})
	const q = `subscription { events { position stream } }`
	ctx, cancel := context.WithCancel(as("a"))
	defer cancel()

	var early []<-chan *graphql.Response
	for range 20 {
		ch, err := e.schema.Subscribe(ctx, q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		early = append(early, ch)
	}
	other, err := e.schema.Subscribe(as("b"), q, "", nil) // same text, other tenant
	if err != nil {
		t.Fatal(err)
	}
	fire := func(tenant, id string) {
		e.ok(t, tenant, fmt.Sprintf(`mutation { createResource(workflowId: "w%s", resourceId: "%s", input: {score: 9}) { id } }`, tenant, id), nil)
	}
	fire("a", "r1")
	fire("b", "x1")
	first, _ := position(t, recv(t, early[0]))
	for _, ch := range early[1:] {
		if p, _ := position(t, recv(t, ch)); p != first {
			t.Fatalf("member saw %d first, want %d", p, first)
		}
	}
	if _, s := position(t, recv(t, other)); s != events.ResourceStream("b", "x1") {
		t.Fatalf("tenant b saw %s", s)
	}

	// A member joining now starts at the end of the log.
	late, err := e.schema.Subscribe(ctx, q, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fire("a", "r2")
	want, _ := position(t, recv(t, early[0]))
	if p, s := position(t, recv(t, late)); p != want || s != events.ResourceStream("a", "r2") {
		t.Fatalf("late member got %d %s, want %d %s", p, s, want, events.ResourceStream("a", "r2"))
	}

	// A member that never reads is dropped once its queue is full; the
	// others get everything, in order.
	stuck, err := e.schema.Subscribe(ctx, q, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if _, err := e.sys.CreateResource(context.Background(), actors.CreateResource{
				Caller: actors.Caller{Tenant: "a"}, ResourceID: fmt.Sprintf("bulk-%d", i), WorkflowID: "wa",
				Data: map[string]any{"score": 9}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	last := want
	for i := range n {
		p, _ := position(t, recv(t, late))
		if p <= last {
			t.Fatalf("event %d: position %d after %d", i, p, last)
		}
		last = p
	}
	wg.Wait()
	// It learns why, in its last response, and how to resume.
	var lastResp *graphql.Response
	deadline := time.After(10 * time.Second)
	for closed := false; !closed; {
		select {
		case r, ok := <-stuck:
			if closed = !ok; ok {
				lastResp = r
			}
		case <-deadline:
			t.Fatal("a member that never read was not dropped")
		}
	}
	if lastResp == nil || len(lastResp.Errors) != 1 || lastResp.Errors[0].Extensions["code"] != "UNAVAILABLE" {
		t.Fatalf("dropped member's last response: %+v", lastResp)
	}
}

// sink collects the responses pushed to one member; it refuses every
// push once it has taken limit of them (0: no limit).
type sink struct {
	mu      sync.Mutex
	got     []*graphql.Response
	limit   int
	pushes  []int         // responses per push
	release chan struct{} // when set, the first push waits for it
}

func (s *sink) Push(rs ...*graphql.Response) bool {
	if s.release != nil {
		<-s.release
		s.release = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit > 0 && len(s.got)+len(rs) > s.limit {
		return false
	}
	s.got = append(s.got, rs...)
	s.pushes = append(s.pushes, len(rs))
	return true
}

func (s *sink) responses() []*graphql.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// TestSharedSubscriptionsPush: members whose transport gives a sink get
// every response pushed, in order, also when the group is large enough to
// push from several goroutines; their channel only closes. A sink that
// refuses is dropped without holding up the others, and channel members of
// the same group are served as before.
func TestSharedSubscriptionsPush(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	const q = `subscription { events { position stream } }`
	ctx, cancel := context.WithCancel(as("a"))
	defer cancel()

	const members = 1000 // several push goroutines
	sinks := make([]*sink, members)
	chans := make([]<-chan *graphql.Response, members)
	for i := range sinks {
		sinks[i] = &sink{}
		if i == 7 {
			sinks[i].limit = 2
		}
		ch, err := e.schema.Subscribe(gqlws.WithSink(ctx, sinks[i]), q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		chans[i] = ch
	}
	plain, err := e.schema.Subscribe(ctx, q, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		e.ok(t, "a", fmt.Sprintf(`mutation { createResource(workflowId: "wa", resourceId: "p%d", input: {score: 9}) { id } }`, i), nil)
	}
	var want []int
	for range n {
		p, _ := position(t, recv(t, plain))
		want = append(want, p)
	}
	// The refusing member's channel closes, without a response.
	select {
	case r, ok := <-chans[7]:
		if ok {
			t.Fatalf("refusing member got a response on its channel: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("refusing member not dropped")
	}
	deadline := time.Now().Add(10 * time.Second)
	for i, s := range sinks {
		wantN := n
		if i == 7 {
			wantN = 2
		}
		for len(s.responses()) < wantN && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		got := s.responses()
		if len(got) != wantN {
			t.Fatalf("member %d got %d responses, want %d", i, len(got), wantN)
		}
		for k, r := range got {
			if p, _ := position(t, r); p != want[k] {
				t.Fatalf("member %d, response %d: position %d, want %d", i, k, p, want[k])
			}
		}
		select {
		case r, ok := <-chans[i]:
			if ok {
				t.Fatalf("member %d got a response on its channel: %+v", i, r)
			}
			if i != 7 {
				t.Fatalf("member %d ended early", i)
			}
		default:
		}
	}
	// Ending a member's context closes its channel.
	cancel()
	for i, ch := range chans {
		select {
		case _, ok := <-ch:
			if ok {
				t.Fatalf("member %d got a response on its channel", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("member %d not closed after its context ended", i)
		}
	}
}

// TestSharedSubscriptionsBatch: events that queue up while a push is in
// progress reach the members together, in one push, in order.
func TestSharedSubscriptionsBatch(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	const q = `subscription { events { position stream } }`
	ctx, cancel := context.WithCancel(as("a"))
	defer cancel()
	held := &sink{release: make(chan struct{})}
	if _, err := e.schema.Subscribe(gqlws.WithSink(ctx, held), q, "", nil); err != nil {
		t.Fatal(err)
	}
	plain, err := e.schema.Subscribe(ctx, q, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	for i := range n { // the first push is held: the others queue up
		e.ok(t, "a", fmt.Sprintf(`mutation { createResource(workflowId: "wa", resourceId: "b%d", input: {score: 9}) { id } }`, i), nil)
	}
	close(held.release)
	var want []int
	for range n {
		p, _ := position(t, recv(t, plain))
		want = append(want, p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(held.responses()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := held.responses()
	if len(got) != n {
		t.Fatalf("got %d responses, want %d", len(got), n)
	}
	for k, r := range got {
		if p, _ := position(t, r); p != want[k] {
			t.Fatalf("response %d: position %d, want %d", k, p, want[k])
		}
	}
	held.mu.Lock()
	pushes := slices.Clone(held.pushes)
	held.mu.Unlock()
	if len(pushes) >= n {
		t.Fatalf("pushes of %v responses: the queued events were not batched", pushes)
	}
}

func TestShareable(t *testing.T) {
	cases := []struct {
		q    string
		vars map[string]any
		want bool
	}{
		{`subscription { events { position } }`, nil, true},
		{`subscription { workflowEvents(workflowId: "w") { fromState newState } }`, nil, true},
		{`subscription { events(from: 3) { position } }`, nil, false},
		{`subscription($f: Int) { events(from:$f) { position } }`, map[string]any{"f": 1}, false},
		{`subscription($from: Int) { events(from: $from) { position } }`, map[string]any{"from": 1}, false},
	}
	for _, c := range cases {
		if got := gql.Shareable(c.q, c.vars); got != c.want {
			t.Errorf("shareable(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}
