package e2e

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// wfEvent is a WorkflowEvent as the subscriptions deliver it.
type wfEvent struct {
	Type       string          `json:"type"`
	WorkflowID string          `json:"workflowId"`
	ResourceID string          `json:"resourceId"`
	Activity   string          `json:"activity"`
	FromState  string          `json:"fromState"`
	NewState   string          `json:"newState"`
	Data       json.RawMessage `json:"data"`
	Position   int             `json:"position"`
	Revision   int             `json:"revision"`
	Timestamp  string          `json:"timestamp"`
}

const workflowEventsQuery = `subscription($w: ID!, $from: Int) {
  workflowEvents(workflowId: $w, from: $from) { type workflowId resourceId activity fromState newState data position revision timestamp }
}`

// event reads the next line of c, which must be a result of field without
// errors, and returns the event.
func (c *nodeClient) event(t *testing.T, field string) wfEvent {
	t.Helper()
	l := c.next(t)
	if l.Next == nil || len(l.Next.Errors) > 0 {
		t.Fatalf("node %s: want an event, got %s\nstderr:\n%s", c.name, l.raw, c.stderr)
	}
	var data map[string]wfEvent
	if err := json.Unmarshal(l.Next.Data, &data); err != nil {
		t.Fatalf("node %s: %v: %s", c.name, err, l.raw)
	}
	ev, ok := data[field]
	if !ok {
		t.Fatalf("node %s: no %s in %s", c.name, field, l.raw)
	}
	return ev
}

// events reads n events of field.
func (c *nodeClient) events(t *testing.T, field string, n int) []wfEvent {
	t.Helper()
	out := make([]wfEvent, 0, n)
	for range n {
		out = append(out, c.event(t, field))
	}
	return out
}

// done reads the script's "done" line and waits for it to exit cleanly
// with nothing more printed.
func (c *nodeClient) done(t *testing.T) {
	t.Helper()
	if l := c.next(t); !l.Done {
		t.Fatalf("node %s: want done, got %s", c.name, l.raw)
	}
	c.wait(t)
}

// fireAll fires n activities on each resource of states (id → current
// state), one goroutine per resource so that resources interleave, and
// returns the acknowledgements. states is updated.
func (p *proc) fireAll(t *testing.T, token string, states map[string]string, n int) []fired {
	t.Helper()
	acks, err := p.fireAllErr(token, states, n)
	if err != nil {
		t.Fatal(err)
	}
	return acks
}

// fireAllErr is fireAll for any goroutine.
func (p *proc) fireAllErr(token string, states map[string]string, n int) ([]fired, error) {
	var (
		mu   sync.Mutex
		acks []fired
		errs []error
		wg   sync.WaitGroup
	)
	start := maps.Clone(states) // states is written by the goroutines
	for id, state := range start {
		wg.Go(func() {
			for range n {
				f, err := p.fireErr(token, id, state)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				acks = append(acks, f)
				states[id] = f.To
				mu.Unlock()
				state = f.To
			}
		})
	}
	wg.Wait()
	return acks, errors.Join(errs...)
}

// checkFired checks that got are exactly the STATE_CHANGED events of acks,
// once each, in log order, and that each resource's states alternate.
func checkFired(t *testing.T, workflowID string, got []wfEvent, acks []fired) {
	t.Helper()
	want := slices.Clone(acks)
	slices.SortFunc(want, func(a, b fired) int { return a.Position - b.Position })
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
	}
	last := map[string]wfEvent{}
	for i, e := range got {
		w := want[i]
		if e.Type != "STATE_CHANGED" || e.WorkflowID != workflowID || e.ResourceID != w.Resource || e.Activity != w.Activity ||
			e.FromState != w.From || e.NewState != w.To || e.Position != w.Position || e.Revision != w.Revision {
			t.Fatalf("event %d = %+v, want %+v (as fired)", i, e, w)
		}
		if string(e.Data) != `{"by":"e2e"}` {
			t.Fatalf("event %d data = %s", i, e.Data)
		}
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("event %d: position %d after %d", i, e.Position, got[i-1].Position)
		}
		if prev, ok := last[e.ResourceID]; ok && (e.FromState != prev.NewState || e.Revision != prev.Revision+1) {
			t.Fatalf("resource %s: %s→%s rev %d after %s→%s rev %d", e.ResourceID,
				e.FromState, e.NewState, e.Revision, prev.FromState, prev.NewState, prev.Revision)
		}
		last[e.ResourceID] = e
	}
}

// checkCreated checks that got are the RESOURCE_CREATED events at the
// positions of created (resource → position), in order.
func checkCreated(t *testing.T, workflowID string, got []wfEvent, created map[string]int) {
	t.Helper()
	if len(got) != len(created) {
		t.Fatalf("got %d creations, want %d: %+v", len(got), len(created), got)
	}
	for i, e := range got {
		if e.Type != "RESOURCE_CREATED" || e.WorkflowID != workflowID || created[e.ResourceID] != e.Position || e.NewState != "ping" || e.Revision != 1 {
			t.Fatalf("creation event %d = %+v, want one of %v", i, e, created)
		}
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("creation event %d: position %d after %d", i, e.Position, got[i-1].Position)
		}
	}
}

// TestSubscriptionsWithGraphQLWS drives workflowEvents with the official
// graphql-ws client (authenticated by an API key in connection_init) while
// activities fire over HTTP: every event arrives once, in order, and a
// client that reconnects from its last position + 1 gets exactly what it
// missed, then live events, without duplicates.
func TestSubscriptionsWithGraphQLWS(t *testing.T) {
	requireNode(t)
	p := startAuth(t)
	acme, globex := p.createKey(t, "acme"), p.createKey(t, "globex")

	created := p.createPingPong(t, acme.Secret, "orders", "o-1", "o-2")
	p.createPingPong(t, acme.Secret, "other", "x-1")      // same tenant, other workflow
	p.createPingPong(t, globex.Secret, "g-orders", "g-1") // other tenant
	from := min(created["o-1"], created["o-2"])

	const perResource = 10 // activities per resource while subscribed
	sub := runNode(t, subscribeOpts{
		Transport: "ws", URL: p.wsURL(), Token: acme.Secret, Query: workflowEventsQuery,
		Variables: map[string]any{"w": "orders", "from": from},
		Count:     len(created) + 2*perResource,
	})
	// The creations are replayed from the log: the subscription is live.
	checkCreated(t, "orders", sub.events(t, "workflowEvents", len(created)), created)

	// Fire on both resources concurrently, with noise on a workflow of the
	// same tenant and on one of another tenant, none of it for this
	// subscription.
	orders := map[string]string{"o-1": "ping", "o-2": "ping"}
	var (
		noiseErr error
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		_, err1 := p.fireAllErr(acme.Secret, map[string]string{"x-1": "ping"}, perResource)
		_, err2 := p.fireAllErr(globex.Secret, map[string]string{"g-1": "ping"}, perResource)
		noiseErr = errors.Join(err1, err2)
	})
	acks := p.fireAll(t, acme.Secret, orders, perResource)
	wg.Wait()
	if noiseErr != nil {
		t.Fatal(noiseErr)
	}
	got := sub.events(t, "workflowEvents", 2*perResource)
	sub.done(t)
	checkFired(t, "orders", got, acks)

	// Disconnected: more activities happen.
	const missed = 4
	lastSeen := got[len(got)-1].Position
	missedAcks := p.fireAll(t, acme.Secret, orders, missed/2)

	// Reconnect from the last position + 1: exactly the missed events, in
	// order, then a live one, and nothing twice.
	re := runNode(t, subscribeOpts{
		Transport: "ws", URL: p.wsURL(), Token: acme.Secret, Query: workflowEventsQuery,
		Variables: map[string]any{"w": "orders", "from": lastSeen + 1},
		Count:     missed + 1,
	})
	caughtUp := re.events(t, "workflowEvents", missed)
	checkFired(t, "orders", caughtUp, missedAcks)
	live := p.fire(t, acme.Secret, "o-1", orders["o-1"])
	last := re.event(t, "workflowEvents")
	re.done(t)
	checkFired(t, "orders", append(caughtUp, last), append(missedAcks, live))
	if caughtUp[0].Position <= lastSeen {
		t.Fatalf("resumed at position %d, already seen up to %d", caughtUp[0].Position, lastSeen)
	}
}

// TestLegacyAndSSEClients observes one event sequence with the legacy
// subscriptions-transport-ws client and the graphql-sse client (distinct
// connections mode) at once: both see identical lists, which are the
// events as fired.
func TestLegacyAndSSEClients(t *testing.T) {
	requireNode(t)
	p := startAuth(t)
	acme := p.createKey(t, "acme")
	created := p.createPingPong(t, acme.Secret, "docs", "d-1", "d-2")
	from := min(created["d-1"], created["d-2"])

	// Some history before anyone subscribes, the rest live.
	states := map[string]string{"d-1": "ping", "d-2": "ping"}
	const before, after = 2, 4
	acks := p.fireAll(t, acme.Secret, states, before)
	total := len(created) + 2*before + 2*after
	vars := map[string]any{"w": "docs", "from": from}
	clients := []*nodeClient{
		runNode(t, subscribeOpts{Transport: "legacy", URL: p.wsURL(), Token: acme.Secret, Query: workflowEventsQuery, Variables: vars, Count: total}),
		runNode(t, subscribeOpts{Transport: "sse", URL: p.base + "/graphql", Token: acme.Secret, Query: workflowEventsQuery, Variables: vars, Count: total}),
	}
	seen := make([][]wfEvent, len(clients))
	for i, c := range clients {
		seen[i] = c.events(t, "workflowEvents", len(created)+2*before) // both are live now
	}
	acks = append(acks, p.fireAll(t, acme.Secret, states, after)...)
	for i, c := range clients {
		seen[i] = append(seen[i], c.events(t, "workflowEvents", 2*after)...)
		c.done(t)
	}
	if !reflect.DeepEqual(seen[0], seen[1]) {
		t.Fatalf("legacy and SSE clients disagree:\nlegacy: %s\nsse:    %s", dump(seen[0]), dump(seen[1]))
	}
	checkCreated(t, "docs", seen[0][:len(created)], created)
	checkFired(t, "docs", seen[0][len(created):], acks)
}

func dump(evs []wfEvent) string {
	b, _ := json.Marshal(evs)
	return string(b)
}
